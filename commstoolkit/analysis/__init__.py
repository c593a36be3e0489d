"""Analysis of an account's real traffic: health per sender, pool, channel, country, day
and hour (``traffic_health``) and the findings it supports (``traffic_findings``)."""

from .findings import Finding, Findings, traffic_findings
from .health import BY, HEALTH_COLUMNS, NO_COUNTRY, NO_POOL, traffic_health, traffic_window

__all__ = [
    "BY",
    "HEALTH_COLUMNS",
    "NO_COUNTRY",
    "NO_POOL",
    "Finding",
    "Findings",
    "traffic_findings",
    "traffic_health",
    "traffic_window",
]
