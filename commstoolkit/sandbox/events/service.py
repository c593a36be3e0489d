"""``Events``: an account's Event Streams, as the sandbox's ``events`` attribute.

The API's resources (``streams.EventStreams``: Sinks, Subscriptions, Types) plus emission:
``publish()`` moves what the clock has reached into the outbox, ``emitted()`` reads what was
emitted and what became of it, ``retry`` is the delivery policy (a test may shorten it), and
``delivering()`` runs a ``Deliverer`` for a block (a server runs one for its lifetime).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ..simulation.clock import Clock
from ..state.store import Store
from . import outbox, timeline
from .delivery import INTERVAL, Deliverer
from .streams import EventStreams


class Events(EventStreams):
    """Event Streams of one account: resources, emission, delivery."""

    def __init__(
        self, store: Store, clock: Clock, credentials: Callable[[], tuple[str, str]]
    ) -> None:
        super().__init__(store, clock, credentials()[0])
        self._credentials = credentials
        self.retry = outbox.RetryPolicy()

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

    def deliverer(self, *, interval: float = INTERVAL) -> Deliverer:
        """A ``Deliverer`` for this account (not started)."""
        return Deliverer(self, interval=interval)

    @contextmanager
    def delivering(self, *, interval: float = INTERVAL) -> Iterator[Deliverer]:
        """Deliver to webhook sinks in a background thread while the block runs."""
        deliverer = self.deliverer(interval=interval).start()
        try:
            yield deliverer
        finally:
            deliverer.stop()
