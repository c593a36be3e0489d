"""Test-send inputs: E.164 normalisation, one error for every bad number, duplicates, guards.

Everything here is refused or accepted before any request: the client's transport fails
the test if it is ever reached.
"""

from __future__ import annotations

import httpx
import pytest

import commstoolkit as ct
from commstoolkit.testsend import (
    DuplicateRecipientWarning,
    InvalidRecipientsError,
    SendRefusedError,
)
from commstoolkit.testsend.guards import ALLOW_ENV, CONFIRM_ABOVE, check_guards
from commstoolkit.testsend.recipients import normalise_numbers

POOL_ID = "comms_senderpool_01h9krwprkeee8fzqspvwy6nq8"
TEAM = [f"+1415555{n:04d}" for n in range(100, 110)]


@pytest.fixture
def unreachable():
    """A client (live or not) whose every request fails the test."""
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        raise AssertionError(f"unexpected request {request.method} {request.url}")

    def make(live: bool) -> ct.CommsClient:
        return ct.CommsClient(
            account_sid="AC1", auth_token="t", transport=httpx.MockTransport(handler), live=live
        )

    make.requests = requests
    return make


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("+1 (415) 555-0100", ["+14155550100"]),
        ("+14155550100, +44 7911 123456;+49 30 123456\n+1 914-318-8062", None),
        (["+1 415 555 0100", " +442079460000 "], ["+14155550100", "+442079460000"]),
        ("whatsapp:+14155550100", ["+14155550100"]),
        (("+15005550001", "+15005550006"), ["+15005550001", "+15005550006"]),
    ],
)
def test_numbers_are_normalised_to_e164(given, expected):
    numbers = normalise_numbers(given)
    assert all(n.startswith("+") and n[1:].isdigit() for n in numbers)
    if expected is not None:
        assert numbers == expected
    else:
        assert numbers == ["+14155550100", "+447911123456", "+4930123456", "+19143188062"]


def test_every_bad_number_is_listed_in_one_error():
    given = ["+14155550100", "(415) 555-0101", "hello", "+1415", "+1 415 555 0102", "+99912345"]
    with pytest.raises(InvalidRecipientsError) as caught:
        normalise_numbers(given)
    err = caught.value
    assert [text for text, _ in err.invalid] == ["(415) 555-0101", "hello", "+1415", "+99912345"]
    message = str(err)
    assert "4 of 6 recipients" in message and "nothing was sent" in message
    for text, reason in err.invalid:
        assert repr(text) in message and reason in message
    assert "international format" in dict(err.invalid)["(415) 555-0101"]
    assert isinstance(err, ct.InvalidInputError) and err.field == "to"


@pytest.mark.parametrize("given", ["", " , ;", [], 14155550100, [14155550100], None])
def test_no_numbers_or_numbers_not_as_text_are_refused(given):
    with pytest.raises(ct.InvalidInputError) as caught:
        normalise_numbers(given)
    assert caught.value.field == "to"


def test_duplicates_after_normalising_are_removed_with_a_warning():
    with pytest.warns(DuplicateRecipientWarning, match=r"2 duplicate recipient\(s\) removed"):
        numbers = normalise_numbers(
            ["+14155550100", "+1 415 555 0100", "+14155550101", "+1 (415) 555-0100"]
        )
    assert numbers == ["+14155550100", "+14155550101"]


# -- guards ------------------------------------------------------------------------------


def test_the_sandbox_needs_no_guard():
    check_guards(TEAM * 1, live=False, environ={})
    check_guards([f"+1415{n:07d}" for n in range(20_000)], live=False, environ={})


def test_live_without_an_allow_list_is_refused():
    with pytest.raises(SendRefusedError) as caught:
        check_guards(TEAM[:1], live=True, environ={})
    assert caught.value.field == "allow"
    assert ALLOW_ENV in str(caught.value) and "nothing was sent" in str(caught.value)


def test_live_recipients_must_all_be_allow_listed():
    with pytest.raises(SendRefusedError) as caught:
        check_guards([TEAM[0], "+14155559999"], live=True, allow=TEAM, environ={})
    (reason,) = caught.value.reasons
    assert reason == "1 recipient is not on the allow-list (allow=): +14155559999."


def test_the_allow_list_can_come_from_the_environment_in_any_format():
    environ = {ALLOW_ENV: "+1 (415) 555-0100, +1 415 555 0101"}
    check_guards(["+14155550100", "+14155550101"], live=True, environ=environ)
    with pytest.raises(SendRefusedError, match=ALLOW_ENV):
        check_guards(["+14155550102"], live=True, environ=environ)


def test_more_than_the_cap_needs_confirm():
    recipients = TEAM[: CONFIRM_ABOVE + 1]
    check_guards(recipients[:-1], live=True, allow=TEAM, environ={})
    with pytest.raises(SendRefusedError) as caught:
        check_guards(recipients, live=True, allow=TEAM, environ={})
    assert caught.value.field == "confirm"
    assert "pass confirm=True to send 6 real messages" in str(caught.value)
    check_guards(recipients, live=True, allow=TEAM, confirm=True, environ={})


