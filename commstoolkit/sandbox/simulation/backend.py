"""The sandbox account's state and one method per API operation; no HTTP here (moto's models).

Methods take validated Python values and return wire-shaped dicts (camelCase, RFC 3339 times),
or raise ``ApiError`` (404 for unknown ids). Listing methods are keyset-paginated: they take the
last id served (``after``) and a ``limit``, and return ``(items, more)``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from contextlib import closing

from ..exceptions import not_found
from ..state import ids
from ..state.query import JsonList, Where
from ..state.store import POOL_CHANGE, Store
from . import operations
from .clock import Clock, rfc3339
from .messages import Messaging

CHUNK = 500


def sender_to_wire(row: sqlite3.Row) -> dict[str, object]:
    """The Sender JSON of a ``senders`` row."""
    return {
        "id": row["id"],
        "displayName": row["display_name"],
        "address": row["address"],
        "channel": row["channel"],
        "status": row["status"],
        "tags": json.loads(row["tags"]),
        "createdAt": rfc3339(row["created_at"]),
        "updatedAt": rfc3339(row["updated_at"]),
    }


# The Sender JSON of a ``senders`` row (alias ``s``), written by SQLite itself: the same
# object as ``sender_to_wire``, about twice as fast for a page of 1,000 (no Python dict per
# row, no json.dumps of the page). Used for listings when SQLite has its JSON functions.
_RFC3339_SQL = "strftime('%Y-%m-%dT%H:%M:%SZ', {}, 'unixepoch')"
SENDER_JSON_SQL = (
    "json_object('id', s.id, 'displayName', s.display_name, 'address', s.address, "
    "'channel', s.channel, 'status', s.status, 'tags', json(s.tags), "
    f"'createdAt', {_RFC3339_SQL.format('s.created_at')}, "
    f"'updatedAt', {_RFC3339_SQL.format('s.updated_at')})"
)


def pool_to_wire(row: sqlite3.Row) -> dict[str, object]:
    """The SenderPool JSON of a ``pools`` row."""
    return {
        "id": row["id"],
        "name": row["name"],
        "tags": json.loads(row["tags"]),
        "createdAt": rfc3339(row["created_at"]),
        "updatedAt": rfc3339(row["updated_at"]),
    }


def _sqlite_writes_json() -> bool:
    """Whether this process's SQLite has the JSON functions (built in since 3.38)."""
    try:
        with closing(sqlite3.connect(":memory:")) as conn:
            conn.execute("SELECT json_object('a', json('{}'))").fetchone()
    except sqlite3.OperationalError:
        return False
    return True


SQLITE_JSON = _sqlite_writes_json()


