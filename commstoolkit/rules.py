"""The API's input rules, checked before any request; each failure names the field and
what is allowed. The one place for id patterns, tag limits, page sizes and the like: the
client, pools and test sends all check with these."""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timezone
from typing import Any

from commstoolkit.errors import InvalidInputError
from commstoolkit.models import (
    RECIPIENT_CHANNELS,
    Operation,
    Recipient,
    SenderPool,
    parse_timestamp,
)

ID_BODY = "[0-7][a-hjkmnpqrstv-z0-9]{25,34}"
ID_PREFIXES = {
    "sender": "comms_sender_",
    "sender pool": "comms_senderpool_",
    "operation": "comms_operation_",
    "message": "comms_message_",
}
ID_PATTERNS = {kind: re.compile(re.escape(p) + ID_BODY) for kind, p in ID_PREFIXES.items()}
_EXAMPLE_ID_BODY = "01h9krwprkeee8fzqspvwy6nq8"

PAGE_SIZE_MIN, PAGE_SIZE_MAX = 1, 1000
TAGS_MAX, TAG_KEY_MAX, TAG_VALUE_MAX = 10, 128, 256
TAG_PATTERN = re.compile(r"[a-zA-Z0-9._~-]+")
RESOLVE_RECIPIENTS_MAX = 100
SEND_RECIPIENTS_MAX = 10_000
TEXT_MAX = 1600
# A phone address as the API takes it (PHONE and WHATSAPP recipients): "+", the country
# code and the number, 8 to 16 characters, nothing else (no spaces, extension or trailing
# characters). Test sends normalise what people type to this form first.
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
PHONE_CHANNELS = ("PHONE", "WHATSAPP")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_id(value: Any, kind: str, field: str) -> str:
    """``value`` if it is a well-formed id of ``kind`` ("sender", "sender pool", "operation")."""
    pattern = ID_PATTERNS[kind]
    if isinstance(value, str) and pattern.fullmatch(value):
        return value
    prefix = ID_PREFIXES[kind]
    raise InvalidInputError(
        f"{field}: {_show(value)} is not {'an' if kind[0] in 'aeiou' else 'a'} {kind} id "
        f"(expected {prefix!r} followed by 26-35 "
        f"lowercase base32 characters, e.g. {prefix}{_EXAMPLE_ID_BODY})",
        field=field,
        allowed=pattern.pattern,
    )


def operation_id_of(operation: Operation | str, field: str = "operation") -> str:
    """The checked id of an ``Operation`` or of an id string."""
    value = operation.id if isinstance(operation, Operation) else operation
    return check_id(value, "operation", field)


def pool_id_of(pool: SenderPool | str, field: str = "pool_id") -> str:
    """The checked id of a ``SenderPool`` or of an id string."""
    value = pool.id if isinstance(pool, SenderPool) else pool
    return check_id(value, "sender pool", field)


def check_optional_id(value: Any, kind: str, field: str) -> str | None:
    """Like ``check_id``; None passes through."""
    return None if value is None else check_id(value, kind, field)


