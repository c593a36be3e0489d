"""SQLite storage of the sandbox account: schema, connection settings, meta table, transactions.

One file holds one account, so a server process and several notebook kernels can share it:
WAL journaling, a busy timeout, and ``BEGIN IMMEDIATE`` for every write. Times are stored as
epoch seconds (created/updated, whole seconds as the API shows them) or float seconds (due
times); tags and operation payloads as JSON text. Messages keep their whole timeline (when they
are sent, final, read), fixed when the send is accepted, so their status is computed from the
clock on every read.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
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
)


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
    """One SQLite connection guarded by one lock; safe to use from several threads."""

    def __init__(self, db: str | os.PathLike[str]) -> None:
        self.path = str(db)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if self.path != ":memory:":
            self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = NORMAL")
        with self.write():
            self._migrate()

    def _migrate(self) -> None:
        """Create the schema; a file written by another schema version is emptied first."""
        tables = {
            r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        if "meta" in tables and self.get("schema_version") != SCHEMA_VERSION:
            for table in tables:
                self.conn.execute(f'DROP TABLE "{table}"')
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

    def wipe(self) -> None:
        """Delete all account data (inside the caller's write transaction); meta is kept."""
        for table in DATA_TABLES:
            self.conn.execute(f"DELETE FROM {table}")

    def close(self) -> None:
        """Close the connection."""
        with self.lock:
            self.conn.close()
