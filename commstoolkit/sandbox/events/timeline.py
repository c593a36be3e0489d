"""The Communications API's events, read off the timelines the sandbox fixed for each send.

A send's whole future is stored when it is accepted (``simulation.messages``), so its events
are a function of the tables and of a time window: ``between(conn, start, end)`` gives every
event whose time falls in ``[start, end]``, in order (both ends: a write made at the very
moment of the last look has events at that moment; the outbox keeps each event once).

Per operation: ``scheduled`` when a scheduled send is accepted, ``processing`` when it
starts, ``completed`` when its last message is final. Per attempt of a message
(``data.attempt`` counts from 1): ``queued`` when it starts, ``sent`` (an attempt that FAILED
inside Twilio never is), then ``delivered``, ``undelivered`` or ``failed`` (with
``data.error_code``), and ``read`` for some delivered RCS / WhatsApp ones. So the last event
of each attempt is that attempt's status in ``GET /Messages/{id}``, and the last event of a
message is the message's status. A message no sender could reach (no attempts) has one
``failed`` event, ``attempt`` 0. Event ids are stable (a hash of what the event is about), so
a re-delivery repeats the same id.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from ..state import ids
from ..state.store import Store
from .catalogue import BY_TYPE, MESSAGE_TYPE, PREFIX

# Events at the same instant: an operation starts, then its messages move (attempt by
# attempt, stage by stage), then it completes.
OPERATION_START, MESSAGE, OPERATION_END = 0, 1, 2
CURSOR = "events_cursor"  # meta: the sandbox time up to which events were emitted
STAGES = {"QUEUED": 0, "SENT": 1, "DELIVERED": 2, "UNDELIVERED": 2, "FAILED": 2, "READ": 3}


def start_cursor(store: Store, seconds: float) -> None:
    """Nothing before ``seconds`` will be emitted (inside the caller's write transaction)."""
    store.set(CURSOR, repr(seconds))


def cursor_behind(store: Store, seconds: float) -> None:
    """Move the cursor up to ``seconds`` when it is behind (or unset): events from then on
    (inside the caller's write transaction; a first subscription calls it)."""
    text = store.get(CURSOR)
    if not text or float(text) < seconds:
        start_cursor(store, seconds)


@dataclass(frozen=True)
class Event:
    """One CloudEvent and where it sorts: ``time`` (epoch seconds), ``order``, ``subject``
    (the message or operation id)."""

    time: float
    order: tuple[int, str, int, int]
    type: str
    subject: str
    body: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.body["id"])


