"""What the sandbox emits to each sink, and what became of it (``event_outbox``).

``publish`` moves the events cursor (sandbox time, meta ``events_cursor``) up to the clock's
now: every event of ``timeline.between(cursor, now)`` goes to each sink whose subscription
names its type and was made before it, once per sink (the outbox's key is the sink and the
event's id, so the moment both windows share is never emitted twice). A webhook sink's
events wait ``pending`` until delivered (``delivered``); other sink types cannot be reached
from here and keep them (``kept``), readable like the rest. ``due`` hands out the next batch
of each webhook sink whose retry time has come, in order; ``record`` notes the outcome: a
failure retries the same events after the next delay of ``RetryPolicy``, and once every delay
is spent the sink is ``failed`` and its waiting events too.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..simulation.clock import Clock
from ..state.store import Store
from . import timeline

BATCH = 100
CHUNK = 2000
ROUTES = (
    "SELECT s.sink_sid, s.since, t.type, k.sink_type FROM event_subscriptions s "
    "JOIN event_subscribed_types t ON t.subscription_sid = s.sid "
    "JOIN event_sinks k ON k.sid = s.sink_sid WHERE k.status = 'active'"
)
INSERT = (
    "INSERT OR IGNORE INTO event_outbox (sink_sid, event_id, type, time, subject, body, state, "
    "tries) VALUES (?, ?, ?, ?, ?, ?, ?, 0)"
)
STATES = ("pending", "delivered", "failed", "kept")


@dataclass
class RetryPolicy:
    """How a sink is retried: ``timeout`` seconds to answer (Twilio waits 5 s), then the
    ``delays`` (real seconds) before each retry; after the last, the sink is failed."""

    timeout: float = 5.0
    delays: tuple[float, ...] = (1, 2, 4, 8, 16, 32, 64, 128)


@dataclass(frozen=True)
class Batch:
    """A sink's next delivery: its destination and the events (outbox ``seq`` and body)."""

    sink_sid: str
    destination: str
    seqs: tuple[int, ...]
    body: bytes


def _routes(conn: sqlite3.Connection) -> dict[str, list[tuple[str, float, str]]]:
    """type -> (sink sid, subscribed since, outbox state) of every active subscription."""
    routes: dict[str, list[tuple[str, float, str]]] = {}
    for row in conn.execute(ROUTES):
        state = "pending" if row["sink_type"] == "webhook" else "kept"
        routes.setdefault(row["type"], []).append((row["sink_sid"], row["since"], state))
    return routes


def publish(store: Store, clock: Clock, account_sid: str) -> int:
    """Emit the events up to the clock's now into the outbox; how many outbox rows were made.

    Without an active subscription nothing is read or written (the cursor waits: a new
    subscription moves it to its own start). The store's lock is held only to read the
    window's rows and to write a chunk of ``CHUNK`` events at a time, so a big send's events
    never hold up the API's answers for long; a window published twice (the deliverer and a
    reader at once) makes nothing twice.
    """
    with store.read() as conn:
        if not conn.execute(ROUTES + " LIMIT 1").fetchone():
            return 0
        now = clock.seconds()
        text = store.get(timeline.CURSOR)
        cursor = float(text) if text else now
        fetched = timeline.fetch(conn, cursor, now) if text and now >= cursor else None
    if fetched is None:
        with store.write():
            timeline.cursor_behind(store, now)
        return 0
    events = timeline.build(fetched, account_sid)
    bodies = [json.dumps(e.body, separators=(",", ":")) for e in events]
    made = 0
    for first in range(0, len(events), CHUNK):
        chunk = range(first, min(first + CHUNK, len(events)))
        with store.write() as conn:
            routes = _routes(conn)  # read again: a subscription made meanwhile gets its events
            rows = [
                (sink, events[n].id, events[n].type, events[n].time, events[n].subject,
                 bodies[n], state)
                for n in chunk
                for sink, since, state in routes.get(events[n].type, ())
                if events[n].time >= since
            ]  # fmt: skip
            before = conn.total_changes
            conn.executemany(INSERT, rows)
            made += conn.total_changes - before
            # Up to this chunk's last moment (kept inclusive: the next window re-reads it).
            timeline.cursor_behind(store, events[chunk[-1]].time)
    with store.write():
        timeline.cursor_behind(store, now)
    return made


