"""Notebook widgets (ipywidgets): thin views over the pools functions.

``PoolBuilder(client)`` picks senders with filters (``select_senders``), previews the pool
plan (``plan_pool``) and applies it (``PoolPlan.apply``). Importing this package imports
ipywidgets; ``import commstoolkit`` does not (``ct.PoolBuilder`` loads it on first use).
"""

from __future__ import annotations

from .pool_builder import PoolBuilder

__all__ = ["PoolBuilder"]
