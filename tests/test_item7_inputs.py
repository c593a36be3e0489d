"""Issue 11, item 7: one reading of every input.

- channel and status names in any letter case, everywhere ("sms" is "SMS");
- numbers as dates are Unix seconds, wherever a date is accepted;
- a phone number with an extension or trailing characters is refused, naming it;
- a blank text is refused as blank;
- ``test_send(progress=...)`` reaches the wait;
- the safety flags (``dry_run``, ``confirm``) are keyword-only.

Every refusal comes before any request (the client's transport fails the test on one).
"""

from __future__ import annotations

import httpx
import pandas as pd
import pytest
from instant import instant_client

import commstoolkit as ct

POOL = "comms_senderpool_01h9krwprkeee8fzqspvwy6nq8"
NUMBER = "+15005550006"


def _offline(live: bool = False) -> ct.CommsClient:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"a request was sent: {request.method} {request.url}")

    return ct.CommsClient(
        account_sid="AC1", auth_token="t", transport=httpx.MockTransport(refuse), live=live
    )


# -- blank text ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", [" ", "\n\t ", " " * 1601])
def test_item7_blank_text_is_refused_as_blank(text):
    with pytest.raises(ct.InvalidInputError, match="text is blank") as caught:
        ct.test_send(_offline(), POOL, NUMBER, text)
    assert caught.value.field == "text"
    with pytest.raises(ct.InvalidInputError, match="text is blank"):
        _offline().messages.send([NUMBER], text=text, sender_pool_id=POOL)


def test_item7_text_size_errors_are_unchanged():
    for text in ("", "x" * 1601):
        with pytest.raises(ct.InvalidInputError, match="1 to 1,600 characters"):
            ct.test_send(_offline(), POOL, NUMBER, text)


# -- the safety flags are keyword-only -----------------------------------------------------


def _keyword_only(function) -> set[str]:
    import inspect

    return {
        name
        for name, parameter in inspect.signature(function).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    }


def test_item7_safety_flags_are_keyword_only():
    from commstoolkit.pools.plan import PoolPlan

    assert {"dry_run", "confirm", "wait", "progress"} <= _keyword_only(ct.test_send)
    assert "confirm" in _keyword_only(ct.delete_pool)
    assert "progress" in _keyword_only(ct.create_pool)
    assert "progress" in _keyword_only(PoolPlan.apply)
    # dry_run=True and confirm=True by position would have been a real send and a
    # confirmation: now they are a TypeError, before any request.
    with pytest.raises(TypeError):
        ct.test_send(_offline(), POOL, NUMBER, "hi", "PHONE", None, True)  # type: ignore[misc]
    with pytest.raises(TypeError):
        ct.delete_pool(_offline(), POOL, True)  # type: ignore[misc]


# -- test_send(progress=...) -----------------------------------------------------------------


@pytest.fixture(scope="module")
def box():
    from commstoolkit.sandbox import Sandbox

    sandbox = Sandbox(":memory:", seed=7, senders=60)
    sandbox.clock.instant = True  # operations end at once: no real waiting
    yield sandbox
    sandbox.close()


@pytest.fixture
def client(box):
    with instant_client(box) as sandbox_client:
        yield sandbox_client


@pytest.fixture
def small_pool(client):
    senders = ct.load_senders(client, channel="SMS", status="ACTIVATED", progress=False)
    plan = ct.plan_pool(client, senders.head(3), name="item7")
    return plan.apply(progress=False)


@pytest.mark.parametrize("progress", [None, False, True])
def test_item7_test_send_passes_progress_through(client, small_pool, progress, monkeypatch):
    seen = []
    wait = client.wait

    def spy(*args, **kwargs):
        seen.append(kwargs["progress"])
        return wait(*args, **kwargs)

    monkeypatch.setattr(client, "wait", spy)
    run = ct.test_send(client, small_pool, NUMBER, "hi", progress=progress)
    assert seen == [progress] and run.done


def test_item7_test_send_draws_no_bar_with_progress_false(client, small_pool, capsys):
    ct.test_send(client, small_pool, NUMBER, "hi", progress=False)
    assert "comms_operation_" not in capsys.readouterr().err
    ct.test_send(client, small_pool, NUMBER, "hi", progress=True)
    assert "comms_operation_" in capsys.readouterr().err
    ct.test_send(client, small_pool, NUMBER, "hi")  # automatic: over at the first poll
    assert "comms_operation_" not in capsys.readouterr().err


