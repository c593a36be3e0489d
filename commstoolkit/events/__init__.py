"""Events of the Communications API, received or read back: ``EventReceiver`` (a small real
HTTP receiver for a webhook sink) and ``load_events`` (files a sink's data ends in), both as
one frame with a row per event (``records.COLUMNS``); ``subscribe`` / ``unsubscribe`` (as
``ct.events.subscribe``) make and remove the webhook sink and subscription that feed a
receiver, through the client's Event Streams."""

from __future__ import annotations

from .receiver import EventReceiver
from .records import load_events
from .subscribe import COMMS_TYPES as COMMS_TYPES
from .subscribe import DEFAULT_TYPES as DEFAULT_TYPES
from .subscribe import SinkTestError, SubscriptionChange
from .subscribe import subscribe as subscribe
from .subscribe import unsubscribe as unsubscribe

__all__ = ["EventReceiver", "SinkTestError", "SubscriptionChange", "load_events"]
