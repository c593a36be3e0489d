"""Charts: a commstoolkit DataFrame in, a plotly Figure out.

Every chart takes the frame first (as ``commstoolkit.frames`` builds it), a few keyword
options, and returns a ``plotly.graph_objects.Figure`` with the project template
(``"commstoolkit"``: one fixed colour per channel and per status, whatever the data).
It checks that the frame has the columns it needs (``InvalidInputError`` names the missing
ones and the frame expected) and answers an empty frame with an empty figure titled
"<title>: no data". Imported on first use (``ct.charts``), so ``import commstoolkit``
does not load plotly.

Inventory: ``inventory(senders)``, ``pool_composition(members)``, ``pool_overlap(members)``.
Test sends: ``send_outcomes(messages)``, ``sender_delivery(messages)``,
``fallback(messages)``, ``delivery_latency(messages)``, ``send_timeline(messages_or_attempts)``.
A send as it happens (an events frame, ``ct.EventReceiver.frame()``): ``live_send(events)``
(a ``FigureWidget``), ``update_live_send(figure, events)``, ``send_progress(events)``.
Traffic (``analysis``): ``pool_daily(traffic)``, ``sender_league(health)``,
``drift(traffic, senders)``, ``failure_heatmap(traffic)``, ``country_delivery(health_or_traffic)``.
Events: ``error_codes(table)`` (``metrics.error_codes`` / ``analysis.error_codes``).
"""

from __future__ import annotations

from ._base import CHANNEL_COLORS, COLORS, MESSAGE_STATUS_COLORS, TEMPLATE, TEMPLATE_NAME
from .errors import error_codes
from .inventory import inventory, pool_composition, pool_overlap
from .live_send import live_send, send_progress, update_live_send
from .sends import delivery_latency, fallback, send_outcomes, sender_delivery
from .timeline import send_timeline
from .traffic import country_delivery, drift, failure_heatmap, pool_daily, sender_league

__all__ = [
    "CHANNEL_COLORS",
    "COLORS",
    "MESSAGE_STATUS_COLORS",
    "TEMPLATE",
    "TEMPLATE_NAME",
    "country_delivery",
    "delivery_latency",
    "drift",
    "error_codes",
    "failure_heatmap",
    "fallback",
    "inventory",
    "live_send",
    "pool_composition",
    "pool_daily",
    "pool_overlap",
    "send_outcomes",
    "send_progress",
    "send_timeline",
    "sender_delivery",
    "sender_league",
    "update_live_send",
]
