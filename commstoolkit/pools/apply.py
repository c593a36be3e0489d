"""Apply a ``PoolPlan`` step by step, wait for every operation, then verify the members.

Applying is re-entrant: once the pool exists, each ``apply()`` lists its current members
and makes only the calls still needed (adds missing, removals still present, PATCH if the
name or tags differ). A second apply makes no write; an apply after a failure finishes
the job. An operation whose stats report failed senders (or that ends CANCELED) stops the
apply with ``PoolApplyError``: a half-filled pool is never reported as done. A pool deleted
since the plan was made stops it with ``PoolDeletedError``: there re-running cannot help.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ..errors import (
    CommsError,
    InvalidInputError,
    NotFoundError,
    OperationError,
    TransportError,
)
from ..models import Accepted, Operation, SenderPool
from ..rules import pool_id_of
from ._render import some_of
from .pool_plan import PoolPlan
from .steps import Step, plan_steps

if TYPE_CHECKING:
    from ..client import CommsClient

__all__ = ["PoolApplyError", "PoolDeletedError", "apply_plan", "delete_pool"]


class PoolApplyError(CommsError):
    """Applying a pool plan stopped before the pool matched the plan.

    ``applied`` / ``pending``: the requests (as in ``PoolPlan.requests``) that were made
    and those that were not (the first pending one is the step that failed); ``pool_id``:
    the pool (None if it was never created); ``cause``: the underlying error (None when
    every step ran but the members differ from the plan: see ``missing`` / ``unexpected``).
    Calling ``plan.apply()`` again continues from the pool's current members.
    """

    def __init__(
        self,
        message: str,
        *,
        applied: list[str],
        pending: list[str],
        pool_id: str | None,
        cause: BaseException | None,
        missing: frozenset[str] = frozenset(),
        unexpected: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(message)
        self.applied = applied
        self.pending = pending
        self.pool_id = pool_id
        self.cause = cause
        self.missing = missing
        self.unexpected = unexpected


class PoolDeletedError(PoolApplyError):
    """The plan's pool no longer exists: it was deleted after the plan was made.

    Running ``plan.apply()`` again cannot help (there is no pool left to finish); plan
    again — ``plan_pool(client, senders, name=...)`` for a new pool, or ``pool_id=`` another
    pool. ``pool_id`` is the deleted pool's id; ``applied`` / ``pending`` and ``cause`` (the
    ``NotFoundError``) are as in ``PoolApplyError``.
    """


def apply_plan(plan: PoolPlan, *, progress: bool = True) -> SenderPool:
    """Make the plan's calls, wait for each operation, verify; return the pool.

    A new pool is created with its first 10,000 senders and its id resolved from the
    operation; the other senders are added in chunks of 10,000, removals are one DELETE
    each, a changed name or tags is one PATCH. ``progress`` shows a bar (tqdm) counting
    the senders added and removed.

    Raises ``PoolApplyError`` (``applied``, ``pending``, ``pool_id``, ``cause``) when a
    request fails, an operation reports failed senders or ends CANCELED, or the pool's
    members differ from the plan afterwards; ``PoolDeletedError`` (a ``PoolApplyError``)
    when the pool was deleted since the plan was made.
    """
    client = plan.client
    try:
        if plan.pool_id is None and plan._pools_before_create is not None:
            _take_over_lost_create(client, plan)
        steps = plan.steps() if plan.pool_id is None else _remaining_steps(plan)
    except CommsError as err:
        raise _failed(plan, [], plan.steps(), err) from err
    with _progress(progress, sum(step.senders for step in steps)) as advance:
        for index, step in enumerate(steps):
            try:
                _run(client, plan, step)
            except CommsError as err:
                raise _failed(plan, steps[:index], steps[index:], err) from err
            advance(step.senders)
    try:
        _verify(plan, steps)
        return client.sender_pools.get(_pool_id(plan))
    except PoolApplyError:
        raise
    except CommsError as err:
        raise _failed(plan, steps, [], err) from err


def delete_pool(
    client: CommsClient, pool_id: str | SenderPool, *, confirm: bool = False
) -> Accepted:
    """Delete a pool and its memberships (the senders stay); needs ``confirm=True``.

    Raises ``InvalidInputError`` without ``confirm=True`` (nothing is sent),
    ``NotFoundError`` when the pool does not exist.
    """
    pool = pool_id_of(pool_id)
    if confirm is not True:
        raise InvalidInputError(
            f"delete_pool deletes sender pool {pool} and its memberships for good; "
            f"call delete_pool(client, {pool!r}, confirm=True) to go ahead",
            field="confirm",
            allowed=(True,),
        )
    return client.sender_pools.delete(pool)


def _pool_id(plan: PoolPlan) -> str:
    """The id of the plan's pool, which exists once its create step (if any) has run."""
    if plan.pool_id is None:
        raise RuntimeError(f"the pool {plan.name!r} has not been created yet")
    return plan.pool_id


