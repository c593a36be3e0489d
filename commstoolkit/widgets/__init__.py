"""Notebook widgets (ipywidgets): thin views over the pools and test-send functions.

``PoolBuilder(client)`` picks senders with filters (``select_senders``), previews the pool
plan (``plan_pool``) and applies it (``PoolPlan.apply``). ``TestSendPanel(client)`` dry-runs
or sends a test message through a pool (``test_send``) and shows the summary and the send
charts. ``DoctorPanel(diagnosis)`` shows a diagnosis's findings (``ct.diagnose``) with a
checkbox each, plans the ticked ones and applies the plan once it is on screen.
``LiveSendView(receiver)`` charts a test send as its events reach an ``EventReceiver``. Importing
this package imports ipywidgets; ``import commstoolkit`` does not (``ct.PoolBuilder`` loads
it on first use).
"""

from __future__ import annotations

from .doctor_panel import DoctorPanel
from .live_send import LiveSendView
from .pool_builder import PoolBuilder
from .test_send_panel import TestSendPanel

__all__ = ["DoctorPanel", "LiveSendView", "PoolBuilder", "TestSendPanel"]
