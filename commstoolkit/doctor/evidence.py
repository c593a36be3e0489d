"""What the evidence says about a pool: the traffic findings that concern it
(``analysis.traffic_findings``, reused as they are), or a test send's outcomes judged the
same way — each sender against the rest of the pool, one-sided Fisher exact, corrected
over the senders tested (Benjamini-Hochberg)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from .. import metrics
from ..analysis import Finding, Findings
from ..analysis.tallies import Tallies
from .findings import DoctorFinding, ProposedChange, rate_evidence, sender_label

__all__ = [
    "FLAGGING",
    "flagged_senders",
    "send_findings",
    "traffic_doctor_findings",
    "window_messages",
]

# The kinds of traffic findings that mark a sender as one not to add anywhere.
FLAGGING = ("drift", "below_pool", "deactivated_with_traffic")
# A gap this large (20 points) makes a test send's finding "high", as for traffic.
HIGH_GAP = 0.20

# The traffic findings' (k, n) pairs, read into rates with intervals: key -> (name, label).
_PAIRS = {
    "drift": ("recent", "before"),
    "below_pool": ("sender", "rest_of_pool"),
    "failure_cluster": ("group", "elsewhere"),
}


def flagged_senders(findings: Iterable[Finding]) -> set[str]:
    """The senders any traffic finding of a ``FLAGGING`` kind names, in any pool."""
    return {
        str(f.subject["sender_id"])
        for f in findings
        if f.kind in FLAGGING and f.subject.get("sender_id") is not None
    }


def traffic_doctor_findings(
    findings: Findings,
    pool_id: str,
    members: pd.DataFrame,
    *,
    alpha: float,
    min_gap: float,
    min_messages: int,
) -> list[DoctorFinding]:
    """The traffic findings about the pool (``members``: its members frame), each with the
    change it calls for: drift and below-pool members removed (their replacement is chosen
    later, from the whole diagnosis), the rest told without a change; failure clusters only
    where the pool's traffic goes.

    A sender's shortfall can come from where its messages went rather than from the
    sender: when failures concentrate in a country or a country's hour (a failure cluster)
    the sender's comparison is made again without the clusters' messages, with the same
    Benjamini-Hochberg factor as its own; when it is then no longer significant and large
    enough (and both sides still hold ``min_messages``), the cluster explains it and no
    removal is proposed (the finding says so, with both comparisons). Both are sums over the
    findings' tallies (``Findings.tallies``), so a dataset is never loaded for them."""
    tallies = _tallies(findings)
    current = tallies.current
    countries = set(current.loc[_is(current["pool_id"], pool_id), "to_country"].astype(str))
    outside = _Outside(tallies, findings, alpha=alpha, min_gap=min_gap, least=min_messages)
    by_id = members.drop_duplicates("sender_id").set_index("sender_id")
    found = []
    for finding in findings:
        sender = finding.subject.get("sender_id")
        member = sender is not None and sender in by_id.index
        kind = finding.kind
        if kind == "drift" and member:
            found.append(outside.judged(finding, by_id.loc[sender], _drift_reason(finding)))
        elif kind == "below_pool" and finding.subject.get("pool_id") == pool_id:
            if member:
                found.append(outside.judged(finding, by_id.loc[sender], _below_reason(finding)))
            else:
                found.append(_told(finding, " It is no longer a member: nothing to remove."))
        elif kind == "deactivated_with_traffic" and member:
            found.append(_told(finding))
        elif kind in ("idle_members", "leans_on_one") and finding.subject["pool_id"] == pool_id:
            found.append(_told(finding, " No change proposed."))
        elif kind == "failure_cluster" and finding.subject["to_country"] in countries:
            found.append(
                _told(
                    finding,
                    " The pool's traffic goes there too; not one sender's fault, so no "
                    "change to the pool is proposed.",
                )
            )
    return found


def window_messages(findings: Findings, pool_id: str) -> tuple[int, int]:
    """(messages in the findings' window, of them through the pool)."""
    current = _tallies(findings).current
    through = current.loc[_is(current["pool_id"], pool_id), "messages"]
    return int(current["messages"].sum()), int(through.sum())


def _tallies(findings: Findings) -> Tallies:
    if findings.tallies is None:
        raise ValueError("the findings carry no tallies: make them with traffic_findings")
    return findings.tallies


def _is(column: pd.Series, value: Any) -> np.ndarray:
    """Where a (nullable) column equals ``value``; a missing value is not equal."""
    return np.asarray(column.eq(value).fillna(False), dtype=bool)


