"""``PoolPlan``: what applying a pool change would do — the plan as data, and how it reads.

``plan.plan_pool`` builds one (reading the account); ``apply.apply_plan`` applies it. This
module imports neither: a plan is handed what applies it (``apply_with``), so the modules
stand in one order, plan > apply > pool_plan, without a cycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd

from ..models import SenderPool
from ._render import plan_html, plan_text
from .steps import Step, plan_steps

if TYPE_CHECKING:
    from ..client import CommsClient

__all__ = ["Applier", "PoolPlan"]


class Applier(Protocol):
    """What applies a plan: ``apply_with(plan, progress=...)`` returns the pool."""

    def __call__(self, plan: PoolPlan, *, progress: bool) -> SenderPool: ...


class PoolPlan:
    """What applying a pool change would do; read-only, built by ``plan_pool``.

    - ``name``, ``tags``: the pool's name and tags once applied;
    - ``pool_id``: the pool changed (None for a new pool until ``apply()`` creates it);
    - ``to_add``, ``to_remove``: senders frames (columns as ``load_senders``) of the
      senders to add (input order) and to remove (the pool's listing order);
    - ``unchanged``: how many current members stay; ``size``: members once applied;
    - ``warnings``: plain sentences about anything worth a second look;
    - ``namesakes``: the ids of the other pools already named ``name`` (a new pool, or a
      rename, would share its name with them; empty too when the pools could not be
      listed, which a warning then says);
    - ``reasons``: why each sender is added or removed (sender id -> sentence; empty when
      the plan was made without reasons), shown beside it in the text and HTML;
    - ``requests``: the write calls ``apply()`` makes, in order, as readable lines
      (reads such as polling operations and listing members are not listed);
    - ``apply(progress=True)``: make the change, wait, verify; returns the ``SenderPool``.

    ``apply_with`` is what applies it (``apply.apply_plan``, given by ``plan_pool``): the
    plan is the data, applying it is the job of the module above.
    """

    def __init__(
        self,
        client: CommsClient,
        *,
        pool: SenderPool | None,
        name: str | None,
        tags: dict[str, str] | None,
        to_add: pd.DataFrame,
        to_remove: pd.DataFrame,
        kept_ids: frozenset[str],
        settings: dict[str, Any],
        warnings: list[str],
        namesakes: tuple[str, ...] = (),
        apply_with: Applier,
        reasons: Mapping[str, str] | None = None,
    ) -> None:
        self._client = client
        self._apply_with = apply_with
        self._is_new = pool is None
        self._pool_id = pool.id if pool else None
        self._pools_before_create: frozenset[str] | None = None
        self._name = name
        self._tags = tags
        self._to_add = to_add
        self._to_remove = to_remove
        self._kept_ids = kept_ids
        self._settings = settings
        self._update = {k: v for k, v in settings.items() if pool and getattr(pool, k) != v}
        self._warnings = tuple(warnings)
        self._namesakes = tuple(namesakes)
        self._reasons = dict(reasons or {})

    @property
    def client(self) -> CommsClient:
        """The client the plan reads from and applies with."""
        return self._client

    @property
    def name(self) -> str | None:
        """The pool's name once applied."""
        return self._name

    @property
    def pool_id(self) -> str | None:
        """The pool's id; None for a new pool that ``apply()`` has not created yet."""
        return self._pool_id

    @property
    def is_new(self) -> bool:
        """True when the plan creates the pool (still True after ``apply()`` created it)."""
        return self._is_new

    @property
    def to_add(self) -> pd.DataFrame:
        """Senders to add (senders frame columns), in input order."""
        return self._to_add

    @property
    def to_remove(self) -> pd.DataFrame:
        """Members to remove (senders frame columns), in the pool's listing order."""
        return self._to_remove

    @property
    def unchanged(self) -> int:
        """How many current members stay in the pool."""
        return len(self._kept_ids)

    @property
    def tags(self) -> dict[str, str] | None:
        """The pool's tags once applied (None: a new pool without tags)."""
        return None if self._tags is None else dict(self._tags)

    @property
    def size(self) -> int:
        """The pool's number of members once applied."""
        return len(self._kept_ids) + len(self._to_add)

    @property
    def warnings(self) -> list[str]:
        """Plain sentences about anything worth a second look before applying."""
        return list(self._warnings)

    @property
    def reasons(self) -> dict[str, str]:
        """Why each sender is added or removed: sender id -> a sentence (empty: none given)."""
        return dict(self._reasons)

    @property
    def namesakes(self) -> tuple[str, ...]:
        """Ids of the other pools already named as this plan names its pool (empty: none).

        For a new pool, applying would make one more pool of that name; for a rename, the
        renamed pool would share its name. ``warnings`` says so in a sentence.
        """
        return self._namesakes

    @property
    def update(self) -> dict[str, Any]:
        """What an existing pool gets by PATCH: ``name`` and/or ``tags`` (empty: nothing)."""
        return dict(self._update)

    @property
    def settings(self) -> dict[str, Any]:
        """The ``name`` / ``tags`` the plan sets (``apply()`` makes sure the pool has them)."""
        return dict(self._settings)

    @property
    def target_ids(self) -> frozenset[str]:
        """The sender ids the pool holds once the plan is applied."""
        return self._kept_ids | frozenset(self._to_add["sender_id"])

    @property
    def requests(self) -> list[str]:
        """The write calls ``apply()`` makes, in order, as readable lines."""
        return [step.describe(self._pool_id) for step in self.steps()]

    def steps(self) -> list[Step]:
        """The write steps of the plan: create, adds, removes, update."""
        return plan_steps(
            new=self._is_new,
            name=self._name,
            tags=self._tags,
            add_ids=list(self._to_add["sender_id"]),
            remove_ids=list(self._to_remove["sender_id"]),
            update=self._update,
        )

    def apply(self, *, progress: bool = True) -> SenderPool:
        """Apply the plan, wait for every operation, check the members; return the pool.

        Safe to call again: each call starts from the pool's current members, so a
        second call makes no change and a call after a failure finishes the job.
        Raises ``PoolApplyError`` (what was and was not applied) when a step fails,
        an operation reports failed senders, or the members differ from the plan.
        """
        return self._apply_with(self, progress=progress)

    def _created(self, pool_id: str) -> None:
        # apply() created the pool: later applies edit that pool instead of creating another.
        self._pool_id = pool_id

    def _creating(self, existing_pool_ids: frozenset[str]) -> None:
        # The pools there were before apply() sent its create: if the answer is lost, the
        # next apply() finds the pool it made among the pools that appeared since.
        self._pools_before_create = existing_pool_ids

    def title(self) -> str:
        """``create pool 'x'`` or ``update pool 'x' (comms_senderpool_…)``."""
        label = repr(self._name) if self._name is not None else "(unnamed)"
        if self._pool_id is None:
            return f"create pool {label}"
        return f"{'created' if self._is_new else 'update'} pool {label} ({self._pool_id})"

    def __repr__(self) -> str:
        return (
            f"<PoolPlan {self.title()}: +{len(self._to_add):,} -{len(self._to_remove):,} "
            f"={self.unchanged:,}, {len(self.steps())} requests, {len(self._warnings)} warnings>"
        )

    def __str__(self) -> str:
        return plan_text(self)

    def _repr_html_(self) -> str:
        return plan_html(self)
