"""Event Streams state: Sinks, Subscriptions and their subscribed types, Types (no HTTP here).

Methods take validated Python values and return the API's JSON (snake_case, RFC 3339 times),
or raise ``ApiError`` (404 for an unknown sid, 400 for what the account's state refuses).
Listings give every item in the order things were made, each with its ``seq`` (the key the
front pages on: an account holds a handful of sinks and subscriptions). ``base`` is the Event
Streams base URL the answers' ``url`` fields start with (``https://events.twilio.com/v1``
live).

Sink lifecycle (events-contract README): created ``initialized``; ``test`` sends it a test event
carrying a ``test_id`` and makes it ``validating``; ``validate`` with that id makes it
``active``; a webhook that keeps refusing deliveries after every retry becomes ``failed``
(``outbox``), and Test + Validate make it active again. Sandbox decisions where the sources
are silent: a subscription needs an ``active`` sink; a sink used by a subscription cannot be
deleted; a webhook's ``method`` must be POST (a JSON body); the password of a destination's
user info never appears in an answer (shown as ``****``).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from ..exceptions import ApiError, ErrorItem, not_found
from ..simulation.clock import Clock, rfc3339
from ..state.store import Store
from . import timeline
from .catalogue import BY_TYPE, TEST_TYPE, TYPES, type_to_wire

SINK_PREFIX, SUBSCRIPTION_PREFIX = "DG", "DF"
INVALID_PARAMETER = 20001
SINK_TYPES = ("kinesis", "webhook", "segment", "email")


def refused(message: str, parameter: str | None = None) -> ApiError:
    """A 400 of a classic Twilio API (code 20001) naming the parameter."""
    return ApiError(400, [ErrorItem(INVALID_PARAMETER, message, parameter)])


def shown_configuration(configuration: dict[str, Any]) -> dict[str, Any]:
    """A sink's configuration as answers show it: a destination's password masked."""
    destination = configuration.get("destination")
    if not isinstance(destination, str):
        return configuration
    parts = urlsplit(destination)
    if parts.password is None:
        return configuration
    masked = destination.replace(f":{parts.password}@", ":****@", 1)
    return {**configuration, "destination": masked}


class EventStreams:
    """Sinks, Subscriptions and Types of one sandbox account (its ``events`` attribute)."""

    def __init__(self, store: Store, clock: Clock, account_sid: str) -> None:
        self.store = store
        self.clock = clock
        self.account_sid = account_sid

    # -- ids -----------------------------------------------------------------------------

    def _sid(self, prefix: str) -> str:
        """A new sid (``DG``/``DF`` + 32 hex digits), deterministic for the seed."""
        n = self.store.get_int("events_counter") + 1
        self.store.set("events_counter", n)
        key = f"{self.store.get_int('seed')}|{prefix}|{n}".encode()
        return prefix + hashlib.blake2b(key, digest_size=16).hexdigest()

    # -- sinks ---------------------------------------------------------------------------

    def create_sink(
        self, *, description: str, sink_type: str, configuration: dict[str, Any], base: str
    ) -> dict[str, Any]:
        with self.store.write() as conn:
            sid = self._sid(SINK_PREFIX)
            now = int(self.clock.seconds())
            conn.execute(
                "INSERT INTO event_sinks (sid, description, sink_type, configuration, status, "
                "created_at, updated_at, tries, next_try) "
                "VALUES (?, ?, ?, ?, 'initialized', ?, ?, 0, 0)",
                (sid, description, sink_type, json.dumps(configuration), now, now),
            )
            return self._sink_to_wire(self._sink_row(conn, sid), base)

    def list_sinks(
        self, *, in_use: bool | None, status: str | None, base: str
    ) -> list[tuple[int, dict[str, Any]]]:
        """Sinks in creation order, each with its place (``seq``, the paging key)."""
        where: list[str] = ["1"]
        params: list[object] = []
        if status is not None:
            where.append("status = ?")
            params.append(status)
        if in_use is not None:
            used = "EXISTS (SELECT 1 FROM event_subscriptions u WHERE u.sink_sid = sid)"
            where.append(used if in_use else f"NOT {used}")
        with self.store.read() as conn:
            rows = conn.execute(
                f"SELECT * FROM event_sinks WHERE {' AND '.join(where)} ORDER BY seq", params
            ).fetchall()
        return [(r["seq"], self._sink_to_wire(r, base)) for r in rows]

    def get_sink(self, sid: str, base: str) -> dict[str, Any]:
        with self.store.read() as conn:
            return self._sink_to_wire(self._sink_row(conn, sid), base)

    def update_sink(self, sid: str, *, description: str, base: str) -> dict[str, Any]:
        with self.store.write() as conn:
            self._sink_row(conn, sid)
            conn.execute(
                "UPDATE event_sinks SET description = ?, updated_at = ? WHERE sid = ?",
                (description, int(self.clock.seconds()), sid),
            )
            return self._sink_to_wire(self._sink_row(conn, sid), base)

    def delete_sink(self, sid: str) -> None:
        with self.store.write() as conn:
            self._sink_row(conn, sid)
            used = conn.execute(
                "SELECT sid FROM event_subscriptions WHERE sink_sid = ? ORDER BY seq LIMIT 1",
                (sid,),
            ).fetchone()
            if used is not None:
                raise refused(
                    f"Sink {sid} is used by subscription {used[0]}; delete the subscription first",
                    "Sid",
                )
            conn.execute("DELETE FROM event_sinks WHERE sid = ?", (sid,))
            conn.execute(
                "UPDATE event_outbox SET state = 'failed' WHERE sink_sid = ? AND state = 'pending'",
                (sid,),
            )

    def test_sink(self, sid: str) -> dict[str, str]:
        """Send the sink a test event (through the outbox) carrying a new ``test_id``."""
        with self.store.write() as conn:
            sink = self._sink_row(conn, sid)
            n = self.store.get_int("events_counter") + 1
            self.store.set("events_counter", n)
            test_id = timeline.event_id("test", self.store.get_int("seed"), sid, n)
            now = self.clock.seconds()
            event = timeline.envelope(
                TEST_TYPE, f"/v1/Sinks/{sid}", now, {"test_id": test_id}, sid, test_id
            )
            state = "pending" if sink["sink_type"] == "webhook" else "kept"
            conn.execute(
                "INSERT INTO event_outbox (sink_sid, event_id, type, time, subject, body, state, "
                "tries) VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
                (sid, event["id"], TEST_TYPE, now, sid, json.dumps(event), state),
            )
            conn.execute(
                "UPDATE event_sinks SET status = 'validating', test_id = ?, tries = 0, "
                "next_try = 0, updated_at = ? WHERE sid = ?",
                (test_id, int(now), sid),
            )
        return {"result": "submitted"}

    def validate_sink(self, sid: str, test_id: str) -> dict[str, str]:
        """Make the sink active when ``test_id`` is its last test event's."""
        with self.store.write() as conn:
            sink = self._sink_row(conn, sid)
            if sink["test_id"] is None:
                raise refused(f"Sink {sid} has not been sent a test event: POST .../Test first")
            if test_id != sink["test_id"]:
                raise refused(
                    f"TestId {test_id!r} is not the id of the test event last sent to sink {sid}",
                    "TestId",
                )
            conn.execute(
                "UPDATE event_sinks SET status = 'active', updated_at = ? WHERE sid = ?",
                (int(self.clock.seconds()), sid),
            )
        return {"result": "valid"}

    def _sink_row(self, conn: sqlite3.Connection, sid: str) -> sqlite3.Row:
        row: sqlite3.Row | None = conn.execute(
            "SELECT * FROM event_sinks WHERE sid = ?", (sid,)
        ).fetchone()
        if row is None:
            raise not_found(f"The requested resource /Sinks/{sid} was not found")
        return row

    def _sink_to_wire(self, row: sqlite3.Row, base: str) -> dict[str, Any]:
        url = f"{base}/Sinks/{row['sid']}"
        return {
            "status": row["status"],
            "sink_configuration": shown_configuration(json.loads(row["configuration"])),
            "description": row["description"],
            "sid": row["sid"],
            "date_created": rfc3339(row["created_at"]),
            "sink_type": row["sink_type"],
            "date_updated": rfc3339(row["updated_at"]),
            "url": url,
            "links": {"sink_test": f"{url}/Test", "sink_validate": f"{url}/Validate"},
        }

    # -- subscriptions -------------------------------------------------------------------

    def create_subscription(
        self,
        *,
        description: str,
        sink_sid: str,
        types: Sequence[tuple[str, int | None]],
        base: str,
    ) -> dict[str, Any]:
        with self.store.write() as conn:
            sink = conn.execute(
                "SELECT status FROM event_sinks WHERE sid = ?", (sink_sid,)
            ).fetchone()
            if sink is None:
                raise refused(f"Sink {sink_sid} not found", "SinkSid")
            if sink["status"] != "active":
                raise refused(
                    f"Sink {sink_sid} is {sink['status']}, not active: POST /Sinks/{sink_sid}/Test "
                    f"sends it a test event, then POST /Sinks/{sink_sid}/Validate with the "
                    "TestId it received",
                    "SinkSid",
                )
            sid = self._sid(SUBSCRIPTION_PREFIX)
            now = self.clock.seconds()
            if not conn.execute(
                "SELECT 1 FROM event_subscriptions s JOIN event_sinks k ON k.sid = s.sink_sid "
                "WHERE k.status = 'active' LIMIT 1"
            ).fetchone():
                # Nothing was being emitted: emission starts with this subscription.
                timeline.cursor_behind(self.store, now)
            conn.execute(
                "INSERT INTO event_subscriptions (sid, description, sink_sid, created_at, "
                "updated_at, since) VALUES (?, ?, ?, ?, ?, ?)",
                (sid, description, sink_sid, int(now), int(now), now),
            )
            for type_, version in types:
                self._subscribe(conn, sid, type_, version)
            return self._subscription_to_wire(self._subscription_row(conn, sid), base)

    def list_subscriptions(
        self, *, sink_sid: str | None, base: str
    ) -> list[tuple[int, dict[str, Any]]]:
        """Subscriptions (of ``sink_sid``) in creation order, each with its ``seq``."""
        with self.store.read() as conn:
            rows = conn.execute(
                "SELECT * FROM event_subscriptions WHERE ? IS NULL OR sink_sid = ? ORDER BY seq",
                (sink_sid, sink_sid),
            ).fetchall()
        return [(r["seq"], self._subscription_to_wire(r, base)) for r in rows]

    def get_subscription(self, sid: str, base: str) -> dict[str, Any]:
        with self.store.read() as conn:
            return self._subscription_to_wire(self._subscription_row(conn, sid), base)

    def update_subscription(
        self, sid: str, *, description: str | None, base: str
    ) -> dict[str, Any]:
        with self.store.write() as conn:
            self._subscription_row(conn, sid)
            if description is not None:
                conn.execute(
                    "UPDATE event_subscriptions SET description = ? WHERE sid = ?",
                    (description, sid),
                )
            conn.execute(
                "UPDATE event_subscriptions SET updated_at = ? WHERE sid = ?",
                (int(self.clock.seconds()), sid),
            )
            return self._subscription_to_wire(self._subscription_row(conn, sid), base)

    def delete_subscription(self, sid: str) -> None:
        with self.store.write() as conn:
            self._subscription_row(conn, sid)
            conn.execute("DELETE FROM event_subscribed_types WHERE subscription_sid = ?", (sid,))
            conn.execute("DELETE FROM event_subscriptions WHERE sid = ?", (sid,))

    def _subscription_row(self, conn: sqlite3.Connection, sid: str) -> sqlite3.Row:
        row: sqlite3.Row | None = conn.execute(
            "SELECT * FROM event_subscriptions WHERE sid = ?", (sid,)
        ).fetchone()
        if row is None:
            raise not_found(f"The requested resource /Subscriptions/{sid} was not found")
        return row

    def _subscription_to_wire(self, row: sqlite3.Row, base: str) -> dict[str, Any]:
        url = f"{base}/Subscriptions/{row['sid']}"
        return {
            "account_sid": self.account_sid,
            "date_created": rfc3339(row["created_at"]),
            "date_updated": rfc3339(row["updated_at"]),
            "sid": row["sid"],
            "sink_sid": row["sink_sid"],
            "description": row["description"],
            "url": url,
            "links": {"subscribed_events": f"{url}/SubscribedEvents"},
        }

    # -- subscribed events ---------------------------------------------------------------

    def list_subscribed(self, sid: str, *, base: str) -> list[tuple[int, dict[str, Any]]]:
        """A subscription's types in the order they were added, each with its ``seq``."""
        with self.store.read() as conn:
            self._subscription_row(conn, sid)
            rows = conn.execute(
                "SELECT * FROM event_subscribed_types WHERE subscription_sid = ? ORDER BY seq",
                (sid,),
            ).fetchall()
        return [(r["seq"], self._subscribed_to_wire(r, base)) for r in rows]

    def add_subscribed(
        self, sid: str, type_: str, version: int | None, base: str
    ) -> tuple[dict[str, Any], bool]:
        """Subscribe ``sid`` to a type (again: its schema version changes); (answer, new)."""
        with self.store.write() as conn:
            self._subscription_row(conn, sid)
            new = self._subscribe(conn, sid, type_, version)
            return self._subscribed_to_wire(self._subscribed_row(conn, sid, type_), base), new

    def get_subscribed(self, sid: str, type_: str, base: str) -> dict[str, Any]:
        with self.store.read() as conn:
            self._subscription_row(conn, sid)
            return self._subscribed_to_wire(self._subscribed_row(conn, sid, type_), base)

    def update_subscribed(
        self, sid: str, type_: str, version: int | None, base: str
    ) -> dict[str, Any]:
        with self.store.write() as conn:
            self._subscription_row(conn, sid)
            self._subscribed_row(conn, sid, type_)
            if version is not None:
                self._subscribe(conn, sid, type_, version, "SchemaVersion")
            return self._subscribed_to_wire(self._subscribed_row(conn, sid, type_), base)

    def remove_subscribed(self, sid: str, type_: str) -> None:
        with self.store.write() as conn:
            self._subscription_row(conn, sid)
            self._subscribed_row(conn, sid, type_)
            conn.execute(
                "DELETE FROM event_subscribed_types WHERE subscription_sid = ? AND type = ?",
                (sid, type_),
            )

    def _subscribe(
        self,
        conn: sqlite3.Connection,
        sid: str,
        type_: str,
        version: int | None,
        parameter: str = "Type",
    ) -> bool:
        """Add (or re-version) one type of a subscription; whether it is new."""
        known = BY_TYPE.get(type_)
        if known is None:
            raise refused(
                f"Unknown event type {type_!r}; GET /Types lists them "
                f"({', '.join(t.type for t in TYPES)})",
                parameter,
            )
        if version is not None and not 1 <= version <= known.version:
            raise refused(
                f"{type_} has schema versions 1 to {known.version}, not {version}", parameter
            )
        existed = conn.execute(
            "SELECT 1 FROM event_subscribed_types WHERE subscription_sid = ? AND type = ?",
            (sid, type_),
        ).fetchone()
        conn.execute(
            "INSERT INTO event_subscribed_types (subscription_sid, type, schema_version) "
            "VALUES (?, ?, ?) ON CONFLICT (subscription_sid, type) "
            "DO UPDATE SET schema_version = excluded.schema_version",
            (sid, type_, version or known.version),
        )
        return existed is None

    def _subscribed_row(self, conn: sqlite3.Connection, sid: str, type_: str) -> sqlite3.Row:
        row: sqlite3.Row | None = conn.execute(
            "SELECT * FROM event_subscribed_types WHERE subscription_sid = ? AND type = ?",
            (sid, type_),
        ).fetchone()
        if row is None:
            raise not_found(
                f"The requested resource /Subscriptions/{sid}/SubscribedEvents/{type_} "
                "was not found"
            )
        return row

    def _subscribed_to_wire(self, row: sqlite3.Row, base: str) -> dict[str, Any]:
        sid, type_ = row["subscription_sid"], row["type"]
        return {
            "account_sid": self.account_sid,
            "type": type_,
            "schema_version": row["schema_version"],
            "subscription_sid": sid,
            "url": f"{base}/Subscriptions/{sid}/SubscribedEvents/{type_}",
        }

    # -- types ---------------------------------------------------------------------------

    def list_types(self, *, schema_id: str | None, base: str) -> list[tuple[int, dict[str, Any]]]:
        """The catalogue's types (of ``schema_id``), each with its place in it (from 1)."""
        return [
            (n, type_to_wire(t.type, base))
            for n, t in enumerate(TYPES, 1)
            if schema_id in (None, t.schema_id)
        ]

    def get_type(self, type_: str, base: str) -> dict[str, Any]:
        if type_ not in BY_TYPE:
            raise not_found(f"The requested resource /Types/{type_} was not found")
        return type_to_wire(type_, base)
