"""The health table: one row per group, its rates with their 95% intervals and the change
against the previous window, assembled from counts per group — counted by pandas
(``counts.frame_counts``) or by an SQL engine over Parquet (``dataset``), the same way."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .. import metrics
from ..errors import InvalidInputError
from ..frames.schema import HEALTH_COLUMNS, HEALTH_EVENT_COLUMNS, NO_COUNTRY, NO_POOL

__all__ = [
    "ALPHA",
    "BY",
    "COUNTS",
    "HEALTH_COLUMNS",
    "HEALTH_EVENT_COLUMNS",
    "NO_COUNTRY",
    "NO_POOL",
    "Window",
    "assemble",
    "check_by",
    "check_rows",
    "pool_names",
]

ALPHA = 0.05

# by -> (the key column, the label columns shown beside it)
BY: dict[str, tuple[str, tuple[str, ...]]] = {
    "sender": ("sender_id", ("sender_address", "channel")),
    "pool": ("pool_id", ("pool_name",)),
    "channel": ("channel", ()),
    "country": ("to_country", ()),
    "day": ("day", ()),
    "hour": ("hour", ()),
}
# What is counted per group before the rates: by pandas (_counts) or by SQL (dataset.py).
COUNTS = (
    "messages",
    "rated",
    "delivered",
    "errors",
    "read_eligible",
    "read",
    "ttd_n",
    "ttd_p50_s",
    "ttd_p90_s",
)

Window = tuple[pd.Timestamp, pd.Timestamp]
UTC_DAY = pd.DatetimeTZDtype("ns", "UTC")


def pool_names(pools: Any) -> dict[str, str | None]:
    """Pool id -> name from a pools frame (``load_pools``: ``pool_id``, ``name``), a mapping,
    or None (pools then named by their ids)."""
    if pools is None:
        return {}
    if isinstance(pools, pd.DataFrame):
        missing = [c for c in ("pool_id", "name") if c not in pools.columns]
        if missing:
            raise InvalidInputError(
                f"pools: the frame lacks {', '.join(missing)} (expected ct.load_pools' frame)",
                field="pools",
            )
        return dict(zip(pools["pool_id"].astype(str), pools["name"].astype(str), strict=True))
    if isinstance(pools, dict):
        return {str(k): None if v is None else str(v) for k, v in pools.items()}
    raise InvalidInputError(
        f"pools: expected ct.load_pools' frame or a mapping of pool id to name, got "
        f"{type(pools).__name__}",
        field="pools",
    )


def check_rows(rows: Any, columns: tuple[str, ...], field: str, made_by: str) -> None:
    """``rows``: a frame of what an engine's query gave, with at least ``columns``."""
    if not isinstance(rows, pd.DataFrame):
        raise InvalidInputError(
            f"{field}: expected a DataFrame of the rows {made_by} gave (e.g. Spark's "
            f".toPandas()), got {type(rows).__name__}",
            field=field,
        )
    missing = [c for c in columns if c not in rows.columns]
    if missing:
        raise InvalidInputError(
            f"{field}: the rows lack {', '.join(missing)}; expected the rows of {made_by}",
            field=field,
            allowed=columns,
        )


def check_by(by: Any) -> None:
    """Refuse a grouping that is not one of ``BY``, naming the allowed ones."""
    if by not in BY:
        raise InvalidInputError(
            f"by={by!r}: expected one of {', '.join(map(repr, BY))}", field="by", allowed=tuple(BY)
        )


