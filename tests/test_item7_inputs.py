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
import pytest

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

    assert {"dry_run", "confirm", "wait"} <= _keyword_only(ct.test_send)
    assert "confirm" in _keyword_only(ct.delete_pool)
    assert "progress" in _keyword_only(ct.create_pool)
    assert "progress" in _keyword_only(PoolPlan.apply)
    # dry_run=True and confirm=True by position would have been a real send and a
    # confirmation: now they are a TypeError, before any request.
    with pytest.raises(TypeError):
        ct.test_send(_offline(), POOL, NUMBER, "hi", "PHONE", None, True)  # type: ignore[misc]
    with pytest.raises(TypeError):
        ct.delete_pool(_offline(), POOL, True)  # type: ignore[misc]
