"""Senders the doctor proposes to add: a replacement for each sender it removes, and a sender
for a channel the pool lacks.

A candidate is a sender of the account on the same channel, ACTIVATED, not a member of the
pool, not flagged by the evidence (a drifting or below-pool sender anywhere, a DEACTIVATED
one still carrying traffic) and not already proposed; it has the pool's tags — for every tag
key that all the pool's activated members carry, one of the values they carry (e.g.
``team=support`` and ``region`` one of ``us-east, us-west``). Among those, the ones sharing
most of the removed sender's other tags come first (the same ``region``, ``numberType``...),
then the ones that delivered best on the evidence's traffic (the lower end of their 95%
interval), then by id, so the choice is deterministic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..frames import TAG_PREFIX
from .inventory import SEND_CHANNELS

__all__ = ["Candidate", "Replacements", "pool_tags", "profile_text", "sender_tags"]


@dataclass(frozen=True)
class Candidate:
    """A sender proposed for the pool: its id, address, channel, the pool's tags it has,
    the removed sender's other tags it shares, and its delivery on the evidence (if any)."""

    sender_id: str
    address: str
    channel: str
    required: dict[str, tuple[str, ...]]
    shared: dict[str, str]
    delivery: tuple[int, int, float, float] | None  # delivered, rated, low, high

    def why(self) -> str:
        """What makes it fit, as a clause."""
        tags = profile_text(self.required)
        parts = [f"same channel ({self.channel}), ACTIVATED"]
        parts.append(f"the pool's tags ({tags})" if tags else "the pool shares no tag")
        if self.shared:
            shared = ", ".join(f"{k}={v}" for k, v in sorted(self.shared.items()))
            parts.append(f"the same {shared} as the sender it replaces")
        if self.delivery is not None:
            k, n, low, high = self.delivery
            parts.append(
                f"delivered {k / n:.1%} ({k:,} of {n:,}; 95% CI {low:.1%}–{high:.1%}) on the "
                "evidence's traffic"
            )
        else:
            parts.append("no traffic of its own in the evidence")
        return "; ".join(parts)


def sender_tags(row: Mapping[str, Any]) -> dict[str, str]:
    """The tags of a senders frame row (its ``tags.<key>`` columns that are set)."""
    return {
        key[len(TAG_PREFIX) :]: str(value)
        for key, value in row.items()
        if str(key).startswith(TAG_PREFIX) and not pd.isna(value)
    }


def profile_text(profile: Mapping[str, tuple[str, ...]]) -> str:
    """``team=support; region=us-east|us-west``."""
    return "; ".join(f"{k}={'|'.join(v)}" for k, v in sorted(profile.items()))


def pool_tags(member_senders: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    """The pool's tag profile: each tag key every activated member on a messaging channel
    carries (all members when none is activated on one), with the values they carry;
    ``{}`` for an empty pool."""
    judged = member_senders[
        (member_senders["status"] == "ACTIVATED")
        & member_senders["channel"].astype(str).isin(SEND_CHANNELS)
    ]
    if judged.empty:
        judged = member_senders
    if judged.empty:
        return {}
    common = {}
    for column in (c for c in judged.columns if str(c).startswith(TAG_PREFIX)):
        values = judged[column]
        if values.notna().all():
            common[str(column)[len(TAG_PREFIX) :]] = tuple(sorted(values.astype(str).unique()))
    return common


class Replacements:
    """Chooses candidates one at a time, never the same sender twice."""

    def __init__(
        self,
        senders: pd.DataFrame,
        members: set[str],
        flagged: set[str],
        required: dict[str, tuple[str, ...]],
        delivery: pd.DataFrame | None,
    ) -> None:
        pool = senders[(senders["status"] == "ACTIVATED") & ~senders["sender_id"].isin(members)]
        pool = pool[~pool["sender_id"].isin(flagged)]
        for key, values in required.items():
            column = TAG_PREFIX + key
            if column not in pool.columns:
                pool = pool.iloc[0:0]
                break
            pool = pool[pool[column].astype("string").isin(values).fillna(False).astype(bool)]
        self._pool = pool
        self._required = required
        self._taken: set[str] = set()
        self._delivery: dict[str, tuple[int, int, float, float]] = {}
        if delivery is not None:
            rated = delivery[delivery["rated"] > 0]
            self._delivery = {
                str(s): (int(k), int(n), float(low), float(high))
                for s, k, n, low, high in zip(
                    rated["sender_id"],
                    rated["delivered"],
                    rated["rated"],
                    rated["delivery_low"],
                    rated["delivery_high"],
                    strict=True,
                )
            }

    @property
    def required(self) -> dict[str, tuple[str, ...]]:
        return dict(self._required)

    def choose(self, channel: str, like: Mapping[str, str] | None = None) -> Candidate | None:
        """The best candidate on ``channel`` (``like``: the removed sender's tags), or None."""
        on = self._pool[
            (self._pool["channel"].astype(str) == channel)
            & ~self._pool["sender_id"].isin(self._taken)
        ]
        if on.empty:
            return None
        extra = dict(like or {})
        ranked = []
        for row in on.to_dict("records"):
            tags = sender_tags(row)
            shared = {k: v for k, v in extra.items() if tags.get(k) == v}
            known = self._delivery.get(str(row["sender_id"]))
            low = known[2] if known else -1.0
            ranked.append((-len(shared), -low, str(row["sender_id"]), row, shared, known))
        ranked.sort(key=lambda r: r[:3])
        _, _, sender, row, shared, known = ranked[0]
        self._taken.add(sender)
        return Candidate(sender, str(row["address"]), channel, dict(self._required), shared, known)
