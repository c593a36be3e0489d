"""Pools: pick senders, plan a pool change, apply it safely, check pool health.

::

    senders = ct.load_senders(client)
    chosen = ct.select_senders(senders, channels=["SMS", "RCS"], statuses="ACTIVATED")
    plan = ct.plan_pool(client, chosen, name="spring-promo")   # nothing changes yet
    plan                                                        # adds, removes, warnings
    pool = plan.apply()                                         # create, add, verify
    ct.pool_report(client)

Modules: ``selection`` (select_senders, pure pandas), ``plan`` (plan_pool, PoolPlan),
``steps`` (the write calls of a plan), ``apply`` (applying, create_pool, delete_pool,
PoolApplyError, PoolDeletedError), ``report`` (pool_report).
"""

from __future__ import annotations

from .apply import PoolApplyError, PoolDeletedError, PoolPlanWarning, create_pool, delete_pool
from .plan import PoolPlan, plan_pool
from .report import pool_report
from .selection import select_senders
from .steps import MAX_SENDERS_PER_REQUEST

__all__ = [
    "MAX_SENDERS_PER_REQUEST",
    "PoolApplyError",
    "PoolDeletedError",
    "PoolPlan",
    "PoolPlanWarning",
    "create_pool",
    "delete_pool",
    "plan_pool",
    "pool_report",
    "select_senders",
]
