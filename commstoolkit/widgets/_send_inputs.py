"""TestSendPanel's control values -> what ``test_send`` will make of them (pure).

The recipients box is checked with the very functions ``test_send`` uses
(``testsend.recipients.split_numbers`` and ``e164``), so a number flagged while typing is
exactly a number the send would refuse. No widget is imported here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..errors import InvalidInputError
from ..models import MESSAGE_CHANNELS
from ..testsend.recipients import e164, split_numbers

__all__ = ["RecipientCheck", "check_recipients", "sender_channels"]


@dataclass(frozen=True)
class RecipientCheck:
    """What ``test_send`` would make of the recipients text.

    ``numbers``: the distinct E.164 numbers, in the order first given; ``invalid``:
    ``(text as typed, reason)`` for each number it would refuse; ``repeated``: E.164
    number -> how many times it was given, for numbers given more than once (they get
    one message each).
    """

    numbers: list[str] = field(default_factory=list)
    invalid: list[tuple[str, str]] = field(default_factory=list)
    repeated: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when there is at least one recipient and none is invalid."""
        return bool(self.numbers) and not self.invalid


def check_recipients(text: str) -> RecipientCheck:
    """Split ``text`` (commas, semicolons or line breaks) and check every number in it."""
    numbers: list[str] = []
    invalid: list[tuple[str, str]] = []
    for raw in split_numbers(text, "recipients"):
        number, reason = e164(raw)
        if number is None:
            invalid.append((raw, reason))
        else:
            numbers.append(number)
    counts = Counter(numbers)
    repeated = {number: count for number, count in counts.items() if count > 1}
    return RecipientCheck(list(counts), invalid, repeated)


def sender_channels(switched_on: Sequence[str]) -> list[str] | None:
    """The ``channels`` argument of ``test_send`` for the sender channels switched on.

    Every channel switched on is no filter (None); none switched on is an
    ``InvalidInputError`` saying what to do.
    """
    chosen = [channel for channel in MESSAGE_CHANNELS if channel in switched_on]
    if len(chosen) == len(MESSAGE_CHANNELS):
        return None
    if not chosen:
        raise InvalidInputError(
            "Switch on at least one sender channel (SMS, RCS or WHATSAPP) in 'Senders on'.",
            field="channels",
            allowed=MESSAGE_CHANNELS,
        )
    return chosen
