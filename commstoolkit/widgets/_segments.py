"""How many SMS segments a text takes: GSM-7 (160, or 153 per part) or UCS-2 (70, or 67).

Pure. A text that fits the GSM 03.38 alphabet is sent in 7-bit units; its extension
characters (``^ { } [ ] ~ | \\ €`` and form feed) take two units each. Any other character
makes the whole message UCS-2, where a character outside the Basic Multilingual Plane
(most emoji) takes two 16-bit units. A long message is split into parts that each lose
some room to the concatenation header, and a two-unit character is never split across
two parts.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["GSM7", "GSM7_LIMITS", "UCS2", "UCS2_LIMITS", "Segments", "sms_segments"]

GSM7 = "GSM-7"
UCS2 = "UCS-2"
# (units in a single message, units per part of a long message)
GSM7_LIMITS = (160, 153)
UCS2_LIMITS = (70, 67)

_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENSION = frozenset("\f^{}\\[]~|€")


@dataclass(frozen=True)
class Segments:
    """The SMS cost of a text.

    ``characters``: its length as a person counts it; ``encoding``: ``"GSM-7"`` or
    ``"UCS-2"``; ``units``: septets (GSM-7) or 16-bit code units (UCS-2);
    ``segments``: SMS parts (0 for an empty text); ``per_segment``: the units one part
    holds at this length (160/153 or 70/67); ``remaining``: units left in the last part;
    ``first_unicode``: the first character that forced UCS-2 (None for GSM-7).
    """

    characters: int
    encoding: str
    units: int
    segments: int
    per_segment: int
    remaining: int
    first_unicode: str | None


def _gsm7_cost(char: str) -> int | None:
    if char in _GSM7_BASIC:
        return 1
    if char in _GSM7_EXTENSION:
        return 2
    return None


def _ucs2_cost(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def sms_segments(text: str) -> Segments:
    """Count the characters, units and SMS segments of ``text`` (see the module docstring)."""
    gsm = {char: _gsm7_cost(char) for char in text}
    first_unicode = next((char for char in text if gsm[char] is None), None)
    if first_unicode is None:
        encoding, (single, part) = GSM7, GSM7_LIMITS
        costs = [gsm[char] or 0 for char in text]
    else:
        encoding, (single, part) = UCS2, UCS2_LIMITS
        costs = [_ucs2_cost(char) for char in text]
    units = sum(costs)
    if units <= single:
        segments = 1 if units else 0
        return Segments(len(text), encoding, units, segments, single, single - units, first_unicode)
    segments, used = 1, 0
    for cost in costs:
        if used + cost > part:
            segments, used = segments + 1, 0
        used += cost
    return Segments(len(text), encoding, units, segments, part, part - used, first_unicode)
