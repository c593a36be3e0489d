"""Findings in sentences from an account's real traffic, each computed from the data and
carrying its evidence (counts, rates with intervals, the test and its corrected p-value).

``traffic_findings(traffic, members=None)`` looks for:

- *drift*: a sender whose delivery rate in the last days of the window (``recent``) is
  significantly below its own rate before them (in the window, and in the previous window
  when the frame holds it);
- *below pool*: a sender significantly below the rest of its pool;
- *attempts below pool* (with ``events=``): a sender whose delivery attempts fail
  significantly more often than the attempts of the pool's other senders of the same channel
  (an attempt counts for the sender that made it, in its message's pool: a bad RCS sender
  whose messages fall back to SMS shows here, while the traffic credits the fallback sender
  with the outcome);
- *failure cluster*: a country, or an hour of the day in a country, where deliveries fail
  significantly more than everywhere else;
- *leans on one*: a pool whose traffic went through one sender almost alone;
- *deactivated with traffic*: a DEACTIVATED member that carried messages in the window;
- *idle members*: members of a pool that carried nothing through it in the window.

The tests: one-sided Fisher exact (``metrics.fisher_lower_p``: the group against everything
else it is compared with), the three families together corrected for multiple testing
(``metrics.benjamini_hochberg``; with events, the attempts' tests in the same family),
flagged when the corrected p-value is below ``alpha``
*and* the gap is at least ``min_gap`` (a significant but small gap is not worth acting on)
*and* both sides hold at least ``min_messages`` rated messages (fewer cannot be judged;
for the attempts, ``min_messages`` attempts).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .. import metrics
from ..errors import InvalidInputError
from .counts import traffic_window
from .dataset import TrafficDataset, window_of
from .event_counts import (
    ATTEMPT_KEYS,
    ATTEMPT_VALUES,
    attempt_tallies,
    check_events,
    typed_attempts,
)
from .event_sql import EventSource, dataset_attempt_tallies
from .table import check_rows, pool_names
from .tallies import KEYS, LABELS, VALUES, Tallies, counted_tallies, dataset_tallies, frame_tallies
from .window import bound_window

__all__ = ["Finding", "Findings", "findings_from_tallies", "traffic_findings"]

ALPHA = 0.05
MIN_GAP = 0.10
# A gap this large (20 points) makes a finding of the significance tests "high".
HIGH_GAP = 0.20
MIN_MESSAGES = 30
LEAN_SHARE = 0.8
RECENT = "3D"
SEVERITIES = ("high", "medium", "low")


@dataclass(frozen=True)
class Finding:
    """One finding: its ``kind``, ``severity`` (high, medium, low), what it is about
    (``subject``: e.g. ``{"sender_id": ..., "pool_id": ...}``), the sentence (``text``,
    Markdown) and the numbers behind it (``evidence``)."""

    kind: str
    severity: str
    subject: dict[str, Any]
    text: str
    evidence: dict[str, Any] = field(default_factory=dict)


class Findings(list[Finding]):
    """The findings, most severe first; shown in a notebook as a Markdown list."""

    def __init__(
        self,
        findings: Iterable[Finding] = (),
        *,
        window: Any = None,
        tested: int = 0,
        tallies: Tallies | None = None,
    ):
        super().__init__(sorted(findings, key=lambda f: SEVERITIES.index(f.severity)))
        self.window = window
        self.tested = tested
        # What the tests were computed from (``tallies.Tallies``): a sum over it gives any
        # comparison again, e.g. without some countries' messages (the doctor does).
        self.tallies = tallies

    def of(self, kind: str) -> list[Finding]:
        """The findings of one kind."""
        return [f for f in self if f.kind == kind]

    def frame(self) -> pd.DataFrame:
        """One row per finding: kind, severity, the subject's fields, text."""
        rows = [{"kind": f.kind, "severity": f.severity, **f.subject, "text": f.text} for f in self]
        return pd.DataFrame(rows, columns=None if rows else ["kind", "severity", "text"])

    def _repr_markdown_(self) -> str:
        return self.markdown()

    def markdown(self) -> str:
        if not self:
            return (
                f"No finding: {self.tested:,} comparisons made, none significant and large "
                "enough to act on."
            )
        return "\n".join(f"- **{f.severity}** — {f.text}" for f in self)


