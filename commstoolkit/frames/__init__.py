"""API objects -> pandas DataFrames. Column names and dtypes are defined here, once.

Every loader returns a tidy frame with the same columns and dtypes whether it holds
one row or none: ``channel`` and ``status`` are categoricals holding every value of
their enum (empty categories still show in counts), timestamps are tz-aware UTC, and
text columns use pandas' string dtype. Tags become one ``tags.<key>`` column per key.
Messages: one row per message (``messages_frame``) and one per attempt
(``attempts_frame``); a test send's messages carry the tag ``ct_run:<run id>``.

Modules, one job each: ``schema`` (column names, dtypes, shared labels: what charts read),
``sender_columns`` (the column-wise reader of sender pages), ``build`` (pure builders:
objects -> frames), ``listing`` (a listing split into queries fetched side by side),
``cache`` (the opt-in on-disk cache of inventory frames, ``clear_cache``) and ``load`` (the
loaders: client calls and progress bars). Every name
is importable from ``commstoolkit.frames`` as before.
"""

from __future__ import annotations

from .build import attempts_frame as attempts_frame
from .build import messages_frame as messages_frame
from .build import pools_frame as pools_frame
from .build import senders_frame as senders_frame
from .cache import clear_cache as clear_cache
from .load import DETAILS_LIMIT as DETAILS_LIMIT
from .load import fetch_messages as fetch_messages
from .load import load_messages as load_messages
from .load import load_pool_members as load_pool_members
from .load import load_pools as load_pools
from .load import load_senders as load_senders
from .schema import ATTEMPT_COLUMNS as ATTEMPT_COLUMNS
from .schema import ATTEMPT_DTYPES as ATTEMPT_DTYPES
from .schema import CHANNEL as CHANNEL
from .schema import MEMBER_COLUMNS as MEMBER_COLUMNS
from .schema import MEMBER_DTYPES as MEMBER_DTYPES
from .schema import MESSAGE_CHANNEL as MESSAGE_CHANNEL
from .schema import MESSAGE_COLUMNS as MESSAGE_COLUMNS
from .schema import MESSAGE_DTYPES as MESSAGE_DTYPES
from .schema import MESSAGE_STATUS as MESSAGE_STATUS
from .schema import NO_SENDER as NO_SENDER
from .schema import POOL_COLUMNS as POOL_COLUMNS
from .schema import POOL_DTYPES as POOL_DTYPES
from .schema import RUN_TAG as RUN_TAG
from .schema import SENDER_COLUMNS as SENDER_COLUMNS
from .schema import SENDER_DTYPES as SENDER_DTYPES
from .schema import STATUS as STATUS
from .schema import STRING as STRING
from .schema import TAG_PREFIX as TAG_PREFIX
from .schema import TRAFFIC_COLUMNS as TRAFFIC_COLUMNS
from .schema import TRAFFIC_DTYPES as TRAFFIC_DTYPES
from .schema import UTC_TIMESTAMP as UTC_TIMESTAMP
from .sender_columns import SenderColumns as SenderColumns

__all__ = [
    "ATTEMPT_COLUMNS",
    "DETAILS_LIMIT",
    "MEMBER_COLUMNS",
    "MESSAGE_COLUMNS",
    "NO_SENDER",
    "POOL_COLUMNS",
    "RUN_TAG",
    "SENDER_COLUMNS",
    "TRAFFIC_COLUMNS",
    "attempts_frame",
    "clear_cache",
    "fetch_messages",
    "load_messages",
    "load_pool_members",
    "load_pools",
    "load_senders",
    "messages_frame",
    "pools_frame",
    "senders_frame",
]