class Backend:
    """State of one sandbox account in a ``Store``, read and changed through API operations."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.messages = Messaging(store, clock, self.next_ids)

    # -- senders -------------------------------------------------------------------------

    def list_senders(
        self,
        *,
        channel: str | None = None,
        status: str | None = None,
        start: float | None = None,
        end: float | None = None,
        pool_id: str | None = None,
        after: str | None = None,
        limit: int = 50,
    ) -> tuple[list[dict], bool]:
        """Senders (or one pool's members) in id order, filtered by channel/status/created."""
        key = "m.sender_id" if pool_id else "s.id"
        where = Where()
        if pool_id:
            where.add("m.pool_id = ?", pool_id)
        if channel:
            where.add("s.channel = ?", channel)
        if status:
            where.add("s.status = ?", status)
        where.keyset(key, after, created="s.created_at", prefix=ids.SENDER, start=start, end=end)
        source = "memberships m JOIN senders s ON s.id = m.sender_id" if pool_id else "senders s"
        if pool_id:
            self.get_pool(pool_id)
        return self._sender_page(source, where, key, limit)

    def get_sender(self, sender_id: str) -> dict[str, object]:
        """One sender; 404 when unknown."""
        with self.store.read() as conn:
            row = conn.execute("SELECT * FROM senders WHERE id = ?", (sender_id,)).fetchone()
        if row is None:
            raise not_found(f"Sender {sender_id} not found")
        return sender_to_wire(row)

    def search_senders(
        self,
        *,
        address: str,
        channel: str,
        status: str | None = None,
        after: str | None = None,
        limit: int = 50,
    ) -> tuple[list[dict], bool]:
        """Senders with exactly this address on this channel (an empty page when none)."""
        where = Where().add("s.address = ?", address).add("s.channel = ?", channel)
        if status:
            where.add("s.status = ?", status)
        where.keyset("s.id", after)
        return self._sender_page("senders s", where, "s.id", limit)

    # -- sender pools --------------------------------------------------------------------

    def create_pool(self, *, name: str, tags: dict[str, str], sender_ids: list[str]) -> str:
        """Accept a pool creation (returns the operation id); the pool appears when the
        operation completes."""
        with self.store.write() as conn:
            pool_id, _ = self._next_id(ids.POOL)
            self.store.record_change(POOL_CHANGE, pool_id)
            return self._schedule(conn, "create", pool_id, sender_ids, name=name, tags=tags)

    def list_pools(
        self,
        *,
        start: float | None = None,
        end: float | None = None,
        operation_id: str | None = None,
        after: str | None = None,
        limit: int = 50,
    ) -> tuple[list[dict], bool]:
        """Pools in id order; ``operation_id`` finds the pool a create operation made."""
        where = Where()
        if operation_id:
            where.add("operation_id = ?", operation_id)
        where.keyset("id", after, created="created_at", prefix=ids.POOL, start=start, end=end)
        return self._page("SELECT * FROM pools", where, "id", limit, pool_to_wire)

    def get_pool(self, pool_id: str) -> dict[str, object]:
        """One pool; 404 when unknown."""
        with self.store.read() as conn:
            return pool_to_wire(self._pool_row(conn, pool_id))

    def update_pool(
        self, pool_id: str, *, name: str | None = None, tags: dict[str, str] | None = None
    ) -> None:
        """Rename and/or replace the whole tag map."""
        with self.store.write() as conn:
            self._pool_row(conn, pool_id)
            now = int(self.clock.seconds())
            if name is not None:
                conn.execute("UPDATE pools SET name = ? WHERE id = ?", (name, pool_id))
            if tags is not None:
                conn.execute("UPDATE pools SET tags = ? WHERE id = ?", (json.dumps(tags), pool_id))
            conn.execute("UPDATE pools SET updated_at = ? WHERE id = ?", (now, pool_id))
            self.store.record_change(POOL_CHANGE, pool_id)

    def delete_pool(self, pool_id: str) -> None:
        """Delete a pool and its memberships (its running operations end CANCELED)."""
        with self.store.write() as conn:
            self._pool_row(conn, pool_id)
            conn.execute("DELETE FROM memberships WHERE pool_id = ?", (pool_id,))
            conn.execute("DELETE FROM pools WHERE id = ?", (pool_id,))
            self.store.record_change(POOL_CHANGE, pool_id)

    def add_pool_senders(self, pool_id: str, sender_ids: list[str]) -> str:
        """Accept adding senders to a pool (returns the operation id); membership changes
        when the operation completes."""
        with self.store.write() as conn:
            self._pool_row(conn, pool_id)
            self.store.record_change(POOL_CHANGE, pool_id)
            return self._schedule(conn, "add", pool_id, sender_ids)

    def remove_pool_sender(self, pool_id: str, sender_id: str) -> None:
        """Take one sender out of a pool; 404 when the pool is unknown or it is no member."""
        with self.store.write() as conn:
            self._pool_row(conn, pool_id)
            gone = conn.execute(
                "DELETE FROM memberships WHERE pool_id = ? AND sender_id = ?", (pool_id, sender_id)
            ).rowcount
            if not gone:
                raise not_found(f"Sender {sender_id} is not a member of sender pool {pool_id}")
            conn.execute(
                "UPDATE pools SET updated_at = ? WHERE id = ?", (int(self.clock.seconds()), pool_id)
            )
            self.store.record_change(POOL_CHANGE, pool_id)

    def pool_member_ids(self, pool_id: str) -> list[str]:
        """Ids of a pool's members in id order (for tests and the state summary)."""
        with self.store.read() as conn:
            rows = conn.execute(
                "SELECT sender_id FROM memberships WHERE pool_id = ? ORDER BY sender_id", (pool_id,)
            ).fetchall()
        return [r[0] for r in rows]

    # -- operations ----------------------------------------------------------------------

    def list_operations(
        self,
        *,
        status: str | None = None,
        start: float | None = None,
        end: float | None = None,
        after: str | None = None,
        limit: int = 50,
    ) -> tuple[list[dict], bool]:
        """Sender pool operations in id order, filtered by status and created time."""
        where = Where().add("kind = 'sender_pool'")
        if status:
            where.add("status = ?", status)
        where.keyset("id", after, created="created_at", prefix=ids.OPERATION, start=start, end=end)
        now = self.clock.seconds()
        return self._page(
            "SELECT * FROM operations", where, "id", limit, lambda r: operations.to_wire(r, now)
        )

    def get_operation(self, operation_id: str, pool_id: str | None = None) -> dict[str, object]:
        """One sender pool operation (of ``pool_id`` when given); 404 when unknown."""
        with self.store.read() as conn:
            now = self.clock.seconds()
            row = conn.execute(
                "SELECT * FROM operations WHERE id = ? AND kind = 'sender_pool'", (operation_id,)
            ).fetchone()
        if row is None or (pool_id is not None and row["pool_id"] != pool_id):
            raise not_found(f"Operation {operation_id} not found")
        return operations.to_wire(row, now)

    def settle(self) -> int:
        """Complete every pool operation due on the sandbox clock and store the final stats
        of finished message operations; returns how many operations changed."""
        with self.store.lock:
            settled = self.messages.settle()
            with self.store.read() as conn:
                if not operations.due(conn, self.clock.seconds()):
                    return settled
            with self.store.write() as conn:
                return settled + operations.settle(conn, self.clock.seconds())

    # -- helpers -------------------------------------------------------------------------

    def _page(
        self,
        select: str,
        where: Where,
        key: str,
        limit: int,
        to_wire: Callable[[sqlite3.Row], dict[str, object]],
    ) -> tuple[list[dict], bool]:
        """Up to ``limit`` rows in ``key`` order, as wire dicts, and whether more follow."""
        with self.store.read() as conn:
            rows = conn.execute(
                f"{select} WHERE {where.sql()} ORDER BY {key} LIMIT ?", [*where.params, limit + 1]
            ).fetchall()
        return [to_wire(row) for row in rows[:limit]], len(rows) > limit

    def _sender_page(
        self, source: str, where: Where, key: str, limit: int
    ) -> tuple[list[dict] | JsonList, bool]:
        """A page of senders (table alias ``s``) in ``key`` order, and whether more follow:
        JSON texts written by SQLite (a ``JsonList``), or wire dicts where it cannot."""
        if not SQLITE_JSON:
            return self._page(f"SELECT s.* FROM {source}", where, key, limit, sender_to_wire)
        with self.store.read() as conn:
            rows = conn.execute(
                f"SELECT s.id, {SENDER_JSON_SQL} FROM {source} WHERE {where.sql()} "
                f"ORDER BY {key} LIMIT ?",
                [*where.params, limit + 1],
            ).fetchall()
        page = rows[:limit]
        items = JsonList([row[1] for row in page], last_id=page[-1][0] if page else None)
        return items, len(rows) > limit

    def _pool_row(self, conn: sqlite3.Connection, pool_id: str) -> sqlite3.Row:
        row: sqlite3.Row | None = conn.execute(
            "SELECT * FROM pools WHERE id = ?", (pool_id,)
        ).fetchone()
        if row is None:
            raise not_found(f"Sender pool {pool_id} not found")
        return row

    def _count_known(self, conn: sqlite3.Connection, sender_ids: list[str]) -> int:
        """How many items of ``sender_ids`` (duplicates included) name existing senders."""
        known: set[str] = set()
        unique = sorted(set(sender_ids))
        for i in range(0, len(unique), CHUNK):
            chunk = unique[i : i + CHUNK]
            marks = ",".join("?" * len(chunk))
            known.update(
                r[0] for r in conn.execute(f"SELECT id FROM senders WHERE id IN ({marks})", chunk)
            )
        return sum(1 for s in sender_ids if s in known)

    def _schedule(
        self,
        conn: sqlite3.Connection,
        action: str,
        pool_id: str,
        sender_ids: list[str],
        **extra: object,
    ) -> str:
        """Schedule a pool operation on the sandbox clock; returns its id."""
        operation_id, created_at = self._next_id(ids.OPERATION)
        due_at = operations.insert(
            conn,
            operations.Scheduled(
                id=operation_id,
                action=action,
                pool_id=pool_id,
                sender_ids=sender_ids,
                failed=len(sender_ids) - self._count_known(conn, sender_ids),
                created_at=created_at,
                extra=extra,
            ),
            now=self.clock.seconds(),
        )
        self.clock.skip_to(due_at)
        return operation_id

    def next_ids(self, prefix: str, n: int) -> tuple[list[str], int]:
        """``n`` new ids made in the same millisecond (counting up), and their creation time."""
        if n <= 0:
            return [], int(self.clock.seconds())
        first, created = self._next_id(prefix)
        ms, random_part = self.store.get_int("id_last_ms"), self.store.get_int("id_last_random")
        top = 1 << ids.RANDOM_BITS
        made = [first, *ids.make_ids(prefix, ms, [(random_part + i) % top for i in range(1, n)])]
        self.store.set("id_counter", self.store.get_int("id_counter") + n - 1)
        self.store.set("id_last_random", (random_part + n - 1) % top)
        return made, created

    def _next_id(self, prefix: str) -> tuple[str, int]:
        """A new id for the current sandbox time, and its creation time (whole seconds).

        Ids made in the same millisecond count up from the previous one (ULID "monotonic"
        mode), so ids always sort in creation order; the creation time is read back from the
        id so that the two never disagree. Call inside a write transaction.
        """
        get = self.store.get_int
        counter, last_ms, last_random = get("id_counter"), get("id_last_ms"), get("id_last_random")
        ms = int(self.clock.seconds() * 1000)
        if ms <= last_ms:
            ms, random_part = last_ms, (last_random + 1) % (1 << ids.RANDOM_BITS)
        else:
            random_part = ids.hashed_random(get("seed"), counter + 1)
        self.store.set("id_counter", counter + 1)
        self.store.set("id_last_ms", ms)
        self.store.set("id_last_random", random_part)
        return ids.make_id(prefix, ms, random_part), ms // 1000