def traffic_findings(
    traffic: pd.DataFrame | TrafficDataset,
    members: pd.DataFrame | None = None,
    *,
    start: Any = None,
    end: Any = None,
    recent: str | pd.Timedelta = RECENT,
    alpha: float = ALPHA,
    min_gap: float = MIN_GAP,
    min_messages: int = MIN_MESSAGES,
    lean_share: float = LEAN_SHARE,
    events: EventSource | None = None,
) -> Findings:
    """The findings of the window's traffic (see the module's docstring).

    ``traffic``: a traffic frame (``load_traffic`` / ``read_traffic``), or an exported
    dataset (``open_traffic``), counted in DuckDB over its files without loading the
    messages, over ``[start, end)`` (default: all it holds); the same findings either way.
    ``members``: the pools' members (``load_pool_members``), for the deactivated and idle
    members and for the size of a pool that leans on one sender; without it those two
    kinds are not looked for. ``recent``: the last part of the window that drift compares
    with each sender's traffic before it — the rest of the window and the previous window
    when the data holds it (``load_traffic(..., compare=True)``); default the last 3 days.
    ``events``: the message events (``ct.load_events``, ``EventReceiver.frame()``; for a
    dataset also the event files or folders a sink's data ends in, read by DuckDB where they
    lie): every delivery attempt of the window's messages, for the *attempts below pool*
    tests; without it that kind is not looked for.
    """
    if isinstance(traffic, TrafficDataset):
        window = window_of(traffic, start, end)
    elif start is not None or end is not None:
        raise InvalidInputError(
            "start / end choose a window of an exported dataset; a frame's window is its own "
            "(attrs['window']: load the window wanted)",
            field="start" if start is not None else "end",
        )
    else:
        window = traffic_window(traffic)
    begin, finish = window
    recent_from = finish - _timedelta(recent)
    _check_recent(recent, recent_from, begin - (finish - begin), finish)
    attempts = None
    if isinstance(traffic, TrafficDataset):
        tallies = dataset_tallies(traffic, window, recent_from)
        if events is not None:
            attempts = dataset_attempt_tallies(traffic, events, window, members)
    else:
        tallies = frame_tallies(traffic, window, recent_from)
        if events is not None:
            created = traffic["created_at"]
            current = traffic[(created >= begin) & (created < finish)]
            attempts = attempt_tallies(current, check_events(events), members, lookup_from=traffic)
    limits = (alpha, min_gap, min_messages, lean_share)
    return _judged(tallies, members, recent, recent_from, *limits, attempts)


def findings_from_tallies(
    tallies: pd.DataFrame,
    window: tuple[Any, Any],
    pools: pd.DataFrame | Mapping[str, str | None] | None = None,
    members: pd.DataFrame | None = None,
    *,
    recent: str | pd.Timedelta = RECENT,
    alpha: float = ALPHA,
    min_gap: float = MIN_GAP,
    min_messages: int = MIN_MESSAGES,
    lean_share: float = LEAN_SHARE,
    attempts: pd.DataFrame | None = None,
) -> Findings:
    """``traffic_findings`` of the tallies another engine counted (Spark SQL, Trino): the
    tests, their correction and the sentences are made here, as ``traffic_findings`` makes
    them. ``tallies``: the rows of ``findings_sql(dialect)`` (a DataFrame: Spark's
    ``.toPandas()``), run with the window's start, the recent days' start
    (``end - recent``), the previous window's start (``start - (end - start)``) and the
    window's end bound to its parameters; ``window``: that ``(start, end)``; ``recent`` the
    same length as bound. ``pools``: the pools' names (``load_pools``' frame or pool id ->
    name); ``members`` and the thresholds as for ``traffic_findings``. ``attempts``: the
    rows of ``attempts_sql(dialect)`` run with the window's start and end (the events as
    ``health_events_sql`` reads them), for the *attempts below pool* tests (as
    ``traffic_findings(..., events=)``).
    """
    begin, finish = bound_window(window)
    recent_from = finish - _timedelta(recent)
    _check_recent(recent, recent_from, begin - (finish - begin), finish)
    check_rows(tallies, (*KEYS, *LABELS, *VALUES), "tallies", "findings_sql()")
    counted = counted_tallies(tallies, (begin, finish), pool_names(pools))
    if attempts is not None:
        check_rows(attempts, (*ATTEMPT_KEYS, *ATTEMPT_VALUES), "attempts", "attempts_sql()")
        attempts = typed_attempts(attempts)
    limits = (alpha, min_gap, min_messages, lean_share)
    return _judged(counted, members, recent, recent_from, *limits, attempts)


