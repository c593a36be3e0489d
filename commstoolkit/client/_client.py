"""``CommsClient``: one object per account, with a resource attribute per API area."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from functools import cached_property
from typing import Any

import httpx

from commstoolkit.client._http import Credentials, HttpCore, _is_loopback, check_base_url
from commstoolkit.client.event_streams import EventStreams
from commstoolkit.client.messages import Messages
from commstoolkit.client.retry import RetryPolicy
from commstoolkit.client.sender_pools import SenderPools
from commstoolkit.client.senders import Senders
from commstoolkit.client.waiting import OperationPoller
from commstoolkit.errors import ConfigurationError
from commstoolkit.models import Operation

DEFAULT_BASE_URL = "https://comms.twilio.com/v1"
PREVIEW_BASE_URL = "https://comms.twilio.com/preview"
EVENTS_BASE_URL = "https://events.twilio.com/v1"
LIVE_HOST = "comms.twilio.com"


def events_base_url_for(base_url: str) -> str:
    """The Event Streams base URL that goes with a Communications API base URL: Twilio's
    (``EVENTS_BASE_URL``) for ``comms.twilio.com``, else ``/events/v1`` on the same origin
    (where a commstoolkit sandbox, embedded or served, answers it)."""
    url = check_base_url(base_url)
    if url.host == LIVE_HOST:
        return EVENTS_BASE_URL
    return str(url.copy_with(path="/events/v1", query=None, fragment=None))


class CommsClient:
    """A synchronous client for the Communications API (Senders, SenderPools, Messages).

    Authenticates with ``account_sid`` + ``auth_token`` or ``api_key`` + ``api_secret``
    (``ConfigurationError`` without either pair). ``base_url`` must be https (plain http
    only to a loopback host). ``transport`` replaces the network (tests, the sandbox);
    ``retry`` tunes retries; ``timeout`` is per request, in seconds. ``sleep`` and ``clock``
    replace ``time.sleep`` and ``time.monotonic`` (tests, simulated time).

    Resources: ``client.senders``, ``client.sender_pools`` (with ``.members`` and
    ``.operations``), ``client.messages`` (with ``.operations``), ``client.event_streams``
    (Twilio Event Streams at ``events_base_url``: by default ``events_base_url_for(base_url)``,
    ``https://events.twilio.com/v1`` live); ``client.wait(op)`` polls an operation to its end.
    Use it as a context manager, or call ``close()``.
    """

    def __init__(
        self,
        *,
        account_sid: str | None = None,
        auth_token: str | None = None,
        api_key: str | None = None,
        api_secret: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        events_base_url: str | None = None,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        live: bool = True,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise ConfigurationError(f"timeout must be a number of seconds > 0, got {timeout!r}")
        credentials = Credentials(
            account_sid=account_sid, auth_token=auth_token, api_key=api_key, api_secret=api_secret
        )
        url = check_base_url(base_url)
        self.base_url = str(url)
        try:
            events_url = check_base_url(events_base_url or events_base_url_for(base_url))
        except ConfigurationError as exc:
            raise ConfigurationError(f"events_base_url: {exc}") from None
        self.events_base_url = str(events_url)
        self.live = live
        self.sandbox: Any = None
        self._sleep = sleep
        self._clock = clock
        self._http = HttpCore(
            base_url=url,
            credentials=credentials,
            transport=transport,
            timeout=timeout,
            retry=retry or RetryPolicy(),
            sleep=sleep,
        )
        # Event Streams: its own base URL, the same identity, transport and retries.
        self._events_http = HttpCore(
            base_url=events_url,
            credentials=credentials,
            transport=transport,
            timeout=timeout,
            retry=self._http.retry,
            sleep=sleep,
        )

    @property
    def account(self) -> str:
        """Who the client authenticates as: the account SID or the API key SID (never the
        secret); with ``base_url``, what keys the frames' cache."""
        return self._http.username

    @property
    def retry(self) -> RetryPolicy:
        """The retry policy in use."""
        return self._http.retry

    @property
    def server_is_sandbox(self) -> bool | None:
        """Whether the server's last answer came from a commstoolkit sandbox (every answer of
        one carries ``X-Commstoolkit-Sandbox``): True, False, or None before any answer.

        It only informs; it never turns the live-mode guards off: ``live`` stays what it was
        set to (set ``client.live = False`` to drop the test-send guards for a server you know
        is a sandbox).
        """
        return self._http.server_is_sandbox

    def server_now(self) -> datetime | None:
        """The server's time now, by the ``Date`` header of its last answer (Twilio's clock,
        or a sandbox's own clock, which may run far from this machine's); None before any
        answer. Windows like ``"7d"`` count back from it (``ct.load_traffic``)."""
        return self._http.server_now()

    def round_trip(self) -> float | None:
        """The shortest time one of the last few requests took, from sending it to reading
        its answer (seconds; None before any): whether there is a network round trip for
        concurrent loads to hide (``client.concurrency``)."""
        return self._http.round_trip()

    def identify_server(self, timeout: float = 2.0) -> bool | None:
        """Find out whether the base URL is a commstoolkit sandbox server: for a loopback host
        (``localhost``, ``127.0.0.1``, ``::1``), one cheap read (``GET /Senders?pageSize=1``,
        no retries, ``timeout`` seconds); for any other host, no request at all (Twilio is
        never probed). Returns ``server_is_sandbox``: None when nothing answered (or the host
        is not loopback and nothing was asked yet).
        """
        if self.sandbox is None and _is_loopback(self._http.base_url.host):
            self._http.probe("/Senders", params={"pageSize": 1}, timeout=timeout)
        return self.server_is_sandbox

    @cached_property
    def senders(self) -> Senders:
        """The account's senders: ``list``, ``get``, ``search``, ``resolve``."""
        return Senders(self._http)

    @cached_property
    def sender_pools(self) -> SenderPools:
        """Sender pools: ``create``, ``list``, ``get``, ``update``, ``delete``, ``find_created``,
        ``.members`` and ``.operations``."""
        return SenderPools(self._http)

    @cached_property
    def messages(self) -> Messages:
        """Messages: ``send``, ``list``, ``get`` and ``.operations`` (message operations)."""
        return Messages(self._http)

    @cached_property
    def event_streams(self) -> EventStreams:
        """Twilio Event Streams (``events_base_url``): sinks (create, Test, Validate, delete),
        subscriptions and types; ``commstoolkit.events.subscribe`` uses it."""
        return EventStreams(self._events_http)

    @cached_property
    def _operations(self) -> OperationPoller:
        return OperationPoller(self._http, sleep=self._sleep, clock=self._clock)

    def wait(
        self,
        operation_or_id: Operation | str,
        *,
        timeout: float = 120.0,
        poll_interval: float = 0.5,
        progress: bool | None = False,
        kind: str | None = None,
    ) -> Operation:
        """Poll an operation until it is COMPLETED or CANCELED and return its final state.

        ``operation_or_id`` is an ``Operation`` (its ``kind`` says where to poll) or an id, with
        ``kind`` "sender_pool" (default for ids) or "message". ``progress=True`` shows a
        tqdm bar (total from ``stats.total``); ``None`` shows it from the second poll on, when the
        first found the operation still running (automatic, as the loaders do). Raises
        ``OperationTimeoutError`` (holding the last state as ``.operation``) if it is still
        running after ``timeout`` seconds.
        A CANCELED operation is returned, not raised: check ``.status``.
        """
        return self._operations.wait(
            operation_or_id,
            timeout=timeout,
            poll_interval=poll_interval,
            progress=progress,
            kind=kind,
        )

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()
        self._events_http.close()

    def __enter__(self) -> CommsClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "live" if self.live else "sandbox"
        return f"CommsClient({mode}, base_url={self.base_url!r})"
