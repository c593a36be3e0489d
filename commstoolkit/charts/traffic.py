"""Traffic charts: an account's real traffic (a traffic frame, ``analysis.load_traffic``)
or its health table (``analysis.traffic_health``) in, a plotly Figure out.

Every rate is ``commstoolkit.metrics``' (delivery rate: DELIVERED or READ over rated —
DELIVERED, READ, UNDELIVERED, FAILED; error rate: UNDELIVERED or FAILED over rated) with
its 95% Wilson interval; CANCELED messages and messages in flight are not rated, and each
chart's subtitle says how many it left out. A traffic frame loaded with ``compare=True``
also holds the previous window: the charts of a traffic frame draw its window only
(``attrs["window"]``) and say how many messages they left out. Times are UTC.
"""

from __future__ import annotations

from ..frames.schema import NO_COUNTRY as NO_COUNTRY
from ..frames.schema import NO_POOL as NO_POOL
from .drift import drift
from .traffic_daily import failure_heatmap, pool_daily
from .traffic_groups import country_delivery, sender_league

__all__ = ["country_delivery", "drift", "failure_heatmap", "pool_daily", "sender_league"]
