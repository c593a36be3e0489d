"""Plan a pool change: what to add, what to remove, what to warn about, which calls to make.

``plan_pool`` only reads (the account's senders, the pool and its members); nothing
changes until ``PoolPlan.apply()``. ``create_pool`` plans and applies at once. The plan
itself (``PoolPlan``) is in ``pool_plan``, applying it in ``apply``: this module, the top of
the pools package, joins them (a plan is made with ``apply_plan`` as what applies it).
"""

from __future__ import annotations

import warnings as _warnings
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import pandas as pd

from ..errors import CommsError, InvalidInputError, NotFoundError
from ..frames import load_senders, senders_frame
from ..models import SenderPool
from ._checks import (
    checked_name,
    checked_pool_id,
    checked_reasons,
    checked_sender_ids,
    checked_tags,
)
from ._render import plural, some_of
from .apply import apply_plan
from .pool_plan import PoolPlan
from .steps import MAX_SENDERS_PER_REQUEST

if TYPE_CHECKING:
    from ..client import CommsClient

__all__ = ["MANY_REMOVALS", "PoolPlan", "PoolPlanWarning", "create_pool", "plan_pool"]

# Removing is one DELETE per sender; from this many on, the plan warns that it takes a while.
MANY_REMOVALS = 100


def plan_pool(
    client: CommsClient,
    senders: pd.DataFrame | Iterable[str],
    name: str | None = None,
    pool_id: str | SenderPool | None = None,
    tags: Mapping[str, str] | None = None,
    *,
    inventory: pd.DataFrame | None = None,
    reasons: Mapping[str, str] | None = None,
) -> PoolPlan:
    """Plan a pool holding exactly ``senders``: a new pool (``name``) or an existing one.

    ``senders``: a frame with a ``sender_id`` column (e.g. from ``select_senders``) or
    an iterable of sender ids. With ``pool_id`` (an id or a ``SenderPool``) the plan is
    the difference from the pool's current members; ``name`` / ``tags``, when given,
    rename it / replace its tags. ``inventory``: the account's senders frame (default:
    ``load_senders(client)``), used to spot unknown ids, DEACTIVATED senders and
    channels left uncovered. ``reasons``: why each sender is added or removed (sender id
    -> a sentence), shown beside it in the plan's text and HTML (``PoolPlan.reasons``);
    reasons of senders the plan neither adds nor removes are left out.

    Warnings (``.warnings``): DEACTIVATED senders in the pool; ids not in the account
    (left out of the plan); duplicates in the input; RCS without an SMS fallback; no
    activated sender for a channel the team uses (a messaging channel — SMS, RCS or
    WHATSAPP — on which the account has ACTIVATED senders); an empty pool; sizes that
    need several requests; a name other pools already have (a new pool, or a rename),
    naming their ids (``PoolPlan.namesakes``) — for a new pool, plan with ``pool_id=``
    one of them to change that pool instead of creating another of the same name.

    Raises, before any request: ``InvalidInputError`` for malformed sender or pool ids,
    an empty name, tags over the API's limits (10 pairs, key 128, value 256 characters
    from ``a-z A-Z 0-9 . _ ~ -``), or neither ``name`` nor ``pool_id``. Then
    ``NotFoundError`` when ``pool_id`` names no pool. Planning never changes anything.
    """
    ids = checked_sender_ids(senders)
    pool_ref = checked_pool_id(pool_id)
    name = checked_name(name)
    tag_map = None if tags is None else checked_tags(tags)
    reason_map = checked_reasons(reasons)
    if name is None and pool_ref is None:
        raise InvalidInputError(
            "give name= to plan a new pool, or pool_id= to change an existing one",
            field="name",
        )
    pool = _existing_pool(client, pool_ref) if pool_ref else None
    members = senders_frame(list(client.sender_pools.members.list(pool.id)) if pool else [])
    namesakes, unchecked = _namesakes(client, name, pool)
    if inventory is None:
        inventory = load_senders(client)
    return _build_plan(
        client,
        ids,
        pool,
        name,
        tag_map,
        members,
        inventory,
        namesakes,
        unchecked=unchecked,
        reasons=reason_map,
    )


class PoolPlanWarning(UserWarning):
    """A warning of a pool plan, shown by ``create_pool`` (which applies without a preview)."""


