"""The traffic health's numbers that only events give, at full volume: exact times to delivered
and to read per message, and the error code of every failed attempt (the list endpoint carries
no attempts). Counted per group with pandas over an events frame (``ct.load_events``,
``EventReceiver.frame()``) joined to the window's traffic by message id; every number is
``commstoolkit.metrics``' (``time_to_delivered`` / ``time_to_read`` / ``error_codes`` with
events).

Where a count lands: a message's times count in its group, as every other column of the
health table (by sender: the sender that carried it in the end); an attempt counts where it
was made: by sender, the attempt's sender (its address and channel, resolved to a sender id
through the traffic and the members given), by channel, the attempt's channel; by pool,
country, day or hour, its message's group. So a sender whose RCS attempts all failed and fell
back to SMS shows with its error codes, though it carried no message to the end.

``attempt_tallies`` counts the attempts the findings judge (*attempts below pool*): per pool
(its message's), the attempt's channel and the sender that made it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .. import metrics
from ..errors import InvalidInputError
from ..frames.schema import HEALTH_EVENT_COLUMNS
from .counts import KEY, split_window, with_keys
from .table import BY, check_by

__all__ = [
    "ATTEMPT_KEYS",
    "ATTEMPT_VALUES",
    "HEALTH_EVENT_COLUMNS",
    "attempt_rows",
    "attempt_tallies",
    "check_events",
    "error_codes",
    "event_columns",
    "join_health",
    "sender_lookup",
    "typed_attempts",
    "typed_events",
]

_FLOAT = [c for c in HEALTH_EVENT_COLUMNS if c.endswith("_s") or "_share" in c]
_FLOAT += [c for c in HEALTH_EVENT_COLUMNS if c.endswith(("_low", "_high"))]


def check_events(events: object, name: str = "events") -> pd.DataFrame:
    """Refuse what is not an events frame, naming the parameter and what it takes."""
    if not isinstance(events, pd.DataFrame):
        raise InvalidInputError(
            f"{name}: expected the events frame (ct.load_events(...), EventReceiver.frame()), "
            f"got {type(events).__name__}",
            field=name,
        )
    missing = [c for c in (*metrics.EVENT_NEEDS, "error_code") if c not in events.columns]
    if missing:
        raise InvalidInputError(
            f"{name} lacks the column(s) {', '.join(missing)}: expected the events frame "
            "(ct.load_events(...), EventReceiver.frame())",
            field=name,
        )
    return events


def sender_lookup(
    traffic: pd.DataFrame, members: pd.DataFrame | None = None
) -> dict[tuple[str, str], str]:
    """(address, channel) -> sender id, from the traffic's senders and the members given: an
    event names its sender by address and channel."""
    pairs = [traffic[["sender_address", "channel", "sender_id"]]]
    if members is not None:
        pairs.append(
            members[["address", "channel", "sender_id"]].rename(
                columns={"address": "sender_address"}
            )
        )
    known = (
        pd.concat(pairs).dropna().astype("string").drop_duplicates(["sender_address", "channel"])
    )
    return {
        (str(a), str(c)): str(s)
        for a, c, s in known[["sender_address", "channel", "sender_id"]].itertuples(index=False)
    }


def attempt_rows(
    events: pd.DataFrame,
    keyed: pd.DataFrame,
    message_ids: pd.Series,
    by: str,
    lookup: dict[tuple[str, str], str],
) -> pd.DataFrame:
    """The events of the window's messages (``message_ids``, aligned with ``keyed``, the
    window's traffic with its group key in ``KEY``), each with the group its count lands in
    (``KEY``: see the module), NA where the attempt's sender is not known."""
    group_of = pd.Series(keyed[KEY].to_numpy(), index=message_ids.astype("string").to_numpy())
    group_of = group_of[~group_of.index.duplicated()]
    ids = events["message_id"].astype("string")
    mine = events.loc[ids.isin(group_of.index).fillna(False).to_numpy(bool)].copy()
    if by == "sender":
        pairs = zip(
            mine["sender"].astype(object), mine["sender_channel"].astype(object), strict=True
        )
        mine[KEY] = pd.array([lookup.get((a, c)) for a, c in pairs], dtype="string")
    elif by == "channel":
        mine[KEY] = mine["sender_channel"].astype("string")
    else:
        mine[KEY] = group_of.reindex(mine["message_id"].astype("string")).to_numpy()
    return mine


