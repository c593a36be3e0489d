"""Delivery to webhook sinks: a background thread that publishes and POSTs batches.

``Deliverer(events)`` runs beside a server (``front.server`` starts one per server and stops
it with the server) or in a notebook (``with sandbox.events.delivering(): ...``). Each round it
publishes the events the sandbox clock has reached (``outbox.publish``) and POSTs every due
batch: a JSON array of CloudEvents, ``Content-Type: application/json``, HTTP Basic from the
destination's user info, ``X-Twilio-Signature`` over the URL with its ``bodySHA256``
(``signature``). A 2xx within ``RetryPolicy.timeout`` (5 s) delivers the batch; anything else
is retried after the policy's delays, then the sink is failed (``outbox.record``). The store is
never held during a POST, so the API answers while a slow sink is waited for.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

import httpx

from ..state.store import Store
from . import outbox, signature

INTERVAL = 0.05
USER_AGENT = "commstoolkit-sandbox EventStreams"
logger = logging.getLogger("commstoolkit.sandbox.events")


class Events(Protocol):
    """What delivery needs of an account's Event Streams (``service.Events`` is one)."""

    store: Store
    retry: outbox.RetryPolicy

    @property
    def auth_token(self) -> str: ...

    def publish(self) -> int: ...


class Deliverer:
    """Publishes and delivers the events of one account until stopped (a daemon thread)."""

    def __init__(self, events: Events, *, interval: float = INTERVAL) -> None:
        self.events = events
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._client: httpx.Client | None = None

    def __repr__(self) -> str:
        return f"Deliverer(running={self.running})"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> Deliverer:
        """Start the thread (once)."""
        if self._thread is None:
            self._client = httpx.Client(follow_redirects=False, trust_env=False)
            self._thread = threading.Thread(
                target=self._run, name="sandbox-event-delivery", daemon=True
            )
            self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread after its current round (a POST under way ends first)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._client is not None:
            self._client.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.round()
            except Exception:  # a closed account file, a bug: logged, the thread goes on
                logger.exception("sandbox: event delivery round failed")
            self._stop.wait(self.interval)

    def round(self) -> int:
        """Publish, then try each due batch once; how many batches were delivered."""
        self.events.publish()
        delivered = 0
        for batch in outbox.due(self.events.store):
            if self._stop.is_set():
                break
            error = self.post(batch)
            outbox.record(self.events.store, batch, error, self.events.retry)
            delivered += error is None
        return delivered

    def post(self, batch: outbox.Batch) -> str | None:
        """POST one batch; None when the sink answered 2xx in time, else what went wrong."""
        if self._client is not None:
            return self._post(self._client, batch)
        with httpx.Client(follow_redirects=False, trust_env=False) as client:
            return self._post(client, batch)

    def _post(self, client: httpx.Client, batch: outbox.Batch) -> str | None:
        url, auth_pair = signature.without_user_info(batch.destination)
        signed, signed_by = signature.sign(self.events.auth_token, url, batch.body)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            signature.HEADER: signed_by,
        }
        try:
            answer = client.post(
                signed,
                content=batch.body,
                headers=headers,
                auth=auth_pair if auth_pair else httpx.USE_CLIENT_DEFAULT,
                timeout=self.events.retry.timeout,
            )
        except httpx.TimeoutException:
            return f"no answer within {self.events.retry.timeout:g} s"
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"
        if 200 <= answer.status_code < 300:
            return None
        return f"HTTP {answer.status_code}"
