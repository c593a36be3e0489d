"""Analysis of an account's real traffic: load it (``load_traffic``), export it to Parquet
at any volume (``export_traffic`` / ``read_traffic`` / ``open_traffic``), judge it per
sender, pool, channel, country, day and hour (``traffic_health``) and say what stands out
(``traffic_findings``); with the API's events, the error code of every failed attempt
(``error_codes``), exact times in the health table (``traffic_health(..., events=)``) and
the senders whose attempts fail more than their pool's (``traffic_findings(..., events=)``)."""

from ..frames.schema import TRAFFIC_COLUMNS as TRAFFIC_COLUMNS
from ..frames.schema import TRAFFIC_DTYPES as TRAFFIC_DTYPES
from .dataset import TrafficDataset, open_traffic, read_traffic
from .event_counts import error_codes
from .event_sql import attempts_sql, health_events_sql
from .export import ExportResult, export_traffic
from .findings import Finding, Findings, findings_from_tallies, traffic_findings
from .health import health_from_counts, traffic_health
from .sql import health_sql
from .table import BY as BY
from .table import HEALTH_COLUMNS as HEALTH_COLUMNS
from .table import HEALTH_EVENT_COLUMNS as HEALTH_EVENT_COLUMNS
from .table import NO_COUNTRY as NO_COUNTRY
from .table import NO_POOL as NO_POOL
from .tallies import findings_sql
from .traffic import load_traffic
from .window import parse_window as parse_window

__all__ = [
    "ExportResult",
    "Finding",
    "Findings",
    "TrafficDataset",
    "attempts_sql",
    "error_codes",
    "export_traffic",
    "findings_from_tallies",
    "findings_sql",
    "health_events_sql",
    "health_from_counts",
    "health_sql",
    "load_traffic",
    "open_traffic",
    "read_traffic",
    "traffic_findings",
    "traffic_health",
]