def create_pool(
    client: CommsClient,
    name: str,
    senders: pd.DataFrame | Iterable[str],
    tags: Mapping[str, str] | None = None,
    *,
    progress: bool = True,
) -> SenderPool:
    """Create a pool holding ``senders`` and return it: ``plan_pool(...).apply()``.

    The plan's warnings are issued as ``PoolPlanWarning`` (use ``plan_pool`` to read them
    before anything changes). Raises what ``plan_pool`` and ``PoolPlan.apply`` raise.
    """
    plan = plan_pool(client, senders, name=name, tags=tags)
    for warning in plan.warnings:
        _warnings.warn(warning, PoolPlanWarning, stacklevel=2)
    return plan.apply(progress=progress)


def _namesakes(
    client: CommsClient, name: str | None, pool: SenderPool | None
) -> tuple[tuple[str, ...], str | None]:
    """The ids of the pools, other than ``pool``, already named ``name`` (none: no new name),
    and a warning when the pools could not be listed (the plan is still made: applying a
    new pool lists the pools again before it creates one, so it fails there if this does)."""
    if name is None or (pool is not None and pool.name == name):
        return (), None
    try:
        pools = list(client.sender_pools.list())
    except CommsError as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        return (), (
            f"Could not check whether other pools are named {name!r}: listing the pools "
            f"failed ({type(err).__name__}: {first}); ct.load_pools(client) lists them."
        )
    same = (other.id for other in pools if other.name == name)
    return tuple(i for i in same if pool is None or i != pool.id), None


def _existing_pool(client: CommsClient, pool_id: str) -> SenderPool:
    try:
        return client.sender_pools.get(pool_id)
    except NotFoundError as err:
        raise NotFoundError(
            err.status,
            errors=tuple(err.errors),
            message=f"sender pool {pool_id} does not exist, so there is nothing to plan; "
            "ct.load_pools(client) lists the pools",
            method=err.method,
            url=err.url,
        ) from err


def _build_plan(
    client: CommsClient,
    ids: list[str],
    pool: SenderPool | None,
    name: str | None,
    tags: dict[str, str] | None,
    members: pd.DataFrame,
    inventory: pd.DataFrame,
    namesakes: tuple[str, ...] = (),
    *,
    unchecked: str | None = None,
    reasons: dict[str, str] | None = None,
) -> PoolPlan:
    wanted = list(dict.fromkeys(ids))
    # .tolist() first: iterating an Arrow text column yields one value at a time (4x slower).
    current = set(members["sender_id"].tolist())
    known = set(inventory["sender_id"].tolist()) | current
    unknown = [i for i in wanted if i not in known]
    keep = set(wanted) - set(unknown)
    add_ids = [i for i in wanted if i in keep and i not in current]
    staying = members["sender_id"].isin(keep).to_numpy(dtype=bool)
    to_add = _rows(inventory, add_ids)
    to_remove = members.loc[~staying].reset_index(drop=True)
    after = pd.concat([members.loc[staying, ["channel", "status"]], to_add[["channel", "status"]]])
    found = [
        unchecked,
        _same_name(name, namesakes, new=pool is None),
        _duplicates(ids),
        _unknown(unknown),
        _deactivated(after, to_add),
        *_composition(after, inventory),
        *_sizes(len(to_add), len(to_remove), new=pool is None),
    ]
    return PoolPlan(
        client,
        pool=pool,
        name=name if name is not None or pool is None else pool.name,
        tags=tags if tags is not None or pool is None else dict(pool.tags),
        to_add=to_add,
        to_remove=to_remove,
        kept_ids=frozenset(members.loc[staying, "sender_id"]),
        settings={k: v for k, v in (("name", name), ("tags", tags)) if v is not None},
        warnings=[warning for warning in found if warning],
        namesakes=namesakes,
        apply_with=apply_plan,
        reasons=_changed_reasons(reasons, to_add, to_remove),
    )


def _changed_reasons(
    reasons: dict[str, str] | None, to_add: pd.DataFrame, to_remove: pd.DataFrame
) -> dict[str, str] | None:
    """The reasons of the senders the plan adds or removes (None: no reason was given)."""
    if reasons is None:
        return None
    changed = set(to_add["sender_id"].tolist()) | set(to_remove["sender_id"].tolist())
    return {sender: reason for sender, reason in reasons.items() if sender in changed}