def due(store: Store, now: float | None = None, size: int = BATCH) -> list[Batch]:
    """The next batch (oldest first, at most ``size``) of each webhook sink due for a try."""
    now = time.time() if now is None else now
    batches = []
    with store.read() as conn:
        sinks = conn.execute(
            "SELECT k.sid, k.configuration FROM event_sinks k WHERE k.sink_type = 'webhook' "
            "AND k.next_try <= ? AND EXISTS (SELECT 1 FROM event_outbox o "
            "WHERE o.sink_sid = k.sid AND o.state = 'pending') ORDER BY k.seq",
            (now,),
        ).fetchall()
        for sink in sinks:
            rows = conn.execute(
                "SELECT seq, body FROM event_outbox WHERE sink_sid = ? AND state = 'pending' "
                "ORDER BY time, seq LIMIT ?",
                (sink["sid"], size),
            ).fetchall()
            body = ("[" + ",".join(r["body"] for r in rows) + "]").encode()
            destination = json.loads(sink["configuration"])["destination"]
            batches.append(Batch(sink["sid"], destination, tuple(r["seq"] for r in rows), body))
    return batches


def record(
    store: Store,
    batch: Batch,
    error: str | None,
    policy: RetryPolicy,
    now: float | None = None,
) -> None:
    """Note a delivery's outcome (``error`` None: the sink answered 2xx in time)."""
    now = time.time() if now is None else now
    marks = ",".join("?" * len(batch.seqs))
    with store.write() as conn:
        conn.execute(
            f"UPDATE event_outbox SET tries = tries + 1 WHERE seq IN ({marks})", batch.seqs
        )
        if error is None:
            conn.execute(
                f"UPDATE event_outbox SET state = 'delivered', delivered_at = ? "
                f"WHERE seq IN ({marks}) AND state = 'pending'",
                (now, *batch.seqs),
            )
            conn.execute(
                "UPDATE event_sinks SET tries = 0, next_try = 0, last_error = NULL WHERE sid = ?",
                (batch.sink_sid,),
            )
            return
        row = conn.execute(
            "SELECT tries FROM event_sinks WHERE sid = ?", (batch.sink_sid,)
        ).fetchone()
        if row is None:  # deleted meanwhile
            return
        tries = row["tries"] + 1
        if tries > len(policy.delays):
            conn.execute(
                "UPDATE event_sinks SET status = 'failed', tries = 0, next_try = 0, "
                "last_error = ? WHERE sid = ?",
                (error, batch.sink_sid),
            )
            conn.execute(
                "UPDATE event_outbox SET state = 'failed' WHERE sink_sid = ? AND state = 'pending'",
                (batch.sink_sid,),
            )
            return
        conn.execute(
            "UPDATE event_sinks SET tries = ?, next_try = ?, last_error = ? WHERE sid = ?",
            (tries, now + policy.delays[tries - 1], error, batch.sink_sid),
        )


def emitted(
    store: Store, *, sink_sid: str | None = None, state: str | None = None
) -> list[dict[str, Any]]:
    """Every event emitted (to ``sink_sid``; in ``state``), in order: ``{sink_sid, state,
    tries, event}``."""
    where, params = ["1"], []
    if sink_sid is not None:
        where.append("sink_sid = ?")
        params.append(sink_sid)
    if state is not None:
        where.append("state = ?")
        params.append(state)
    with store.read() as conn:
        rows = conn.execute(
            f"SELECT * FROM event_outbox WHERE {' AND '.join(where)} ORDER BY time, seq", params
        ).fetchall()
    return [
        {"sink_sid": r["sink_sid"], "state": r["state"], "tries": r["tries"],
         "event": json.loads(r["body"])}
        for r in rows
    ]  # fmt: skip


def idle(store: Store) -> bool:
    """Whether no webhook event is waiting for delivery."""
    with store.read() as conn:
        return (
            conn.execute("SELECT 1 FROM event_outbox WHERE state = 'pending' LIMIT 1").fetchone()
            is None
        )


def sink_states(store: Store) -> Sequence[dict[str, Any]]:
    """Each sink's delivery state (for the control endpoint): sid, status, tries, last error."""
    with store.read() as conn:
        rows = conn.execute(
            "SELECT sid, status, tries, next_try, last_error FROM event_sinks ORDER BY seq"
        ).fetchall()
    return [dict(r) for r in rows]
