"""Issue 11, item 5 — a dry run and its send agree: a send resolves first (a read), as a
dry run does, so both raise the same typed errors for the same problem.

The analyst's cases, on the sandbox:

- an unknown pool was ``BadRequestError`` (code 20404) in a dry run, ``NotFoundError`` in a
  send: ``NotFoundError`` in both;
- a dry run with ``+15005550001`` (the sandbox's invalid number) failed naming
  ``$.recipientAddresses[3]``: ``InvalidRecipientsError`` naming the number, in both;
- ``max_recipients`` was ignored by dry runs: the same ``SendRefusedError`` in both.

Each refusal is checked to have sent nothing: the account's messages are counted through
the client before and after.
"""

from __future__ import annotations

import pytest

import commstoolkit as ct
from commstoolkit.testsend import SendRefusedError

INVALID = "+15005550001"
ORDINARY = [f"+1914318{n:04d}" for n in range(8200, 8260)]
UNKNOWN_POOL = "comms_senderpool_01h9krwprkeee8fzqspvwy6nq8"


@pytest.fixture(scope="module")
def client():
    made = ct.connect(sandbox=True, db=":memory:", quiet=True)
    made.sandbox.clock.instant = True
    with made:
        yield made


@pytest.fixture(scope="module")
def pool(client):
    pools = ct.load_pools(client)
    return pools.loc[pools["name"] == "Customer Support - NAMER", "pool_id"].iloc[0]


def _messages(client) -> int:
    return sum(1 for _ in client.messages.list())


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