def test_max_recipients_is_a_hard_limit_even_with_confirm_and_in_the_sandbox():
    for live in (True, False):
        with pytest.raises(SendRefusedError) as caught:
            check_guards(
                TEAM[:3], live=live, allow=TEAM, max_recipients=2, confirm=True, environ={}
            )
        assert "more than max_recipients=2" in str(caught.value)
    with pytest.raises(ct.InvalidInputError, match="max_recipients"):
        check_guards(TEAM[:1], live=False, max_recipients=0, environ={})


def test_every_broken_guard_is_named_in_one_error():
    with pytest.raises(SendRefusedError) as caught:
        check_guards(TEAM[:8], live=True, allow=TEAM[:1], max_recipients=7, environ={})
    assert [r.split(" ")[1] for r in caught.value.reasons] == [
        "recipients",
        "recipients",
        "recipients",
    ]
    assert len(caught.value.reasons) == 3


def test_an_explicit_allow_list_applies_in_the_sandbox_too():
    with pytest.raises(SendRefusedError):
        check_guards(["+14155559999"], live=False, allow=TEAM, environ={})
    check_guards(["+14155559999"], live=False, environ={ALLOW_ENV: TEAM[0]})  # env: live only


# -- test_send refuses before any request ------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"pool": "pool-1"}, "pool"),
        ({"text": ""}, "text"),
        ({"text": "x" * 1601}, "text"),
        ({"channel": "SMS"}, "channel"),
        ({"channels": ["PHONE"]}, "channels"),
        ({"channels": ["SMS", "sms"]}, "channels"),
        ({"timeout": 0}, "timeout"),
        ({"to": ["+14155550100", "not a number"]}, "to"),
    ],
)
def test_test_send_checks_its_arguments_before_any_request(unreachable, kwargs, field):
    args = {"pool": POOL_ID, "to": TEAM[:1], "text": "Hi", **kwargs}
    with pytest.raises(ct.InvalidInputError) as caught:
        ct.testsend.test_send(unreachable(False), **args)
    assert caught.value.field == field
    assert unreachable.requests == []


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({}, "allow-listed numbers"),
        ({"to": TEAM[:2], "allow": TEAM[:1]}, "not on the allow-list"),
        ({"to": TEAM, "allow": TEAM}, "pass confirm=True"),
        ({"to": TEAM[:3], "allow": TEAM, "max_recipients": 2, "confirm": True}, "max_recipients=2"),
    ],
)
def test_live_test_send_is_refused_before_any_request(unreachable, kwargs, reason, monkeypatch):
    monkeypatch.delenv(ALLOW_ENV, raising=False)
    args = {"to": TEAM[:1], **kwargs}
    with pytest.raises(SendRefusedError, match=reason):
        ct.testsend.test_send(unreachable(True), POOL_ID, text="Hi", **args)
    assert unreachable.requests == []


def _corpus() -> list[str]:
    """Numbers of every calling code: random digits of 3-15 (mostly invalid), each region's
    example of each number type (valid), and the same written as people do or broken."""
    import random

    import phonenumbers

    rng = random.Random(11)
    corpus = []
    for code, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items():
        for _ in range(60):
            size = rng.randint(3, 15)
            corpus.append(f"+{code}{rng.randrange(10**size):0{size}d}")
        for region in regions:
            for kind in range(12):
                example = (
                    phonenumbers.example_number_for_type(region, kind) if region != "001" else None
                )
                if example is not None:
                    corpus.append(phonenumbers.format_number(example, 0))  # E.164
                    corpus.append(phonenumbers.format_number(example, 1))  # +44 20 7946 0000
    corpus += [f"+1914{n:07d}" for n in range(2_000_000, 2_002_000)]
    corpus += ["+1 (415) 555-0100", "+14155550100x", "+1 415 555 0100 ext. 5", "415 555 0100"]
    corpus += ["+999123", "+1", "+", "whatsapp:+447911123456", "+44 7911 123456#", "+1-800-FLOWERS"]
    return corpus


def test_the_validity_shortcut_agrees_with_phonenumbers_on_every_calling_code() -> None:
    """``recipients.is_valid_number`` skips phonenumbers' second, identical test; on numbers
    of every calling code, valid and not, it gives phonenumbers' own verdict."""
    import phonenumbers

    from commstoolkit.testsend import recipients

    verdicts = {True: 0, False: 0}
    for text in _corpus():
        try:
            number = phonenumbers.parse(text, None)
        except phonenumbers.NumberParseException:
            continue
        verdict = recipients.is_valid_number(number)
        assert verdict == phonenumbers.is_valid_number(number), text
        verdicts[verdict] += 1
    assert verdicts[True] > 2_000 and verdicts[False] > 5_000  # both sides were tried


def test_normalising_gives_the_answers_of_phonenumbers_own_validity_test(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import phonenumbers

    from commstoolkit.testsend import recipients

    corpus = _corpus()
    fast = [recipients.e164(text) for text in corpus]
    monkeypatch.setattr(recipients, "is_valid_number", phonenumbers.is_valid_number)
    assert fast == [recipients.e164(text) for text in corpus]
    assert sum(number is not None for number, _ in fast) > 2_000
