"""SQLite storage of the sandbox account: schema, connection settings, meta table, transactions.

One file holds one account, so a server process and several notebook kernels can share it:
WAL journaling, a busy timeout, and ``BEGIN IMMEDIATE`` for every write. Times are stored as
epoch seconds (created/updated, whole seconds as the API shows them) or float seconds (due
times); tags and operation payloads as JSON text. Messages keep their whole timeline (when they
are sent, final, read), fixed when the send is accepted, so their status is computed from the
clock on every read. Event Streams (``commstoolkit.sandbox.events``) keep their sinks,
subscriptions and every event emitted to a sink (``event_outbox``: pending, delivered, failed or
kept).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SCHEMA_VERSION = "2"
BUSY_TIMEOUT_MS = 10_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS senders (
    id TEXT PRIMARY KEY, display_name TEXT, address TEXT NOT NULL, channel TEXT NOT NULL,
    status TEXT NOT NULL, tags TEXT NOT NULL, created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS senders_channel ON senders (channel, id);
CREATE INDEX IF NOT EXISTS senders_channel_status ON senders (channel, status, id);
CREATE INDEX IF NOT EXISTS senders_status ON senders (status, id);
CREATE INDEX IF NOT EXISTS senders_address ON senders (address, channel);
CREATE TABLE IF NOT EXISTS pools (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, tags TEXT NOT NULL, operation_id TEXT,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS pools_operation ON pools (operation_id);
CREATE TABLE IF NOT EXISTS memberships (
    pool_id TEXT NOT NULL, sender_id TEXT NOT NULL, PRIMARY KEY (pool_id, sender_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS memberships_sender ON memberships (sender_id);
CREATE TABLE IF NOT EXISTS operations (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, action TEXT NOT NULL, pool_id TEXT NOT NULL,
    status TEXT NOT NULL, total INTEGER NOT NULL, created INTEGER NOT NULL,
    failed INTEGER NOT NULL, payload TEXT NOT NULL, created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL, started_at REAL NOT NULL, due_at REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS operations_kind ON operations (kind, status, id);
CREATE INDEX IF NOT EXISTS operations_due ON operations (status, due_at);
CREATE TABLE IF NOT EXISTS message_operations (
    id TEXT PRIMARY KEY, created_at INTEGER NOT NULL, start_at REAL NOT NULL,
    final_at REAL NOT NULL, last_change_at REAL NOT NULL, scheduled_for REAL,
    total INTEGER NOT NULL, unaddressable INTEGER NOT NULL, pool_id TEXT, tags TEXT NOT NULL,
    content TEXT NOT NULL, stats TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS message_operations_settle ON message_operations (stats, last_change_at);
CREATE TABLE IF NOT EXISTS messages (
    id TEXT PRIMARY KEY, operation_id TEXT NOT NULL, to_address TEXT NOT NULL,
    to_channel TEXT NOT NULL, profile TEXT, variables TEXT, sender_id TEXT, channel TEXT,
    n_attempts INTEGER NOT NULL, created_at INTEGER NOT NULL, start_at REAL NOT NULL,
    sent_at REAL NOT NULL, final_at REAL NOT NULL, final_status TEXT NOT NULL, read_at REAL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS messages_operation ON messages (operation_id, id);
CREATE TABLE IF NOT EXISTS attempts (
    message_id TEXT NOT NULL, n INTEGER NOT NULL, operation_id TEXT NOT NULL,
    sender_id TEXT NOT NULL, to_address TEXT NOT NULL, to_channel TEXT NOT NULL,
    attempted_at REAL NOT NULL, sent_at REAL NOT NULL, final_at REAL NOT NULL,
    final_status TEXT NOT NULL, read_at REAL, error_code INTEGER, sid TEXT NOT NULL,
    PRIMARY KEY (message_id, n)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS attempts_operation ON attempts (operation_id, attempted_at);
CREATE TABLE IF NOT EXISTS faults (
    id INTEGER PRIMARY KEY, rule TEXT NOT NULL, remaining INTEGER, evaluated INTEGER NOT NULL,
    fired INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS changes (
    kind TEXT NOT NULL, target TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (kind, target)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS event_sinks (
    seq INTEGER PRIMARY KEY, sid TEXT NOT NULL UNIQUE, description TEXT NOT NULL,
    sink_type TEXT NOT NULL, configuration TEXT NOT NULL, status TEXT NOT NULL, test_id TEXT,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, tries INTEGER NOT NULL,
    next_try REAL NOT NULL, last_error TEXT
);
CREATE TABLE IF NOT EXISTS event_subscriptions (
    seq INTEGER PRIMARY KEY, sid TEXT NOT NULL UNIQUE, description TEXT NOT NULL,
    sink_sid TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
    since REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS event_subscribed_types (
    seq INTEGER PRIMARY KEY, subscription_sid TEXT NOT NULL, type TEXT NOT NULL,
    schema_version INTEGER NOT NULL, UNIQUE (subscription_sid, type)
);
CREATE TABLE IF NOT EXISTS event_outbox (
    seq INTEGER PRIMARY KEY, sink_sid TEXT NOT NULL, event_id TEXT NOT NULL, type TEXT NOT NULL,
    time REAL NOT NULL, subject TEXT, body TEXT NOT NULL, state TEXT NOT NULL,
    tries INTEGER NOT NULL, delivered_at REAL
);
CREATE INDEX IF NOT EXISTS event_outbox_sink ON event_outbox (sink_sid, state, seq);
CREATE UNIQUE INDEX IF NOT EXISTS event_outbox_event ON event_outbox (sink_sid, event_id);
"""

