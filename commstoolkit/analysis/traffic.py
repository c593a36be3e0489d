"""Load an account's real traffic: every message of a window, as a traffic frame.

``load_traffic(client, "7d")`` lists ``GET /Messages`` with ``startDate`` / ``endDate``
(and the API's own ``channel``, ``status``, ``tags`` filters), reads the pages straight into
columns (``columns.TrafficColumns``) and adds each message's pool and the recipient's
country. ``compare=True`` also loads the window of the same length before it, so that
``traffic_health`` can say what changed.

The list endpoint carries no attempts: ``details="sample"`` fetches up to ``sample_size``
messages per sender (a seeded stratified random sample) for theirs; the attempt columns
(``fallback``, ``n_attempts``, ``error_code``) are filled for those rows only, and the
metrics read from them (``metrics.fallback_rate``) say over how many messages they were
measured (the others are "attempts not loaded"). ``details="all"`` fetches every message,
one request each, and is refused above ``DETAILS_LIMIT`` messages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ..client.concurrency import resolve_concurrency, worth_hiding
from ..errors import InvalidInputError
from ..frames.load import DETAILS_LIMIT, checked_flag, fetch_each, progress_pages
from .columns import TrafficColumns, traffic_frame
from .slices import window_tables
from .window import parse_window

if TYPE_CHECKING:
    from ..client import CommsClient

__all__ = [
    "DETAILS",
    "SAMPLE_SIZE",
    "load_traffic",
    "pool_names",
    "resolve_pools",
    "server_window",
]

DETAILS = (None, "sample", "all")
SAMPLE_SIZE = 20


def load_traffic(
    client: CommsClient,
    start: Any,
    end: Any = None,
    *,
    pools: str | Iterable[str] | None = None,
    channel: str | None = None,
    status: str | None = None,
    tags: Mapping[str, str] | None = None,
    details: str | None = None,
    sample_size: int = SAMPLE_SIZE,
    seed: int = 0,
    compare: bool = False,
    progress: bool | None = None,
    concurrency: int | None = None,
) -> pd.DataFrame:
    """Every message created in ``[start, end)`` as a traffic frame (``TRAFFIC_DTYPES``:
    the messages frame's columns plus ``pool_id``, ``pool_name``, ``to_country``), oldest
    first.

    ``start``: a date, an aware datetime, RFC 3339 text, Unix seconds, or a length before
    ``end`` (``"7d"``, ``"24h"``); ``end``: default now, by the server's clock (its
    ``Date`` header). ``pools``: pool ids or names (the
    messages sent through them; the API cannot filter by pool, so the window is listed
    and filtered here). ``channel`` / ``status`` / ``tags``: the API's filters.
    ``details``: None, ``"sample"`` or ``"all"`` (see the module). ``compare``: also load
    the previous window of the same length. ``progress``: a bar (default: from the
    second page on). ``concurrency``: requests in flight at most (None: 8 over a network,
    1 on the embedded sandbox; 1: one page after the other): the window is fetched as
    slices of creation time side by side (``analysis.slices``); the frame is the same.

    ``attrs``: ``window`` (start, end), ``previous`` (when ``compare``), ``filters`` and
    ``details`` (``{"mode", "messages", "per_sender"}``).

    Raises ``InvalidInputError`` for a bad argument before any request (an unknown pool
    name after the pools are listed, before any message is).
    """
    window = parse_window(start, end)
    _check_details(details, sample_size)
    checked_flag(compare, "compare")
    checked_flag(progress, "progress")
    adaptive = concurrency is None
    concurrency = resolve_concurrency(concurrency, client.sandbox is not None, client.round_trip())
    # The pager checks channel, status and tags now; it asks for nothing until iterated.
    client.messages.list(status=status, channel=channel, tags=tags)
    names = pool_names(client)
    wanted = None if pools is None else resolve_pools(pools, names)
    window = server_window(client, start, end, window)
    if adaptive and not worth_hiding(client.round_trip()):
        concurrency = 1  # answers come within milliseconds: no round trip to hide
    begin = window[0] - (window[1] - window[0]) if compare else window[0]
    query = {"status": status, "channel": channel, "tags": tags}
    frame = traffic_frame(
        _window_table(client, (begin, window[1]), query, progress, concurrency), names
    )
    if wanted is not None:
        frame = frame[frame["pool_id"].isin(wanted).to_numpy(bool)]
    frame = frame.sort_values(["created_at", "message_id"], kind="stable").reset_index(drop=True)
    in_window = (frame["created_at"] >= window[0]).to_numpy(bool)
    loaded = _attempts(client, frame, in_window, details, sample_size, seed, progress)
    frame.attrs = {
        "window": window,
        "filters": {
            "pools": wanted,
            "channel": channel,
            "status": status,
            "tags": dict(tags) if tags else None,
        },
        "details": {"mode": details, "messages": loaded, "per_sender": sample_size},
    }
    if compare:
        frame.attrs["previous"] = (begin, window[0])
    return frame


def _window_table(
    client: CommsClient,
    window: tuple[pd.Timestamp, pd.Timestamp],
    query: dict[str, Any],
    progress: bool | None,
    concurrency: int,
) -> pa.Table:
    """Every message of ``window`` as one ``STORED_SCHEMA`` table, in slices side by side
    (``concurrency`` > 1) or one page after the other."""
    if concurrency > 1:
        parts = window_tables(client, [window], query, concurrency)
        pages = progress_pages((t for _, t in parts), progress, "messages", size=len)
        return pa.concat_tables(list(pages))
    pager = client.messages.list(start_date=window[0], end_date=window[1], **query)
    columns = TrafficColumns()
    for _ in progress_pages(pager.read_pages(columns.add), progress, "messages", size=int):
        pass
    return columns.table()


def server_window(
    client: CommsClient, start: Any, end: Any, window: tuple[pd.Timestamp, pd.Timestamp]
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``window`` again with "now" the server's clock (``client.server_now()``: a sandbox's
    clock may be years from this machine's) when the window depends on now: no ``end``."""
    now = client.server_now()
    if end is not None or now is None:
        return window
    return parse_window(start, None, now=now)


