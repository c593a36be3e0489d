"""Sender pool operations: scheduling, progress, and settling them when they fall due.

An operation is PROCESSING from its creation until ``due_at`` on the sandbox clock, then
COMPLETED with its membership changes applied (or CANCELED when its pool was deleted first).
While it runs, its stats move from ``queued`` to ``created``/``failed`` in proportion to the
time elapsed. Outcomes are fixed when it is accepted: unknown senders count as ``failed``,
existing ones (members already or not, ACTIVATED or not) as ``created``.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field

from .clock import rfc3339

BASE_SECONDS = 0.5
SECONDS_PER_SENDER = 1 / 2000


def duration(total: int) -> float:
    """Sandbox seconds an operation on ``total`` senders takes."""
    return BASE_SECONDS + total * SECONDS_PER_SENDER


@dataclass(frozen=True)
class Scheduled:
    """A pool operation being accepted: what it will do and how it will end."""

    id: str
    action: str  # "create" (the pool appears) or "add" (members join)
    pool_id: str
    sender_ids: list[str]
    failed: int  # items naming no sender
    created_at: int
    extra: dict[str, object] = field(default_factory=dict)  # create: name and tags


def insert(conn: sqlite3.Connection, op: Scheduled, *, now: float) -> float:
    """Store a PROCESSING operation, due ``duration`` sandbox seconds from ``now``; its due time."""
    total = len(op.sender_ids)
    payload = json.dumps({"senders": op.sender_ids, **op.extra}, separators=(",", ":"))
    due_at = now + duration(total)
    conn.execute(
        "INSERT INTO operations VALUES "
        "(?, 'sender_pool', ?, ?, 'PROCESSING', ?, ?, ?, ?, ?, ?, ?, ?)",
        (op.id, op.action, op.pool_id, total, total - op.failed, op.failed, payload,
         op.created_at, op.created_at, now, due_at),
    )  # fmt: skip
    return due_at


def due(conn: sqlite3.Connection, now: float) -> bool:
    """Whether any operation is waiting to be settled (a cheap read)."""
    row = conn.execute(
        "SELECT 1 FROM operations WHERE status = 'PROCESSING' AND due_at <= ? LIMIT 1", (now,)
    ).fetchone()
    return row is not None


def settle(conn: sqlite3.Connection, now: float) -> int:
    """Finish every operation due by ``now``, oldest first; returns how many."""
    rows = conn.execute(
        "SELECT * FROM operations WHERE status = 'PROCESSING' AND due_at <= ? ORDER BY due_at, id",
        (now,),
    ).fetchall()
    for row in rows:
        _finish(conn, row)
    return len(rows)


def _finish(conn: sqlite3.Connection, op: sqlite3.Row) -> None:
    payload = json.loads(op["payload"])
    finished = int(op["due_at"])
    if op["action"] == "create":
        conn.execute(
            "INSERT INTO pools VALUES (?, ?, ?, ?, ?, ?)",
            (
                op["pool_id"],
                payload["name"],
                json.dumps(payload["tags"]),
                op["id"],
                op["created_at"],
                finished,
            ),
        )
    elif not conn.execute("SELECT 1 FROM pools WHERE id = ?", (op["pool_id"],)).fetchone():
        conn.execute(
            "UPDATE operations SET status = 'CANCELED', created = 0, failed = total, "
            "updated_at = ? WHERE id = ?",
            (finished, op["id"]),
        )
        return
    conn.executemany(
        "INSERT OR IGNORE INTO memberships SELECT ?, id FROM senders WHERE id = ?",
        [(op["pool_id"], sender_id) for sender_id in payload["senders"]],
    )
    conn.execute(
        "UPDATE operations SET status = 'COMPLETED', updated_at = ? WHERE id = ?",
        (finished, op["id"]),
    )


def to_wire(op: sqlite3.Row, now: float) -> dict[str, object]:
    """The SenderPoolOperation JSON, with progress for a running operation."""
    total, created, failed = op["total"], op["created"], op["failed"]
    if op["status"] == "PROCESSING":
        span = op["due_at"] - op["started_at"]
        done = min(max((now - op["started_at"]) / span, 0.0), 1.0) if span > 0 else 0.0
        created, failed = int(created * done), int(failed * done)
    return {
        "id": op["id"],
        "status": op["status"],
        "stats": {
            "total": total,
            "queued": total - created - failed,
            "created": created,
            "failed": failed,
        },
        "createdAt": rfc3339(op["created_at"]),
        "updatedAt": rfc3339(op["updated_at"]),
    }