def _judged(
    tallies: Tallies,
    members: pd.DataFrame | None,
    recent: Any,
    recent_from: pd.Timestamp,
    alpha: float,
    min_gap: float,
    min_messages: int,
    lean_share: float,
    attempts: pd.DataFrame | None = None,
) -> Findings:
    """The findings of the tallies (``recent_from``: where the recent days begin;
    ``attempts``: ``event_counts.attempt_tallies``' rows, when events were given)."""
    window = tallies.window
    begin, finish = window
    # Without the previous window, the baseline is the window before its recent days.
    _check_recent(
        recent, recent_from, begin - (finish - begin) if tallies.has_previous else begin, finish
    )
    labels = tallies.sender_labels()
    tests = [
        *_drift(tallies, labels, recent_from, min_messages),
        *_below_pool(tallies, labels, min_messages),
        *_clusters(tallies, min_messages),
    ]
    if attempts is not None:
        tests += _attempts_below_pool(attempts, tallies, labels, min_messages)
    adjusted = metrics.benjamini_hochberg([t.p for t in tests])
    found = [
        t.finding(p, len(tests))
        for t, p in zip(tests, adjusted, strict=True)
        if p < alpha and t.gap >= min_gap
    ]
    found += _leans(tallies, labels, members, lean_share, min_messages)
    if members is not None:
        found += _deactivated(tallies, members)
        found += _idle(tallies, members)
    return Findings(found, window=window, tested=len(tests), tallies=tallies)


def _timedelta(recent: Any) -> pd.Timedelta:
    try:
        return pd.Timedelta(recent)
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"recent={recent!r}: expected a duration such as '3D' or '36h'", field="recent"
        ) from None


def _check_recent(
    recent: Any, recent_from: pd.Timestamp, since: pd.Timestamp, end: pd.Timestamp
) -> None:
    if not since < recent_from < end:
        raise InvalidInputError(
            f"recent={recent!r}: must be shorter than the traffic loaded ({end - since}), to "
            "leave a baseline before it (load the previous window too: compare=True)",
            field="recent",
        )


@dataclass
class _Test:
    """A one-sided comparison that becomes a finding when its corrected p is below alpha."""

    kind: str
    subject: dict[str, Any]
    p: float
    gap: float  # how far below what it is compared with (a share: 0.1 is 10 points)
    evidence: dict[str, Any]
    sentence: str

    @property
    def severity(self) -> str:
        return "high" if self.gap >= HIGH_GAP else "medium"

    def finding(self, adjusted: float, family: int) -> Finding:
        text = (
            f"{self.sentence} (Fisher exact p {_p(self.p)}, {_p(adjusted)} after correcting "
            f"for {family:,} comparisons)."
        )
        evidence = {**self.evidence, "test": "Fisher exact, one-sided", "p": self.p}
        evidence.update(p_adjusted=adjusted, comparisons=family)
        return Finding(self.kind, self.severity, self.subject, text, evidence)


def _p(p: float) -> str:
    # Below the smallest double the tail underflows to 0: say "<", never "= 0".
    return "< 1e-300" if p < 1e-300 else f"= {p:.2g}"


def _rate(k: int, n: int) -> str:
    low, high = metrics.wilson_interval(k, n)
    return f"{k / n:.1%} ({k:,} of {n:,}; 95% CI {low:.1%}–{high:.1%})"


def _sums(rows: pd.DataFrame, keys: list[str], values: tuple[str, ...]) -> pd.DataFrame:
    """``values`` summed per combination of ``keys`` (the rows with every key known)."""
    known = rows.dropna(subset=keys)
    return known.groupby(keys, observed=True, sort=True)[list(values)].sum()


