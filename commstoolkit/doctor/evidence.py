"""What the evidence says about a pool: the traffic findings that concern it
(``analysis.traffic_findings``, reused as they are), or a test send's outcomes judged the
same way — each sender against the rest of the pool, one-sided Fisher exact, corrected
over the senders tested (Benjamini-Hochberg)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from .. import metrics
from ..analysis import Finding, Findings
from .findings import DoctorFinding, ProposedChange, rate_evidence, sender_label

__all__ = ["FLAGGING", "flagged_senders", "send_findings", "traffic_doctor_findings"]

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
    countries: set[str],
) -> list[DoctorFinding]:
    """The traffic findings about the pool (``members``: its members frame), each with the
    change it calls for: drift and below-pool senders removed (their replacement is chosen
    later, from the whole diagnosis), the rest told without a change. ``countries``: the
    recipient countries of the pool's traffic (a failure cluster elsewhere is not its)."""
    by_id = members.drop_duplicates("sender_id").set_index("sender_id")
    found = []
    for finding in findings:
        sender = finding.subject.get("sender_id")
        member = sender is not None and sender in by_id.index
        kind = finding.kind
        if kind == "drift" and member:
            found.append(_removal(finding, by_id.loc[sender], _drift_reason(finding)))
        elif kind == "below_pool" and finding.subject.get("pool_id") == pool_id:
            found.append(_removal(finding, by_id.loc[sender], _below_reason(finding)))
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


def _removal(finding: Finding, member: pd.Series, reason: str) -> DoctorFinding:
    sender = str(finding.subject["sender_id"])
    change = ProposedChange(
        "remove", sender, str(member["address"]), str(member["channel"]), reason
    )
    return DoctorFinding(
        finding.kind,
        finding.severity,
        dict(finding.subject),
        finding.text + " Remove it from the pool.",
        _evidence(finding, "traffic"),
        (change,),
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
        if sender in in_pool:
            text += " Remove it from the pool."
            reason = (
                f"delivered {k / n:.1%} ({k:,} of {n:,}) of a test send against "
                f"{k_rest / n_rest:.1%} ({k_rest:,} of {n_rest:,}) for the rest of the pool "
                f"(Fisher exact, corrected p {q:.2g})"
            )
            changes = (ProposedChange("remove", sender, str(address), str(channel), reason),)
        else:
            text += " It is no longer a member: nothing to remove."
        severity = "high" if gap >= HIGH_GAP else "medium"
        found.append(
            DoctorFinding("below_pool", severity, {"sender_id": sender}, text, evidence, changes)
        )
    return found, len(tests)


def _rate(k: int, n: int) -> str:
    low, high = metrics.wilson_interval(k, n)
    return f"{k / n:.1%} ({k:,} of {n:,}; 95% CI {low:.1%}–{high:.1%})"


def _p(p: float) -> str:
    return "< 1e-300" if p < 1e-300 else f"= {p:.2g}"