def assemble(
    now: pd.DataFrame,
    before: pd.DataFrame,
    by: str,
    window: Window,
    *,
    members: pd.DataFrame | None = None,
    alpha: float = ALPHA,
) -> pd.DataFrame:
    """The health table from the window's counts per group (``now``) and the previous
    window's (``before``), both indexed by the group key with the columns ``COUNTS`` (and,
    in ``now``, the key's labels first): whoever counted them, pandas or an SQL engine."""
    key, labels = BY[by]
    start, end = window
    if members is not None and by in ("sender", "pool"):
        now = _add_idle_members(now, members, by)
    health = now.join(
        before[["rated", "delivered"]].rename(
            columns={"rated": "prev_rated", "delivered": "prev_delivered"}
        ),
        how="left",
    )
    for column in ("prev_rated", "prev_delivered"):
        health[column] = health[column].fillna(0).astype("int64")
    _rates(health, alpha)
    health = health.sort_values(["messages", key], ascending=[False, True], kind="stable")
    health = health.reset_index()[[key, *labels, *HEALTH_COLUMNS]]
    # One dtype whoever counted: text as pandas' NA-string, the day as UTC timestamps.
    texts = [*labels] if by in ("day", "hour") else [key, *labels]
    health = health.astype({column: pd.StringDtype() for column in texts})
    if by == "day":
        health[key] = pd.to_datetime(health[key], utc=True).astype(UTC_DAY)
    elif by == "hour":
        health[key] = health[key].astype("int64")
    health.attrs = {"window": (start, end), "previous": (start - (end - start), start), "by": by}
    return health


def _add_idle_members(now: pd.DataFrame, members: pd.DataFrame, by: str) -> pd.DataFrame:
    """Rows of zeros for the members (by sender) or pools (by pool) that carried nothing."""
    if by == "sender":
        idle = members.drop_duplicates("sender_id").set_index("sender_id")
        idle = idle.loc[~idle.index.isin(now.index)]
        labels = {"sender_address": idle["address"], "channel": idle["channel"].astype("string")}
    else:
        idle = members.drop_duplicates("pool_id").set_index("pool_id")
        idle = idle.loc[~idle.index.isin(now.index)]
        labels = {"pool_name": idle["pool_name"]}
    if idle.empty:
        return now
    zeros = pd.DataFrame(labels, index=idle.index)
    for column in now.columns:
        if column not in zeros:
            zeros[column] = 0 if now[column].dtype.kind in "iu" else np.nan
    zeros.index.name = now.index.name
    return pd.concat([now, zeros[now.columns]]).astype(
        {c: now[c].dtype for c in now.columns if now[c].dtype.kind in "iuf"}
    )


def _rates(health: pd.DataFrame, alpha: float) -> None:
    """Add the rates, their intervals and the change against the previous window."""
    for name, numerator, denominator in (
        ("delivery", "delivered", "rated"),
        ("error", "errors", "rated"),
        ("read", "read", "read_eligible"),
    ):
        k, n = health[numerator].to_numpy(), health[denominator].to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            health[f"{name}_rate"] = np.where(n > 0, k / np.maximum(n, 1), np.nan)
        bounds = [metrics.wilson_interval(int(a), int(b)) for a, b in zip(k, n, strict=True)]
        health[f"{name}_low"] = [low for low, _ in bounds]
        health[f"{name}_high"] = [high for _, high in bounds]
    prev_n = health["prev_rated"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        prev_rate = np.where(prev_n > 0, health["prev_delivered"] / np.maximum(prev_n, 1), np.nan)
    health["prev_delivery_rate"] = prev_rate
    health["change_pts"] = (health["delivery_rate"] - prev_rate) * 100
    compared = (health["rated"] > 0) & (health["prev_rated"] > 0)
    raw = [
        metrics.fisher_two_sided_p(int(d), int(n), int(pd_), int(pn))
        for d, n, pd_, pn in health.loc[
            compared, ["delivered", "rated", "prev_delivered", "prev_rated"]
        ].itertuples(index=False)
    ]
    adjusted = pd.Series(np.nan, index=health.index)
    adjusted[compared] = metrics.benjamini_hochberg(raw)
    health["change_p"] = adjusted
    health["change_significant"] = (adjusted < alpha).fillna(False).astype(bool)