def check_ids(
    values: Iterable[str], kind: str, field: str, *, min_items: int, max_items: int
) -> tuple[str, ...]:
    """A tuple of well-formed ids of ``kind``, between ``min_items`` and ``max_items`` long."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise InvalidInputError(
            f"{field}: expected a list of {kind} ids, got {_show(values)}",
            field=field,
            allowed=f"{min_items}..{max_items} ids",
        )
    ids = tuple(check_id(v, kind, field) for v in values)
    if not min_items <= len(ids) <= max_items:
        raise InvalidInputError(
            f"{field}: {len(ids)} ids given; between {min_items} and {max_items} are allowed",
            field=field,
            allowed=f"{min_items}..{max_items} ids",
        )
    return ids


def check_choice(value: Any, allowed: tuple[str, ...], field: str) -> str:
    """``value`` upper-cased, if it is one of ``allowed`` (case-insensitive)."""
    if isinstance(value, str) and value.upper() in allowed:
        return value.upper()
    raise InvalidInputError(
        f"{field}: {_show(value)} is not allowed; use one of {', '.join(allowed)}",
        field=field,
        allowed=allowed,
    )


def check_optional_choice(value: Any, allowed: tuple[str, ...], field: str) -> str | None:
    """Like ``check_choice``; None passes through."""
    return None if value is None else check_choice(value, allowed, field)


def check_choices(values: Iterable[str], allowed: tuple[str, ...], field: str) -> tuple[str, ...]:
    """Distinct values, each one of ``allowed``, in the order given."""
    if isinstance(values, str):
        values = (values,)
    chosen = tuple(check_choice(v, allowed, field) for v in values)
    if len(set(chosen)) != len(chosen) or not chosen:
        raise InvalidInputError(
            f"{field}: give each of {', '.join(allowed)} at most once, and at least one",
            field=field,
            allowed=allowed,
        )
    return chosen


def check_page_size(value: Any) -> int:
    """``value`` if it is an int from 1 to 1000."""
    if (
        isinstance(value, int)
        and not isinstance(value, bool)
        and PAGE_SIZE_MIN <= value <= PAGE_SIZE_MAX
    ):
        return value
    raise InvalidInputError(
        f"page_size: {_show(value)} is out of range; use an int from "
        f"{PAGE_SIZE_MIN} to {PAGE_SIZE_MAX}",
        field="page_size",
        allowed=(PAGE_SIZE_MIN, PAGE_SIZE_MAX),
    )


def check_text(value: Any, field: str) -> str:
    """``value`` if it is a non-empty string."""
    if isinstance(value, str) and value.strip():
        return value
    raise InvalidInputError(
        f"{field}: expected a non-empty string, got {_show(value)}", field=field, allowed="text"
    )


def check_tags(tags: Any, field: str = "tags") -> dict[str, str]:
    """A copy of ``tags`` if it is a mapping the API accepts (<= 10 pairs, limited charset)."""
    if not isinstance(tags, Mapping):
        raise InvalidInputError(
            f"{field}: expected a dict of str -> str, got {_show(tags)}", field=field
        )
    if len(tags) > TAGS_MAX:
        raise InvalidInputError(
            f"{field}: {len(tags)} tags given; at most {TAGS_MAX} are allowed",
            field=field,
            allowed=f"<= {TAGS_MAX} pairs",
        )
    for key, value in tags.items():
        _check_tag_part(key, TAG_KEY_MAX, f"{field} key")
        _check_tag_part(value, TAG_VALUE_MAX, f"{field}[{key!r}]")
    return dict(tags)


def _check_tag_part(value: Any, max_len: int, what: str) -> None:
    if isinstance(value, str) and len(value) <= max_len and TAG_PATTERN.fullmatch(value):
        return
    raise InvalidInputError(
        f"{what}: {_show(value)} is not allowed; use 1-{max_len} characters from "
        "letters, digits and . _ ~ -",
        field="tags",
        allowed=f"^{TAG_PATTERN.pattern}$, <= {max_len} characters",
    )


DATE_RULE = "timezone-aware datetime, date, RFC 3339 text or Unix seconds (int or float)"


def unix_seconds(value: Any, field: str) -> datetime | None:
    """A number (int or float) as a date: Unix seconds, as an aware UTC datetime; None when
    ``value`` is not a number. The one reading of a number as a date, wherever one is taken
    (never nanoseconds or milliseconds): ``True``/``False``, NaN, infinities and numbers
    outside the years 1-9999 (e.g. milliseconds) are refused."""
    if isinstance(value, bool):
        raise InvalidInputError(
            f"{field}: {value!r} is not a date; use {DATE_RULE}", field=field, allowed=DATE_RULE
        )
    if not isinstance(value, numbers.Real):
        return None
    try:
        if not math.isfinite(value):
            raise ValueError(value)
        return datetime.fromtimestamp(float(value), timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise InvalidInputError(
            f"{field}: {_show(value)} is out of range as Unix seconds (a number as a date is "
            "seconds since 1970-01-01 UTC; divide milliseconds by 1000)",
            field=field,
            allowed=DATE_RULE,
        ) from None


def check_timestamp(value: Any, field: str) -> datetime | None:
    """An aware UTC datetime from a datetime, a date (midnight UTC), RFC 3339 text or a
    number of Unix seconds (see ``unix_seconds``); None passes.

    A naive datetime is refused: its time zone would be a guess.
    """
    if value is None:
        return None
    seconds = unix_seconds(value, field)
    if seconds is not None:
        return seconds
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InvalidInputError(
                f"{field}: naive datetime {value!r}; give a time zone, "
                "e.g. datetime(..., tzinfo=timezone.utc)",
                field=field,
                allowed=DATE_RULE,
            )
        return parse_timestamp(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    try:
        return parse_timestamp(value)
    except ValueError:
        raise InvalidInputError(
            f"{field}: {_show(value)} is not a date-time; use a timezone-aware datetime, "
            "a date, RFC 3339 text such as 2024-01-31T00:00:00Z or Unix seconds",
            field=field,
            allowed=DATE_RULE,
        ) from None


def check_date_range(start: Any, end: Any) -> tuple[datetime | None, datetime | None]:
    """Checked ``start_date`` and ``end_date``; the end must come after the start."""
    start_at = check_timestamp(start, "start_date")
    end_at = check_timestamp(end, "end_date")
    if start_at and end_at and end_at <= start_at:
        raise InvalidInputError(
            f"end_date ({end_at.isoformat()}) must be after start_date ({start_at.isoformat()})",
            field="end_date",
            allowed=f"> {start_at.isoformat()}",
        )
    return start_at, end_at


def check_recipients(
    recipients: Any,
    *,
    channels: tuple[str, ...] = RECIPIENT_CHANNELS,
    max_items: int = RESOLVE_RECIPIENTS_MAX,
) -> tuple[Recipient, ...]:
    """1-``max_items`` recipients: text (an e-mail address if it has "@", else a phone number),
    ``(address, channel)`` pairs, ``{"address", "channel"}`` mappings or ``Recipient``;
    each channel one of ``channels``."""
    if isinstance(recipients, (str, Recipient, Mapping)):
        recipients = [recipients]
    if not isinstance(recipients, Iterable):
        raise InvalidInputError(
            f"recipients: expected a list of recipients, got {_show(recipients)}",
            field="recipients",
            allowed=f"1..{max_items} recipients",
        )
    found = tuple(_recipient(r, channels) for r in recipients)
    if not 1 <= len(found) <= max_items:
        raise InvalidInputError(
            f"recipients: {len(found):,} given; between 1 and {max_items:,} are allowed",
            field="recipients",
            allowed=f"1..{max_items}",
        )
    return found


def check_message_text(value: Any, field: str = "text") -> str:
    """``value`` if it is a string of 1 to 1600 characters (the API's limit, error 21617)
    holding more than white space (a blank text is refused as blank)."""
    if isinstance(value, str) and 1 <= len(value) <= TEXT_MAX and value.strip():
        return value
    if isinstance(value, str) and value and not value.strip():
        raise InvalidInputError(
            f"{field} is blank (only white space); give the text of the message",
            field=field,
            allowed=f"1..{TEXT_MAX} characters, not all white space",
        )
    size = f"{len(value):,} characters" if isinstance(value, str) else _show(value)
    raise InvalidInputError(
        f"{field}: expected text of 1 to {TEXT_MAX:,} characters, got {size}",
        field=field,
        allowed=f"1..{TEXT_MAX} characters",
    )


def _recipient(value: Any, channels: tuple[str, ...]) -> Recipient:
    address: object
    channel: object
    if value.__class__ is tuple and len(value) == 2:
        # The pairs test_send gives (20,000 for 10,000 recipients), read before the slower
        # Mapping test below (an ABC): a plain tuple is never a Mapping.
        address, channel = value
    elif isinstance(value, Recipient):
        address, channel = value.address, value.channel
    elif isinstance(value, str):
        default = "EMAIL" if "@" in value and "EMAIL" in channels else "PHONE"
        address, channel = value, default
    elif isinstance(value, Mapping):
        address, channel = value.get("address"), value.get("channel")
    elif isinstance(value, tuple) and len(value) == 2:
        address, channel = value
    else:
        raise InvalidInputError(
            f"recipients: {_show(value)} is not a recipient; give an address, "
            "an (address, channel) pair or a Recipient",
            field="recipients",
            allowed=channels,
        )
    recipient = Recipient(
        address=check_text(address, "recipients.address"),
        channel=check_choice(channel, channels, "recipients.channel"),
    )
    if recipient.channel in PHONE_CHANNELS and not E164.fullmatch(recipient.address):
        raise InvalidInputError(
            f"recipients.address: {_show(recipient.address)} is not an E.164 phone number "
            "(+, country code and number, 8-16 characters, e.g. +14155550100; no spaces, "
            "extension or trailing characters)",
            field="recipients.address",
            allowed=E164.pattern,
        )
    return recipient


def check_priority(priority: Any, allowed: tuple[str, ...]) -> dict[str, int]:
    """A channel -> rank mapping (lower wins), each channel one of ``allowed``."""
    if not isinstance(priority, Mapping):
        raise InvalidInputError(
            "priority: expected a dict of channel -> int", field="priority", allowed=allowed
        )
    checked = {}
    for channel, rank in priority.items():
        if isinstance(rank, bool) or not isinstance(rank, int):
            raise InvalidInputError(
                f"priority[{channel!r}]: expected an int rank, got {rank!r}", field="priority"
            )
        checked[check_choice(channel, allowed, "priority")] = rank
    return checked
