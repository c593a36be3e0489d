"""The sandbox over real HTTP: an ASGI app, ``serve`` (uvicorn), ``run_server`` for tests.

They serve any account the front can answer for (``routing.Account``: a ``Sandbox``);
``commstoolkit.sandbox.server`` opens one and serves it for ``commstoolkit sandbox serve``.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from .dispatch import DEFAULT_AUTH_TOKEN, MAX_BODY, handle, refused
from .pacing import InFlight, Pacing, describe
from .routing import Account
from .wire import SANDBOX_HEADER, SANDBOX_HEADER_VALUE, Request, Response

ASGIApp = Callable[[dict, Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]], Any]
INCOMPLETE = "ASGI callable returned without completing response."


class _HidePlannedDrops(logging.Filter):
    """uvicorn logs every response cut short; the sandbox cuts some on purpose (fault rules)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != INCOMPLETE


_DROP_FILTER = _HidePlannedDrops()


def make_asgi_app(sandbox: Account, pacing: Pacing | None = None) -> ASGIApp:
    """An ASGI 3 app serving ``sandbox`` (the same dispatcher as the in-process transport),
    its API answers paced by ``pacing`` (latency, jitter, in-flight limit; ``pacing.py``)."""
    uvicorn_log = logging.getLogger("uvicorn.error")
    if _DROP_FILTER not in uvicorn_log.filters:
        uvicorn_log.addFilter(_DROP_FILTER)
    pace = pacing or Pacing()
    in_flight = InFlight(pace.max_in_flight)
    rng = random.Random(pace.seed)

    async def app(scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        body = await _read_body(receive)
        server = scope.get("server") or ("127.0.0.1", 0)
        request = Request(
            method=scope["method"],
            path=scope["path"],
            query=parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True),
            headers=headers,
            body=body,
            scheme=scope.get("scheme", "http"),
            host=headers.get("host") or f"{server[0]}:{server[1]}",
        )
        paced = pace.active and "/_sandbox" not in request.path
        if paced and not in_flight.enter():
            await _send(send, refused(sandbox, pace.retry_after))
            return
        try:
            response = await asyncio.to_thread(handle, sandbox, request)
            latency = response.latency + (pace.delay(request.path, rng) if paced else 0.0)
            if latency:
                await asyncio.sleep(latency)
            await _send(send, response)
        finally:
            if paced:
                in_flight.leave()

    app.in_flight = in_flight  # type: ignore[attr-defined]
    return app


async def _lifespan(receive: Callable, send: Callable) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _read_body(receive: Callable) -> bytes:
    """The request body; past the cap only one byte more is kept (enough to refuse it), but
    all of it is read, so the client gets to read the 413."""
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if size <= MAX_BODY:
            chunks.append(message.get("body", b"")[: MAX_BODY + 1 - size])
            size += len(chunks[-1])
        more = message.get("more_body", False)
    return b"".join(chunks)


async def _send(send: Callable, response: Response) -> None:
    """Send the answer; for a drop, start it and hang up half-way (the client sees a broken
    connection, never a status)."""
    headers = dict(response.headers)
    body = response.body
    if response.drop == "before":
        headers = {"Content-Type": "application/json", SANDBOX_HEADER: SANDBOX_HEADER_VALUE}
        body = b"{" * 64
    headers["Content-Length"] = str(len(body))
    await send(
        {
            "type": "http.response.start",
            "status": response.status or 200,
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        }
    )
    if response.drop:
        # Returning before the body is complete makes the server close the connection.
        await send(
            {"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True}
        )
        return
    await send({"type": "http.response.body", "body": body})


def _config(app: ASGIApp, **options: Any) -> Any:
    import uvicorn

    # date_header=False: the only Date is the sandbox's own (its clock, set by ``handle``),
    # not uvicorn's wall-clock one.
    return uvicorn.Config(app, http="h11", lifespan="off", date_header=False, **options)


@dataclass
class RunningServer:
    """A sandbox server running in a background thread (see ``run_server``)."""

    host: str
    port: int
    # The paced server's count of API requests in flight (its peak, the 429s it answered).
    in_flight: InFlight | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def events_url(self) -> str:
        """The Event Streams base URL (live: ``https://events.twilio.com/v1``)."""
        return f"{self.url}/events/v1"


def _listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket (port 0: any free port); connections queue until served.

    The protocol is named (IPPROTO_TCP) so that asyncio recognises the accepted sockets as
    TCP and turns Nagle's algorithm off on them: with it on, an answer written in two parts
    (head, then body) waited for the client's delayed ACK, about 40 ms per request.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


@contextmanager
def run_server(
    sandbox: Account, host: str = "127.0.0.1", port: int = 0, *, pacing: Pacing | None = None
) -> Iterator[RunningServer]:
    """Serve ``sandbox`` over HTTP in a thread while the block runs (port 0: any free port),
    paced by ``pacing`` (a round trip, a rate limit: ``pacing.Pacing``)."""
    import uvicorn

    sock = _listen(host, port)
    app = make_asgi_app(sandbox, pacing)
    server = uvicorn.Server(_config(app, log_config=None, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    # Event Streams: this server's delivery to webhook sinks, stopped with it.
    deliverer = sandbox.events.deliverer().start()
    try:
        for _ in range(1000):
            if server.started or not thread.is_alive():
                break
            threading.Event().wait(0.01)
        if not server.started:
            raise RuntimeError("the sandbox server did not start")
        yield RunningServer(host, sock.getsockname()[1], app.in_flight)  # type: ignore[attr-defined]
    finally:
        server.should_exit = True
        deliverer.stop()
        thread.join(10)
        sock.close()


def serve(
    sandbox: Account, host: str = "127.0.0.1", port: int = 8787, *, pacing: Pacing | None = None
) -> None:
    """Serve ``sandbox`` until interrupted; prints the base URL and the credentials (the auth
    token only when it is the sandbox's public default) and the pacing, if any."""
    import uvicorn

    sock = _listen(host, port)
    url = RunningServer(host, sock.getsockname()[1]).url
    sid, token = sandbox.credentials()
    shown = token if token == DEFAULT_AUTH_TOKEN else "<your auth token>"
    print(f"commstoolkit sandbox serving {url}/v1 (and {url}/preview)")
    print(f"  account SID  {sid}")
    print(f"  auth token   {token if token == DEFAULT_AUTH_TOKEN else '(configured, not shown)'}")
    print(f"  database     {sandbox.db_path}")
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"  warning: listening on {host}; anyone who can reach it can use the sandbox")
    print(f"  events       {url}/events/v1 (Event Streams: sinks, subscriptions, types)")
    if pacing is not None and pacing.active:
        print(f"  pacing       {describe(pacing)}")
    print(f"  try: curl -u {sid}:{shown} {url}/v1/Senders", flush=True)
    deliverer = sandbox.events.deliverer().start()
    try:
        app = make_asgi_app(sandbox, pacing)
        uvicorn.Server(_config(app, log_level="info")).run(sockets=[sock])
    finally:
        deliverer.stop()
        sock.close()
