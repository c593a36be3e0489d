"""A window of traffic: ``[start, end)`` in UTC, as the API's ``startDate`` (inclusive) and
``endDate`` (exclusive) filter a message's creation time (comms-api.md §11).

``parse_window("7d")`` is the last seven days up to now; ``parse_window("2026-11-01",
"2026-11-08")`` a week of whole days; datetimes must carry a time zone, dates mean midnight
UTC, numbers are Unix seconds (the one reading of a number as a date in the toolkit)."""

from __future__ import annotations

import contextlib
import re
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pandas as pd

from ..errors import InvalidInputError
from ..rules import check_timestamp

__all__ = ["SPAN_RULE", "bound_window", "days_of", "parse_span", "parse_window"]

_SPAN = re.compile(r"\s*(\d+)\s*(m|min|h|d|w)\s*\Z", re.IGNORECASE)
_UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}
SPAN_RULE = "a length such as '90m', '24h', '7d' or '2w'"
DATE_OR_SPAN = f"a date, an aware datetime, RFC 3339 text, Unix seconds or {SPAN_RULE}"


def parse_span(text: Any, field: str) -> timedelta | None:
    """``"7d"`` -> 7 days (minutes, hours, days, weeks; a whole number > 0); None when
    ``text`` does not read as a length."""
    if not isinstance(text, str):
        return None
    match = _SPAN.fullmatch(text)
    if match is None:
        return None
    amount = int(match.group(1))
    if amount <= 0:
        raise InvalidInputError(
            f"{field}: {text!r} is no length; expected {SPAN_RULE}", field=field, allowed=SPAN_RULE
        )
    return timedelta(**{_UNITS[match.group(2).lower()]: amount})


def parse_window(
    start: Any, end: Any = None, *, now: datetime | None = None
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``(start, end)`` as UTC timestamps, whole seconds. ``start``: a date, an aware
    datetime, RFC 3339 text, Unix seconds, or a length (``"7d"``: that long before
    ``end``); ``end``: the same but a length, default now. Raises ``InvalidInputError``
    naming the field when either does not read or the end is not after the start."""
    if end is None:
        end_at = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    else:
        if parse_span(end, "end") is not None:
            raise InvalidInputError(
                f"end: {end!r} is a length; the end of a window is a moment (default now)",
                field="end",
                allowed=DATE_OR_SPAN.replace(f" or {SPAN_RULE}", ""),
            )
        end_at = _moment(end, "end")
    span = parse_span(start, "start")
    start_at = end_at - span if span is not None else _moment(start, "start")
    if end_at <= start_at:
        raise InvalidInputError(
            f"end ({end_at.isoformat()}) must be after start ({start_at.isoformat()})",
            field="end",
            allowed=f"> {start_at.isoformat()}",
        )
    return pd.Timestamp(start_at), pd.Timestamp(end_at)


def bound_window(window: Any) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``(start, end)``: the times bound to a query another engine ran, read as
    ``parse_window`` reads them; ``InvalidInputError`` naming ``window`` otherwise."""
    if not isinstance(window, (tuple, list)) or len(window) != 2:
        raise InvalidInputError(
            f"window: expected (start, end), the times bound to the query; got {window!r}",
            field="window",
        )
    return parse_window(window[0], window[1])


_DATE = re.compile(r"\s*\d{4}-\d{2}-\d{2}\s*\Z")


def _moment(value: Any, field: str) -> datetime:
    if value is None:
        raise InvalidInputError(f"{field} is required: {DATE_OR_SPAN}", field=field)
    if isinstance(value, str) and _DATE.fullmatch(value):
        # A day is midnight UTC; a day that does not exist (2025-02-30) is named below.
        with contextlib.suppress(ValueError):
            value = date.fromisoformat(value.strip())
    try:
        moment = check_timestamp(value, field)
    except InvalidInputError as error:
        raise InvalidInputError(
            f"{error} (or, for start, {SPAN_RULE})" if field == "start" else str(error),
            field=field,
            allowed=DATE_OR_SPAN,
        ) from None
    assert moment is not None  # only None gives None
    return moment


def days_of(
    start: pd.Timestamp, end: pd.Timestamp
) -> list[tuple[date, pd.Timestamp, pd.Timestamp]]:
    """The UTC days the window touches, each with the part of the window inside it:
    ``[(day, from, to), ...]``, ``from`` inclusive and ``to`` exclusive."""
    days = []
    day = start.floor("D")
    while day < end:
        following = day + pd.Timedelta(days=1)
        days.append((day.date(), max(start, day), min(end, following)))
        day = following
    return days
