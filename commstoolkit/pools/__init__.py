"""Pools: pick senders, plan a pool change, apply it safely, check pool health.

::

    senders = ct.load_senders(client)
    chosen = ct.select_senders(senders, channels=["SMS", "RCS"], statuses="ACTIVATED")
    plan = ct.plan_pool(client, chosen, name="spring-promo")   # nothing changes yet
    plan                                                        # adds, removes, warnings
    pool = plan.apply()                                         # create, add, verify
    ct.pool_report(client)

Modules, top down (each imports only those below it; ``.importlinter`` keeps the order):
``plan`` (plan_pool, create_pool: reads the account, builds the plan and its warnings),
``apply`` (applying a plan, delete_pool, PoolApplyError, PoolDeletedError), ``pool_plan``
(PoolPlan: the plan as data and its views), ``steps`` (the write calls of a plan) and
``_checks`` (argument checks), ``_render`` (text and HTML); beside them ``selection``
(select_senders, pure pandas) and ``report`` (pool_report). Pools as code sit on top:
``pool_file_plan`` (plan_pool_file, export_pool_file, PoolFilePlan: a pool file against the
account, every change through plan_pool) over ``pool_file`` (load_pool_file, PoolSpec: the
YAML format and its checks) and ``_marked_yaml`` (YAML with line:column for errors).
"""

from __future__ import annotations

from .apply import PoolApplyError, PoolDeletedError, delete_pool
from .plan import PoolPlanWarning, create_pool, plan_pool
from .pool_file import PoolSpec, SenderSelector, load_pool_file
from .pool_file_plan import PoolFilePlan, export_pool_file, plan_pool_file
from .pool_plan import PoolPlan
from .report import pool_report
from .selection import select_senders
from .steps import MAX_SENDERS_PER_REQUEST

__all__ = [
    "MAX_SENDERS_PER_REQUEST",
    "PoolApplyError",
    "PoolDeletedError",
    "PoolFilePlan",
    "PoolPlan",
    "PoolPlanWarning",
    "PoolSpec",
    "SenderSelector",
    "create_pool",
    "delete_pool",
    "export_pool_file",
    "load_pool_file",
    "plan_pool",
    "plan_pool_file",
    "pool_report",
    "select_senders",
]
