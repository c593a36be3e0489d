"""A reusable inventory: an opt-in on-disk cache of the senders, pools and members frames.

``load_senders(client, max_age="15m")`` answers from a frame fetched less than 15 minutes
ago when there is one, else asks the server and keeps what it got. Frames are Parquet files
under ``$COMMSTOOLKIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/commstoolkit`` (default
``~/.cache/commstoolkit``), named by a hash of the account (its SID or API key: who asked,
never a secret), the base URL, the frame's kind and its filters: two accounts, or the
sandbox and Twilio, never share an entry. A file holds the frame and when it was fetched;
``attrs["fetched_at"]`` carries it (ISO 8601 text, UTC), ``attrs["cached"]`` says whether
the cache answered.

Only the loaders read it, and only when asked (``max_age``): plans and applies
(``pools``) always list the server again and never read the cache. ``clear_cache()``
removes every entry.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import InvalidInputError

if TYPE_CHECKING:
    from ..client import CommsClient

__all__ = ["cache_dir", "clear_cache", "parse_max_age", "read_cached", "write_cached"]

_AGE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d)\s*\Z", re.IGNORECASE)
_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}
AGE_RULE = "a length such as '30s', '15m', '2h' or '1d', seconds, or a timedelta"
SUFFIX = ".parquet"
META = b"commstoolkit.cache"


def cache_dir() -> Path:
    """Where cached frames live (see the module)."""
    explicit = os.environ.get("COMMSTOOLKIT_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "commstoolkit"


def parse_max_age(value: Any) -> timedelta | None:
    """``"15m"`` -> 15 minutes; seconds (a number >= 0) and timedeltas as they are; None:
    no cache. ``InvalidInputError`` naming ``max_age`` otherwise."""
    if value is None:
        return None
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and (match := _AGE.fullmatch(value)):
        seconds = float(match.group(1)) * _UNITS[match.group(2).lower()]
    else:
        seconds = -1.0
    if not seconds >= 0:  # NaN too
        raise InvalidInputError(
            f"max_age={value!r}: expected {AGE_RULE}", field="max_age", allowed=AGE_RULE
        )
    return timedelta(seconds=seconds)


def _path(client: CommsClient, kind: str, filters: dict[str, Any]) -> Path:
    identity = {
        "account": client.account,
        "base_url": client.base_url,
        "kind": kind,
        "filters": filters,
    }
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()
    return cache_dir() / f"{kind}-{digest[:32]}{SUFFIX}"


def read_cached(
    client: CommsClient, kind: str, filters: dict[str, Any], max_age: timedelta | None
) -> pd.DataFrame | None:
    """The cached frame if one was fetched within ``max_age`` (None: not asked, or none)."""
    if max_age is None:
        return None
    path = _path(client, kind, filters)
    try:
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        meta = json.loads((table.schema.metadata or {})[META])
        fetched_at = pd.Timestamp(meta["fetched_at"])
    except (OSError, KeyError, ValueError):
        return None
    if pd.Timestamp.now(tz="UTC") - fetched_at > max_age:
        return None
    frame = table.to_pandas()
    frame.attrs = {"fetched_at": fetched_at.isoformat(), "cached": True}
    return frame


def write_cached(
    client: CommsClient,
    kind: str,
    filters: dict[str, Any],
    frame: pd.DataFrame,
    fetched_at: pd.Timestamp,
    max_age: timedelta | None,
) -> pd.DataFrame:
    """``frame`` with its attrs; kept in the cache when the caller uses it (``max_age``)."""
    # ISO text, not a Timestamp: attrs go into the metadata of DataFrame.to_parquet (JSON).
    frame.attrs = {"fetched_at": fetched_at.isoformat(), "cached": False}
    if max_age is None:
        return frame
    path = _path(client, kind, filters)
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    meta = {**(table.schema.metadata or {}), META: json.dumps({"fetched_at": str(fetched_at)})}
    table = table.replace_schema_metadata(meta)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written aside and renamed: a reader never sees half a file.
    handle, partial = tempfile.mkstemp(dir=path.parent, suffix=".partial")
    os.close(handle)
    try:
        pq.write_table(table, partial)
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    return frame


def clear_cache() -> int:
    """Remove every cached frame (of every account); return how many files went."""
    folder = cache_dir()
    removed = 0
    for path in [*folder.glob(f"*{SUFFIX}"), *folder.glob("*.partial")]:
        path.unlink(missing_ok=True)
        removed += 1
    return removed
