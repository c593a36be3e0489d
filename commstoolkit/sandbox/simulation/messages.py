"""Messaging state: sends, messages, attempts and message operations (moto's models, again).

A send is routed and its whole timeline fixed when it is accepted (``delivery``), then stored:
one ``message_operations`` row, one ``messages`` row per recipient, one ``attempts`` row per
attempt. Statuses are computed from the sandbox clock on every read, so they move as the clock
does and stats always add up. Once nothing more can change, an operation's stats are settled
(stored) so later reads are cheap.

Decisions (comms-api.md §11 leaves them open): ``from`` omitted means any ACTIVATED SMS, RCS or
WhatsApp sender of the account; an unknown pool, sender or sender address is a 400 with code
20404 (the spec lists no 404 for these operations); a DEACTIVATED sender named in ``from``, a
ProfileRecipient (there is no profile store) and a recipient no eligible sender can reach are
unaddressable: the message is FAILED with no attempts, its ``from`` is ``{"address": "",
"channel": <recipient channel>}``. Routing uses the pool's membership when the send is accepted.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from typing import Any

from ..exceptions import ApiError, ErrorItem, invalid, not_found
from ..state import ids
from ..state.query import Where
from ..state.store import SEND_CHANGE, Store
from . import delivery
from .clock import Clock
from .message_wire import (
    MESSAGE_STATUSES,
    STATUS_COUNTS,
    message_status_sql,
    message_to_wire,
    operation_to_wire,
)
from .sends import SenderChoice, SendRequest

MAX_AHEAD = 30 * 24 * 3600
KEPT_CHOICES = 8  # sender choices whose routing senders are kept (``Messaging.senders``)
MISSING = 20404
MESSAGE_SELECT = (
    "SELECT m.*, o.tags AS tags, o.pool_id AS pool_id, o.scheduled_for AS scheduled_for, "
    "s.address AS sender_address, s.channel AS sender_channel FROM messages m "
    "JOIN message_operations o ON o.id = m.operation_id LEFT JOIN senders s ON s.id = m.sender_id"
)


def missing(message: str, context: str) -> ApiError:
    """A 400 for an unknown (well-formed) id or address: code 20404, as the spec's example."""
    return ApiError(400, [ErrorItem(MISSING, message, context)])