def _drift(
    tallies: Tallies, labels: dict[str, str], recent_from: pd.Timestamp, least: int
) -> list[_Test]:
    sums = _sums(tallies.frame, ["sender_id", "recent"], ("rated", "delivered"))
    sums = sums.unstack("recent", fill_value=0)
    tests = []
    for sender, row in sums.iterrows():
        n_then, n_now = int(row.get(("rated", False), 0)), int(row.get(("rated", True), 0))
        k_then, k_now = int(row.get(("delivered", False), 0)), int(row.get(("delivered", True), 0))
        if min(n_then, n_now) < least:
            continue
        tests.append(
            _Test(
                "drift",
                {"sender_id": sender},
                metrics.fisher_lower_p(k_now, n_now, k_then + k_now, n_then + n_now),
                k_then / n_then - k_now / n_now,
                {"before": (k_then, n_then), "recent": (k_now, n_now), "since": recent_from},
                f"Sender {labels.get(str(sender), sender)} fell from {_rate(k_then, n_then)} to "
                f"{_rate(k_now, n_now)} since {recent_from:%Y-%m-%d %H:%M} UTC",
            )
        )
    return tests


def _below_pool(tallies: Tallies, labels: dict[str, str], least: int) -> list[_Test]:
    sums = _sums(tallies.current, ["pool_id", "sender_id"], ("rated", "delivered"))
    pools = sums.groupby(level="pool_id").sum()
    tests = []
    for (pool, sender), row in sums.iterrows():
        k, n = int(row["delivered"]), int(row["rated"])
        k_all, n_all = int(pools.at[pool, "delivered"]), int(pools.at[pool, "rated"])
        k_rest, n_rest = k_all - k, n_all - n
        if min(n, n_rest) < least:
            continue
        tests.append(
            _Test(
                "below_pool",
                {"pool_id": pool, "sender_id": sender},
                metrics.fisher_lower_p(k, n, k_all, n_all),
                k_rest / n_rest - k / n,
                {"sender": (k, n), "rest_of_pool": (k_rest, n_rest)},
                f"Sender {labels.get(str(sender), sender)} delivers {_rate(k, n)} in pool "
                f"**{tallies.pool_names.get(pool, pool)}**, against {_rate(k_rest, n_rest)} for "
                "the rest of the pool",
            )
        )
    return tests


def _attempts_below_pool(
    attempts: pd.DataFrame, tallies: Tallies, labels: dict[str, str], least: int
) -> list[_Test]:
    """Each sender's attempts against those of the other senders of its pool and channel."""
    groups = attempts.groupby(["pool_id", "channel"], sort=True)
    totals = groups[["attempts", "failed"]].transform("sum")
    tests = []
    for row, n_all, f_all in zip(
        attempts.itertuples(index=False), totals["attempts"], totals["failed"], strict=True
    ):
        n, f = int(row.attempts), int(row.failed)
        n_rest, f_rest = int(n_all) - n, int(f_all) - f
        if min(n, n_rest) < least:
            continue
        sender, channel = str(row.sender_id), str(row.channel)
        label = labels.get(sender, f"**{row.sender_address}** ({channel}, `{sender}`)")
        low, high = metrics.wilson_interval(f, n)
        pool = tallies.pool_names.get(row.pool_id, row.pool_id)
        tests.append(
            _Test(
                "attempts_below_pool",
                {"pool_id": row.pool_id, "sender_id": sender, "channel": channel},
                # Attempt success, as the other tests judge delivery.
                metrics.fisher_lower_p(n - f, n, int(n_all) - int(f_all), int(n_all)),
                f / n - f_rest / n_rest,
                {
                    "failed_attempts": (f, n),
                    "rest_failed_attempts": (f_rest, n_rest),
                    # The failure rates' 95% Wilson intervals (low, high), not (k, n) pairs.
                    "intervals": {
                        "sender": (low, high),
                        "rest_of_pool": metrics.wilson_interval(f_rest, n_rest),
                    },
                    "fallback": (int(row.rescued), int(row.failed_messages)),
                },
                f"Sender {label} in pool **{pool}**: {f:,} of its {n:,} attempts failed "
                f"({f / n:.1%}; 95% CI {low:.1%}–{high:.1%}), against "
                f"{_rate(f_rest, n_rest)} of the attempts of the pool's other {channel} "
                f"senders; {int(row.rescued):,} of the {int(row.failed_messages):,} messages "
                "it failed still reached the recipient through another sender (fallback), "
                "which the traffic credits with the outcome",
            )
        )
    return tests