def _times(durations: metrics.Durations, groups: pd.Series, prefix: str) -> pd.DataFrame:
    """Count, median and 90th percentile of ``durations`` per group (``groups``: the key of
    each message, indexed like the frame the durations were measured on)."""
    seconds = durations.seconds.astype(float)
    keys = groups.loc[seconds.index]
    by_group = seconds.groupby(keys.to_numpy())
    return pd.DataFrame(
        {
            f"{prefix}_n": by_group.size(),
            f"{prefix}_p50_s": by_group.quantile(0.5),
            f"{prefix}_p90_s": by_group.quantile(0.9),
        }
    )


def event_columns(
    current: pd.DataFrame,
    events: pd.DataFrame,
    by: str,
    members: pd.DataFrame | None = None,
    lookup_from: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, dict[str, int]]:
    """The ``HEALTH_EVENT_COLUMNS`` per group of the window's traffic ``current`` (indexed by
    the group key, with the key's labels for groups only events show), and what could not be
    placed (``{"unattributed_attempts": n}``: attempts whose sender is in neither the traffic
    nor the members)."""
    key, labels = BY[by]
    keyed = with_keys(current, key, labels)
    lookup = sender_lookup(current if lookup_from is None else lookup_from, members)
    groups = keyed[KEY]
    seen = current["message_id"].isin(events["message_id"].dropna().unique()).to_numpy(bool)
    with_events = pd.Series(seen.astype("int64")).groupby(groups.to_numpy()).sum()
    table = pd.DataFrame({"ev_messages": with_events})
    frame = current[["message_id", "status", "sender_id", "created_at"]]
    for durations, prefix in (
        (metrics.time_to_delivered(frame, events=events), "ev_ttd"),
        (metrics.time_to_read(frame, events=events), "ev_ttr"),
    ):
        table = table.join(_times(durations, groups, prefix), how="outer")
    rows = attempt_rows(events, keyed, current["message_id"], by, lookup)
    made = rows.loc[(rows["attempt"].astype("Int64").fillna(0) > 0).to_numpy(bool)]
    made = made.drop_duplicates(["message_id", "attempt"])
    unattributed = int(made[KEY].isna().sum())
    table = table.join(made.groupby(KEY)["message_id"].size().rename("ev_attempts"), how="outer")
    codes = metrics.error_codes(rows.loc[rows[KEY].notna().to_numpy(bool)], by=KEY)
    # Each group's first row: its most frequent code (groupby's first() would skip an NA code).
    top = codes.drop_duplicates(KEY).set_index(KEY)
    table = table.join(
        top.rename(
            columns={
                "failed_attempts": "ev_failed_attempts",
                "error_code": "ev_top_error_code",
                "count": "ev_top_error_count",
                "share": "ev_top_error_share",
                "share_low": "ev_top_error_low",
                "share_high": "ev_top_error_high",
            }
        ),
        how="outer",
    )
    table = typed_events(table.reindex(columns=list(HEALTH_EVENT_COLUMNS)))
    table.index.name = key
    if labels:
        table = _with_labels(table, keyed, made, labels)
    return table, {"unattributed_attempts": unattributed}


def typed_events(table: pd.DataFrame) -> pd.DataFrame:
    for column in HEALTH_EVENT_COLUMNS:
        if column in _FLOAT:
            table[column] = table[column].astype(float)
        elif column == "ev_top_error_code":
            table[column] = table[column].astype("Int64")
        else:
            table[column] = table[column].fillna(0).astype("int64")
    return table


def _with_labels(
    table: pd.DataFrame, keyed: pd.DataFrame, made: pd.DataFrame, labels: Sequence[str]
) -> pd.DataFrame:
    """The key's labels beside the counts: the traffic's, else (a sender only events show)
    the attempts' sender address and channel; a pool's name is its id until the health
    table names it."""
    known = keyed.groupby(KEY)[list(labels)].min()
    from_events = pd.DataFrame(
        {
            "sender_address": made.groupby(KEY)["sender"].min(),
            "channel": made.groupby(KEY)["sender_channel"].min(),
        }
    )
    for label in labels:
        values = known[label].reindex(table.index) if label in known else None
        if label in from_events:
            fallback = from_events[label].reindex(table.index)
            values = fallback if values is None else values.fillna(fallback)
        if values is None:
            values = pd.Series(table.index, index=table.index)
        table[label] = values.astype("string")
    return table


