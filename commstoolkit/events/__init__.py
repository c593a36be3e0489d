"""Events of the Communications API, received or read back: ``EventReceiver`` (a small real
HTTP receiver for a webhook sink) and ``load_events`` (files a sink's data ends in), both as
one frame with a row per event (``records.COLUMNS``)."""

from __future__ import annotations

from .receiver import EventReceiver
from .records import load_events

__all__ = ["EventReceiver", "load_events"]