class Messaging:
    """Sends and reads messages of one sandbox account."""

    def __init__(
        self, store: Store, clock: Clock, next_ids: Callable[[str, int], tuple[list[str], int]]
    ) -> None:
        self.store = store
        self.clock = clock
        self.next_ids = next_ids
        # The routing senders of the last few (choice, pool, channels) asked for, and the
        # state of the store they were read in (``_version``).
        self._kept: dict[tuple[Any, ...], tuple[tuple[int, int], list[delivery.Sender]]] = {}

    # -- senders as routing sees them ----------------------------------------------------------

    def senders(
        self,
        choice: SenderChoice,
        pool_id: str | None = None,
        channels: tuple[str, ...] = delivery.MESSAGING_CHANNELS,
        where: str = "$.from",
    ) -> list[delivery.Sender]:
        """The ACTIVATED senders ``choice`` (and ``pool_id``) allow; 400 when one is unknown.

        Read again only when the store changed since they were last read (a test send asks
        Resolve 100 times for the same pool's senders, then sends: 0.8 ms a call)."""
        key = (choice.kind, choice.value, choice.channel, pool_id, tuple(channels))
        version = self._version()
        kept = self._kept.get(key)
        if kept is not None and kept[0] == version:
            return list(kept[1])
        found = self._read_senders(choice, pool_id, channels, where)
        if len(self._kept) >= KEPT_CHOICES:
            self._kept.pop(next(iter(self._kept)))
        self._kept[key] = (version, found)
        return list(found)

    def _version(self) -> tuple[int, int]:
        """What changes whenever the store's rows do: the rows this connection changed
        (``total_changes``) and SQLite's count of other connections' commits."""
        conn = self.store.conn
        (other,) = conn.execute("PRAGMA data_version").fetchone()
        return conn.total_changes, int(other)

    def _read_senders(
        self,
        choice: SenderChoice,
        pool_id: str | None,
        channels: tuple[str, ...],
        where: str,
    ) -> list[delivery.Sender]:
        conn = self.store.conn
        query = Where().add("s.status = 'ACTIVATED'")
        query.add(f"s.channel IN ({','.join('?' * len(channels))})", *channels)
        source = "senders s"
        if pool_id is not None:
            if not conn.execute("SELECT 1 FROM pools WHERE id = ?", (pool_id,)).fetchone():
                context = f"{where}.senderPoolId" if where == "$.from" else "$.senderPoolId"
                raise missing(f"Sender pool {pool_id} not found", context)
            # CROSS JOIN keeps SQLite's join order: the pool's members first (its primary
            # key), then each one's row. A plain JOIN let the planner walk every ACTIVATED
            # sender of the channels instead: 14 ms a Resolve on 20,000 senders, now 0.5 ms.
            # (Router sorts the senders by id, so the rows' order does not matter.)
            source = "memberships m CROSS JOIN senders s ON s.id = m.sender_id"
            query.add("m.pool_id = ?", pool_id)
        if choice.kind == "sender":
            row = conn.execute(
                "SELECT channel FROM senders WHERE id = ?", (choice.value,)
            ).fetchone()
            if row is None:
                raise missing(f"Sender {choice.value} not found", f"{where}.senderId")
            if row["channel"] not in channels:
                raise invalid(f"Sender {choice.value} is a {row['channel']} sender; it cannot "
                              "send messages", f"{where}.senderId")  # fmt: skip
            query.add("s.id = ?", choice.value)
        elif choice.kind == "address":
            found = conn.execute(
                "SELECT 1 FROM senders WHERE address = ? AND channel = ?",
                (choice.value, choice.channel),
            ).fetchone()
            if found is None:
                raise missing(
                    f"No {choice.channel} sender has the address {choice.value}", f"{where}.address"
                )
            query.add("s.address = ? AND s.channel = ?", choice.value, choice.channel)
        elif choice.kind == "credentials":
            return []
        rows = conn.execute(
            f"SELECT s.id, s.address, s.channel, s.display_name FROM {source} WHERE {query.sql()}",
            query.params,
        ).fetchall()
        seed, bad = self.store.get_int("seed"), self.bad_senders()
        return [
            delivery.Sender(r[0], r[1], r[2], r[3], *delivery.traits(seed, r[0], bad)) for r in rows
        ]

    def bad_senders(self) -> frozenset[str]:
        """Senders made bad on purpose when seeding (besides the ones the hash makes bad)."""
        return frozenset(filter(None, (self.store.get("bad_senders") or "").split(",")))

    def quality(self, sender_id: str) -> float:
        """A sender's hidden delivery rate (for tests and demos; the API never shows it)."""
        return delivery.traits(self.store.get_int("seed"), sender_id, self.bad_senders())[0]

    # -- send --------------------------------------------------------------------------------

    def send(self, request: SendRequest) -> str:
        """Accept a send: route every recipient, store the messages; returns the operation id."""
        with self.store.write() as conn:
            now = self.clock.seconds()
            if request.send_at is not None and request.send_at > now + MAX_AHEAD:
                raise invalid("sendAt may be at most 30 days ahead", "$.schedule.sendAt[0]")
            start = max(now, request.send_at or now)
            choice = request.sender
            pool_id = choice.value if choice.kind == "pool" else None
            router = delivery.Router(
                self.store.get_int("seed"),
                self.senders(choice, pool_id),
                filter_in=choice.filter_in,
                priority=choice.priority,
            )
            (operation_id,), created = self.next_ids(ids.OPERATION, 1)
            message_ids, _ = self.next_ids(ids.MESSAGE, len(request.recipients))
            media = _has_media(request.content)
            messages, attempts, last_final, last_change, unaddressable = [], [], start, start, 0
            for message_id, recipient in zip(message_ids, request.recipients, strict=True):
                plan = (
                    delivery.Plan("", "PHONE", start)
                    if recipient.profile
                    else router.plan(recipient.addresses, start)
                )
                sent_at, final_at, status, read_at = plan.timeline()
                sender = plan.sender
                unaddressable += not plan.attempts
                last_final = max(last_final, final_at)
                last_change = max(last_change, final_at, read_at or 0)
                messages.append((
                    message_id, operation_id, plan.to_address, plan.to_channel,
                    _json(recipient.profile), _json(recipient.variables),
                    sender.id if sender else None, sender.channel if sender else None,
                    len(plan.attempts), created, start, sent_at, final_at, status, read_at,
                ))  # fmt: skip
                for n, a in enumerate(plan.attempts, start=1):
                    attempts.append((
                        message_id, n, operation_id, a.sender.id, a.to_address, a.to_channel,
                        a.attempted_at, a.sent_at, a.final_at, a.status, a.read_at, a.error_code,
                        _sid(message_id, n, media and a.sender.channel == "SMS"),
                    ))  # fmt: skip
            conn.execute(
                "INSERT INTO message_operations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                (operation_id, created, start, last_final, last_change, request.send_at,
                 len(messages), unaddressable, pool_id, _json(request.tags),
                 _json(request.content)),
            )  # fmt: skip
            conn.executemany(
                "INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                messages,
            )
            conn.executemany(
                "INSERT INTO attempts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", attempts
            )
            self.store.record_change(SEND_CHANGE, operation_id, len(messages))
            if request.send_at is None:
                self.clock.skip_to(last_change)
        return operation_id

    # -- messages ----------------------------------------------------------------------------

    def list_messages(
        self,
        *,
        operation_id: str | None = None,
        profile: str | None = None,
        status: str | None = None,
        channel: str | None = None,
        tags: dict[str, str] | None = None,
        start: float | None = None,
        end: float | None = None,
        after: str | None = None,
        limit: int = 50,
        base: str = "",
    ) -> tuple[list[dict], bool]:
        """Messages in id order (creation order), filtered; without attempts or content."""
        with self.store.read() as conn:
            now = self.clock.seconds()
            status_sql = message_status_sql(now)
            where = Where()
            if operation_id:
                where.add("m.operation_id = ?", operation_id)
            if profile:
                where.add("json_extract(m.profile, '$.profileId') = ?", profile)
            if status:
                where.add(f"{status_sql} = ?", status)
            if channel:
                where.add("m.channel = ?", channel)
            for key, value in (tags or {}).items():
                where.add("json_extract(o.tags, ?) = ?", f'$."{key}"', value)
            where.keyset(
                "m.id", after, created="m.created_at", prefix=ids.MESSAGE, start=start, end=end
            )
            rows = conn.execute(
                f"{MESSAGE_SELECT.replace('SELECT m.*', f'SELECT m.*, {status_sql} AS status')} "
                f"WHERE {where.sql()} ORDER BY m.id LIMIT ?",
                [*where.params, limit + 1],
            ).fetchall()
        return [message_to_wire(r, now, base) for r in rows[:limit]], len(rows) > limit

    def get_message(self, message_id: str, *, base: str, account_sid: str) -> dict[str, Any]:
        """One message with its content and the attempts made so far; 404 when unknown."""
        with self.store.read() as conn:
            now = self.clock.seconds()
            status_sql = message_status_sql(now)
            row = conn.execute(
                f"{MESSAGE_SELECT.replace('SELECT m.*', f'SELECT m.*, {status_sql} AS status')}"
                " WHERE m.id = ?",
                (message_id,),
            ).fetchone()
            if row is None:
                raise not_found(f"Message {message_id} not found")
            attempts = conn.execute(
                "SELECT a.*, s.address AS sender_address, s.channel AS sender_channel "
                "FROM attempts a JOIN senders s ON s.id = a.sender_id "
                "WHERE a.message_id = ? AND a.attempted_at <= ? ORDER BY a.n",
                (message_id, now),
            ).fetchall()
            content = conn.execute(
                "SELECT content FROM message_operations WHERE id = ?", (row["operation_id"],)
            ).fetchone()[0]
        return message_to_wire(row, now, base, json.loads(content), attempts, account_sid)

    def seek(self, identifier: str) -> str:
        """The id of the message a message id or an attempt's SM/MM SID names; 404 otherwise."""
        with self.store.read() as conn:
            row = conn.execute(
                "SELECT id FROM messages WHERE id = ? UNION ALL "
                "SELECT message_id FROM attempts WHERE sid = ? LIMIT 1",
                (identifier, identifier),
            ).fetchone()
        if row is None:
            raise not_found(f"No message is known by {identifier}", "identifier")
        message_id: str = row[0]
        return message_id

    # -- operations --------------------------------------------------------------------------

    def list_operations(
        self,
        *,
        status: str | None = None,
        start: float | None = None,
        end: float | None = None,
        after: str | None = None,
        limit: int = 50,
    ) -> tuple[list[dict], bool]:
        """Message operations in id order, filtered by status and creation time."""
        with self.store.read() as conn:
            now = self.clock.seconds()
            where = Where()
            if status:
                where.add(f"{_operation_status_sql(now)} = ?", status)
            where.keyset(
                "id", after, created="created_at", prefix=ids.OPERATION, start=start, end=end
            )
            rows = conn.execute(
                f"SELECT * FROM message_operations WHERE {where.sql()} ORDER BY id LIMIT ?",
                [*where.params, limit + 1],
            ).fetchall()
            items = [operation_to_wire(r, now, self._stats(conn, r, now)) for r in rows[:limit]]
        return items, len(rows) > limit

    def get_operation(self, operation_id: str) -> dict[str, object]:
        """One message operation; 404 when unknown (or a sender pool operation)."""
        with self.store.read() as conn:
            now = self.clock.seconds()
            row = conn.execute(
                "SELECT * FROM message_operations WHERE id = ?", (operation_id,)
            ).fetchone()
            if row is None:
                raise not_found(f"Operation {operation_id} not found")
            return operation_to_wire(row, now, self._stats(conn, row, now))

    def _stats(self, conn: sqlite3.Connection, op: sqlite3.Row, now: float) -> dict[str, int]:
        if op["stats"] is not None:
            stored: dict[str, int] = json.loads(op["stats"])
            return stored
        counts = dict.fromkeys(STATUS_COUNTS, 0)
        for status, count in conn.execute(
            f"SELECT {message_status_sql(now, '')} AS s, COUNT(*) FROM messages "
            "WHERE operation_id = ? GROUP BY s",
            (op["id"],),
        ):
            counts[MESSAGE_STATUSES[status]] += count
        (attempts,) = conn.execute(
            "SELECT COUNT(*) FROM attempts WHERE operation_id = ? AND attempted_at <= ?",
            (op["id"], now),
        ).fetchone()
        started = now >= op["start_at"]
        return {
            "total": op["total"],
            "recipients": op["total"],
            "attempts": attempts,
            "unaddressable": op["unaddressable"] if started else 0,
            **counts,
        }

    def settle(self) -> int:
        """Store the final stats of operations nothing can change any more; returns how many."""
        now = self.clock.seconds()
        with self.store.read() as conn:
            due = conn.execute(
                "SELECT 1 FROM message_operations WHERE stats IS NULL AND last_change_at <= ? "
                "LIMIT 1",
                (now,),
            ).fetchone()
        if due is None:
            return 0
        with self.store.write() as conn:
            rows = conn.execute(
                "SELECT * FROM message_operations WHERE stats IS NULL AND last_change_at <= ?",
                (now,),
            ).fetchall()
            for row in rows:
                stats = self._stats(conn, row, now)
                conn.execute(
                    "UPDATE message_operations SET stats = ? WHERE id = ?",
                    (_json(stats), row["id"]),
                )
        return len(rows)