def _remaining_steps(plan: PoolPlan) -> list[Step]:
    """The calls still needed to bring the existing pool to the plan."""
    client = plan.client
    pool_id = _pool_id(plan)
    pool = client.sender_pools.get(pool_id)
    members = {sender.id for sender in client.sender_pools.members.list(pool_id)}
    update = {key: value for key, value in plan.settings.items() if getattr(pool, key) != value}
    return plan_steps(
        new=False,
        name=plan.name,
        tags=plan.tags,
        add_ids=[i for i in plan.to_add["sender_id"] if i not in members],
        remove_ids=[i for i in plan.to_remove["sender_id"] if i in members],
        update=update,
    )


def _run(client: CommsClient, plan: PoolPlan, step: Step) -> None:
    pools = client.sender_pools
    if step.kind == "create":
        plan._creating(frozenset(pool.id for pool in pools.list()))
        done = client.wait(pools.create(name=step.name, sender_ids=step.sender_ids, tags=step.tags))
        plan._created(pools.find_created(done).id)
        _check_operation(done, step)
    elif step.kind == "add":
        _check_operation(client.wait(pools.members.add(_pool_id(plan), step.sender_ids)), step)
    elif step.kind == "remove":
        pools.members.remove(_pool_id(plan), step.sender_ids[0])
    else:
        pools.update(_pool_id(plan), name=step.name, tags=step.tags)


def _take_over_lost_create(client: CommsClient, plan: PoolPlan) -> None:
    """After a create whose outcome is unknown, adopt the one pool of the plan's name that
    appeared since, so that re-running apply() never leaves a second pool behind."""
    before = plan._pools_before_create or frozenset()
    appeared = [
        pool
        for pool in client.sender_pools.list()
        if pool.id not in before and pool.name == plan.name
    ]
    if len(appeared) == 1:
        plan._created(appeared[0].id)


def _check_operation(operation: Operation, step: Step) -> None:
    failed = operation.stats.get("failed", 0)
    if failed or operation.status != "COMPLETED":
        raise OperationError(
            f"operation {operation.id} ended {operation.status} with {failed:,} of "
            f"{operation.total if operation.total is not None else step.senders:,} "
            "senders failed",
            operation=operation,
        )


def _verify(plan: PoolPlan, steps: list[Step]) -> None:
    members = {s.id for s in plan.client.sender_pools.members.list(_pool_id(plan))}
    target = plan.target_ids
    missing, unexpected = target - members, members - target
    if not missing and not unexpected:
        return
    problems = []
    if missing:
        problems.append(f"{len(missing):,} planned senders are missing ({some_of(missing)})")
    if unexpected:
        problems.append(f"{len(unexpected):,} members are not in the plan ({some_of(unexpected)})")
    raise PoolApplyError(
        f"{_pool_label(plan)}: every request was made but the members differ from the plan: "
        f"{'; '.join(problems)}. Re-plan with plan_pool(..., pool_id={plan.pool_id!r}) to "
        "see the difference.",
        applied=[step.describe(plan.pool_id) for step in steps],
        pending=[],
        pool_id=plan.pool_id,
        cause=None,
        missing=frozenset(missing),
        unexpected=frozenset(unexpected),
    )


