"""Pure builders: API objects (or senders held in columns) -> DataFrames of the schema's
columns and dtypes. No request, no progress bar: the loaders (``load``) fetch, these build."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..models import (
    API_TIMESTAMP_FORMAT,
    FINAL_MESSAGE_STATUSES,
    MESSAGE_CHANNELS,
    Message,
    Sender,
    SenderPool,
    parse_timestamp,
)
from .schema import (
    ATTEMPT_COLUMNS,
    ATTEMPT_DTYPES,
    MESSAGE_DTYPES,
    POOL_DTYPES,
    SENDER_DTYPES,
    STRING,
    TAG_PREFIX,
    UTC_TIMESTAMP,
)
from .sender_columns import SenderColumns

__all__ = [
    "attempts_frame",
    "messages_frame",
    "pools_frame",
    "sender_channel",
    "senders_columns_frame",
    "senders_frame",
    "typed_frame",
]

# Text columns are Arrow-backed (pandas' default string storage when pyarrow is installed).
_ARROW_TEXT = STRING.storage == "pyarrow"


def senders_frame(senders: Sequence[Sender]) -> pd.DataFrame:
    """Build the senders frame from ``Sender`` objects (see ``load_senders``)."""
    columns = SenderColumns()
    columns.extend(senders)
    return senders_columns_frame(columns)


def senders_columns_frame(columns: SenderColumns) -> pd.DataFrame:
    """The senders frame of senders held in columns; tag columns sorted by key."""
    values: dict[str, list[Any]] = {
        "sender_id": columns.id,
        "display_name": columns.display_name,
        "address": columns.address,
        "channel": columns.channel,
        "status": columns.status,
    }
    frame = pd.DataFrame(
        {
            **{name: _typed(values[name], SENDER_DTYPES[name]) for name in values},
            "created_at": _utc_times(columns.created_at),
            "updated_at": _utc_times(columns.updated_at),
        }
    )
    if not columns.tags:
        return frame
    tag_columns = {
        TAG_PREFIX + key: _typed(columns.tags[key], STRING) for key in sorted(columns.tags)
    }
    return pd.concat([frame, pd.DataFrame(tag_columns, index=frame.index)], axis=1)


def pools_frame(
    pools: Sequence[SenderPool], members: Mapping[str, Sequence[Sender]]
) -> pd.DataFrame:
    """Build the pools frame from pools and their members (see ``load_pools``)."""
    sizes, n_activated, n_deactivated, channels = [], [], [], []
    for pool in pools:
        pool_members = members.get(pool.id, ())
        active = sum(1 for s in pool_members if s.status == "ACTIVATED")
        sizes.append(len(pool_members))
        n_activated.append(active)
        n_deactivated.append(len(pool_members) - active)
        channels.append(", ".join(sorted({s.channel for s in pool_members})))
    columns: dict[str, list[Any]] = {
        "pool_id": [p.id for p in pools],
        "name": [p.name for p in pools],
        "created_at": [p.created_at for p in pools],
        "updated_at": [p.updated_at for p in pools],
        "size": sizes,
        "n_activated": n_activated,
        "n_deactivated": n_deactivated,
        "channels": channels,
    }
    frame = typed_frame(columns, POOL_DTYPES)
    return _add_tag_columns(frame, [p.tags for p in pools])


def messages_frame(
    messages: Sequence[Message], seen_delivered: Mapping[str, datetime] | None = None
) -> pd.DataFrame:
    """Build the messages frame from ``Message`` objects (one row each).

    ``to`` / ``to_channel``: the recipient; ``sender_*`` / ``channel``: the final sender,
    all NA for a message no sender took (``channel`` is the sender's, never the
    recipient's: a WhatsApp recipient with no sender has ``to_channel`` WHATSAPP and
    ``channel`` NA; tables and charts label it ``NO_SENDER``, "no sender");
    ``fallback`` (a second attempt followed the first), ``n_attempts`` and ``error_code``
    (the last attempt's) are NA when the attempts were not loaded; ``latency_s``: seconds
    from creation to the last status change, once the status is final (else NaN): for a
    READ message the time to read, for an unaddressable one 0 s. Read it through
    ``metrics.time_to_delivered`` / ``metrics.time_to_read``, which keep these apart.
    ``seen_delivered_s``: for a READ message, the seconds from creation to DELIVERED when a
    load saw it DELIVERED (``seen_delivered``: message id -> its ``updated_at`` then, which
    ``TestSend`` records while tracking; the API's whole seconds); else NaN: the API keeps
    no delivered moment once a message is READ.
    """
    seen = seen_delivered or {}
    columns: dict[str, list[Any]] = {
        "message_id": [m.id for m in messages],
        "operation_id": [m.operation_id for m in messages],
        "to": [m.to_address for m in messages],
        "to_channel": [m.to_channel for m in messages],
        "status": [m.status for m in messages],
        "sender_id": [m.sender_id for m in messages],
        "sender_address": [m.sender_address or None for m in messages],
        "channel": [sender_channel(m.sender_id, m.channel) for m in messages],
        "fallback": [m.fallback for m in messages],
        "n_attempts": [m.n_attempts for m in messages],
        "error_code": [m.attempts[-1].error_code if m.attempts else None for m in messages],
        "created_at": [m.created_at for m in messages],
        "updated_at": [m.updated_at for m in messages],
        "latency_s": [_latency(m) for m in messages],
        "seen_delivered_s": [_seen_delivered(m, seen) for m in messages],
    }
    return typed_frame(columns, MESSAGE_DTYPES)


def attempts_frame(messages: Sequence[Message]) -> pd.DataFrame:
    """Build the attempts frame: one row per attempt of each message whose attempts are loaded.

    Columns: ``message_id, attempt`` (1-based), ``sender_id, sender_address, channel, to,
    status, attempted_at, error_code, error_message``.
    """
    rows: dict[str, list[Any]] = {column: [] for column in ATTEMPT_COLUMNS}
    for message in messages:
        for number, attempt in enumerate(message.attempts or (), start=1):
            rows["message_id"].append(message.id)
            rows["attempt"].append(number)
            rows["sender_id"].append(attempt.sender_id)
            rows["sender_address"].append(attempt.sender_address)
            rows["channel"].append(sender_channel(attempt.sender_id, attempt.channel))
            rows["to"].append(attempt.to_address or message.to_address)
            rows["status"].append(attempt.status)
            rows["attempted_at"].append(attempt.attempted_at)
            rows["error_code"].append(attempt.error_code)
            rows["error_message"].append(attempt.error_message)
    return typed_frame(rows, ATTEMPT_DTYPES)


def sender_channel(sender_id: str | None, channel: str | None) -> str | None:
    """The sender's channel, or None when there is no sender: an unaddressable message's
    ``from`` is the recipient's address channel (PHONE or WHATSAPP), not a sender's."""
    return channel if sender_id and channel in MESSAGE_CHANNELS else None


def _seen_delivered(message: Message, seen: Mapping[str, datetime]) -> float:
    at = seen.get(message.id) if message.status == "READ" else None
    return float("nan") if at is None else (at - message.created_at).total_seconds()


def _latency(message: Message) -> float:
    if message.status not in FINAL_MESSAGE_STATUSES:
        return float("nan")
    return (message.updated_at - message.created_at).total_seconds()


def typed_frame(columns: dict[str, list[Any]], dtypes: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame({name: _typed(columns[name], dtypes[name]) for name in dtypes})


def _utc_times(values: list[datetime | str]) -> pd.Series:
    """A UTC timestamp column of ``SenderColumns`` values: when all are texts (the API's own
    form, checked by SenderColumns) Arrow reads them at once, three times faster than
    pandas converts datetimes; else each text is parsed and datetimes are taken as they are."""
    if values and {v.__class__ for v in values} == {str}:
        try:
            seconds = pc.strptime(pa.array(values, pa.string()), API_TIMESTAMP_FORMAT, "s")
        except pa.ArrowInvalid:
            pass  # not all in the API's own form after all: read each below
        else:
            column = pd.Series(seconds.to_numpy(zero_copy_only=False))
            return column.dt.tz_localize("UTC").astype(UTC_TIMESTAMP)
    times = [parse_timestamp(v) if isinstance(v, str) else v for v in values]
    return pd.Series(times, dtype=UTC_TIMESTAMP)


def _typed(values: list[Any], dtype: Any) -> pd.Series:
    """A column of ``dtype``, built the fast way where there is one (same column).

    A categorical is built from its codes (about ten times faster than from the values; a
    value outside the categories is NA, as it would be anyway); text goes to Arrow directly
    (two to five times faster than through pandas' checks), unless a value is not text.
    """
    if isinstance(dtype, pd.CategoricalDtype):
        code = {value: index for index, value in enumerate(dtype.categories)}
        codes = np.array([code.get(v, -1) for v in values], dtype=np.int8)
        return pd.Series(pd.Categorical.from_codes(codes, dtype=dtype))
    if dtype is STRING and _ARROW_TEXT:
        try:
            text = pa.array(values, type=pa.large_string(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass  # not all text: pandas converts it below
        else:
            column = pd.Series(pd.arrays.ArrowStringArray(text))
            if column.dtype == dtype:
                return column
    return pd.Series(values, dtype=dtype)


def _add_tag_columns(frame: pd.DataFrame, tags: Sequence[dict[str, str]]) -> pd.DataFrame:
    keys = sorted({key for tag_map in tags for key in tag_map})
    if not keys:
        return frame
    tag_columns = {
        TAG_PREFIX + key: pd.Series([t.get(key) for t in tags], dtype=STRING, index=frame.index)
        for key in keys
    }
    return pd.concat([frame, pd.DataFrame(tag_columns, index=frame.index)], axis=1)
