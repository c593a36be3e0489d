"""``Events``: an account's Event Streams, as the sandbox's ``events`` attribute.

The API's resources (``streams.EventStreams``: Sinks, Subscriptions, Types) plus emission:
``publish()`` moves what the clock has reached into the outbox, ``emitted()`` reads what was
emitted and what became of it, ``retry`` is the delivery policy (a test may shorten it), and
``delivering()`` runs a ``Deliverer`` for a block (a server runs one for its lifetime),
``keep_delivering()`` one until ``stop_delivering()`` or the sandbox closes (what
``commstoolkit.events.subscribe`` asks of an embedded sandbox);
``write_history()`` writes every event of the account's sends, the seeded traffic history
included, as JSON-lines files (what a Kinesis stream delivered to storage leaves).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..simulation.clock import Clock
from ..state.store import Store
from . import outbox, timeline
from .delivery import INTERVAL, Deliverer
from .streams import EventStreams

DAY = 86400.0


class Events(EventStreams):
    """Event Streams of one account: resources, emission, delivery."""

    def __init__(
        self, store: Store, clock: Clock, credentials: Callable[[], tuple[str, str]]
    ) -> None:
        super().__init__(store, clock, credentials()[0])
        self._credentials = credentials
        self.retry = outbox.RetryPolicy()
        self._kept: Deliverer | None = None

    def __repr__(self) -> str:
        return f"Events(account_sid={self.account_sid!r}, retry={self.retry!r})"

    @property
    def auth_token(self) -> str:
        """The key of ``X-Twilio-Signature`` (the account's auth token; never in a repr)."""
        return self._credentials()[1]

    def publish(self) -> int:
        """Emit the events the sandbox clock has reached; how many outbox rows were made."""
        return outbox.publish(self.store, self.clock, self.account_sid)

    def emitted(
        self, *, sink_sid: str | None = None, state: str | None = None
    ) -> list[dict[str, Any]]:
        """Every event emitted (to ``sink_sid``; in ``state``: pending, delivered, failed or
        kept), in order, as ``{sink_sid, state, tries, event}``."""
        self.publish()
        return outbox.emitted(self.store, sink_sid=sink_sid, state=state)

    def idle(self) -> bool:
        """Whether every emitted webhook event has been delivered or given up."""
        self.publish()
        return outbox.idle(self.store)

    def start_at(self, seconds: float) -> None:
        """Nothing before ``seconds`` (sandbox time) will be emitted (a (re)seed calls it)."""
        timeline.start_cursor(self.store, seconds)

    def write_history(
        self,
        folder: str | os.PathLike[str],
        *,
        start: float | None = None,
        end: float | None = None,
    ) -> list[Path]:
        """Every event of the account's sends between ``start`` and ``end`` (sandbox epoch
        seconds; default: from its first send, the seeded traffic history included, to the
        clock's now), whether or not a sink was subscribed, written as a Kinesis stream
        delivered to storage would be: JSON lines, one file per UTC day
        (``events-YYYY-MM-DD.jsonl``, made in ``folder``). Returns the files written."""
        with self.store.read() as conn:
            first = conn.execute("SELECT MIN(created_at) FROM message_operations").fetchone()[0]
            now = self.clock.seconds()
        low = float(first if start is None and first is not None else start or now)
        high = now if end is None else end
        target = Path(folder)
        target.mkdir(parents=True, exist_ok=True)
        written = []
        day = low - low % DAY
        while day <= high:
            window = (max(low, day), min(high, day + DAY - 0.001))
            with self.store.read() as conn:
                fetched = timeline.fetch(conn, *window)
            events = [e for e in timeline.build(fetched, self.account_sid) if e.time < day + DAY]
            if events:
                path = target / f"events-{time.strftime('%Y-%m-%d', time.gmtime(day))}.jsonl"
                with path.open("w", encoding="utf-8") as out:
                    for event in events:
                        out.write(json.dumps(event.body, separators=(",", ":")) + "\n")
                written.append(path)
            day += DAY
        return written

    def deliverer(self, *, interval: float = INTERVAL) -> Deliverer:
        """A ``Deliverer`` for this account (not started)."""
        return Deliverer(self, interval=interval)

    def keep_delivering(self, *, interval: float = INTERVAL) -> bool:
        """Deliver to webhook sinks in a background thread from now until
        ``stop_delivering()`` (or the sandbox closes); whether it started one (False: one
        already runs)."""
        if self._kept is not None and self._kept.running:
            return False
        self._kept = self.deliverer(interval=interval).start()
        return True

    def stop_delivering(self) -> None:
        """Stop what ``keep_delivering`` started (nothing when it runs none)."""
        if self._kept is not None:
            self._kept.stop()
            self._kept = None

    @contextmanager
    def delivering(self, *, interval: float = INTERVAL) -> Iterator[Deliverer]:
        """Deliver to webhook sinks in a background thread while the block runs."""
        deliverer = self.deliverer(interval=interval).start()
        try:
            yield deliverer
        finally:
            deliverer.stop()