class _Outside:
    """A drift or below-pool comparison made again without the failure clusters' messages:
    sums over the findings' tallies (rated, delivered per sender, pool, country, UTC hour,
    in the window or before it, in the recent days or not)."""

    def __init__(
        self, tallies: Tallies, findings: Findings, *, alpha: float, min_gap: float, least: int
    ) -> None:
        self.alpha, self.min_gap, self.least = alpha, min_gap, least
        clusters = [dict(f.subject) for f in findings if f.kind == "failure_cluster"]
        hours = {c["to_country"] for c in clusters if "hour" in c}
        # A country's bad hour explains the country's own shortfall: keep the narrower one.
        self.clusters = [c for c in clusters if "hour" in c or c["to_country"] not in hours]
        rows = tallies.frame.dropna(subset=["sender_id"])
        inside = np.zeros(len(rows), dtype=bool)
        for c in self.clusters:
            here = _is(rows["to_country"], c["to_country"])
            inside |= (here & (rows["hour"] == c["hour"]).to_numpy(bool)) if "hour" in c else here
        self.rows = rows[~inside]

    def judged(self, finding: Finding, member: pd.Series, reason: str) -> DoctorFinding:
        found = _removal(finding, member, reason, self.min_gap)
        if not self.clusters or not found.changes:
            return found
        pairs = self._pairs(finding)
        if pairs is None:
            return found
        (k, n), (k_other, n_other) = pairs
        if min(n, n_other) < self.least:
            return found  # too little left outside the clusters to tell: the finding stands
        e = finding.evidence
        factor = e["p_adjusted"] / e["p"] if e["p"] > 0 else e["comparisons"]
        p = metrics.fisher_lower_p(k, n, k + k_other, n + n_other)
        q = min(1.0, p * factor)
        evidence = dict(found.evidence)
        evidence["outside_clusters"] = {
            "clusters": self.clusters,
            "rate": rate_evidence(k, n),
            "compared_with": rate_evidence(k_other, n_other),
            "p": p,
            "p_adjusted": q,
        }
        if q < self.alpha and not not_surely_large(evidence["outside_clusters"], self.min_gap):
            return DoctorFinding(
                found.kind, found.severity, found.subject, found.text, evidence, found.changes
            )
        where = ", ".join(
            f"{c['to_country']} at {c['hour']:02d}:00 UTC" if "hour" in c else c["to_country"]
            for c in self.clusters
        )
        text = finding.text + (
            f" Without the messages where failures concentrate ({where}) it delivers "
            f"{_rate(k, n)} against {_rate(k_other, n_other)} (corrected p {_p(q)}): the "
            "cluster explains the gap, not the sender, so no removal is proposed."
        )
        return DoctorFinding(found.kind, "low", found.subject, text, evidence)

    def _pairs(self, finding: Finding) -> tuple[tuple[int, int], tuple[int, int]] | None:
        rows = self.rows
        sender = _is(rows["sender_id"], finding.subject["sender_id"])
        if finding.kind == "below_pool":
            now = _is(rows["pool_id"], finding.subject["pool_id"]) & rows["in_window"].to_numpy()
            mine, rest = now & sender, now & ~sender
        else:  # drift: the sender's recent traffic against its own before it
            recent = rows["recent"].to_numpy(bool)
            mine, rest = sender & recent, sender & ~recent
        return (
            (int(rows["delivered"][mine].sum()), int(rows["rated"][mine].sum())),
            (int(rows["delivered"][rest].sum()), int(rows["rated"][rest].sum())),
        )


def _evidence(finding: Finding, source: str) -> dict[str, Any]:
    evidence: dict[str, Any] = {"source": source}
    for key, value in finding.evidence.items():
        if isinstance(value, tuple) and len(value) == 2:
            evidence[key] = rate_evidence(*value)
        else:
            evidence[key] = value
    pair = _PAIRS.get(finding.kind)
    if pair:
        evidence["rate"], evidence["compared_with"] = evidence[pair[0]], evidence[pair[1]]
    return evidence


def _told(finding: Finding, suffix: str = "") -> DoctorFinding:
    return DoctorFinding(
        finding.kind,
        finding.severity,
        dict(finding.subject),
        finding.text + suffix,
        _evidence(finding, "traffic"),
    )


def _removal(finding: Finding, member: pd.Series, reason: str, min_gap: float) -> DoctorFinding:
    sender = str(finding.subject["sender_id"])
    evidence = _evidence(finding, "traffic")
    unsure = not_surely_large(evidence, min_gap)
    if unsure:
        return DoctorFinding(
            finding.kind, "low", dict(finding.subject), finding.text + unsure, evidence
        )
    change = ProposedChange(
        "remove", sender, str(member["address"]), str(member["channel"]), reason
    )
    return DoctorFinding(
        finding.kind,
        finding.severity,
        dict(finding.subject),
        finding.text + " Remove it from the pool.",
        evidence,
        (change,),
    )


def not_surely_large(evidence: dict[str, Any], min_gap: float) -> str:
    """A sentence when the gap may be smaller than ``min_gap`` ('' when it surely is not).

    A finding needs a significant gap of at least ``min_gap`` as measured; a removal needs
    more: the whole 95% interval of the sender's rate at least ``min_gap`` below the rate
    it is compared with, so that a sender a few points below a pool is not removed on a
    sampling swing."""
    high = evidence["rate"]["high"]
    ceiling = evidence["compared_with"]["rate"] - min_gap
    if high <= ceiling:
        return ""
    return (
        f" The gap may be smaller than {min_gap * 100:.0f} points (its 95% interval reaches "
        f"{high:.1%}, above {ceiling:.1%}): keep an eye on it; no removal proposed."
    )