def test_item7_automatic_progress_draws_a_bar_only_for_a_long_wait(monkeypatch):
    from commstoolkit.client import waiting
    from commstoolkit.models import Operation

    bars = []
    monkeypatch.setattr(waiting, "_progress_bar", lambda *args: bars.append(args) or _Bar())
    for polls_to_finish, expected in [(1, 0), (2, 1), (5, 1)]:
        bars.clear()
        states = iter([*(["PROCESSING"] * (polls_to_finish - 1)), "COMPLETED"])
        poller = waiting.OperationPoller(None, sleep=lambda s: None, clock=lambda: 0.0)  # type: ignore[arg-type]

        def fetch(i, k, states=states):
            return Operation(id=i, kind=k, status=next(states))

        monkeypatch.setattr(poller, "fetch", fetch)
        operation = "comms_operation_01h9krwprkeee8fzqspvwy6nq8"
        poller.wait(operation, timeout=10, poll_interval=1, progress=None, kind="message")
        assert len(bars) == expected, polls_to_finish


class _Bar:
    total = None
    n = 0

    def set_postfix_str(self, *args, **kwargs):
        pass

    def refresh(self):
        pass

    def close(self):
        pass


@pytest.mark.parametrize("progress", [1, "yes"])
def test_item7_progress_must_be_a_flag(progress):
    with pytest.raises(ct.InvalidInputError) as caught:
        ct.test_send(_offline(), POOL, NUMBER, "hi", progress=progress)
    assert caught.value.field == "progress"


# -- channel and status names: any letter case, everywhere -----------------------------------


def test_item7_channel_and_status_in_any_case_everywhere(client, small_pool):
    upper = ct.load_senders(client, channel="SMS", status="ACTIVATED", progress=False)
    for channel, status in [("sms", "activated"), ("Sms", ["Activated", "ACTIVATED"])]:
        lower = ct.load_senders(client, channel=channel, status=status, progress=False)
        pd.testing.assert_frame_equal(lower, upper)
    everything = ct.load_senders(client, progress=False)
    pd.testing.assert_frame_equal(
        ct.select_senders(everything, channels="sms", statuses=["activated"]),
        ct.select_senders(everything, channels="SMS", statuses=["ACTIVATED"]),
    )
    assert [s.id for s in client.senders.list(channel="sms", status="activated")] == list(
        upper["sender_id"]
    )
    assert list(client.sender_pools.members.list(small_pool.id, channel="sms"))
    run = ct.test_send(client, small_pool, NUMBER, "hi", channel="phone", channels=["sms"])
    assert run.channel == "PHONE"
    for frame in (
        ct.load_messages(client, run_id=run.run_id, channel="sms", status="delivered"),
        ct.load_messages(client, run_id=run.run_id, channel="SMS", status="DELIVERED"),
    ):
        assert list(frame["channel"]) == ["SMS"] and list(frame["status"]) == ["DELIVERED"]
    dry = ct.test_send(client, small_pool, NUMBER, "hi", channel="whatsapp", dry_run=True)
    assert dry.channel == "WHATSAPP"


@pytest.mark.parametrize(
    ("call", "field", "allowed"),
    [
        (lambda c: ct.load_senders(c, channel="fax"), "channel", "SMS, RCS, EMAIL"),
        (lambda c: ct.load_senders(c, status="on"), "status", "ACTIVATED, DEACTIVATED"),
        (lambda c: ct.load_messages(c, channel="fax"), "channel", "SMS, RCS, WHATSAPP"),
        (lambda c: ct.load_messages(c, status="gone"), "status", "DELIVERED"),
        (lambda c: list(c.senders.list(channel="fax")), "channel", "SMS, RCS, EMAIL"),
        (lambda c: ct.test_send(c, POOL, NUMBER, "x", channel="sms"), "channel", "PHONE"),
        (lambda c: ct.test_send(c, POOL, NUMBER, "x", channels=["fax"]), "channels", "SMS"),
    ],
)
def test_item7_an_unknown_value_names_the_field_and_the_allowed_values(call, field, allowed):
    with pytest.raises(ct.InvalidInputError, match=allowed) as caught:
        call(_offline())
    assert caught.value.field == field
    with pytest.raises(ct.InvalidInputError, match="channels"):
        ct.select_senders(pd.DataFrame({"channel": []}), channels="fax")


# -- numbers as dates are Unix seconds -------------------------------------------------------