def join_health(health: pd.DataFrame, table: pd.DataFrame, by: str) -> pd.DataFrame:
    """The health table with the event columns after its own, one row per group of either
    (a group only events show gets zeros for the counts, NaN for the rates)."""
    key, labels = BY[by]
    indexed = health.set_index(key)
    extra = table.loc[~table.index.isin(indexed.index)]
    if not extra.empty:
        rows = pd.DataFrame(index=extra.index)
        for column in indexed.columns:
            kind = indexed[column].dtype.kind
            if column in labels:
                rows[column] = extra[column]
            elif kind in "iu":
                rows[column] = 0
            elif kind == "b":
                rows[column] = False
            else:
                rows[column] = np.nan
        rows.index.name = key
        dtypes = indexed.dtypes.to_dict()
        indexed = pd.concat([indexed, rows[indexed.columns]]).astype(dtypes)
    joined = indexed.join(table[list(HEALTH_EVENT_COLUMNS)], how="left")
    joined = typed_events(joined)
    joined = joined.sort_values(["messages", key], ascending=[False, True], kind="stable")
    out = joined.reset_index()
    out.attrs = dict(health.attrs)
    return out


def error_codes(
    events: pd.DataFrame,
    traffic: pd.DataFrame | None = None,
    by: str | None = None,
    members: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The error code of every failed attempt (UNDELIVERED or FAILED) in ``events`` (the
    events frame: ``ct.load_events``, ``EventReceiver.frame()``), at full volume: per code,
    ``count``, ``failed_attempts`` (the denominator: every failed attempt of the group),
    ``share`` = count / failed_attempts and its 95% Wilson interval (``share_low`` /
    ``share_high``), as ``metrics.error_codes``; the most frequent code first.

    ``traffic`` (a traffic frame, ``load_traffic``): only the attempts of its window's
    messages count, and ``by`` (``sender``, ``pool``, ``channel``, ``country``, ``day``,
    ``hour``, as ``traffic_health``) breaks the codes down per group, the key and its
    labels first: an attempt counts where it was made (by sender, the attempt's sender; by
    channel, its channel; else its message's group). ``members`` (``load_pool_members``)
    names the senders the traffic does not. ``by`` needs ``traffic``.

    ``attrs``: ``by``, ``window`` (with ``traffic``) and ``unattributed_attempts`` (failed
    or not, attempts whose sender neither the traffic nor the members know: by sender
    only)."""
    check_events(events)
    if by is None and traffic is None:
        table = metrics.error_codes(events)
        table.attrs = {"by": None, "unattributed_attempts": 0}
        return table
    if traffic is None:
        raise InvalidInputError(
            f"by={by!r} needs traffic=: the traffic frame (load_traffic) whose messages the "
            "groups come from; without it only the whole breakdown (by=None) is known",
            field="traffic",
        )
    current, _, window = split_window(traffic)
    group = "sender" if by is None else by
    check_by(group)
    key, labels = BY[group]
    keyed = with_keys(current, key, labels)
    rows = attempt_rows(
        events, keyed, current["message_id"], group, sender_lookup(traffic, members)
    )
    made = rows.loc[(rows["attempt"].astype("Int64").fillna(0) > 0).to_numpy(bool)]
    made = made.drop_duplicates(["message_id", "attempt"])
    if by is None:
        table = metrics.error_codes(rows)
        unattributed = 0
    else:
        placed = rows.loc[rows[KEY].notna().to_numpy(bool)]
        table = metrics.error_codes(placed, by=KEY).rename(columns={KEY: key})
        unattributed = int(made[KEY].isna().sum())
        if labels:
            named = _with_labels(
                pd.DataFrame(index=pd.Index(table[key].unique(), name=key)), keyed, made, labels
            )
            table = table.join(named, on=key)
            table = table[[key, *labels, *metrics.ERROR_CODE_COLUMNS]]
        table[key] = table[key].astype(keyed[KEY].dtype)
    table.attrs = {"by": by, "window": window, "unattributed_attempts": unattributed}
    return table


# The columns of the attempts' tallies (``attempt_tallies``, ``event_sql.attempts_sql``).
ATTEMPT_KEYS = ("pool_id", "channel", "sender_id")
ATTEMPT_VALUES = ("sender_address", "attempts", "failed", "failed_messages", "rescued")


def attempt_tallies(
    current: pd.DataFrame,
    events: pd.DataFrame,
    members: pd.DataFrame | None = None,
    lookup_from: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The window's delivery attempts per pool, attempt channel and the sender that made it
    (``ATTEMPT_KEYS``), for the findings' *attempts below pool*: an attempt's pool is its
    message's (``current``: the window's traffic; messages sent outside a pool are left
    out), its sender the attempt's own (resolved as ``sender_lookup`` does; an attempt of a
    sender neither the traffic (``lookup_from``, default ``current``) nor ``members`` knows
    is left out). Per group:
    ``sender_address``, ``attempts``, ``failed`` (attempts that ended UNDELIVERED or FAILED),
    ``failed_messages`` (the messages with such an attempt) and ``rescued`` (of them, the
    messages delivered in the end by another sender: the fallback)."""
    check_events(events)
    pooled = current.loc[current["pool_id"].notna().to_numpy(bool)]
    pooled = pooled.set_index(pooled["message_id"].astype("string").to_numpy())
    pooled = pooled.loc[~pooled.index.duplicated()]
    ids = events["message_id"].astype("string")
    stage = events["status"].isin(list(metrics.EVENT_STAGES)).to_numpy(bool)
    made = (events["attempt"].astype("Int64").fillna(0) > 0).to_numpy(bool)
    mine = events.loc[stage & made & ids.isin(pooled.index).fillna(False).to_numpy(bool)]
    failed = mine["status"].isin(metrics.ERROR_STATUSES).rename("failed")
    attempts = (
        mine.assign(message_id=mine["message_id"].astype("string"), failed=failed)
        .groupby(["message_id", "attempt"], sort=False)
        .agg(sender=("sender", "min"), channel=("sender_channel", "min"), failed=("failed", "any"))
        .reset_index()
    )
    lookup = sender_lookup(current if lookup_from is None else lookup_from, members)
    pairs = zip(attempts["sender"].astype(object), attempts["channel"].astype(object), strict=True)
    attempts["sender_id"] = pd.array([lookup.get((a, c)) for a, c in pairs], dtype="string")
    attempts = attempts.loc[attempts["sender_id"].notna().to_numpy(bool)]
    message = pooled.loc[attempts["message_id"].to_numpy()]
    attempts["pool_id"] = message["pool_id"].astype("string").to_numpy()
    delivered = message["status"].isin(metrics.DELIVERED_STATUSES).to_numpy(bool)
    carried = pd.Series(
        message["sender_id"].astype("string").to_numpy(), index=attempts.index, dtype="string"
    )
    other = (carried != attempts["sender_id"]).fillna(False).to_numpy(bool)
    attempts["rescued"] = attempts["failed"].to_numpy(bool) & delivered & other
    failed_rows = attempts.loc[attempts["failed"].to_numpy(bool)]
    groups = attempts.groupby(list(ATTEMPT_KEYS), sort=True)
    table = groups.agg(
        sender_address=("sender", "min"), attempts=("attempt", "size"), failed=("failed", "sum")
    )
    by_message = failed_rows.groupby(list(ATTEMPT_KEYS), sort=True)
    table["failed_messages"] = by_message["message_id"].nunique()
    rescued = failed_rows.loc[failed_rows["rescued"].to_numpy(bool)]
    table["rescued"] = rescued.groupby(list(ATTEMPT_KEYS))["message_id"].nunique()
    return typed_attempts(table.reset_index())


def typed_attempts(table: pd.DataFrame) -> pd.DataFrame:
    """One set of dtypes and one row order whoever counted (pandas or an SQL engine)."""
    table = table.reindex(columns=[*ATTEMPT_KEYS, *ATTEMPT_VALUES])
    for column in (*ATTEMPT_KEYS, "sender_address"):
        table[column] = table[column].astype("string")
    for column in ATTEMPT_VALUES[1:]:
        table[column] = table[column].fillna(0).astype("int64")
    order = table.sort_values(list(ATTEMPT_KEYS), kind="stable")
    return order.reset_index(drop=True)
