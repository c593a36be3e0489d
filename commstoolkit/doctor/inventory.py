"""What the account itself says about a pool, without any traffic: DEACTIVATED members,
RCS without an SMS fallback, a messaging channel the account uses that the pool lacks,
senders shared with other pools, other pools of the same name."""

from __future__ import annotations

import pandas as pd

from ..models import SenderPool
from .findings import DoctorFinding, ProposedChange, sender_label

__all__ = ["SEND_CHANNELS", "inventory_findings"]

# The channels a pool sends messages on (``from.channels.filterIn`` of POST /Messages), as
# plan_pool's warnings count them: e-mail and push identities may sit in a pool, but a
# missing one is no gap in its reach.
SEND_CHANNELS = ("SMS", "RCS", "WHATSAPP")
# Senders in this many pools or more are named in a ``shared_senders`` finding.
MANY_POOLS = 3
_LISTED = 5


def inventory_findings(
    pool: SenderPool,
    members: pd.DataFrame,
    all_members: pd.DataFrame,
    pools: pd.DataFrame,
    senders: pd.DataFrame,
) -> list[DoctorFinding]:
    """The inventory's findings of ``pool`` (``members``: its members frame), from every
    pool's members, the pools frame and the account's senders frame."""
    return [
        *_deactivated(members),
        *_channels(members, senders),
        *_shared(pool, members, all_members),
        *_same_name(pool, pools),
    ]


def _deactivated(members: pd.DataFrame) -> list[DoctorFinding]:
    off = members[members["status"] == "DEACTIVATED"]
    found = []
    for sender, address, channel in zip(
        off["sender_id"], off["address"], off["channel"].astype(object), strict=True
    ):
        reason = "DEACTIVATED: it cannot send until reactivated, yet it sits in the pool"
        found.append(
            DoctorFinding(
                "deactivated_member",
                "medium",
                {"sender_id": sender},
                f"Sender {sender_label(address, channel, sender)} is DEACTIVATED: it cannot "
                "send until it is reactivated; remove it from the pool.",
                {"status": "DEACTIVATED"},
                (ProposedChange("remove", sender, address, channel, reason),),
            )
        )
    return found


def _active_channels(members: pd.DataFrame) -> set[str]:
    return set(members.loc[members["status"] == "ACTIVATED", "channel"].astype(str))


def _channels(members: pd.DataFrame, senders: pd.DataFrame) -> list[DoctorFinding]:
    active = _active_channels(members)
    used = senders.loc[senders["status"] == "ACTIVATED", "channel"].astype(str).value_counts()
    found = []
    if "RCS" in active and "SMS" not in active:
        found.append(
            DoctorFinding(
                "rcs_without_sms",
                "high",
                {"channel": "SMS"},
                "The pool has activated RCS senders but no activated SMS sender: phones "
                "without RCS get no SMS fallback, so their messages fail.",
                {
                    "activated_channels": sorted(active),
                    "account_sms_senders": int(used.get("SMS", 0)),
                },
            )
        )
    for channel in SEND_CHANNELS:
        if channel in active or not used.get(channel, 0):
            continue
        if channel == "SMS" and "RCS" in active:
            continue  # rcs_without_sms says it, louder
        found.append(
            DoctorFinding(
                "missing_channel",
                "low",
                {"channel": channel},
                f"The pool has no activated {channel} sender, although the account has "
                f"{int(used[channel]):,} activated {channel} senders: its recipients on "
                f"{channel} cannot be reached through it.",
                {"activated_channels": sorted(active), "account_senders": int(used[channel])},
            )
        )
    return found


def _shared(
    pool: SenderPool, members: pd.DataFrame, all_members: pd.DataFrame
) -> list[DoctorFinding]:
    mine = set(members["sender_id"].tolist())
    others = all_members[(all_members["pool_id"] != pool.id) & all_members["sender_id"].isin(mine)]
    if others.empty:
        return []
    per_pool = (
        others.groupby(["pool_id", "pool_name"], observed=True)["sender_id"]
        .nunique()
        .sort_values(ascending=False, kind="stable")
    )
    in_pools = others.groupby("sender_id", observed=True)["pool_id"].nunique() + 1
    many = sorted(in_pools[in_pools >= MANY_POOLS].index.tolist())
    shared = others["sender_id"].nunique()
    listed = [f"{n:,} with **{name}** (`{pid}`)" for (pid, name), n in per_pool.items()]
    text = (
        f"{shared:,} of the pool's {len(mine):,} members also sit in other pools: "
        + "; ".join(listed[:_LISTED])
        + (f"; and {len(listed) - _LISTED:,} more pools" if len(listed) > _LISTED else "")
        + "."
    )
    if many:
        text += f" {len(many):,} of them sit in {MANY_POOLS} pools or more."
    text += (
        " A change to one of these senders (a fault, a deactivation) reaches every pool "
        "holding it; no change proposed."
    )
    evidence = {
        "shared": shared,
        "members": len(mine),
        "pools": {str(pid): int(n) for (pid, _), n in per_pool.items()},
        "in_many_pools": many,
    }
    return [DoctorFinding("shared_senders", "low", {"pool_id": pool.id}, text, evidence)]


def _same_name(pool: SenderPool, pools: pd.DataFrame) -> list[DoctorFinding]:
    same = sorted(
        pools.loc[(pools["name"] == pool.name) & (pools["pool_id"] != pool.id), "pool_id"]
    )
    if not same:
        return []
    ids = ", ".join(f"`{i}`" for i in same)
    return [
        DoctorFinding(
            "same_name",
            "medium",
            {"pool_id": pool.id, "name": pool.name},
            f"{len(same) + 1} pools are named **{pool.name}** (this one and {ids}): anything "
            "that picks a pool by name may take the wrong one. Rename one of them "
            "(plan_pool(..., pool_id=..., name=...)); the doctor does not choose a name.",
            {"namesakes": same},
        )
    ]
