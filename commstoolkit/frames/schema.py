"""The frames' schema: every column name and dtype, defined once, and the labels and tag
key the frames share. Charts depend on this module alone (``.importlinter``); the builders
(``build``) and loaders (``load``) make frames of exactly these columns."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..models import (
    MESSAGE_ADDRESS_CHANNELS,
    MESSAGE_CHANNELS,
    MESSAGE_STATUSES,
    SENDER_CHANNELS,
    SENDER_STATUSES,
)

__all__ = [
    "ATTEMPT_COLUMNS",
    "ATTEMPT_DTYPES",
    "CHANNEL",
    "HEALTH_COLUMNS",
    "HEALTH_EVENT_COLUMNS",
    "MEMBER_COLUMNS",
    "MEMBER_DTYPES",
    "MESSAGE_CHANNEL",
    "MESSAGE_COLUMNS",
    "MESSAGE_DTYPES",
    "MESSAGE_STATUS",
    "NO_COUNTRY",
    "NO_POOL",
    "NO_SENDER",
    "POOL_COLUMNS",
    "POOL_DTYPES",
    "RUN_TAG",
    "SENDER_COLUMNS",
    "SENDER_DTYPES",
    "STATUS",
    "STRING",
    "TAG_PREFIX",
    "TRAFFIC_COLUMNS",
    "TRAFFIC_DTYPES",
    "UTC_TIMESTAMP",
]

STRING = pd.StringDtype()
UTC_TIMESTAMP = pd.DatetimeTZDtype("ns", "UTC")
CHANNEL = pd.CategoricalDtype(SENDER_CHANNELS)
STATUS = pd.CategoricalDtype(SENDER_STATUSES)
TAG_PREFIX = "tags."

SENDER_DTYPES: dict[str, Any] = {
    "sender_id": STRING,
    "display_name": STRING,
    "address": STRING,
    "channel": CHANNEL,
    "status": STATUS,
    "created_at": UTC_TIMESTAMP,
    "updated_at": UTC_TIMESTAMP,
}
POOL_DTYPES: dict[str, Any] = {
    "pool_id": STRING,
    "name": STRING,
    "created_at": UTC_TIMESTAMP,
    "updated_at": UTC_TIMESTAMP,
    "size": "int64",
    "n_activated": "int64",
    "n_deactivated": "int64",
    "channels": STRING,
}
MEMBER_DTYPES: dict[str, Any] = {
    "pool_id": STRING,
    "pool_name": STRING,
    "sender_id": STRING,
    "address": STRING,
    "channel": CHANNEL,
    "status": STATUS,
}
MESSAGE_STATUS = pd.CategoricalDtype(MESSAGE_STATUSES)
MESSAGE_CHANNEL = pd.CategoricalDtype(MESSAGE_CHANNELS)
MESSAGE_DTYPES: dict[str, Any] = {
    "message_id": STRING,
    "operation_id": STRING,
    "to": STRING,
    "to_channel": pd.CategoricalDtype(MESSAGE_ADDRESS_CHANNELS),
    "status": MESSAGE_STATUS,
    "sender_id": STRING,
    "sender_address": STRING,
    "channel": MESSAGE_CHANNEL,
    "fallback": "boolean",
    "n_attempts": "Int64",
    "error_code": "Int64",
    "created_at": UTC_TIMESTAMP,
    "updated_at": UTC_TIMESTAMP,
    "latency_s": "float64",
    "seen_delivered_s": "float64",
}
ATTEMPT_DTYPES: dict[str, Any] = {
    "message_id": STRING,
    "attempt": "int64",
    "sender_id": STRING,
    "sender_address": STRING,
    "channel": MESSAGE_CHANNEL,
    "to": STRING,
    "status": MESSAGE_STATUS,
    "attempted_at": UTC_TIMESTAMP,
    "error_code": "Int64",
    "error_message": STRING,
}
SENDER_COLUMNS = tuple(SENDER_DTYPES)
POOL_COLUMNS = tuple(POOL_DTYPES)
MEMBER_COLUMNS = tuple(MEMBER_DTYPES)
MESSAGE_COLUMNS = tuple(MESSAGE_DTYPES)
ATTEMPT_COLUMNS = tuple(ATTEMPT_DTYPES)
# An account's real traffic (``analysis.load_traffic``, ``read_traffic``): the messages
# frame's columns plus the pool each message went through and the recipient's country.
TRAFFIC_DTYPES: dict[str, Any] = {
    **MESSAGE_DTYPES,
    "pool_id": STRING,
    "pool_name": STRING,
    "to_country": STRING,
}
TRAFFIC_COLUMNS = tuple(TRAFFIC_DTYPES)
# The measures of a health table (``analysis.traffic_health``), after its key and labels:
# named here for the charts, which read health tables but never import the analysis.
HEALTH_COLUMNS = (
    "messages", "rated", "delivered", "delivery_rate", "delivery_low", "delivery_high",
    "errors", "error_rate", "error_low", "error_high",
    "read_eligible", "read", "read_rate", "read_low", "read_high",
    "ttd_n", "ttd_p50_s", "ttd_p90_s",
    "prev_rated", "prev_delivered", "prev_delivery_rate",
    "change_pts", "change_p", "change_significant",
)  # fmt: skip
# The columns ``traffic_health(..., events=...)`` adds after ``HEALTH_COLUMNS``: what only the
# API's events give, at full volume (exact times, the error code of every failed attempt).
HEALTH_EVENT_COLUMNS = (
    "ev_messages", "ev_ttd_n", "ev_ttd_p50_s", "ev_ttd_p90_s", "ev_ttr_n", "ev_ttr_p50_s",
    "ev_ttr_p90_s", "ev_attempts", "ev_failed_attempts", "ev_top_error_code",
    "ev_top_error_count", "ev_top_error_share", "ev_top_error_low", "ev_top_error_high",
)  # fmt: skip

# The columns of an events frame (``ct.EventReceiver.frame()``, ``ct.load_events``; built by
# ``events.records``, a sibling of the frames): named here for the charts, which read events
# frames but never import the events. One row per CloudEvent; ``status`` the message or
# operation status it reports, ``sender_channel`` the channel of its attempt.
EVENT_COLUMNS = (
    "id", "type", "status", "time", "message_id", "operation_id", "attempt", "error_code",
    "sender", "sender_channel", "recipient", "recipient_channel", "tags",
)  # fmt: skip

# The label of a message no sender took (unaddressable, or not yet sent), wherever the
# messages are shown: summary tables, charts and sentences. In the frames its ``channel``
# and ``sender_*`` are NA: the label is for people, NA is for code.
NO_SENDER = "no sender"

# The labels of traffic sent outside a pool (from one sender or address directly) and of a
# recipient whose number names no country (or no number: WhatsApp ids), in health tables,
# charts and findings; in the frames the values are NA.
NO_POOL = "no pool"
NO_COUNTRY = "unknown"

# The tag key a test send puts on its messages: ``ct_run:<run id>``.
RUN_TAG = "ct_run"