def _clusters(tallies: Tallies, least: int) -> list[_Test]:
    current = tallies.current
    k_all, n_all = int(current["delivered"].sum()), int(current["rated"].sum())
    by_country = _sums(current, ["to_country"], ("rated", "delivered"))
    cells = _sums(current, ["to_country", "hour"], ("rated", "delivered"))
    groups: list[tuple[dict[str, Any], pd.Series, str]] = [
        ({"to_country": c}, row, f"Messages to **{c}**") for c, row in by_country.iterrows()
    ]
    groups += [
        ({"to_country": c, "hour": int(h)}, row, f"Messages to **{c}** at {int(h):02d}:00 UTC")
        for (c, h), row in cells.iterrows()
    ]
    tests = []
    for subject, row, what in groups:
        k, n = int(row["delivered"]), int(row["rated"])
        k_rest, n_rest = k_all - k, n_all - n
        if min(n, n_rest) < least:
            continue
        tests.append(
            _Test(
                "failure_cluster",
                subject,
                metrics.fisher_lower_p(k, n, k_all, n_all),
                k_rest / n_rest - k / n,
                {"group": (k, n), "elsewhere": (k_rest, n_rest)},
                f"{what} are delivered {_rate(k, n)}, against {_rate(k_rest, n_rest)} elsewhere",
            )
        )
    return tests


def _leans(
    tallies: Tallies,
    labels: dict[str, str],
    members: pd.DataFrame | None,
    share: float,
    least: int,
) -> list[Finding]:
    counts = _sums(tallies.current, ["pool_id", "sender_id"], ("messages",))["messages"]
    found = []
    for pool, per_sender in counts.groupby(level="pool_id"):
        total = int(per_sender.sum())
        # The pool's size: its members when known, else the senders its traffic went through.
        size = len(per_sender) if members is None else int((members["pool_id"] == pool).sum())
        if total < least or size < 2:
            continue
        top = per_sender.droplevel("pool_id").sort_values(ascending=False, kind="stable")
        sender, carried = top.index[0], int(top.iloc[0])
        if carried / total < share:
            continue
        others = size - 1
        found.append(
            Finding(
                "leans_on_one",
                "medium" if carried == total else "low",
                {"pool_id": pool, "sender_id": sender},
                f"Pool **{tallies.pool_names.get(pool, pool)}** leans on one sender: "
                f"{labels.get(str(sender), sender)} carried {carried / total:.0%} "
                f"({carried:,} of {total:,}) of its messages; its other {others} "
                f"member{'s' if others != 1 else ''} carried {total - carried:,}.",
                {"carried": carried, "messages": total, "members": size},
            )
        )
    return found


def _deactivated(tallies: Tallies, members: pd.DataFrame) -> list[Finding]:
    off = members[members["status"] == "DEACTIVATED"].drop_duplicates("sender_id")
    current = tallies.current
    sent = current[current["sender_id"].isin(off["sender_id"])]
    found = []
    for sender, rows in sent.groupby("sender_id", observed=True, sort=True):
        row = off[off["sender_id"] == sender].iloc[0]
        pools = sorted(members.loc[members["sender_id"] == sender, "pool_name"].astype(str))
        messages, last = int(rows["messages"].sum()), rows["last_at"].max()
        found.append(
            Finding(
                "deactivated_with_traffic",
                "high",
                {"sender_id": sender},
                f"Sender **{row['address']}** ({row['channel']}, `{sender}`) is DEACTIVATED but "
                f"carried {messages:,} messages in the window, the last at "
                f"{last:%Y-%m-%d %H:%M} UTC (member of {', '.join(pools)}).",
                {"messages": messages, "last": last, "pools": pools},
            )
        )
    return found


def _idle(tallies: Tallies, members: pd.DataFrame) -> list[Finding]:
    current = tallies.current
    carried = set(
        zip(current["pool_id"].astype(object), current["sender_id"].astype(object), strict=True)
    )
    found = []
    for pool, group in members.groupby("pool_id", observed=True, sort=True):
        idle = [
            (s, a)
            for s, a in zip(group["sender_id"], group["address"], strict=True)
            if (pool, s) not in carried
        ]
        if not idle:
            continue
        shown = ", ".join(str(a) for _, a in idle[:5]) + (" …" if len(idle) > 5 else "")
        name = group["pool_name"].iloc[0]
        found.append(
            Finding(
                "idle_members",
                "low",
                {"pool_id": pool},
                f"Pool **{name}**: {len(idle)} of its {len(group)} members carried no traffic "
                f"in the window ({shown}).",
                {"idle": [s for s, _ in idle], "members": len(group)},
            )
        )
    return found