def _rows(inventory: pd.DataFrame, ids: list[str]) -> pd.DataFrame:
    """The inventory rows of ``ids``, in the order of ``ids`` (first row of each id)."""
    table = inventory.drop_duplicates("sender_id").set_index("sender_id", drop=False)
    return (
        table.loc[ids].reset_index(drop=True) if ids else inventory.iloc[0:0].reset_index(drop=True)
    )


def _composition(after: pd.DataFrame, inventory: pd.DataFrame) -> list[str | None]:
    if after.empty:
        return ["The pool would be empty: it could not send anything."]
    active = set(after.loc[after["status"] == "ACTIVATED", "channel"].astype(str))
    return [_no_fallback(active), _uncovered(active, inventory)]


def _same_name(name: str | None, namesakes: tuple[str, ...], *, new: bool) -> str | None:
    if not namesakes:
        return None
    several = len(namesakes) > 1
    there = (
        f"{len(namesakes)} pools named {name!r} already exist ({some_of(namesakes)})"
        if several
        else f"A pool named {name!r} already exists ({namesakes[0]})"
    )
    if new:
        return (
            f"{there}: applying creates one more pool of that name, and anything that picks "
            f"a pool by name may take the wrong one. To change "
            f"{'one of them' if several else 'that pool'} instead, plan with "
            f"plan_pool(..., pool_id={namesakes[0]!r}); or choose another name."
        )
    return (
        f"{there}: after the rename {len(namesakes) + 1} pools would share that name, and "
        "anything that picks a pool by name may take the wrong one; choose another name."
    )


def _duplicates(ids: list[str]) -> str | None:
    counts = pd.Series(ids, dtype="object").value_counts()
    repeated = list(counts[counts > 1].index)
    if not repeated:
        return None
    return (
        f"{len(repeated):,} sender id{'s appear' if len(repeated) > 1 else ' appears'} more "
        f"than once in the input; each is planned once: {some_of(repeated)}."
    )


def _unknown(unknown: list[str]) -> str | None:
    if not unknown:
        return None
    return (
        f"{len(unknown):,} sender id{'s are' if len(unknown) > 1 else ' is'} not among the "
        f"account's senders and left out of the plan: {some_of(unknown)}."
    )


def _deactivated(after: pd.DataFrame, to_add: pd.DataFrame) -> str | None:
    total = int((after["status"] == "DEACTIVATED").sum())
    if not total:
        return None
    added = int((to_add["status"] == "DEACTIVATED").sum())
    return (
        f"The pool would hold {total:,} DEACTIVATED sender{'s' if total > 1 else ''} "
        f"({added:,} added by this plan): they cannot send until reactivated."
    )


def _no_fallback(active: set[str]) -> str | None:
    if "RCS" in active and "SMS" not in active:
        return (
            "The pool would have RCS senders but no activated SMS sender: phones without "
            "RCS would get no SMS fallback."
        )
    return None


# The channels a pool sends messages on (``from.channels.filterIn`` of POST /Messages);
# e-mail and push identities may sit in a pool but a missing one is no gap in its reach.
POOL_SEND_CHANNELS = ("SMS", "RCS", "WHATSAPP")


def _uncovered(active: set[str], inventory: pd.DataFrame) -> str | None:
    used = inventory.loc[inventory["status"] == "ACTIVATED", "channel"].astype(str)
    missing = [c for c in pd.unique(used) if c in POOL_SEND_CHANNELS and c not in active]
    if not missing:
        return None
    those = "those channels" if len(missing) > 1 else "that channel"
    return (
        f"The pool would have no activated sender for {', '.join(sorted(missing))}, although "
        f"the account has activated senders on {those}."
    )


def _sizes(adds: int, removes: int, *, new: bool) -> list[str]:
    found = []
    if adds > MAX_SENDERS_PER_REQUEST:
        calls = -(-adds // MAX_SENDERS_PER_REQUEST)
        split = f"1 create + {plural(calls - 1, 'add')}" if new else plural(calls, "add")
        found.append(
            f"Adding {adds:,} senders takes {calls} requests of at most "
            f"{MAX_SENDERS_PER_REQUEST:,} senders ({split})."
        )
    if removes >= MANY_REMOVALS:
        found.append(
            f"Removing {removes:,} senders takes {removes:,} requests: the API removes one "
            "sender per request."
        )
    return found
