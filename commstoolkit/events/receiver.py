"""``EventReceiver``: a small real HTTP receiver for a webhook sink, beside the kernel.

It listens on loopback (``127.0.0.1``, any free port) unless told otherwise, accepts
``POST``s of CloudEvents batches at ``path``, checks HTTP Basic auth (``username`` /
``password``, as the sink's destination carries them) and/or ``X-Twilio-Signature``
(``auth_token``; ``public_url`` is the URL Twilio was given, when a tunnel stands between),
and answers at once: 204 accepted, 401 refused (nothing kept), 400 not a batch of events, 413
too large, 404 / 405 elsewhere. Each event is kept once (by id: a re-delivery is counted in
``duplicates``), optionally appended to a JSON-lines file (``persist_to``; an existing file's
events are read back first, so a restarted receiver goes on where it stopped).

``watch(callback)`` calls ``callback(new_events)`` as batches arrive (from the server's thread,
after they are kept), so a view updates without polling; ``announce_send`` tells watchers
(``on_send``) that a test send is starting. ``test_id(sink_sid)`` waits for the test event
Event Streams sends a sink (``POST /Sinks/{Sid}/Test``) and gives the id Validate needs.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pandas as pd

from ..errors import InvalidInputError
from . import records, signature

logger = logging.getLogger("commstoolkit.events")
MAX_BODY = 5 * 1024 * 1024
# The type of the event ``POST /Sinks/{Sid}/Test`` sends; its data carries ``test_id``.
TEST_TYPE = "com.twilio.eventstreams.test-event"
SINK_SID = re.compile(r"DG[0-9a-fA-F]{32}")
EventsCallback = Callable[[list[dict[str, Any]]], None]
SendCallback = Callable[[str, int], None]
FINAL = frozenset({"DELIVERED", "UNDELIVERED", "FAILED", "READ"})
LOOPBACK = ("127.0.0.1", "::1", "localhost")


class EventReceiver:
    """Receive a sink's events over HTTP while the kernel runs (see the module).

    ``host`` / ``port``: where to listen (default loopback, any free port: ``url`` says
    where); ``path``: the path the sink posts to. At least one check is required:
    ``username`` and ``password`` (HTTP Basic), or ``auth_token`` (the signature); with
    both, a post must pass both. ``InvalidInputError`` names a bad argument before anything
    listens. ``stop()`` (or leaving a ``with`` block) closes it.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        path: str = "/events",
        username: str | None = None,
        password: str | None = None,
        auth_token: str | None = None,
        public_url: str | None = None,
        persist_to: str | os.PathLike[str] | None = None,
    ) -> None:
        _check(host, port, path, username, password, auth_token, public_url)
        self.path = path
        self._basic = (username, password) if username is not None else None
        self._token = auth_token
        self._lock = threading.Condition()
        self._events: list[dict[str, Any]] = []
        self._ids: set[str] = set()
        self.duplicates = 0
        self.refused = 0
        self._watchers: list[tuple[EventsCallback, SendCallback | None]] = []
        self._persist = Path(persist_to) if persist_to is not None else None
        if self._persist is not None and self._persist.exists():
            for event in records.read_file(self._persist):
                if event["id"] not in self._ids:
                    self._ids.add(event["id"])
                    self._events.append(event)
        family_host = host.strip("[]")
        self._server = _Server((family_host, port), _handler(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="commstoolkit-event-receiver", daemon=True
        )
        self._thread.start()
        bound_host, bound_port = str(self._server.server_address[0]), self._server.server_port
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        self.url = f"http://{shown}:{bound_port}{path}"
        self.public_url = public_url or self.url

    @property
    def checks(self) -> tuple[str, ...]:
        """What a post must pass: ``"basic"`` (HTTP Basic) and/or ``"signature"``."""
        return tuple(c for c, on in (("basic", self._basic), ("signature", self._token)) if on)

    def __repr__(self) -> str:
        return (
            f"EventReceiver(url={self.url!r}, events={len(self)}, duplicates={self.duplicates}, "
            f"refused={self.refused}, checks={'+'.join(self.checks)})"
        )

    def __len__(self) -> int:
        with self._lock:
            return len(self._events)

    def __enter__(self) -> EventReceiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def destination(self, username: str | None = None, password: str | None = None) -> str:
        """The sink destination for this receiver (``public_url``), with user info when
        Basic auth is checked (pass the credentials: the receiver never shows its own)."""
        if self._basic is None or username is None:
            return self.public_url
        parts = urlsplit(self.public_url)
        user_info = f"{quote(username, safe='')}:{quote(password or '', safe='')}@"
        return parts._replace(netloc=user_info + parts.netloc).geturl()

    def events(self) -> list[dict[str, Any]]:
        """The events kept so far (each once), in arrival order."""
        with self._lock:
            return list(self._events)

    def watch(
        self, callback: EventsCallback, *, on_send: SendCallback | None = None
    ) -> Callable[[], None]:
        """Call ``callback(new_events)`` with each batch of new events (duplicates left out)
        as it arrives, from the receiver's thread, after they are kept (so ``frame()`` in the
        callback already shows them); ``on_send(run_id, recipients)`` when a test send made
        with ``events=`` this receiver starts (``announce_send``). An exception in a callback
        is logged and never stops the receiver. Returns a function that stops the watching."""
        if not callable(callback) or (on_send is not None and not callable(on_send)):
            raise InvalidInputError(
                "watch: callback (and on_send) must be callable", field="callback"
            )
        entry = (callback, on_send)
        with self._lock:
            self._watchers.append(entry)

        def unwatch() -> None:
            with self._lock:
                if entry in self._watchers:
                    self._watchers.remove(entry)

        return unwatch

    def announce_send(self, run_id: str, recipients: int) -> None:
        """Tell the watchers that test send ``run_id`` (its messages tagged ``ct_run``) to
        ``recipients`` recipients starts (``test_send(..., events=receiver)`` calls it)."""
        for _, on_send in self._watching():
            if on_send is not None:
                _safely(on_send, run_id, recipients)

    def _watching(self) -> list[tuple[EventsCallback, SendCallback | None]]:
        with self._lock:
            return list(self._watchers)

    def test_ids(self, sink_sid: str) -> list[str]:
        """The ``test_id`` of every test event received for sink ``sink_sid`` (``POST
        /Sinks/{Sid}/Test``; the event's source names the sink), in arrival order."""
        return _test_ids(self.events(), sink_sid)

    def test_id(self, sink_sid: str, *, timeout: float = 30.0, known: Iterable[str] = ()) -> str:
        """The id of a test event for sink ``sink_sid`` not among ``known`` (the ids seen
        before asking for a new Test), waiting up to ``timeout`` seconds for one
        (``TimeoutError`` otherwise)."""
        seen = set(known)

        def fresh(events: list[dict[str, Any]]) -> list[str]:
            return [i for i in _test_ids(events, sink_sid) if i not in seen]

        try:
            events = self.wait_for(until=lambda got: bool(fresh(got)), timeout=timeout)
        except TimeoutError:
            raise TimeoutError(
                f"after {timeout:g} s no test event for sink {sink_sid} reached the receiver "
                f"({self.refused} post(s) refused so far)"
            ) from None
        return fresh(events)[-1]

    def frame(self, *, tags: Mapping[str, str] | None = None) -> pd.DataFrame:
        """The events kept so far, one row each (``records.COLUMNS``), in the order things
        happened. ``tags``: only the message events whose tags include these (a test send's
        ``{"ct_run": run_id}``) and the events of their operations."""
        return records.events_frame(records.tagged(self.events(), tags))

    def wait_for(
        self,
        *,
        count: int | None = None,
        final: Iterable[str] | None = None,
        until: Callable[[list[dict[str, Any]]], bool] | None = None,
        timeout: float = 30.0,
    ) -> list[dict[str, Any]]:
        """Wait until at least ``count`` events are kept, every message id of ``final`` has a
        final status (delivered, undelivered, failed, read) on its last attempt, and
        ``until(events)`` holds; returns the events. ``TimeoutError`` after ``timeout``
        seconds, saying what is still missing."""
        wanted = set(final) if final is not None else set()
        if count is None and not wanted and until is None:
            raise InvalidInputError(
                "wait_for: give count, final or until", field="count", allowed="count, final, until"
            )
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0:
            raise InvalidInputError(
                f"timeout must be a number of seconds > 0, got {timeout!r}",
                field="timeout",
                allowed="> 0",
            )
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                missing = self._missing(count, wanted, until)
                if not missing:
                    return list(self._events)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"after {timeout:g} s the receiver still waits for {missing}"
                    )
                self._lock.wait(min(left, 0.5))

    def _missing(
        self,
        count: int | None,
        wanted: set[str],
        until: Callable[[list[dict[str, Any]]], bool] | None,
    ) -> str:
        if count is not None and len(self._events) < count:
            return f"{count - len(self._events)} more event(s) ({len(self._events)} of {count})"
        if wanted:
            latest = _latest_status(self._events, wanted)
            open_ = sorted(m for m in wanted if latest.get(m) not in FINAL)
            if open_:
                return f"a final status of {len(open_)} message(s), e.g. {open_[0]}"
        if until is not None and not until(list(self._events)):
            return "until(events) to hold"
        return ""

    def stop(self) -> None:
        """Stop listening (idempotent)."""
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    # -- the request path (the server's threads) --------------------------------------------

    def _allowed(self, headers: dict[str, str], target: str, body: bytes) -> bool:
        if self._basic is not None and not _basic_ok(headers.get("authorization"), self._basic):
            return False
        if self._token is not None:
            parts = urlsplit(self.public_url)
            url = f"{parts.scheme}://{parts.netloc}{target}"
            if not signature.valid(self._token, url, body, headers.get("x-twilio-signature")):
                return False
        return True

    def _keep(self, events: list[dict[str, Any]]) -> None:
        with self._lock:
            new = [e for e in events if e["id"] not in self._ids]
            self.duplicates += len(events) - len(new)
            unique: dict[str, dict[str, Any]] = {e["id"]: e for e in new}
            if self._persist is not None and unique:
                with self._persist.open("a", encoding="utf-8") as out:
                    for event in unique.values():
                        out.write(json.dumps(event, separators=(",", ":")) + "\n")
            self._ids.update(unique)
            self._events.extend(unique.values())
            self._lock.notify_all()
            watchers = list(self._watchers)
        if unique:
            fresh = list(unique.values())
            for callback, _ in watchers:
                _safely(callback, fresh)

    def _refuse(self) -> None:
        with self._lock:
            self.refused += 1


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, handler)


