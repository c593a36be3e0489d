"""Guards of a live test send, checked before any request (design.md §6).

Against the live API (``client.live`` is True):

1. every recipient must be on the allow-list: ``allow=`` or the comma-separated
   ``COMMSTOOLKIT_TEST_RECIPIENTS``; with neither, nothing is sent;
2. more than ``CONFIRM_ABOVE`` (5) recipients needs ``confirm=True``;
3. never more than ``max_recipients`` recipients when it is given, confirmed or not.

The sandbox needs none of these; an explicit ``allow=`` or ``max_recipients=`` is still
honoured there. Every broken rule is named, in one ``SendRefusedError``. A dry run sends
nothing, so only the cap applies to it (``dry_run=True``): a dry run the send would refuse
for its size is refused the same way.

``check_routable`` is the one guard that needs a read first: a send to recipients that no
sender of the pool can reach (the dry run's routes) is refused unless allowed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import InvalidInputError
from .recipients import normalise_numbers

__all__ = [
    "ALLOW_ENV",
    "CONFIRM_ABOVE",
    "UNREACHABLE",
    "SendRefusedError",
    "check_guards",
    "check_routable",
]

ALLOW_ENV = "COMMSTOOLKIT_TEST_RECIPIENTS"
CONFIRM_ABOVE = 5
_SHOWN = 5
UNREACHABLE = "no sender of the pool can reach it"  # the dry run's words (route table)


class SendRefusedError(InvalidInputError):
    """A test send (or its dry run) was refused by a guard before any message was sent.

    ``reasons`` says why (sentences); ``unroutable`` lists the recipients no sender of the
    pool can reach when that is the reason (else it is empty).
    """

    def __init__(
        self,
        reasons: list[str],
        *,
        field: str,
        unroutable: Sequence[str] = (),
        dry_run: bool = False,
    ) -> None:
        what = "dry run refused" if dry_run else "test send refused, nothing was sent"
        super().__init__(f"{what}: " + " ".join(reasons), field=field)
        self.reasons = reasons
        self.unroutable = list(unroutable)


def check_guards(
    recipients: Sequence[str],
    *,
    live: bool,
    allow: Any = None,
    max_recipients: int | None = None,
    confirm: bool = False,
    environ: Mapping[str, str] | None = None,
    dry_run: bool = False,
) -> None:
    """Raise ``SendRefusedError`` naming every guard ``recipients`` break (see module doc)."""
    reasons: list[tuple[str, str]] = []
    if dry_run:
        allow, live, confirm = None, False, True  # nothing is sent: only the cap applies
    allowed, source = _allow_list(allow, live, os.environ if environ is None else environ)
    if live and allowed is None:
        reasons.append(
            (
                "allow",
                "A live test send goes only to allow-listed numbers: pass allow=[...] or set "
                f"{ALLOW_ENV} (comma separated).",
            )
        )
    elif allowed is not None:
        outside = [number for number in recipients if number not in allowed]
        if outside:
            reasons.append(
                (
                    "to",
                    f"{_count(outside)} not on the allow-list ({source}): {_some(outside)}.",
                )
            )
    n = len(recipients)
    if max_recipients is not None and n > _checked_max(max_recipients):
        reasons.append(
            (
                "max_recipients",
                f"{n:,} recipients is more than max_recipients={max_recipients:,}; "
                "confirm=True does not lift this limit.",
            )
        )
    if live and n > CONFIRM_ABOVE and confirm is not True:
        reasons.append(
            (
                "confirm",
                f"{n:,} recipients is more than {CONFIRM_ABOVE} for a live test send: pass "
                f"confirm=True to send {n:,} real messages.",
            )
        )
    if reasons:
        raise SendRefusedError([text for _, text in reasons], field=reasons[0][0], dry_run=dry_run)


def check_routable(
    unroutable: Sequence[str],
    *,
    channel: str,
    channels: Sequence[str] | None,
    allow_unroutable: bool,
) -> None:
    """Refuse a send some of whose recipients no sender of the pool can reach (Resolve found
    no route), naming them, unless ``allow_unroutable``: each would be a FAILED message with
    no sender and no error code."""
    if not unroutable or allow_unroutable:
        return
    over = f"{channel} recipients" + (f" with channels={list(channels)}" if channels else "")
    one = len(unroutable) == 1
    reach = UNREACHABLE if one else UNREACHABLE.removesuffix("it") + "them"
    reason = (
        f"{_count(unroutable)} unroutable, {reach} ({over}): {_some(unroutable)}; "
        f"{'its message' if one else 'their messages'} would FAIL with no sender. "
        "Change the pool, channel or channels, remove "
        f"{'it' if one else 'them'}, or pass allow_unroutable=True to send anyway."
    )
    raise SendRefusedError([reason], field="to", unroutable=unroutable)


def _allow_list(
    allow: Any, live: bool, environ: Mapping[str, str]
) -> tuple[frozenset[str] | None, str]:
    if allow is not None:
        return frozenset(normalise_numbers(allow, "allow")), "allow="
    text = environ.get(ALLOW_ENV, "").strip()
    if live and text:
        return frozenset(normalise_numbers(text, ALLOW_ENV)), ALLOW_ENV
    return None, ""


def _checked_max(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    raise InvalidInputError(
        f"max_recipients: expected an int >= 1 (or None), got {value!r}",
        field="max_recipients",
        allowed=">= 1",
    )


def _count(numbers: Sequence[str]) -> str:
    return "1 recipient is" if len(numbers) == 1 else f"{len(numbers):,} recipients are"


def _some(numbers: Sequence[str]) -> str:
    more = f" and {len(numbers) - _SHOWN:,} more" if len(numbers) > _SHOWN else ""
    return ", ".join(numbers[:_SHOWN]) + more
