"""``Diagnosis``: a pool's findings, the evidence behind each and the changes proposed, as
text, HTML and a frame; ``plan(accept=..., reject=...)`` turns the accepted changes into a
``PoolPlan`` whose every add and remove carries its reason."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import InvalidInputError
from ..frames import load_pool_members, load_senders
from ..models import SenderPool
from ..pools import PoolPlan, plan_pool
from ..rules import ID_PATTERNS
from .findings import KINDS, DoctorFinding, ProposedChange, plain

if TYPE_CHECKING:
    from ..client import CommsClient

__all__ = ["Diagnosis"]

SENDER_ID = ID_PATTERNS["sender"]


@dataclass(frozen=True)
class _Selection:
    indices: frozenset[int] = frozenset()
    kinds: frozenset[str] = frozenset()
    senders: frozenset[str] = frozenset()

    def matches(self, finding: DoctorFinding, change: ProposedChange) -> bool:
        return (
            finding.index in self.indices
            or finding.kind in self.kinds
            or change.sender_id in self.senders
            or (change.replaces is not None and change.replaces in self.senders)
        )


@dataclass(eq=False)
class Diagnosis:
    """What ``ct.diagnose`` found in a pool.

    - ``pool``: the ``SenderPool``; ``members``: its members frame when diagnosed;
    - ``findings``: ``DoctorFinding`` s, most severe first, numbered (``index``);
    - ``evidence``: what was judged (``kind``: ``"inventory"``, ``"traffic"`` or
      ``"test send"``, with its window, messages and the number of comparisons corrected
      together);
    - ``changes``: every proposed change, in finding order;
    - ``frame()``: one row per finding with its numbers;
    - ``plan(accept=None, reject=None)``: the ``PoolPlan`` of the accepted changes.
    """

    client: CommsClient
    pool: SenderPool
    members: pd.DataFrame
    findings: list[DoctorFinding]
    evidence: dict[str, Any] = field(default_factory=dict)

    def of(self, kind: str) -> list[DoctorFinding]:
        """The findings of one kind."""
        return [f for f in self.findings if f.kind == kind]

    @property
    def changes(self) -> list[ProposedChange]:
        """Every proposed change, in finding order."""
        return [c for f in self.findings for c in f.changes]

    # -- the plan ---------------------------------------------------------------------------

    def plan(self, accept: Any = None, reject: Any = None) -> PoolPlan:
        """The ``PoolPlan`` of the accepted proposed changes; nothing changes until its
        ``apply()``.

        ``accept`` / ``reject``: a finding's index, a kind (``KINDS``), a sender id, a
        ``DoctorFinding``, or a list of those. A change is taken when ``accept`` is None
        (every proposed change) or names its finding, its kind or its sender, and
        ``reject`` names none of them; an add that replaces a removed sender goes with that
        removal. Each add and remove carries its reason (``PoolPlan.reasons``, shown in the
        plan's text and HTML); removing the pool's last sender of a channel says so in its
        reason, and the plan warns when a messaging channel is left without an activated
        sender. The plan starts from the pool's members now; a proposed sender that is no
        longer ACTIVATED is never added (its removal's reason says so).

        Raises ``InvalidInputError`` for an index out of range or an unknown kind, before
        any request.
        """
        accepted = None if accept is None else self._selection(accept, "accept")
        rejected = self._selection(reject, "reject") if reject is not None else _Selection()
        removes: dict[str, list[str]] = {}
        adds: dict[str, tuple[ProposedChange, str]] = {}
        replacing: list[tuple[ProposedChange, str]] = []
        for finding in self.findings:
            for change in finding.changes:
                tag = f"{change.reason} (finding {finding.index}, {finding.kind})"
                if change.replaces is not None:
                    replacing.append((change, tag))  # goes with its removal, below
                    continue
                if accepted is not None and not accepted.matches(finding, change):
                    continue
                if rejected.matches(finding, change):
                    continue
                if change.action == "remove":
                    removes.setdefault(change.sender_id, []).append(tag)
                elif change.sender_id not in adds:
                    adds[change.sender_id] = (change, tag)
        for change, tag in replacing:
            taken = change.replaces in removes and change.sender_id not in rejected.senders
            if taken and change.sender_id not in adds:
                adds[change.sender_id] = (change, tag)
        current = load_pool_members(self.client, [self.pool.id])
        inventory = load_senders(self.client)
        status = dict(
            zip(inventory["sender_id"].tolist(), inventory["status"].tolist(), strict=True)
        )
        channel_of = dict(
            zip(
                inventory["sender_id"].tolist(),
                inventory["channel"].astype(str).tolist(),
                strict=True,
            )
        )
        gone: dict[str, str] = {}
        for sender, (change, _) in list(adds.items()):
            if status.get(sender) != "ACTIVATED":
                del adds[sender]
                if change.replaces:
                    gone[change.replaces] = sender
        members_now = current["sender_id"].tolist()
        target = [s for s in members_now if s not in removes]
        target += [s for s in adds if s not in set(members_now)]
        remaining = {channel_of.get(s) for s in target}
        reasons: dict[str, str] = {}
        for sender, tags in removes.items():
            reason = "; ".join(tags)
            if sender in gone:
                reason += (
                    f"; its proposed replacement {gone[sender]} is no longer ACTIVATED "
                    "(diagnose again for another)"
                )
            channel = channel_of.get(sender)
            if channel is not None and channel not in remaining:
                reason += f"; it is the pool's last {channel} sender: after this plan it has none"
            reasons[sender] = reason
        for sender, (_, tag) in adds.items():
            reasons[sender] = tag
        return plan_pool(
            self.client, target, pool_id=self.pool.id, inventory=inventory, reasons=reasons
        )

    def _selection(self, value: Any, name: str) -> _Selection:
        items = [value] if isinstance(value, (str, int, DoctorFinding)) else value
        if not isinstance(items, Iterable):
            raise InvalidInputError(
                f"{name}: expected finding indices, kinds or sender ids, got "
                f"{type(value).__name__}",
                field=name,
            )
        indices, kinds, senders = set(), set(), set()
        for item in items:
            if isinstance(item, DoctorFinding):
                item = item.index
            if isinstance(item, int) and not isinstance(item, bool):
                if not 0 <= item < len(self.findings):
                    raise InvalidInputError(
                        f"{name}: finding {item} does not exist (this diagnosis has "
                        f"{len(self.findings)}: 0 to {len(self.findings) - 1})",
                        field=name,
                    )
                indices.add(item)
            elif isinstance(item, str) and item in KINDS:
                kinds.add(item)
            elif isinstance(item, str) and SENDER_ID.fullmatch(item):
                senders.add(item)
            else:
                raise InvalidInputError(
                    f"{name}: {item!r} is neither a finding index, a kind nor a sender id",
                    field=name,
                    allowed=sorted(KINDS),
                )
        return _Selection(frozenset(indices), frozenset(kinds), frozenset(senders))

    # -- views ------------------------------------------------------------------------------

    def frame(self) -> pd.DataFrame:
        """One row per finding: ``index``, ``kind``, ``severity``, ``sender_id`` (when about
        a sender), ``text`` (plain), the rate compared (``delivered``, ``rated``, ``rate``,
        ``rate_low``, ``rate_high``) and what it is compared with (``other_*``), ``test``,
        ``p``, ``p_adjusted``, ``comparisons`` and ``proposed`` (the changes, one line)."""
        rows = []
        for f in self.findings:
            e = f.evidence
            rate, other = e.get("rate") or {}, e.get("compared_with") or {}
            rows.append(
                {
                    "index": f.index,
                    "kind": f.kind,
                    "severity": f.severity,
                    "sender_id": f.subject.get("sender_id"),
                    "text": plain(f.text),
                    "delivered": rate.get("delivered"),
                    "rated": rate.get("rated"),
                    "rate": rate.get("rate"),
                    "rate_low": rate.get("low"),
                    "rate_high": rate.get("high"),
                    "other_delivered": other.get("delivered"),
                    "other_rated": other.get("rated"),
                    "other_rate": other.get("rate"),
                    "test": e.get("test"),
                    "p": e.get("p"),
                    "p_adjusted": e.get("p_adjusted"),
                    "comparisons": e.get("comparisons"),
                    "proposed": "; ".join(c.describe() for c in f.changes),
                }
            )
        frame = pd.DataFrame(rows, columns=_FRAME_COLUMNS)
        for column in ("delivered", "rated", "other_delivered", "other_rated", "comparisons"):
            frame[column] = frame[column].astype("Int64")
        for column in ("rate", "rate_low", "rate_high", "other_rate", "p", "p_adjusted"):
            frame[column] = frame[column].astype("float64")
        frame["index"] = frame["index"].astype("int64")
        return frame

    def headline(self) -> str:
        """One line: the pool, its members and the evidence judged."""
        counts = pd.Series([f.severity for f in self.findings], dtype="object").value_counts()
        tally = ", ".join(f"{int(counts[s])} {s}" for s in ("high", "medium", "low") if s in counts)
        return (
            f"Diagnosis of pool {self.pool.name!r} ({self.pool.id}), {len(self.members):,} "
            f"members, on {_evidence_words(self.evidence)}: "
            + (f"{len(self.findings)} findings ({tally})" if self.findings else "no finding")
        )

    def __str__(self) -> str:
        lines = [self.headline()]
        for f in self.findings:
            lines.append(f"  [{f.index}] {f.severity} · {f.kind} — {plain(f.text)}")
            lines += [f"      proposed: {c.describe()}: {c.reason}" for c in f.changes]
        if self.changes:
            lines.append(
                "diagnosis.plan() plans the proposed changes (accept= / reject= by index, kind "
                "or sender id); nothing changes until the plan's apply()."
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<Diagnosis of pool {self.pool.name!r} ({self.pool.id}): {len(self.findings)} "
            f"findings, {len(self.changes)} proposed changes>"
        )

    def _repr_html_(self) -> str:
        parts = [
            "<div class='commstoolkit-diagnosis'>",
            f"<p><strong>{html.escape(self.headline())}</strong></p>",
        ]
        if self.findings:
            rows = "".join(
                "<tr>"
                f"<td>{f.index}</td><td>{html.escape(f.severity)}</td>"
                f"<td>{html.escape(f.kind)}</td><td>{_markdown_html(f.text)}</td>"
                f"<td>{_changes_html(f.changes)}</td>"
                "</tr>"
                for f in self.findings
            )
            parts.append(
                f"{_STYLE}<table class='ct-diagnosis'><thead><tr><th>#</th><th>severity</th>"
                "<th>kind</th><th>finding</th><th>proposed change</th></tr></thead>"
                f"<tbody>{rows}</tbody></table>"
            )
        if self.changes:
            parts.append(
                "<p><code>diagnosis.plan()</code> plans the proposed changes (accept= / reject= "
                "by index, kind or sender id); nothing changes until the plan's "
                "<code>apply()</code>.</p>"
            )
        parts.append("</div>")
        return "".join(parts)


_FRAME_COLUMNS = [
    "index",
    "kind",
    "severity",
    "sender_id",
    "text",
    "delivered",
    "rated",
    "rate",
    "rate_low",
    "rate_high",
    "other_delivered",
    "other_rated",
    "other_rate",
    "test",
    "p",
    "p_adjusted",
    "comparisons",
    "proposed",
]

_STYLE = (
    "<style>.ct-diagnosis td,.ct-diagnosis th{text-align:left;vertical-align:top;"
    "padding:3px 8px}.ct-diagnosis ul{margin:0;padding-left:1.2em}</style>"
)
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_CODE = re.compile(r"`(.+?)`")


def _markdown_html(text: str) -> str:
    """A finding's Markdown sentence as HTML: escaped first, then bold and code marked."""
    escaped = html.escape(text)
    return _CODE.sub(r"<code>\1</code>", _BOLD.sub(r"<strong>\1</strong>", escaped))


def _changes_html(changes: tuple[ProposedChange, ...]) -> str:
    if not changes:
        return "—"
    items = "".join(
        f"<li>{html.escape(c.describe())}: {html.escape(c.reason)}</li>" for c in changes
    )
    return f"<ul>{items}</ul>"


def _evidence_words(evidence: dict[str, Any]) -> str:
    kind = evidence.get("kind", "inventory")
    if kind == "inventory":
        return "the inventory only (no traffic, no test send)"
    if kind == "traffic":
        start, end = evidence["window"]
        return (
            f"traffic from {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC "
            f"({evidence['messages']:,} messages, {evidence['pool_messages']:,} through the "
            f"pool; {evidence['comparisons']:,} comparisons corrected together)"
        )
    tested = evidence.get("comparisons", 0)
    run = evidence.get("run_id")
    return (
        f"a test send{f' ({run})' if run else ''} of {evidence['messages']:,} messages "
        f"({tested:,} senders tested, corrected together)"
    )