DATA_TABLES = (
    "senders",
    "pools",
    "memberships",
    "operations",
    "message_operations",
    "messages",
    "attempts",
    "faults",
    "changes",
    "event_sinks",
    "event_subscriptions",
    "event_subscribed_types",
    "event_outbox",
)
# Kinds of the user's own changes: a pool (made, edited, deleted, members added or removed;
# ``n`` counts the writes) and a send (``n``: its messages).
POOL_CHANGE, SEND_CHANGE = "pool", "send"


class AccountFileError(ValueError):
    """``db`` cannot hold a sandbox account: a folder, not a SQLite file, or a place where the
    file or its folder cannot be made. The message names the file and what is wrong."""


class ReseedRefusedError(RuntimeError):
    """A reseed was asked for (another seed or size) without ``reset``, and the account holds
    the user's own work since it was seeded. ``db``: the file; ``changes``: what it holds."""

    def __init__(self, message: str, *, db: str, changes: Changes) -> None:
        super().__init__(message)
        self.db = db
        self.changes = changes


@dataclass(frozen=True)
class Changes:
    """The user's own work in an account since it was seeded (what a reseed would discard).

    ``pools``: pools made, edited, deleted or whose members changed; ``sends`` and
    ``messages``: sends accepted and the messages they hold. False when there is none;
    ``str()`` says it in words ("2 pools made or changed, 40 messages sent").
    """

    pools: int = 0
    sends: int = 0
    messages: int = 0

    def __bool__(self) -> bool:
        return bool(self.pools or self.sends)

    def __str__(self) -> str:
        if not self:
            return "no changes of yours"
        parts = []
        if self.pools:
            parts.append(f"{self.pools:,} pool{'s' * (self.pools != 1)} made or changed")
        if self.sends:
            parts.append(
                f"{self.messages:,} message{'s' * (self.messages != 1)} sent "
                f"({self.sends:,} send{'s' * (self.sends != 1)})"
            )
        return ", ".join(parts)

    def to_wire(self) -> dict[str, int]:
        """As the control endpoints show it."""
        return {"pools": self.pools, "sends": self.sends, "messages": self.messages}


def default_db_path() -> Path:
    """Where the sandbox keeps its account when no ``db`` is given.

    ``$COMMSTOOLKIT_SANDBOX_DB`` if set, else ``$XDG_DATA_HOME`` (default ``~/.local/share``)
    ``/commstoolkit/sandbox.sqlite3``.
    """
    explicit = os.environ.get("COMMSTOOLKIT_SANDBOX_DB")
    if explicit:
        return Path(explicit).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home).expanduser() / "commstoolkit" / "sandbox.sqlite3"


