"""A pool file against the account: one ``PoolPlan`` per pool, the pools it does not name,
applying it all (``--prune``: deleting those), and exporting the account as a pool file.

Every change goes through ``plan_pool`` / ``PoolPlan.apply()``, the one safe path; this
module only decides, per entry of the file, which pool it manages and which senders it
holds. The file is read and checked first (``load_pool_file``: no request), then the
account is read once — its senders and its pools — and every entry is checked against it
(ids that are not senders of the account, selectors matching nothing, a name several pools
share) before any plan is made, so a bad file never gets as far as a write.
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, overload

import pandas as pd

from ..frames import load_pool_members, load_senders
from ..models import SenderPool
from ._render import plural, some_of
from .apply import delete_pool
from .plan import plan_pool
from .pool_file import PoolSpec, load_pool_file, pool_file_text
from .pool_plan import PoolPlan

if TYPE_CHECKING:
    from ..client import CommsClient

__all__ = ["PoolFilePlan", "export_pool_file", "plan_pool_file"]


def plan_pool_file(
    client: CommsClient, path: str | Path, inventory: pd.DataFrame | None = None
) -> PoolFilePlan:
    """Plan the pools of the file at ``path``: a ``PoolFilePlan``, one ``PoolPlan`` per pool.

    Each entry manages the pool of its ``id``, else the one pool of its name (none: a new
    pool). Its members are ``include`` plus what its selectors match in ``inventory`` (the
    account's ``load_senders`` frame, loaded once when not given), minus ``exclude``;
    ``tags``, when given, replace the pool's tags. Planning only reads.

    Raises ``InvalidInputError`` with the file, line and column (see ``load_pool_file``)
    for a bad file — checked before any request — and, once the account is read, for an
    id that is not a sender of the account, a selector matching no sender, a pool ``id``
    the account does not have, or a name several pools of the account share.
    """
    specs = load_pool_file(path)
    if inventory is None:
        inventory = load_senders(client)
    pools = list(client.sender_pools.list())
    targets = _targets(specs, pools)
    members = [spec.sender_ids(inventory) for spec in specs]  # every check before a plan
    plans = [
        plan_pool(
            client,
            ids,
            name=spec.name,
            pool_id=pool.id if pool else None,
            tags=spec.tags,
            inventory=inventory,
        )
        for spec, pool, ids in zip(specs, targets, members, strict=True)
    ]
    claimed = {pool.id for pool in targets if pool is not None}
    unlisted = sorted(
        (pool for pool in pools if pool.id not in claimed), key=lambda p: (p.name or "", p.id)
    )
    return PoolFilePlan(client, specs, plans, {pool.id: pool for pool in pools}, unlisted)


def export_pool_file(client: CommsClient, path: str | Path | None = None) -> str:
    """The account's pools as a pool file (explicit sender ids, sorted): its text, also
    written to ``path`` when given. Planning the file right away finds nothing to change."""
    pools = list(client.sender_pools.list())
    frame = load_pool_members(client, [pool.id for pool in pools]) if pools else None
    members: dict[str, list[str]] = {pool.id: [] for pool in pools}
    if frame is not None:
        for pool_id, sender_id in zip(
            frame["pool_id"].tolist(), frame["sender_id"].tolist(), strict=True
        ):
            members[pool_id].append(sender_id)
    text = pool_file_text(pools, members)
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text


class PoolFilePlan(Sequence[PoolPlan]):
    """What applying a pool file would do: a sequence of ``PoolPlan`` (one per pool of the
    file, in file order), plus the account's pools the file does not name (``unlisted``).

    ``changes(prune=False)``: how many pools would change (with ``prune``, the unlisted
    ones count: they would be deleted); ``str()`` / ``text(prune=...)``: per pool what would
    change — create / add / remove / rename / retag, with counts and the first ids — and
    the warnings of the plans that change something; ``apply(prune=False)`` applies them.
    """

    def __init__(
        self,
        client: CommsClient,
        specs: Sequence[PoolSpec],
        plans: Sequence[PoolPlan],
        pools: dict[str, SenderPool],
        unlisted: Sequence[SenderPool],
    ) -> None:
        self._client = client
        self._specs = tuple(specs)
        self._plans = tuple(plans)
        self._pools = pools
        self._unlisted = tuple(unlisted)

    @overload
    def __getitem__(self, index: int) -> PoolPlan: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[PoolPlan]: ...
    def __getitem__(self, index: int | slice) -> PoolPlan | Sequence[PoolPlan]:
        return self._plans[index]

    def __len__(self) -> int:
        return len(self._plans)

    def __iter__(self) -> Iterator[PoolPlan]:
        return iter(self._plans)

    @property
    def specs(self) -> tuple[PoolSpec, ...]:
        """The file's entries, in the order of the plans."""
        return self._specs

    @property
    def unlisted(self) -> tuple[SenderPool, ...]:
        """The account's pools no entry of the file manages (``--prune`` deletes them)."""
        return self._unlisted

    def changed(self) -> list[PoolPlan]:
        """The plans that make at least one write."""
        return [plan for plan in self._plans if plan.steps()]

    def changes(self, *, prune: bool = False) -> int:
        """How many pools applying would create, change or (with ``prune``) delete."""
        return len(self.changed()) + (len(self._unlisted) if prune else 0)

    def text(self, *, prune: bool = False) -> str:
        """Per pool, what would change; then the pools the file does not name; a summary."""
        lines = [line for plan in self._plans for line in self._describe(plan)]
        for pool in self._unlisted:
            label = f"{pool.name!r} ({pool.id})" if pool.name is not None else pool.id
            if prune:
                lines.append(f"delete {label}: not in the file")
            else:
                lines.append(f"not in the file {label}: kept (--prune deletes it)")
        lines.append(self._summary(prune))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        return f"<pre class='commstoolkit-pool-file-plan'>{html.escape(self.text())}</pre>"

    def __repr__(self) -> str:
        return (
            f"<PoolFilePlan {len(self._plans)} pools, {len(self.changed())} to change, "
            f"{len(self._unlisted)} not in the file>"
        )

    def apply(self, *, prune: bool = False, progress: bool = True) -> list[SenderPool]:
        """Apply every plan that changes something (``PoolPlan.apply()``: wait, verify), in
        file order; with ``prune``, then delete the pools the file does not name. Returns the
        pools applied. Raises what ``PoolPlan.apply`` raises (``PoolApplyError`` says what
        was and was not done; applying the file again finishes the job)."""
        applied = [plan.apply(progress=progress) for plan in self.changed()]
        if prune:
            for pool in self._unlisted:
                delete_pool(self._client, pool.id, confirm=True)
        return applied

    def _describe(self, plan: PoolPlan) -> list[str]:
        """The plan of one pool: a head line, then the first ids added / removed, warnings."""
        details = [
            f"    {verb} {plural(len(frame), 'sender')}: {some_of(frame['sender_id'].tolist())}"
            for verb, frame in (("+ add", plan.to_add), ("- remove", plan.to_remove))
            if len(frame)
        ]
        details += [f"    ! {warning}" for warning in plan.warnings]
        if plan.is_new:
            tags = f", tags {_tags(plan.tags)}" if plan.tags else ""
            return [f"create {plan.name!r} with {plural(plan.size, 'sender')}{tags}", *details]
        label = f"{plan.name!r} ({plan.pool_id})" if plan.name is not None else plan.pool_id
        if not plan.steps():
            return [f"unchanged {label}: {plural(plan.size, 'sender')}"]
        before = self._pools.get(plan.pool_id or "")
        parts = [f"add {len(plan.to_add):,}", f"remove {len(plan.to_remove):,}"]
        update = plan.update
        if "name" in update:
            parts.append(f"rename {before.name if before else None!r} -> {update['name']!r}")
        if "tags" in update:
            parts.append(f"retag {_tags(before.tags if before else {})} -> {_tags(update['tags'])}")
        head = f"update {label}: {', '.join(parts)}; {plural(plan.size, 'sender')} after"
        return [head, *details]

    def _summary(self, prune: bool) -> str:
        new = sum(1 for plan in self._plans if plan.is_new)
        changed = len(self.changed()) - new
        unchanged = len(self._plans) - new - changed
        parts = [f"{new} to create", f"{changed} to change", f"{unchanged} unchanged"]
        if prune:
            parts.append(f"{len(self._unlisted)} to delete")
        elif self._unlisted:
            parts.append(f"{len(self._unlisted)} not in the file (kept)")
        verdict = "no change" if not self.changes(prune=prune) else "changes pending"
        return f"Plan: {', '.join(parts)}: {verdict}."


def _targets(specs: Sequence[PoolSpec], pools: Sequence[SenderPool]) -> list[SenderPool | None]:
    """The existing pool each entry manages (None: a pool to create): by ``id`` first, then
    by name among the pools no id claimed."""
    by_id = {pool.id: pool for pool in pools}
    targets: list[SenderPool | None] = [None] * len(specs)
    for index, spec in enumerate(specs):
        if spec.id is not None:
            if spec.id not in by_id:
                raise spec.error(
                    "id",
                    f"the account has no pool {spec.id}; remove `id:` to create the pool, "
                    "or `commstoolkit pools list` for the ids",
                )
            targets[index] = by_id[spec.id]
    claimed = {spec.id for spec in specs if spec.id is not None}
    for index, spec in enumerate(specs):
        if spec.id is not None:
            continue
        same = [pool for pool in pools if pool.name == spec.name and pool.id not in claimed]
        if len(same) > 1:
            raise spec.error(
                "name",
                f"{len(same)} pools of the account are named {spec.name!r} "
                f"({some_of(pool.id for pool in same)}); add `id:` to say which one this "
                "entry manages",
            )
        targets[index] = same[0] if same else None
    return targets


def _tags(tags: dict[str, str]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in sorted(tags.items())) + "}"
