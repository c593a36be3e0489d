"""``diagnose(client, pool, evidence=None)``: what is wrong with a pool, the evidence behind
each finding, and the change that would fix it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from ..analysis import TrafficDataset, traffic_findings, traffic_health
from ..analysis.findings import ALPHA, MIN_GAP, MIN_MESSAGES, RECENT
from ..errors import InvalidInputError
from ..frames import load_pool_members, load_senders
from ..models import SenderPool
from ..rules import ID_PREFIXES, pool_id_of
from ..testsend import TestSend
from .diagnosis import Diagnosis
from .evidence import flagged_senders, send_findings, traffic_doctor_findings, window_messages
from .findings import KINDS, SEVERITIES, DoctorFinding, ProposedChange
from .inventory import inventory_findings
from .replacements import Replacements, pool_tags, profile_text, sender_tags

if TYPE_CHECKING:
    from ..client import CommsClient

__all__ = ["diagnose"]

POOL_PREFIX = ID_PREFIXES["sender pool"]
_TRAFFIC_NEEDS = ("status", "sender_id", "created_at", "pool_id", "to_country")
_MESSAGES_NEEDS = ("status", "sender_id", "sender_address", "channel")
_KIND_ORDER = list(KINDS)


def diagnose(
    client: CommsClient,
    pool: str | SenderPool,
    evidence: Any = None,
    *,
    alpha: float = ALPHA,
    min_gap: float = MIN_GAP,
    min_messages: int = MIN_MESSAGES,
    recent: str | pd.Timedelta = RECENT,
) -> Diagnosis:
    """Diagnose a pool: its findings, most severe first, each with its evidence and the
    change it proposes; ``Diagnosis.plan()`` turns the changes into a ``PoolPlan``.

    ``pool``: a ``SenderPool``, a pool id or a pool's name (a name several pools have is
    refused, naming their ids). ``evidence``:

    - None: the inventory only — DEACTIVATED members, RCS without an SMS fallback, a
      messaging channel the account uses that the pool lacks, senders shared with other
      pools, other pools of the same name;
    - a traffic frame (``load_traffic``; ``compare=True`` gives drift a longer baseline)
      or an exported dataset (``open_traffic``, counted in DuckDB over its files): besides
      the inventory,
      ``analysis.traffic_findings`` over the whole traffic (so its multiple-testing
      correction counts every comparison it makes), kept where they concern the pool —
      senders below the rest of the pool, senders whose delivery fell (drift), DEACTIVATED
      members still carrying traffic, members that carried none, a pool leaning on one
      sender, failure clusters where the pool sends; ``alpha``, ``min_gap``,
      ``min_messages`` and ``recent`` are its;
    - a test send (a ``TestSend`` through this pool, or its messages frame): each sender
      against the rest of the send, one-sided Fisher exact, Benjamini-Hochberg over the
      senders tested, flagged below ``alpha`` with a gap of at least ``min_gap``.

    A DEACTIVATED member is proposed for removal; so is a sender found below the pool or
    drifting whose gap is surely ``min_gap`` (its rate's whole 95% interval that far below)
    and not explained by a failure cluster its messages went to (the comparison made again
    without them) — else the finding says why no removal is proposed. Each removal gets a
    replacement from the account when one fits (same channel, ACTIVATED, the pool's tags,
    not flagged by the evidence, not a member; see ``doctor.replacements``); a missing
    channel gets a sender of it. Findings that call for no change say so.

    Raises ``InvalidInputError`` for evidence of another kind, a malformed pool id or a
    pool name that is missing or ambiguous, before any write (diagnosing only reads).
    """
    kind = _evidence_kind(evidence)
    if isinstance(evidence, TestSend) and evidence.dry_run:
        raise InvalidInputError(
            "evidence: a dry run sent nothing, so it has no outcome to judge; pass the send",
            field="evidence",
        )
    chosen = _resolve_pool(client, pool)
    if isinstance(evidence, TestSend) and evidence.pool_id != chosen.id:
        raise InvalidInputError(
            f"evidence: the test send went through pool {evidence.pool_id}, not {chosen.id}",
            field="evidence",
        )
    senders = load_senders(client)
    all_members = load_pool_members(client)
    members = all_members[all_members["pool_id"] == chosen.id].reset_index(drop=True)
    pools = pd.DataFrame(
        [(p.id, p.name) for p in client.sender_pools.list()], columns=["pool_id", "name"]
    )
    found = inventory_findings(chosen, members, all_members, pools, senders)
    flagged: set[str] = set()
    delivery: pd.DataFrame | None = None
    summary: dict[str, Any] = {"kind": kind}
    if kind == "traffic":
        judged = traffic_findings(
            evidence,
            members=all_members,
            recent=recent,
            alpha=alpha,
            min_gap=min_gap,
            min_messages=min_messages,
        )
        start, end = judged.window
        from_traffic = traffic_doctor_findings(
            judged, chosen.id, members, alpha=alpha, min_gap=min_gap, min_messages=min_messages
        )
        found = _merge_deactivated(found, from_traffic)
        flagged = flagged_senders(judged)
        # A dataset is counted where it lies (DuckDB), over the findings' window.
        window = {"start": start, "end": end} if isinstance(evidence, TrafficDataset) else {}
        delivery = traffic_health(evidence, by="sender", **window)
        messages, through = window_messages(judged, chosen.id)
        summary.update(
            window=(start, end),
            messages=messages,
            pool_messages=through,
            comparisons=judged.tested,
        )
    elif kind == "test send":
        messages = evidence.messages if isinstance(evidence, TestSend) else evidence
        sent, tested = send_findings(messages, members, alpha=alpha, min_gap=min_gap)
        found += sent
        flagged = {str(f.subject["sender_id"]) for f in sent}
        summary.update(
            messages=len(messages),
            comparisons=tested,
            run_id=evidence.run_id if isinstance(evidence, TestSend) else None,
        )
    found.sort(key=lambda f: (SEVERITIES.index(f.severity), _KIND_ORDER.index(f.kind)))
    found = _propose_additions(found, senders, members, flagged, delivery)
    numbered = [f.numbered(i) for i, f in enumerate(found)]
    return Diagnosis(client, chosen, members, numbered, summary)


def _evidence_kind(evidence: Any) -> str:
    """``inventory``, ``traffic`` or ``test send``; anything else is refused, naming why."""
    if evidence is None:
        return "inventory"
    if isinstance(evidence, TrafficDataset):
        return "traffic"
    if isinstance(evidence, TestSend):
        return "test send"
    if isinstance(evidence, pd.DataFrame):
        needs = _TRAFFIC_NEEDS if "pool_id" in evidence.columns else _MESSAGES_NEEDS
        missing = [c for c in needs if c not in evidence.columns]
        if missing:
            what = "traffic frame" if "pool_id" in evidence.columns else "test send's messages"
            raise InvalidInputError(
                f"evidence: a {what} needs the columns {', '.join(missing)}; pass "
                "load_traffic(...)'s frame, or a test send (or its .messages)",
                field="evidence",
            )
        return "traffic" if "pool_id" in evidence.columns else "test send"
    raise InvalidInputError(
        f"evidence: expected None, a traffic frame or dataset, or a test send, got "
        f"{type(evidence).__name__}",
        field="evidence",
        allowed=["None", "load_traffic(...) frame", "open_traffic(...)", "TestSend"],
    )


def _resolve_pool(client: CommsClient, pool: Any) -> SenderPool:
    if isinstance(pool, SenderPool) or (isinstance(pool, str) and pool.startswith(POOL_PREFIX)):
        return client.sender_pools.get(pool_id_of(pool, "pool"))
    if not isinstance(pool, str) or not pool.strip():
        raise InvalidInputError(
            f"pool: expected a SenderPool, a pool id or a pool's name, got {pool!r}",
            field="pool",
        )
    named = [p for p in client.sender_pools.list() if p.name == pool]
    if not named:
        raise InvalidInputError(
            f"pool: no pool is named {pool!r} (names are exact; ct.load_pools(client) lists them)",
            field="pool",
        )
    if len(named) > 1:
        ids = ", ".join(p.id for p in named)
        raise InvalidInputError(
            f"pool: {len(named)} pools are named {pool!r} ({ids}); pass the id of the one "
            "to diagnose",
            field="pool",
        )
    return named[0]


def _merge_deactivated(
    found: list[DoctorFinding], from_traffic: list[DoctorFinding]
) -> list[DoctorFinding]:
    """A DEACTIVATED member that still carried traffic is one finding, high: the
    inventory's (with its removal) and the traffic's sentence and numbers."""
    carried = {
        f.subject["sender_id"]: f for f in from_traffic if f.kind == "deactivated_with_traffic"
    }
    merged = []
    for f in found:
        traffic = (
            carried.pop(f.subject.get("sender_id"), None)
            if f.kind == "deactivated_member"
            else None
        )
        if traffic is None:
            merged.append(f)
            continue
        merged.append(
            DoctorFinding(
                f.kind,
                "high",
                f.subject,
                f"{f.text} {traffic.text}",
                {**f.evidence, "traffic": traffic.evidence},
                f.changes,
            )
        )
    rest = [f for f in from_traffic if f.kind != "deactivated_with_traffic"]
    return merged + list(carried.values()) + rest


def _propose_additions(
    found: list[DoctorFinding],
    senders: pd.DataFrame,
    members: pd.DataFrame,
    flagged: set[str],
    delivery: pd.DataFrame | None,
) -> list[DoctorFinding]:
    """Each removal gets a replacement (once per sender, with its first finding), each
    missing channel a sender of it, chosen from the account (``replacements``)."""
    member_ids = set(members["sender_id"].tolist())
    removed = {c.sender_id for f in found for c in f.changes if c.action == "remove"}
    rows = senders.set_index("sender_id", drop=False)
    member_rows = rows.loc[[s for s in members["sender_id"] if s in rows.index]]
    chooser = Replacements(senders, member_ids, flagged | removed, pool_tags(member_rows), delivery)
    replaced: dict[str, int] = {}
    result = []
    for position, finding in enumerate(found):
        changes: list[ProposedChange] = []
        for change in finding.changes:
            if change.action != "remove":
                changes.append(change)
                continue
            if change.sender_id in replaced:
                changes.append(change)
                continue
            like = sender_tags(rows.loc[change.sender_id]) if change.sender_id in rows.index else {}
            candidate = chooser.choose(change.channel, like)
            if candidate is None:
                changes.append(
                    _with_reason(change, f"no replacement: {_none_fits(change.channel, chooser)}")
                )
                continue
            replaced[change.sender_id] = position
            changes.append(
                _with_reason(change, f"replaced by {candidate.address} ({candidate.sender_id})")
            )
            changes.append(
                ProposedChange(
                    "add",
                    candidate.sender_id,
                    candidate.address,
                    candidate.channel,
                    f"in place of {change.address} ({change.sender_id}); {candidate.why()}",
                    replaces=change.sender_id,
                )
            )
        if finding.kind in ("rcs_without_sms", "missing_channel"):
            channel = str(finding.subject["channel"])
            candidate = chooser.choose(channel)
            if candidate is None:
                finding = DoctorFinding(
                    finding.kind,
                    finding.severity,
                    finding.subject,
                    f"{finding.text} No sender to propose: {_none_fits(channel, chooser)}.",
                    finding.evidence,
                )
            else:
                changes.append(
                    ProposedChange(
                        "add",
                        candidate.sender_id,
                        candidate.address,
                        channel,
                        f"the pool has no activated {channel} sender; {candidate.why()}",
                    )
                )
                finding = DoctorFinding(
                    finding.kind,
                    finding.severity,
                    finding.subject,
                    f"{finding.text} Add {candidate.address} (`{candidate.sender_id}`).",
                    finding.evidence,
                )
        result.append(finding.with_changes(tuple(changes)))
    return result


def _with_reason(change: ProposedChange, more: str) -> ProposedChange:
    return ProposedChange(
        change.action, change.sender_id, change.address, change.channel, f"{change.reason}; {more}"
    )


def _none_fits(channel: str, chooser: Replacements) -> str:
    tags = profile_text(chooser.required)
    return (
        f"no ACTIVATED {channel} sender outside the pool"
        + (f" with the pool's tags ({tags})" if tags else "")
        + " is left unflagged by the evidence"
    )
