"""Messages, attempts and message operations as the API shows them, at a given sandbox time.

A message (and each attempt) moves SCHEDULED (until its send time, when scheduled) -> QUEUED ->
SENT -> DELIVERED / UNDELIVERED / FAILED -> READ (some delivered RCS / WhatsApp messages); a
FAILED attempt is never SENT. A message's status is its last attempt's; an operation is
SCHEDULED, then PROCESSING until every message is final, then COMPLETED.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from ..exceptions import INFO_URL
from .clock import rfc3339
from .delivery import ERRORS
from .liquid import resolve

STATUS_COUNTS = (
    "scheduled", "queued", "sent", "delivered", "read", "undelivered", "failed", "canceled",
)  # fmt: skip
MESSAGE_STATUSES = {name.upper(): name for name in STATUS_COUNTS}
FINAL = ("DELIVERED", "UNDELIVERED", "FAILED", "READ", "CANCELED")
LOG_URL = "https://console.twilio.com/us1/monitor/logs/sms/{account}/{sid}"


def message_status_sql(now: float, table: str = "m.") -> str:
    """A SQL expression for a message's status at ``now`` (``now`` is our own float)."""
    t, m = repr(float(now)), table
    return (
        f"CASE WHEN {t} < {m}start_at THEN 'SCHEDULED' WHEN {t} < {m}sent_at THEN 'QUEUED' "
        f"WHEN {t} < {m}final_at THEN 'SENT' "
        f"WHEN {m}read_at IS NOT NULL AND {t} >= {m}read_at THEN 'READ' ELSE {m}final_status END"
    )


def status_at(row: sqlite3.Row, now: float) -> str:
    """A message's or attempt's status at ``now`` (the Python twin of the SQL expression)."""
    if now < row["sent_at"]:
        return "QUEUED"
    if now < row["final_at"]:
        return "SENT"
    if row["read_at"] is not None and now >= row["read_at"]:
        return "READ"
    status: str = row["final_status"]
    return status


def _updated(created: float, now: float, *moments: float | None) -> str:
    """The last transition reached by ``now`` (or the creation time)."""
    reached = [t for t in moments if t is not None and t <= now]
    return rfc3339(max([created, *reached]))


def _sender(address: str, channel: str, sender_id: str, pool_id: str | None = None) -> dict:
    sender = {"address": address, "channel": channel, "senderId": sender_id}
    if pool_id:
        sender["senderPoolId"] = pool_id
    return sender


def _to(row: sqlite3.Row) -> list[dict[str, str]]:
    to = {"address": row["to_address"], "channel": row["to_channel"]}
    if row["profile"]:
        to.update(json.loads(row["profile"]))
    return [to]


def message_to_wire(
    row: sqlite3.Row,
    now: float,
    base: str,
    content: dict[str, Any] | None = None,
    attempts: list[sqlite3.Row] | None = None,
    account_sid: str = "",
) -> dict[str, Any]:
    """``MessageMetadata`` (a list item), or the full ``Message`` when ``content`` is given."""
    if row["sender_id"]:
        sender = _sender(
            row["sender_address"], row["sender_channel"], row["sender_id"], row["pool_id"]
        )
    else:  # unaddressable: no sender ever tried it
        sender = {"address": "", "channel": row["to_channel"]}
    scheduled = row["scheduled_for"]
    operation = row["operation_id"]
    wire: dict[str, Any] = {
        "id": row["id"],
        "from": sender,
        "to": _to(row),
        "status": row["status"],
        "related": [
            {"name": "OPERATION", "id": operation, "uri": f"{base}/Messages/Operations/{operation}"}
        ],
        "tags": json.loads(row["tags"]),
        "scheduledFor": None if scheduled is None else rfc3339(scheduled),
        "createdAt": rfc3339(row["created_at"]),
        "updatedAt": _updated(
            row["created_at"],
            now,
            row["start_at"] if scheduled is not None else None,
            row["sent_at"],
            row["final_at"],
            row["read_at"],
        ),
        "deletedAt": None,
    }
    if content is not None:
        variables = json.loads(row["variables"]) if row["variables"] else None
        wire["content"] = resolve(content, variables)
        wire["attempts"] = [attempt_to_wire(a, now, account_sid) for a in attempts or ()]
    return wire


def attempt_to_wire(row: sqlite3.Row, now: float, account_sid: str) -> dict[str, Any]:
    """One entry of a message's ``attempts``; its error shows once the attempt has ended."""
    status = status_at(row, now)
    code = row["error_code"]
    error = None
    if code is not None and status in ("FAILED", "UNDELIVERED"):
        error = {"code": code, "message": ERRORS[code], "infoUrl": INFO_URL.format(code=code)}
    return {
        "from": _sender(row["sender_address"], row["sender_channel"], row["sender_id"]),
        "to": [{"address": row["to_address"], "channel": row["to_channel"]}],
        "status": status,
        "attemptedAt": rfc3339(row["attempted_at"]),
        "infoUrl": LOG_URL.format(account=account_sid or "AC", sid=row["sid"]),
        "error": error,
    }


def operation_status(row: sqlite3.Row, now: float) -> str:
    """SCHEDULED before its send time, PROCESSING until every message is final, then COMPLETED."""
    if now < row["start_at"]:
        return "SCHEDULED"
    return "PROCESSING" if now < row["final_at"] else "COMPLETED"


def operation_to_wire(row: sqlite3.Row, now: float, stats: dict[str, int]) -> dict[str, object]:
    """The ``MessageOperation`` JSON."""
    scheduled = row["scheduled_for"] is not None
    return {
        "id": row["id"],
        "status": operation_status(row, now),
        "stats": stats,
        "createdAt": rfc3339(row["created_at"]),
        "updatedAt": _updated(
            row["created_at"],
            now,
            row["start_at"] if scheduled else None,
            min(now, row["last_change_at"]) if now >= row["start_at"] else None,
        ),
    }