class Store:
    """One SQLite connection guarded by one lock; safe to use from several threads.

    ``AccountFileError`` (naming the file) when ``db`` is a folder, is not a SQLite file, or
    cannot be made; never a bare ``sqlite3`` or ``OSError``.
    """

    def __init__(self, db: str | os.PathLike[str]) -> None:
        self.path = str(db)
        self.lock = threading.RLock()
        try:
            self.conn = self._open()
        except (sqlite3.Error, OSError) as exc:
            raise AccountFileError(_file_problem(self.path, exc)) from None

    def _open(self) -> sqlite3.Connection:
        if self.path != ":memory:":
            path = Path(self.path)
            if path.is_dir():
                raise IsADirectoryError(f"{self.path} is a folder")
            path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if self.path != ":memory:":
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            self.conn = conn
            with self.write():
                self._migrate()
        except BaseException:
            conn.close()
            raise
        return conn

    def _migrate(self) -> None:
        """Create the schema; a file written by another schema version is emptied first."""
        tables = {
            r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        if "meta" in tables and self.get("schema_version") != SCHEMA_VERSION:
            for table in tables:
                self.conn.execute(f'DROP TABLE "{table}"')
            tables = set()
        if "meta" in tables and "changes" not in tables and self.get("seeded") == "1":
            # A file seeded before the sandbox kept its record of the user's changes: the
            # account fills it in from what the tables show (``Sandbox``), then clears this.
            self.set("changes_to_recover", 1)
        for statement in SCHEMA.split(";"):
            if statement.strip():
                self.conn.execute(statement)
        self.set("schema_version", SCHEMA_VERSION)

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE``: other processes wait, then see it all)."""
        with self.lock:
            if self.conn.in_transaction:
                yield self.conn
                return
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A consistent read snapshot (joins an open write transaction)."""
        with self.lock:
            if self.conn.in_transaction:
                yield self.conn
                return
            self.conn.execute("BEGIN")
            try:
                yield self.conn
            finally:
                self.conn.execute("COMMIT")

    def get(self, key: str, default: str | None = None) -> str | None:
        """A value of the meta table."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else row[0]

    def get_int(self, key: str, default: int = 0) -> int:
        """An integer value of the meta table."""
        return int(self.get(key) or default)

    def set(self, key: str, value: object) -> None:
        """Store a value in the meta table."""
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, str(value)),
        )

    def record_change(self, kind: str, target: str, n: int = 1) -> None:
        """Note the user's own change (inside the caller's write transaction, so that it is
        recorded exactly when the change is made): ``kind`` ``POOL_CHANGE`` or ``SEND_CHANGE``,
        ``target`` the pool or send, ``n`` writes or messages."""
        self.conn.execute(
            "INSERT INTO changes (kind, target, n) VALUES (?, ?, ?) "
            "ON CONFLICT (kind, target) DO UPDATE SET n = n + excluded.n",
            (kind, target, n),
        )

    def changes(self) -> Changes:
        """The user's own work since the account was seeded (one indexed scan of a table that
        holds a row per pool touched and per send)."""
        with self.read() as conn:
            found = {
                kind: (count, total)
                for kind, count, total in conn.execute(
                    "SELECT kind, COUNT(*), SUM(n) FROM changes GROUP BY kind"
                )
            }
        pools, _ = found.get(POOL_CHANGE, (0, 0))
        sends, messages = found.get(SEND_CHANGE, (0, 0))
        return Changes(pools=pools, sends=sends, messages=messages)

    def wipe(self) -> None:
        """Delete all account data (inside the caller's write transaction); meta is kept."""
        for table in DATA_TABLES:
            self.conn.execute(f"DELETE FROM {table}")

    def close(self) -> None:
        """Close the connection."""
        with self.lock:
            self.conn.close()


def _file_problem(path: str, exc: BaseException) -> str:
    """One sentence: the file, and why it cannot hold a sandbox account."""
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    if isinstance(exc, IsADirectoryError) and Path(path).is_dir():
        what = "is a folder, not a file"
    elif isinstance(exc, OSError):
        blocker = next((p for p in Path(path).parents if p.exists() and not p.is_dir()), None)
        if blocker is not None:
            what = f"cannot be made: {blocker} is a file, not a folder"
        else:
            what = f"cannot be made: {reason} ({getattr(exc, 'filename', None) or path})"
    elif "not a database" in reason:
        what = "is not a SQLite file (it holds something else)"
    elif Path(path).is_dir():
        what = "is a folder, not a file"
    else:
        what = f"cannot be opened as a SQLite file: {reason}"
    return (
        f"db {path!r} {what}; pass db= a new or existing sandbox file (*.sqlite3), "
        "or ':memory:' for a throw-away account"
    )
