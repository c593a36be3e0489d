"""Pages of ``GET /Messages`` read straight into columns, and the one conversion of those
columns into a traffic frame: ``load_traffic`` (in memory), ``export_traffic`` (Parquet,
page by page) and ``read_traffic`` (back from Parquet) all go through here, so the three
give the same columns, values and dtypes.

A traffic frame has the messages frame's columns (``frames.MESSAGE_COLUMNS``) plus
``pool_id`` (the pool the message was sent through: ``from.senderPoolId``), ``pool_name``
and ``to_country`` (the recipient's country, ISO 3166 alpha-2, from its number).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import pandas as pd
import phonenumbers
import pyarrow as pa

from ..errors import UnexpectedResponseError
from ..frames.build import sender_channel
from ..frames.schema import TRAFFIC_COLUMNS, TRAFFIC_DTYPES
from ..models import FINAL_MESSAGE_STATUSES, related_operation

__all__ = [
    "STORED_SCHEMA",
    "TRAFFIC_COLUMNS",
    "TRAFFIC_DTYPES",
    "TrafficColumns",
    "country_of",
    "traffic_frame",
]

# What a page yields and a Parquet file holds: the list endpoint's own fields (no attempts,
# so no fallback / n_attempts / error_code; pool names are the account's, kept apart).
_UTC = pa.timestamp("ns", tz="UTC")
STORED_SCHEMA = pa.schema(
    [
        ("message_id", pa.string()),
        ("operation_id", pa.string()),
        ("to", pa.string()),
        ("to_channel", pa.string()),
        ("status", pa.string()),
        ("sender_id", pa.string()),
        ("sender_address", pa.string()),
        ("channel", pa.string()),
        ("pool_id", pa.string()),
        ("to_country", pa.string()),
        ("created_at", _UTC),
        ("updated_at", _UTC),
    ]
)
_FIELDS = tuple(STORED_SCHEMA.names)
_FINAL = frozenset(FINAL_MESSAGE_STATUSES)


class TrafficColumns:
    """Accumulates ``GET /Messages`` pages (``add``, a ``Pager.read_pages`` reader) as
    columns, without an object per message; ``table()`` gives them as an Arrow table of
    ``STORED_SCHEMA``, ``clear()`` starts again (the export writes and clears page by page).
    """

    def __init__(self) -> None:
        self._columns: dict[str, list[Any]] = {name: [] for name in _FIELDS}

    def __len__(self) -> int:
        return len(self._columns["message_id"])

    def add(self, items: Sequence[Any]) -> int:
        """Append one page's ``messages``; return how many."""
        c = self._columns
        try:
            for item in items:
                sender = item.get("from") or {}
                to = (item.get("to") or [{}])[0]
                sender_id = sender.get("senderId")
                number = to.get("address")
                c["message_id"].append(item["id"])
                c["operation_id"].append(related_operation(item.get("related")))
                c["to"].append(number)
                c["to_channel"].append(to.get("channel"))
                c["status"].append(item["status"])
                c["sender_id"].append(sender_id)
                c["sender_address"].append(sender.get("address") or None)
                c["channel"].append(sender_channel(sender_id, sender.get("channel")))
                c["pool_id"].append(sender.get("senderPoolId"))
                c["to_country"].append(country_of(number))
                c["created_at"].append(item["createdAt"])
                c["updated_at"].append(item["updatedAt"])
        except (KeyError, TypeError, AttributeError, IndexError) as error:
            self._truncate()
            raise UnexpectedResponseError(
                f"a message in a GET /Messages page lacks {error}: not the API's MessageMetadata"
            ) from None
        return len(items)

    def _truncate(self) -> None:
        """Drop a half-read page: every column back to the length of the shortest."""
        n = min(len(values) for values in self._columns.values())
        for values in self._columns.values():
            del values[n:]

    def clear(self) -> None:
        for values in self._columns.values():
            values.clear()

    def table(self) -> pa.Table:
        arrays = {
            name: pa.array(values, pa.string())
            for name, values in self._columns.items()
            if name not in ("created_at", "updated_at")
        }
        for name in ("created_at", "updated_at"):
            stamps = pd.to_datetime(
                pd.Series(self._columns[name], dtype="string"), utc=True, format="ISO8601"
            )
            arrays[name] = pa.array(stamps.astype("datetime64[ns, UTC]"), _UTC)
        return pa.table([arrays[name] for name in _FIELDS], schema=STORED_SCHEMA)


def traffic_frame(
    table: pa.Table, pool_names: Mapping[str, str | None] | None = None
) -> pd.DataFrame:
    """The traffic frame of a ``STORED_SCHEMA`` table (every column of ``TRAFFIC_DTYPES``,
    in that order): attempts' columns NA (the list endpoint has none), ``latency_s`` the
    seconds from creation to the last status change once final, ``pool_name`` from
    ``pool_names`` (pool id -> name; NA for a pool not in it)."""
    frame = table.to_pandas(types_mapper={pa.string(): pd.StringDtype()}.get)
    n = len(frame)
    final = frame["status"].isin(_FINAL).to_numpy(bool)
    seconds = (frame["updated_at"] - frame["created_at"]).dt.total_seconds()
    frame["latency_s"] = seconds.where(final)
    frame["seen_delivered_s"] = float("nan")
    frame["fallback"] = pd.array([pd.NA] * n, dtype="boolean")
    frame["n_attempts"] = pd.array([pd.NA] * n, dtype="Int64")
    frame["error_code"] = pd.array([pd.NA] * n, dtype="Int64")
    names = pool_names or {}
    frame["pool_name"] = frame["pool_id"].map(names, na_action="ignore").astype("string")
    frame = frame[list(TRAFFIC_COLUMNS)]
    return frame.astype(TRAFFIC_DTYPES)


@lru_cache(maxsize=1 << 20)
def country_of(number: str | None) -> str | None:
    """The ISO 3166 alpha-2 region of an E.164 number (None when it names none: no number,
    a WhatsApp id, an unknown code). Exactly phonenumbers' ``region_code_for_number``, read
    without phonenumbers' text parser where the calling code serves one region (most do:
    the answer is then that region); for shared codes (+1, +7, +44, ...) phonenumbers
    decides from the whole number. Cached: recipients repeat."""
    if not number or number[0] != "+" or not number[1:].isdigit():
        return None
    digits = number[1:]
    for length in (1, 2, 3):
        code = int(digits[:length])
        regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(code)
        if regions:
            break
    else:
        return None
    if len(regions) == 1:
        region = regions[0]
        return None if region == phonenumbers.UNKNOWN_REGION else region
    national = digits[length:]
    if not national:
        return None
    zeros = len(national) - len(national.lstrip("0"))
    parsed = phonenumbers.PhoneNumber(
        country_code=code,
        national_number=int(national),
        italian_leading_zero=True if zeros else None,
        number_of_leading_zeros=zeros if zeros > 1 else None,
    )
    return phonenumbers.region_code_for_number(parsed)
