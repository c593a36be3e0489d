"""Issue 11, item 5 — refuse what cannot work, before any request; a dry run and its send agree.

The analyst's cases, on the sandbox:

- ``channels=["WHATSAPP"]`` through an SMS-only pool sent anyway, every message FAILED with
  no error code, though the dry run knew ("no sender of the pool can reach it"): a send now
  resolves first (a read) and is refused (``SendRefusedError``, naming the numbers) unless
  ``allow_unroutable=True``;
- an unknown pool was ``BadRequestError`` (code 20404) in a dry run, ``NotFoundError`` in a
  send: ``NotFoundError`` in both;
- a dry run with ``+15005550001`` (the sandbox's invalid number) failed naming
  ``$.recipientAddresses[3]``: ``InvalidRecipientsError`` naming the number, in both;
- ``max_recipients`` was ignored by dry runs: the same ``SendRefusedError`` in both.

Each refusal is checked to have sent nothing: the account's messages are counted through
the client before and after.
"""

from __future__ import annotations

import inspect

import pytest

import commstoolkit as ct
from commstoolkit.testsend import SendRefusedError

INVALID, UNADDRESSABLE = "+15005550001", "+15005550002"
ORDINARY = [f"+1914318{n:04d}" for n in range(8200, 8260)]
UNKNOWN_POOL = "comms_senderpool_01h9krwprkeee8fzqspvwy6nq8"


@pytest.fixture(scope="module")
def client():
    made = ct.connect(sandbox=True, db=":memory:", quiet=True)
    made.sandbox.clock.instant = True
    with made:
        yield made


@pytest.fixture(scope="module")
def sms_pool(client):
    senders = ct.load_senders(client, status="ACTIVATED")
    ids = list(senders.loc[senders["channel"] == "SMS", "sender_id"].head(2))
    with pytest.warns(ct.PoolPlanWarning):
        return ct.create_pool(client, "item 5: SMS only", ids)


@pytest.fixture(scope="module")
def pool(client):
    pools = ct.load_pools(client)
    return pools.loc[pools["name"] == "Customer Support - NAMER", "pool_id"].iloc[0]


def _messages(client) -> int:
    return sum(1 for _ in client.messages.list())


def test_whatsapp_channels_through_an_sms_only_pool_are_refused_before_any_message(
    client, sms_pool
):
    to = ORDINARY[:3]
    dry = ct.test_send(client, sms_pool, to, "WA", channels=["WHATSAPP"], dry_run=True)
    assert dry.routes["sender_id"].isna().all()  # the dry run knew
    before = _messages(client)
    with pytest.raises(SendRefusedError) as caught:
        ct.test_send(client, sms_pool, to, "WA", channels=["WHATSAPP"])
    assert _messages(client) == before
    refused = caught.value
    assert refused.unroutable == to and refused.field == "to"
    text = str(refused)
    assert text.startswith("test send refused, nothing was sent: 3 recipients are unroutable")
    assert "no sender of the pool can reach them" in text and "channels=['WHATSAPP']" in text
    assert all(number in text for number in to) and "allow_unroutable=True" in text


def test_some_unroutable_recipients_refuse_the_whole_send_and_are_named(client, pool, tmp_path):
    journal = tmp_path / "refused.jsonl"
    before = _messages(client)
    with pytest.raises(SendRefusedError) as caught:
        ct.test_send(client, pool, [*ORDINARY[:4], UNADDRESSABLE], "x", journal=journal)
    assert caught.value.unroutable == [UNADDRESSABLE]
    assert "1 recipient is unroutable, no sender of the pool can reach it" in str(caught.value)
    assert _messages(client) == before and not journal.exists()  # refused before the plan


def test_allow_unroutable_sends_anyway(client, sms_pool):
    before = _messages(client)
    run = ct.test_send(
        client, sms_pool, ORDINARY[10:12], "WA", channels=["WHATSAPP"], allow_unroutable=True
    )
    assert _messages(client) == before + 2
    assert run.messages["sender_id"].isna().all()
    assert set(run.messages["status"]) == {"FAILED"}


def test_allow_unroutable_is_keyword_only_and_a_bool(client, pool):
    parameter = inspect.signature(ct.test_send).parameters["allow_unroutable"]
    assert parameter.kind is inspect.Parameter.KEYWORD_ONLY and parameter.default is False
    with pytest.raises(ct.InvalidInputError, match="allow_unroutable: expected True or False"):
        ct.test_send(client, pool, ORDINARY[:1], "x", allow_unroutable="yes")


def test_an_unknown_pool_is_not_found_in_a_dry_run_and_in_a_send(client):
    before = _messages(client)
    errors = []
    for dry_run in (True, False):
        with pytest.raises(ct.NotFoundError) as caught:
            ct.test_send(client, UNKNOWN_POOL, ORDINARY[:2], "x", dry_run=dry_run)
        errors.append(caught.value)
    assert [(e.status, e.code) for e in errors] == [(404, 20404), (404, 20404)]
    assert all(UNKNOWN_POOL in str(e) for e in errors)
    assert _messages(client) == before


def test_an_invalid_recipient_is_named_by_its_number_in_a_dry_run_and_in_a_send(client, pool):
    # Past the first Resolve call of 100: the API's index is within its batch.
    to = [*[f"+1914{n:07d}" for n in range(5_000_000, 5_000_120)], INVALID]
    before = _messages(client)
    errors = []
    for dry_run in (True, False):
        with pytest.raises(ct.InvalidRecipientsError) as caught:
            ct.test_send(client, pool, to, "x", dry_run=dry_run)
        errors.append(caught.value)
    for error in errors:
        assert [number for number, _ in error.invalid] == [INVALID]
        assert INVALID in str(error) and "not a valid phone number" in str(error)
        assert "code 21614" in str(error) and "recipientAddresses" not in str(error)
    assert _messages(client) == before


def test_max_recipients_caps_a_dry_run_as_it_caps_the_send(client, pool):
    before = _messages(client)
    errors = []
    for dry_run in (True, False):
        with pytest.raises(SendRefusedError) as caught:
            ct.test_send(client, pool, ORDINARY[:3], "x", max_recipients=2, dry_run=dry_run)
        errors.append(caught.value)
    assert [e.field for e in errors] == ["max_recipients", "max_recipients"]
    assert errors[0].reasons == errors[1].reasons
    assert str(errors[0]).startswith("dry run refused: 3 recipients is more than max_recipients=2")
    assert _messages(client) == before
    assert ct.test_send(client, pool, ORDINARY[:2], "x", max_recipients=2, dry_run=True).dry_run
