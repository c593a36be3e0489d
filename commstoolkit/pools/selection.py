"""Pick senders out of a senders frame by channel, status, text, tags and creation date."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import TypeAlias

import numpy as np
import pandas as pd

from ..errors import InvalidInputError
from ..frames import TAG_PREFIX
from ..models import SENDER_CHANNELS, SENDER_STATUSES
from ..rules import unix_seconds

__all__ = ["select_senders"]

# int and float: Unix seconds (rules.unix_seconds), never nanoseconds.
DateLike: TypeAlias = str | date | datetime | pd.Timestamp | int | float


def select_senders(
    senders: pd.DataFrame,
    channels: str | Iterable[str] | None = None,
    statuses: str | Iterable[str] | None = None,
    search: str | None = None,
    tags: Mapping[str, str | Iterable[str]] | None = None,
    created_after: DateLike | None = None,
    created_before: DateLike | None = None,
) -> pd.DataFrame:
    """Return the rows of a senders frame (see ``load_senders``) that match every filter.

    Each filter left at ``None`` matches everything; the filters combine with AND.

    - ``channels`` / ``statuses``: one value or a list (``SMS, RCS, EMAIL, WHATSAPP, PUSH``;
      ``ACTIVATED, DEACTIVATED``; any letter case). An empty list matches nothing.
    - ``search``: text found, ignoring case, anywhere in ``address`` or ``display_name``
      (surrounding spaces are ignored; empty text matches everything).
    - ``tags``: ``{key: value}`` or ``{key: [values]}``; a sender must carry one of the
      values for every key given (read from the ``tags.<key>`` columns); None, NA or NaN
      as a value is refused (it would silently match nothing).
    - ``created_after`` / ``created_before``: ``created_after <= created_at < created_before``;
      strings, dates and datetimes are accepted, naive ones are taken as UTC; a number
      (int or float) is Unix seconds (1700000000 is 2023-11-14T22:13:20Z), never
      nanoseconds, and one out of range (e.g. milliseconds) is refused.

    The frame is not modified: the matching rows come back in their input order, with
    their index, columns and dtypes. Raises ``InvalidInputError`` (naming the argument and
    the allowed values) for an unknown channel or status, a tag key no column holds, an
    unreadable date or a frame without the columns a filter needs.
    """
    if not isinstance(senders, pd.DataFrame):
        raise InvalidInputError(
            f"senders: expected a senders frame (load_senders), got {type(senders).__name__}",
            field="senders",
        )
    if search is not None and not isinstance(search, str):
        raise InvalidInputError(
            f"search: expected text to look for, got {search!r}", field="search"
        )
    mask = np.ones(len(senders), dtype=bool)
    if channels is not None:
        wanted = _enum_values("channels", channels, SENDER_CHANNELS)
        mask &= _isin(_column(senders, "channel", "channels"), wanted)
    if statuses is not None:
        wanted = _enum_values("statuses", statuses, SENDER_STATUSES)
        mask &= _isin(_column(senders, "status", "statuses"), wanted)
    for key, values in _tag_filters(senders, tags):
        mask &= _isin(senders[TAG_PREFIX + key], values)
    if created_after is not None or created_before is not None:
        mask &= _date_mask(senders, created_after, created_before)
    text = search.strip() if search is not None else None
    if text:
        # Text search is the costly filter: run it only on the rows still in the running.
        rows = np.flatnonzero(mask)
        mask[rows] = _search_mask(senders, text, rows if len(rows) < len(mask) else None)
    return senders.loc[mask]


def _column(senders: pd.DataFrame, column: str, field: str) -> pd.Series:
    if column not in senders.columns:
        raise InvalidInputError(
            f"{field} filters the {column!r} column, which this frame does not have; "
            "pass a senders frame from load_senders",
            field="senders",
        )
    return senders[column]


def _enum_values(field: str, value: str | Iterable[str], allowed: tuple[str, ...]) -> list[str]:
    if isinstance(value, str):
        values: list = [value]
    elif isinstance(value, Iterable) and not isinstance(value, (bytes, Mapping)):
        values = list(value)
    else:
        values = [value]
    bad = [v for v in values if not isinstance(v, str) or v.upper() not in allowed]
    if bad:
        raise InvalidInputError(
            f"{field}: {', '.join(map(repr, bad))} not allowed; use values among "
            f"{', '.join(allowed)}",
            field=field,
            allowed=allowed,
        )
    return [v.upper() for v in values]


def _isin(column: pd.Series, values: list[str]) -> np.ndarray:
    # Categorical columns compare on their small integer codes: far faster than strings.
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = [column.cat.categories.get_loc(v) for v in values if v in column.cat.categories]
        # A lookup table indexed by code (its last slot, False, is code -1: missing).
        wanted = np.zeros(len(column.cat.categories) + 1, dtype=bool)
        wanted[codes] = True
        selected: np.ndarray = wanted[column.cat.codes.to_numpy()]
        return selected
    found: np.ndarray = column.isin(values).to_numpy(dtype=bool, na_value=False)
    return found


def _tag_filters(
    senders: pd.DataFrame, tags: Mapping[str, str | Iterable[str]] | None
) -> list[tuple[str, list[str]]]:
    if tags is None:
        return []
    if not isinstance(tags, Mapping):
        raise InvalidInputError(
            f"tags must be a mapping of tag key to value(s), got {type(tags).__name__}",
            field="tags",
        )
    known = sorted(c.removeprefix(TAG_PREFIX) for c in senders.columns if c.startswith(TAG_PREFIX))
    unknown = [key for key in tags if key not in known]
    if unknown:
        raise InvalidInputError(
            f"tags: no sender has the tag key {', '.join(map(repr, unknown))}; "
            f"known keys: {', '.join(known) or '(none)'}",
            field="tags",
            allowed=tuple(known),
        )
    filters = []
    for key, value in tags.items():
        values = (
            [value] if isinstance(value, str) or not isinstance(value, Iterable) else list(value)
        )
        missing = [v for v in values if _is_missing(v)]
        if missing:
            raise InvalidInputError(
                f"tags: the value(s) for {key!r} must be text (or a list of texts); got "
                f"{', '.join(map(repr, missing))}",
                field="tags",
            )
        filters.append((key, [str(v) for v in values]))
    return filters


def _is_missing(value: object) -> bool:
    """None, pd.NA, NaN or NaT: no value to match (``str()`` would match "nan" or "<NA>")."""
    if value is None:
        return True
    if isinstance(value, str):
        return False
    try:
        return bool(pd.api.types.is_scalar(value) and pd.isna(value))
    except (TypeError, ValueError):
        return False


def _date_mask(
    senders: pd.DataFrame, after: DateLike | None, before: DateLike | None
) -> np.ndarray:
    created = _column(senders, "created_at", "created_after/created_before")
    mask = np.ones(len(senders), dtype=bool)
    if after is not None:
        mask &= (created >= _utc("created_after", after)).to_numpy(dtype=bool, na_value=False)
    if before is not None:
        mask &= (created < _utc("created_before", before)).to_numpy(dtype=bool, na_value=False)
    return mask


def _utc(field: str, value: DateLike) -> pd.Timestamp:
    seconds = unix_seconds(value, field)  # a number is Unix seconds: pd.Timestamp reads ns
    try:
        stamp = pd.Timestamp(value if seconds is None else seconds)
    except (TypeError, ValueError) as err:
        raise InvalidInputError(
            f"{field} must be a date, a datetime, an ISO 8601 string such as "
            f"'2024-05-01' or '2024-05-01T12:00:00Z' or Unix seconds; got {value!r}",
            field=field,
        ) from err
    if pd.isna(stamp):
        raise InvalidInputError(f"{field} must be a date, got {value!r}", field=field)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _search_mask(senders: pd.DataFrame, text: str, rows: np.ndarray | None) -> np.ndarray:
    """Which of ``rows`` (default: all) hold ``text`` in their address or display name."""
    needle = text.lower()
    mask = np.zeros(len(senders) if rows is None else len(rows), dtype=bool)
    for column in ("address", "display_name"):
        values = _column(senders, column, "search")
        # Only the two searched columns are cut to the rows (not the whole frame).
        values = values if rows is None else values.iloc[rows]
        # lower() + plain substring is several times faster than case=False (a regex).
        lowered = values.astype("string").str.lower()
        mask |= lowered.str.contains(needle, regex=False).to_numpy(dtype=bool, na_value=False)
    return mask