def _operation_status_sql(now: float) -> str:
    t = repr(float(now))
    return (
        f"CASE WHEN {t} < start_at THEN 'SCHEDULED' WHEN {t} < final_at THEN 'PROCESSING' "
        "ELSE 'COMPLETED' END"
    )


def _json(value: object) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"))


def _sid(message_id: str, n: int, mms: bool) -> str:
    """The downstream SM/MM SID of an attempt (what ``GET /Messages/Seek`` accepts)."""
    digest = hashlib.blake2b(f"{message_id}:{n}".encode(), digest_size=16).hexdigest()
    return ("MM" if mms else "SM") + digest


def _has_media(content: dict[str, Any]) -> bool:
    modules = content.get("modules") or ()
    return bool(content.get("media")) or any(
        isinstance(m, dict) and isinstance(m.get("sms"), dict) and m["sms"].get("media")
        for m in modules
    )


def pick_bad_senders(conn: sqlite3.Connection, seed: int) -> str:
    """Senders to make bad on purpose so that every seeded pool with ACTIVATED SMS members
    holds at least one bad one (a test send through it shows it); comma-separated ids."""
    forced: list[str] = []
    for (pool_id,) in conn.execute("SELECT id FROM pools ORDER BY id").fetchall():
        members = [
            row[0]
            for row in conn.execute(
                "SELECT s.id FROM memberships m JOIN senders s ON s.id = m.sender_id "
                "WHERE m.pool_id = ? AND s.channel = 'SMS' AND s.status = 'ACTIVATED'",
                (pool_id,),
            )
        ]
        shares = {sender: delivery.badness(seed, sender) for sender in members}
        if shares and min(shares.values()) >= delivery.BAD_SHARE:
            forced.append(min(shares, key=shares.__getitem__))
    return ",".join(forced)