def _handler(receiver: EventReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "commstoolkit-EventReceiver"
        timeout = 10  # a client that stalls mid-request does not hold a thread for ever

        def do_POST(self) -> None:
            if urlsplit(self.path).path != receiver.path:
                return self._answer(404)
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                return self._answer(400)
            if length > MAX_BODY or length < 0:
                receiver._refuse()
                return self._answer(413)
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            if not receiver._allowed(headers, self.path, body):
                receiver._refuse()
                return self._answer(401)
            try:
                events = records.parse_batch(body)
            except InvalidInputError:
                receiver._refuse()
                return self._answer(400)
            receiver._keep(events)
            return self._answer(204)

        def do_GET(self) -> None:
            self._answer(405)

        do_PUT = do_DELETE = do_PATCH = do_GET

        def _answer(self, status: int) -> None:
            self.send_response(status)
            if status == 405:
                self.send_header("Allow", "POST")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return  # nothing on the notebook's stderr for every post

    return Handler


def _test_ids(events: list[dict[str, Any]], sink_sid: str) -> list[str]:
    """The test ids of the test events for ``sink_sid``: its sid in the event's ``source``
    (the sandbox's ``/v1/Sinks/<sid>``) or ``data.sink_sid``; a test event naming no sink at
    all counts too (what Twilio's carries is not documented)."""
    found = []
    for event in events:
        data = event.get("data")
        if event["type"] != TEST_TYPE or not isinstance(data, dict):
            continue
        if not isinstance(data.get("test_id"), str):
            continue
        named = SINK_SID.findall(f"{event.get('source', '')} {data.get('sink_sid', '')}")
        if sink_sid in named or not named:
            found.append(str(data["test_id"]))
    return found


def _safely(callback: Callable[..., None], *args: Any) -> None:
    try:
        callback(*args)
    except Exception:  # a view's bug must not stop the receiver (or lose the batch)
        logger.exception("EventReceiver: a watch callback failed")


def _latest_status(events: list[dict[str, Any]], messages: set[str]) -> dict[str, str]:
    """The status of the last event (by attempt, time, stage) of each of ``messages``."""
    best: dict[str, tuple[tuple[int, str, int], str]] = {}
    for event in events:
        data = event.get("data")
        status = records.status_of(event["type"])
        if not isinstance(data, dict) or status is None or data.get("message_id") not in messages:
            continue
        key = (int(data.get("attempt") or 0), event["time"], records.STAGE.get(status, -1))
        message = data["message_id"]
        if message not in best or key >= best[message][0]:
            best[message] = (key, status)
    return {message: status for message, (_, status) in best.items()}


def _basic_ok(header: str | None, expected: tuple[str | None, str | None]) -> bool:
    if not header or header[:6].lower() != "basic ":
        return False
    try:
        user, _, password = (
            base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
        )
    except (binascii.Error, UnicodeDecodeError):
        return False
    same_user = hmac.compare_digest(user.encode(), (expected[0] or "").encode())
    return hmac.compare_digest(password.encode(), (expected[1] or "").encode()) and same_user


def _check(
    host: object,
    port: object,
    path: object,
    username: object,
    password: object,
    auth_token: object,
    public_url: object,
) -> None:
    """Every argument of ``EventReceiver``, before anything listens."""
    if not isinstance(host, str) or not host:
        raise InvalidInputError(f"host must be an address to listen on, got {host!r}", field="host")
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise InvalidInputError(
            f"port must be an integer from 0 (any free port) to 65535, got {port!r}",
            field="port",
            allowed="0-65535",
        )
    if not isinstance(path, str) or not path.startswith("/"):
        raise InvalidInputError(f"path must start with '/', got {path!r}", field="path")
    if (username is None) != (password is None):
        raise InvalidInputError(
            "username and password go together (HTTP Basic): give both", field="password"
        )
    for name, value in (("username", username), ("password", password), ("auth_token", auth_token)):
        if value is not None and (not isinstance(value, str) or not value):
            raise InvalidInputError(f"{name} must be a non-empty string", field=name)
    if username is None and auth_token is None:
        raise InvalidInputError(
            "EventReceiver needs a check: username and password (HTTP Basic, as the sink's "
            "destination carries them) and/or auth_token (X-Twilio-Signature)",
            field="auth_token",
        )
    if public_url is not None:
        parts = urlsplit(public_url) if isinstance(public_url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidInputError(
                f"public_url must be an http(s) URL, got {public_url!r}", field="public_url"
            )
        if parts.username or parts.password:
            raise InvalidInputError(
                "public_url must not carry user info (give username and password)",
                field="public_url",
            )