def _failed(
    plan: PoolPlan, done: list[Step], pending: list[Step], err: CommsError
) -> PoolApplyError:
    """The error to raise for ``err``: ``PoolDeletedError`` when the pool is gone.

    A 404 may also mean a sender that is no longer a member: only a 404 for the pool
    itself, asked once more, counts as the pool being deleted.
    """
    if isinstance(err, NotFoundError) and plan.pool_id is not None and _gone(plan):
        return _deleted(plan, done, pending, err)
    return _stopped(plan, done, pending, err)


def _gone(plan: PoolPlan) -> bool:
    try:
        plan.client.sender_pools.get(_pool_id(plan))
    except NotFoundError:
        return True
    except CommsError:
        return False  # cannot tell: the ordinary message (re-run to finish) stands
    return False


def _deleted(
    plan: PoolPlan, done: list[Step], pending: list[Step], err: NotFoundError
) -> PoolDeletedError:
    applied = [step.describe(plan.pool_id) for step in done]
    not_applied = [step.describe(plan.pool_id) for step in pending]
    replan = (
        f"plan_pool(client, senders, name={plan.name!r}) to create the pool anew"
        if plan.name is not None
        else "plan_pool(client, senders, name=...) to create a new pool"
    )
    lines = [
        f"{_pool_label(plan)} no longer exists: it was deleted after this plan was made "
        "(the API answers 404 Not Found for it), so the plan cannot be applied.",
        f"Applied before that ({len(applied)}): "
        f"{some_of(applied, sep='; ') if applied else 'nothing'}; "
        f"not applied ({len(not_applied)}).",
        "Running plan.apply() again will not help. Plan again instead: "
        f"{replan}, or plan_pool(client, senders, pool_id=...) for another pool "
        "(ct.load_pools(client) lists them).",
    ]
    return PoolDeletedError(
        "\n".join(lines), applied=applied, pending=not_applied, pool_id=plan.pool_id, cause=err
    )


def _stopped(
    plan: PoolPlan, done: list[Step], pending: list[Step], err: Exception
) -> PoolApplyError:
    applied = [step.describe(plan.pool_id) for step in done]
    not_applied = [step.describe(plan.pool_id) for step in pending]
    lines = [
        f"{_pool_label(plan)}: applying the plan stopped at "
        f"{not_applied[0] if not_applied else 'the final check of the members'}: {err}",
        f"Applied ({len(applied)}): {some_of(applied, sep='; ') if applied else 'nothing'}.",
        f"Not applied ({len(not_applied)}): {some_of(not_applied, sep='; ')}.",
    ]
    if isinstance(err, TransportError) and err.request_sent is not False:
        lines.append(
            "The failed request may still have reached the API"
            + (
                ": a pool may have been created. Run plan.apply() again: it looks for that "
                "pool and finishes it instead of creating another."
                if plan.pool_id is None
                else "."
            )
        )
    if plan.pool_id is not None:
        lines.append("Run plan.apply() again to finish: it continues from the current members.")
    return PoolApplyError(
        "\n".join(lines), applied=applied, pending=not_applied, pool_id=plan.pool_id, cause=err
    )


def _pool_label(plan: PoolPlan) -> str:
    name = repr(plan.name) if plan.name is not None else "(unnamed)"
    return f"Pool {name} ({plan.pool_id or 'not created'})"


@contextmanager
def _progress(show: bool, total: int) -> Iterator[Any]:
    """Yield ``advance(n)``; with ``show``, a tqdm bar counts the senders handled."""
    if not show or not total:
        yield lambda n: None
        return
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc="Applying plan", unit=" senders")
    try:
        yield bar.update
    finally:
        bar.close()