def test_item7_numbers_as_dates_are_unix_seconds(client):
    from datetime import datetime, timezone

    import numpy as np

    senders = ct.load_senders(client, progress=False)
    cut = senders["created_at"].sort_values().iloc[len(senders) // 2]
    seconds = int(cut.timestamp())
    by_text = ct.select_senders(senders, created_after=cut.isoformat())
    for number in (seconds, float(seconds), np.int64(seconds), np.float64(seconds)):
        pd.testing.assert_frame_equal(ct.select_senders(senders, created_after=number), by_text)
    assert 0 < len(by_text) < len(senders)  # 1700000000 no longer matches everything
    before = ct.select_senders(senders, created_before=seconds + 0.5)
    assert len(before) + len(by_text) >= len(senders)
    # The client reads them the same way, as the start of its window.
    listed = list(client.senders.list(start_date=seconds))
    assert listed and all(s.created_at >= cut for s in listed)
    assert [s.id for s in listed] == [s.id for s in client.senders.list(start_date=cut)]
    from commstoolkit.rules import check_timestamp

    assert check_timestamp(1700000000, "start_date") == datetime(
        2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc
    )


@pytest.mark.parametrize("value", [True, float("nan"), float("inf"), 1700000000000 * 10**6])
def test_item7_numbers_that_are_no_unix_seconds_are_refused(client, value):
    senders = ct.load_senders(client, progress=False)
    with pytest.raises(ct.InvalidInputError) as caught:
        ct.select_senders(senders, created_after=value)
    assert caught.value.field == "created_after"
    with pytest.raises(ct.InvalidInputError) as caught:
        _offline().senders.list(start_date=value)
    assert caught.value.field == "start_date"
    with pytest.raises(ct.InvalidInputError, match="send_at"):
        _offline().messages.send([NUMBER], text="x", sender_pool_id=POOL, send_at=value)


def test_item7_milliseconds_are_refused_as_out_of_range():
    with pytest.raises(ct.InvalidInputError, match="divide milliseconds by 1000"):
        _offline().messages.list(start_date=1700000000000)  # milliseconds


# -- phone numbers are strict: no extension, no trailing characters --------------------------

STRAY = [
    "+14155550100x",
    "+14155550100 ext. 5",
    "+1 415 555 0100 x5",
    "+14155550100;ext=5",
    "+14155550100#5",
    "+14155550100abc",
    "+14155550100.",
    "tel:+14155550100",
]


@pytest.mark.parametrize("number", STRAY)
def test_item7_phone_numbers_with_an_extension_or_trailing_characters_are_refused(number):
    from commstoolkit.testsend.recipients import InvalidRecipientsError, e164

    assert e164(number)[0] is None
    with pytest.raises(InvalidRecipientsError) as caught:
        ct.test_send(_offline(), POOL, ["+14155550101", number], "hi")
    assert [text for text, _ in caught.value.invalid] == [number]
    assert repr(number) in str(caught.value) and caught.value.field == "to"
    # The client takes the API's form only (E.164), naming the recipient.
    for recipients in ([number], [(number, "WHATSAPP")]):
        with pytest.raises(ct.InvalidInputError, match=r"E\.164") as caught:
            _offline().messages.send(recipients, text="hi", sender_pool_id=POOL)
        assert caught.value.field == "recipients.address"
        assert repr(number) in str(caught.value)
    with pytest.raises(ct.InvalidInputError, match=r"E\.164"):
        _offline().senders.resolve([number])


def test_item7_numbers_as_people_write_them_still_read(client, small_pool):
    from commstoolkit.testsend.recipients import e164

    for written in [
        "+1 (415) 555-0100",
        "+1.415.555.0100",
        " +1 415 555 0100 ",
        "whatsapp:+14155550100",
    ]:
        assert e164(written) == ("+14155550100", "")
    reason = e164("+1 415 555 0100 ext. 5")[1]
    assert "extension" in reason and "'ext. 5'" in reason
    assert "ends with 'x'" in e164("+14155550100x")[1]
    run = ct.test_send(client, small_pool, "+1 (415) 555-0100", "hi", dry_run=True)
    assert run.recipients == ["+14155550100"]
    for formatted in ("+1 415 555 0100", "14155550100"):
        with pytest.raises(ct.InvalidInputError, match=r"E\.164"):
            client.messages.send([formatted], text="hi", sender_pool_id=small_pool.id)