def pool_names(client: CommsClient) -> dict[str, str | None]:
    """The account's pools: id -> name, None for a pool without one (one listing)."""
    return {pool.id: pool.name for pool in client.sender_pools.list()}


def resolve_pools(pools: str | Iterable[str], names: Mapping[str, str | None]) -> list[str]:
    """Pool ids from ids or names (a name must be unique in the account)."""
    given = [pools] if isinstance(pools, str) else list(pools)
    by_name: dict[str, list[str]] = {}
    for pool_id, name in names.items():
        if name is not None:
            by_name.setdefault(name, []).append(pool_id)
    found = []
    for item in given:
        if not isinstance(item, str):
            raise InvalidInputError(
                f"pools: {item!r} is not a pool id or name", field="pools", allowed="ids or names"
            )
        if item in names:
            found.append(item)
        elif len(by_name.get(item, ())) == 1:
            found.append(by_name[item][0])
        elif item in by_name:
            raise InvalidInputError(
                f"pools: {len(by_name[item])} pools are named {item!r} "
                f"({', '.join(by_name[item])}); give the id",
                field="pools",
                allowed=tuple(by_name[item]),
            )
        else:
            known = sorted(by_name)
            shown = ", ".join(map(repr, known[:10])) + (" …" if len(known) > 10 else "")
            raise InvalidInputError(
                f"pools: no pool has the id or name {item!r}; the account's pools: "
                f"{shown or 'none'}",
                field="pools",
                allowed=tuple(known),
            )
    return list(dict.fromkeys(found))


def _check_details(details: Any, sample_size: Any) -> None:
    if details not in DETAILS:
        raise InvalidInputError(
            f"details={details!r}: expected None, 'sample' or 'all'",
            field="details",
            allowed=DETAILS,
        )
    if (
        isinstance(sample_size, bool)
        or not isinstance(sample_size, (int, np.integer))
        or (sample_size < 1)
    ):
        raise InvalidInputError(
            f"sample_size={sample_size!r}: expected a whole number of messages per sender, >= 1",
            field="sample_size",
        )


def _attempts(
    client: CommsClient,
    frame: pd.DataFrame,
    in_window: np.ndarray,
    details: str | None,
    per_sender: int,
    seed: int,
    progress: bool | None,
) -> int:
    """Fetch the attempts of the sampled (or all) messages of the window into ``frame``;
    return how many messages were fetched."""
    if details is None:
        return 0
    rows = np.flatnonzero(in_window)
    if details == "all":
        if len(rows) > DETAILS_LIMIT:
            raise InvalidInputError(
                f"details='all' would fetch {len(rows):,} messages one request each (the limit "
                f"is {DETAILS_LIMIT:,}); use details='sample'",
                field="details",
                allowed=("sample",),
            )
        chosen = rows
    else:
        chosen = _stratified(frame, rows, per_sender, seed)
    ids = frame["message_id"].to_numpy()[chosen]
    got = fetch_each(client, [str(i) for i in ids], progress)
    index = frame.index[chosen]
    frame.loc[index, "fallback"] = pd.array([m.fallback for m in got], dtype="boolean")
    frame.loc[index, "n_attempts"] = pd.array([m.n_attempts for m in got], dtype="Int64")
    codes = [m.attempts[-1].error_code if m.attempts else None for m in got]
    frame.loc[index, "error_code"] = pd.array(codes, dtype="Int64")
    return len(got)


def _stratified(frame: pd.DataFrame, rows: np.ndarray, per_sender: int, seed: int) -> np.ndarray:
    """Up to ``per_sender`` random rows of each sender (no sender: one stratum), in order."""
    rng = np.random.default_rng(seed)
    senders = frame["sender_id"].to_numpy(dtype=object, na_value=None)[rows]
    codes, _ = pd.factorize(pd.Series(senders, dtype=object), use_na_sentinel=False)
    chosen = []
    for code in range(codes.max() + 1 if len(codes) else 0):
        members = rows[codes == code]
        if len(members) > per_sender:
            members = rng.choice(members, per_sender, replace=False)
        chosen.append(members)
    return np.sort(np.concatenate(chosen)) if chosen else rows[:0]