def cloud_time(seconds: float) -> str:
    """Epoch seconds -> ``2025-06-02T09:00:01.234Z`` (UTC, milliseconds: exact timings). The
    milliseconds are cut, not rounded, so the second is always the one the API's own
    whole-second times show for the same moment."""
    whole = int(seconds // 1)
    ms = min(int((seconds - whole) * 1000), 999)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{ms:03d}Z"


def event_id(*parts: object) -> str:
    """A stable id (UUID-shaped) for what an event is about."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=16).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:]}"


def envelope(
    type_: str, source: str, seconds: float, data: dict[str, Any], *key: object
) -> dict[str, Any]:
    """A CloudEvents 1.0 event (JSON form) of ``type_``."""
    known = BY_TYPE.get(type_)
    event: dict[str, Any] = {
        "specversion": "1.0",
        "type": type_,
        "source": source,
        "id": event_id(type_, *key),
        "time": cloud_time(seconds),
        "datacontenttype": "application/json",
        "data": data,
    }
    if known is not None:
        event["dataschema"] = known.dataschema
    return event


def _operation_event(suffix: str, op: sqlite3.Row, seconds: float, group: int) -> Event:
    type_ = f"{PREFIX}operation.{suffix}"
    source = f"/v1/Messages/Operations/{op['id']}"
    body = envelope(type_, source, seconds, {"operation_id": op["id"]}, op["id"])
    return Event(seconds, (group, op["id"], 0, 0), type_, op["id"], body)


def _message_event(
    status: str,
    row: sqlite3.Row,
    seconds: float,
    account_sid: str,
    tags: dict[str, str],
    attempt: int,
) -> Event:
    """A message event of ``row`` (an attempt, or for ``attempt`` 0 an unreached message)."""
    type_ = MESSAGE_TYPE[status]
    sender = (
        {"id": row["sender_id"], "address": row["sender_address"], "channel": row["sender_channel"]}
        if attempt
        else None
    )
    profile = json.loads(row["profile"]) if row["profile"] else {}
    failed = status in ("FAILED", "UNDELIVERED")
    data = {
        "operation_id": row["operation_id"],
        "message_id": row["message_id"],
        "account_sid": account_sid,
        "downstream_id": row["sid"] if attempt else None,
        "attempt": attempt,
        "error_code": row["error_code"] if attempt and failed else None,
        "from": sender,
        "to": {
            "id": profile.get("profileId"),
            "address": row["to_address"],
            "channel": row["to_channel"],
        },
        "tags": tags,
    }
    source = f"/v1/Messages/{row['message_id']}"
    body = envelope(type_, source, seconds, data, row["message_id"], attempt)
    order = (MESSAGE, row["message_id"], attempt, STAGES[status])
    return Event(seconds, order, type_, row["message_id"], body)


def _attempt_moments(row: sqlite3.Row) -> list[tuple[str, float]]:
    """(status, time) of each step of one attempt."""
    moments = [("QUEUED", row["attempted_at"])]
    if row["sent_at"] < row["final_at"]:
        moments.append(("SENT", row["sent_at"]))
    moments.append((row["final_status"], row["final_at"]))
    if row["read_at"] is not None:
        moments.append(("READ", row["read_at"]))
    return moments


@dataclass(frozen=True)
class Fetched:
    """The rows a window's events are made from (read under the store's lock, built after)."""

    start: float
    end: float
    operations: list[sqlite3.Row]
    attempts: dict[str, list[sqlite3.Row]]
    unreached: dict[str, list[sqlite3.Row]]


def fetch(conn: sqlite3.Connection, start: float, end: float) -> Fetched:
    """The rows of every event with ``start <= time <= end`` (SQL only: cheap to hold a lock)."""
    ops = conn.execute(
        "SELECT id, created_at, start_at, final_at, scheduled_for, tags FROM message_operations "
        "WHERE last_change_at >= ?",
        (start,),
    ).fetchall()
    window = " OR ".join(f"({t} >= :start AND {t} <= :end)" for t in (
        "a.attempted_at", "a.sent_at", "a.final_at", "a.read_at"
    ))  # fmt: skip
    attempts, unreached = {}, {}
    for op in ops:
        if op["start_at"] > end:
            continue
        attempts[op["id"]] = conn.execute(
            "SELECT a.*, m.profile AS profile, s.address AS sender_address, "
            "s.channel AS sender_channel FROM attempts a "
            "JOIN messages m ON m.id = a.message_id JOIN senders s ON s.id = a.sender_id "
            f"WHERE a.operation_id = :op AND ({window})",
            {"op": op["id"], "start": start, "end": end},
        ).fetchall()
        unreached[op["id"]] = conn.execute(
            "SELECT id AS message_id, operation_id, to_address, to_channel, profile, start_at "
            "FROM messages WHERE operation_id = ? AND n_attempts = 0 AND start_at >= ? "
            "AND start_at <= ?",
            (op["id"], start, end),
        ).fetchall()
    return Fetched(start, end, ops, attempts, unreached)


def build(fetched: Fetched, account_sid: str) -> list[Event]:
    """The events of a fetched window, in order (pure Python: no lock needed)."""
    start, end = fetched.start, fetched.end
    events: list[Event] = []
    inside = lambda t: start <= t <= end  # noqa: E731
    for op in fetched.operations:
        if op["scheduled_for"] is not None:
            created = ids.ms_of(op["id"], ids.OPERATION) / 1000
            if inside(created):
                events.append(_operation_event("scheduled", op, created, OPERATION_START))
        if inside(op["start_at"]):
            events.append(_operation_event("processing", op, op["start_at"], OPERATION_START))
        if inside(op["final_at"]):
            events.append(_operation_event("completed", op, op["final_at"], OPERATION_END))
        tags: dict[str, str] = json.loads(op["tags"]) if op["tags"] else {}
        events += [
            _message_event(status, row, seconds, account_sid, tags, row["n"])
            for row in fetched.attempts.get(op["id"], ())
            for status, seconds in _attempt_moments(row)
            if inside(seconds)
        ]
        events += [
            _message_event("FAILED", row, row["start_at"], account_sid, tags, 0)
            for row in fetched.unreached.get(op["id"], ())
        ]
    events.sort(key=lambda e: (e.time, e.order))
    return events


def between(conn: sqlite3.Connection, start: float, end: float, account_sid: str) -> list[Event]:
    """Every event with ``start <= time <= end``, in order (see the module's docstring)."""
    return build(fetch(conn, start, end), account_sid)
