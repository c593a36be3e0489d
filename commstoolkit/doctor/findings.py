"""What the doctor finds and proposes, as data: ``DoctorFinding`` and ``ProposedChange``,
the kinds it knows, and the evidence of a rate (counts, the rate, its 95% Wilson interval)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from .. import metrics

__all__ = [
    "KINDS",
    "SEVERITIES",
    "DoctorFinding",
    "ProposedChange",
    "plain",
    "rate_evidence",
    "sender_label",
]

SEVERITIES = ("high", "medium", "low")

# Every kind of finding, with what it means (the README's table says the same).
KINDS = {
    "deactivated_member": "a DEACTIVATED sender in the pool: it cannot send",
    "rcs_without_sms": "RCS senders but no activated SMS sender: no SMS fallback",
    "missing_channel": "a messaging channel the account uses that the pool lacks",
    "below_pool": "a sender significantly below the rest of the pool",
    "drift": "a sender whose delivery fell significantly in the last days",
    "deactivated_with_traffic": "a DEACTIVATED member that still carried traffic",
    "idle_members": "members that carried no traffic through the pool in the window",
    "leans_on_one": "the pool's traffic went through one sender almost alone",
    "failure_cluster": "a country or hour of the pool's traffic where failures concentrate",
    "shared_senders": "the pool's senders also sit in other pools",
    "same_name": "other pools have the pool's name",
}


@dataclass(frozen=True)
class ProposedChange:
    """One change the doctor proposes: ``action`` ``"remove"`` or ``"add"`` of a sender
    (``sender_id``, ``address``, ``channel``), and why (``reason``, a plain sentence). An
    add that stands in for a removed sender names it in ``replaces``."""

    action: str
    sender_id: str
    address: str
    channel: str
    reason: str
    replaces: str | None = None

    def describe(self) -> str:
        """``remove +16177149924 (SMS, comms_sender_…)`` (an add's reason names the sender it
        replaces)."""
        return f"{self.action} {self.address} ({self.channel}, {self.sender_id})"


@dataclass(frozen=True)
class DoctorFinding:
    """One finding of a diagnosis.

    ``index`` (its number in the diagnosis: ``plan(accept=[0, 2])``), ``kind`` (one of
    ``KINDS``), ``severity`` (high, medium, low), ``subject`` (what it is about, e.g.
    ``{"sender_id": ...}``), ``text`` (a sentence, Markdown), ``evidence`` (the numbers
    behind it: for a rate comparison ``rate`` and ``compared_with`` — each ``delivered``,
    ``rated``, ``rate``, ``low``, ``high`` (95% Wilson) — ``test``, ``p``, ``p_adjusted``
    (Benjamini-Hochberg), ``comparisons`` and ``source``), and ``changes``: the proposed
    ``ProposedChange`` s (empty: nothing to change in the pool, the text says why)."""

    kind: str
    severity: str
    subject: dict[str, Any]
    text: str
    evidence: dict[str, Any] = field(default_factory=dict)
    changes: tuple[ProposedChange, ...] = ()
    index: int = -1

    def numbered(self, index: int) -> DoctorFinding:
        return replace(self, index=index)

    def with_changes(self, changes: tuple[ProposedChange, ...]) -> DoctorFinding:
        return replace(self, changes=changes)


def rate_evidence(delivered: int, rated: int) -> dict[str, Any]:
    """``delivered`` of ``rated``, the rate (NaN over nothing) and its 95% Wilson interval."""
    low, high = metrics.wilson_interval(delivered, rated)
    rate = delivered / rated if rated else float("nan")
    return {
        "delivered": int(delivered),
        "rated": int(rated),
        "rate": rate,
        "low": low,
        "high": high,
    }


def sender_label(address: Any, channel: Any, sender_id: Any) -> str:
    """``**address** (channel, `id`)``, as the traffic findings name a sender (Markdown)."""
    return f"**{address}** ({channel}, `{sender_id}`)"


_MARKUP = re.compile(r"\*\*|`")


def plain(markdown: str) -> str:
    """A finding's sentence without its Markdown marks (bold, code)."""
    return _MARKUP.sub("", markdown)