def _pct(pair: tuple[int, int]) -> str:
    k, n = pair
    return f"{k / n:.1%} ({k:,} of {n:,})"


def _drift_reason(finding: Finding) -> str:
    e = finding.evidence
    return (
        f"delivery fell from {_pct(e['before'])} to {_pct(e['recent'])} since "
        f"{e['since']:%Y-%m-%d %H:%M} UTC (Fisher exact, corrected p {e['p_adjusted']:.2g})"
    )


def _below_reason(finding: Finding) -> str:
    e = finding.evidence
    return (
        f"delivers {_pct(e['sender'])} against {_pct(e['rest_of_pool'])} for the rest of the "
        f"pool (Fisher exact, corrected p {e['p_adjusted']:.2g})"
    )


def send_findings(
    messages: pd.DataFrame,
    members: pd.DataFrame,
    *,
    alpha: float,
    min_gap: float,
) -> tuple[list[DoctorFinding], int]:
    """(findings, senders tested): the senders of a test send (its messages frame) that
    delivered significantly worse than the rest of the pool's messages in it: per sender,
    delivered of rated (``metrics.delivery_rate``) against the other senders', one-sided
    Fisher exact, the p-values corrected together (Benjamini-Hochberg); flagged below
    ``alpha`` with a gap of at least ``min_gap``. A sender whose messages are too few to
    be flagged even had none been delivered is not tested (it would only dilute the
    correction)."""
    judged = messages[messages["sender_id"].notna()]
    per_sender: dict[str, tuple[int, int, Any, Any]] = {}
    for sender, mine in judged.groupby("sender_id", observed=True, sort=True):
        rate = metrics.delivery_rate(mine)
        if rate.denominator:
            first = mine.iloc[0]
            per_sender[str(sender)] = (
                rate.numerator,
                rate.denominator,
                first["sender_address"],
                first["channel"],
            )
    k_all = sum(v[0] for v in per_sender.values())
    n_all = sum(v[1] for v in per_sender.values())
    tests = []
    for sender, (k, n, address, channel) in per_sender.items():
        if n_all - n == 0:
            continue  # the only sender: nothing to compare it with
        fewest = max(0, n - (n_all - k_all))
        if metrics.fisher_lower_p(fewest, n, k_all, n_all) >= alpha:
            continue  # too few messages to be flagged whatever they show
        p = metrics.fisher_lower_p(k, n, k_all, n_all)
        tests.append((sender, k, n, address, channel, p))
    adjusted = metrics.benjamini_hochberg([t[-1] for t in tests])
    in_pool = set(members["sender_id"].tolist())
    found = []
    for (sender, k, n, address, channel, p), q in zip(tests, adjusted, strict=True):
        k_rest, n_rest = k_all - k, n_all - n
        gap = k_rest / n_rest - k / n
        if q >= alpha or gap < min_gap:
            continue
        evidence: dict[str, Any] = {
            "source": "test send",
            "sender": rate_evidence(k, n),
            "rest_of_pool": rate_evidence(k_rest, n_rest),
            "test": "Fisher exact, one-sided",
            "p": p,
            "p_adjusted": q,
            "comparisons": len(tests),
        }
        evidence["rate"], evidence["compared_with"] = evidence["sender"], evidence["rest_of_pool"]
        text = (
            f"Sender {sender_label(address, channel, sender)} delivered {_rate(k, n)} of its "
            f"test messages, against {_rate(k_rest, n_rest)} for the rest of the pool "
            f"(Fisher exact p {_p(p)}, {_p(q)} after correcting for {len(tests):,} "
            "comparisons)."
        )
        changes: tuple[ProposedChange, ...] = ()
        unsure = not_surely_large(evidence, min_gap)
        if unsure:
            text += unsure
        elif sender in in_pool:
            text += " Remove it from the pool."
            reason = (
                f"delivered {k / n:.1%} ({k:,} of {n:,}) of a test send against "
                f"{k_rest / n_rest:.1%} ({k_rest:,} of {n_rest:,}) for the rest of the pool "
                f"(Fisher exact, corrected p {q:.2g})"
            )
            changes = (ProposedChange("remove", sender, str(address), str(channel), reason),)
        else:
            text += " It is no longer a member: nothing to remove."
        severity = "low" if unsure else "high" if gap >= HIGH_GAP else "medium"
        found.append(
            DoctorFinding("below_pool", severity, {"sender_id": sender}, text, evidence, changes)
        )
    return found, len(tests)


def _rate(k: int, n: int) -> str:
    low, high = metrics.wilson_interval(k, n)
    return f"{k / n:.1%} ({k:,} of {n:,}; 95% CI {low:.1%}–{high:.1%})"


def _p(p: float) -> str:
    return "< 1e-300" if p < 1e-300 else f"= {p:.2g}"
