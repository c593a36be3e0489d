"""Test-send recipients: parsed and normalised to E.164 with ``phonenumbers``, all at once.

Numbers must carry their country code (``+1 415 555 0100``, ``+44 7911 123456``): a
national number such as ``(415) 555-0100`` is refused rather than guessed, because a wrong
guess would text a stranger in another country. Spaces, dashes, dots, slashes and brackets
may sit between the digits; anything else is refused, not dropped: an extension
(``+1 415 555 0100 ext. 5``, ``x5``, ``#5``) cannot receive a message, and trailing
characters (``+14155550100x``) may be a typo. Every bad number is listed in one
``InvalidRecipientsError``; duplicates (after normalising) are dropped with a warning.
"""

from __future__ import annotations

import re
import warnings
from collections import Counter
from collections.abc import Iterable
from typing import Any

import phonenumbers

from ..errors import InvalidInputError

__all__ = ["DuplicateRecipientWarning", "InvalidRecipientsError", "normalise_numbers"]

# Text of several numbers: separated by commas, semicolons or line breaks (not spaces,
# which may sit inside a number).
_SEPARATORS = re.compile(r"[,;\n]+")
_SHOWN = 5
# What may sit in a number as people write it (after an optional "whatsapp:" prefix).
_NUMBER_CHARACTERS = frozenset("+0123456789 ().-/\t")
# An extension at the end: "ext. 5", "extension 5", "x5", "#5", ";ext=5".
_EXTENSION = re.compile(r"(?i)(;\s*ext\s*=|ext(?:ension)?\.?|[x#])\s*[0-9]*\s*$")

_PARSE_REASONS = {
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: (
        "no valid country code; write it in international format, e.g. +1 415 555 0100"
    ),
    phonenumbers.NumberParseException.NOT_A_NUMBER: "not a phone number",
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
    phonenumbers.NumberParseException.TOO_SHORT_NSN: "too short",
    phonenumbers.NumberParseException.TOO_LONG: "too long",
}


class InvalidRecipientsError(InvalidInputError):
    """Some recipients are not valid phone numbers; nothing was sent.

    ``invalid`` lists every ``(given text, reason)`` pair, in the order given.
    """

    def __init__(self, message: str, *, invalid: list[tuple[str, str]]) -> None:
        super().__init__(message, field="to", allowed="E.164 phone numbers (+country code)")
        self.invalid = invalid


class DuplicateRecipientWarning(UserWarning):
    """The same number was given more than once; it gets one message."""


def split_numbers(to: Any, field: str = "to") -> list[str]:
    """The raw numbers of ``to``: one text (comma, semicolon or line separated) or a list."""
    if isinstance(to, str):
        items: list[Any] = _SEPARATORS.split(to)
    elif isinstance(to, Iterable) and not isinstance(to, (bytes, dict)):
        items = list(to)
    else:
        raise InvalidInputError(
            f"{field}: expected phone numbers (a list, or text separated by commas), "
            f"got {type(to).__name__}",
            field=field,
        )
    bad_types = [item for item in items if not isinstance(item, str)]
    if bad_types:
        raise InvalidInputError(
            f"{field}: phone numbers must be text such as '+14155550100' (a number loses its "
            f"'+'); got {', '.join(repr(b) for b in bad_types[:_SHOWN])}",
            field=field,
        )
    return [item.strip() for item in items if item.strip()]


def e164(text: str) -> tuple[str | None, str]:
    """``(E.164 number, "")`` for a valid number, else ``(None, reason)``.

    Strict: a number with an extension or with characters other than digits, "+" and the
    separators people type (spaces, dashes, dots, slashes, brackets) is refused, never
    read without them."""
    candidate = text.removeprefix("whatsapp:").strip()
    extension = _EXTENSION.search(candidate)
    if extension and any(c.isdigit() for c in candidate[: extension.start()]):
        tail = extension.group().strip()
        if not any(c.isdigit() for c in tail):
            return None, f"ends with {tail!r}; give only the number, e.g. +1 415 555 0100"
        return None, (
            f"has an extension ({tail!r}); a message cannot reach an extension: give the "
            "number alone"
        )
    stray = (
        ""
        if _NUMBER_CHARACTERS.issuperset(candidate)
        else "".join(dict.fromkeys(c for c in candidate if c not in _NUMBER_CHARACTERS))
    )
    if stray:
        return None, (
            f"has characters a phone number does not ({stray!r}); give only the number, "
            "e.g. +1 415 555 0100"
        )
    if candidate and not candidate[-1].isdigit():
        return None, f"ends with {candidate[-1]!r}; give only the number, e.g. +1 415 555 0100"
    try:
        number = phonenumbers.parse(candidate, None)
    except phonenumbers.NumberParseException as exc:
        return None, _PARSE_REASONS.get(exc.error_type, "not a phone number")
    if number.extension:  # any other way of writing one that phonenumbers knows
        return None, (
            f"has an extension ({number.extension!r}); a message cannot reach an extension: "
            "give the number alone"
        )
    if not is_valid_number(number):
        code = number.country_code  # always set by parse(); typed as optional
        region = (
            phonenumbers.UNKNOWN_REGION
            if code is None
            else phonenumbers.region_code_for_country_code(code)
        )
        return None, f"not a valid number for country code +{number.country_code} ({region})"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), ""


def is_valid_number(number: phonenumbers.PhoneNumber) -> bool:
    """``phonenumbers.is_valid_number(number)``, without testing the number twice.

    For a calling code shared by several regions (+1: the US, Canada and 23 more),
    ``region_code_for_number`` finds the region by testing the number against each region's
    patterns, unless the region's metadata has ``leading_digits``; ``is_valid_number`` then
    runs ``is_valid_number_for_region``, the same test again (half of its time on a list of
    US numbers). Found that way, the number is valid; otherwise the second test decides.
    """
    region = phonenumbers.region_code_for_number(number)
    if region is None or number.country_code is None:
        return False
    if len(phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(number.country_code, ())) > 1:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region.upper(), None)
        if metadata is not None and metadata.leading_digits is None:
            return True
    return bool(phonenumbers.is_valid_number_for_region(number, region))


def normalise_numbers(to: Any, field: str = "to") -> list[str]:
    """The distinct E.164 numbers of ``to``, in the order first given.

    Raises ``InvalidRecipientsError`` listing every invalid number (``InvalidInputError``
    when ``to`` is empty or not text); warns ``DuplicateRecipientWarning`` for repeats.
    """
    raw = split_numbers(to, field)
    if not raw:
        raise InvalidInputError(f"{field}: no recipients given", field=field)
    numbers: list[str] = []
    invalid: list[tuple[str, str]] = []
    for text in raw:
        number, reason = e164(text)
        if number is None:
            invalid.append((text, reason))
        else:
            numbers.append(number)
    if invalid:
        listed = "; ".join(f"{text!r}: {reason}" for text, reason in invalid)
        raise InvalidRecipientsError(
            f"{field}: {len(invalid):,} of {len(raw):,} recipients are not valid phone "
            f"numbers, so nothing was sent — {listed}",
            invalid=invalid,
        )
    counts = Counter(numbers)
    repeated = [number for number, count in counts.items() if count > 1]
    if repeated:
        more = f" and {len(repeated) - _SHOWN:,} more" if len(repeated) > _SHOWN else ""
        warnings.warn(
            f"{field}: {len(numbers) - len(counts):,} duplicate recipient(s) removed "
            f"({', '.join(repeated[:_SHOWN])}{more}); each number gets one message",
            DuplicateRecipientWarning,
            stacklevel=3,
        )
    return list(counts)
