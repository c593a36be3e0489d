"""Helpers for the Event Streams tests: the events contract as checks on answers, a real local
webhook receiver (``http.server``) that can refuse or stall, and sink set-up through the API."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from jsonschema import Draft7Validator

ROOT = Path(__file__).resolve().parents[2]
EVENTS_PREFIX = re.compile(r"/events/v1(/.*)")


def _nullable(schema: Any) -> Any:
    """OpenAPI 3.0 ``nullable: true`` as JSON Schema (``type: [t, "null"]``)."""
    if isinstance(schema, list):
        return [_nullable(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _nullable(v) for k, v in schema.items() if k != "nullable"}
    if schema.get("nullable") is True:
        out["type"] = [out["type"], "null"] if "type" in out else None
        if out["type"] is None:
            del out["type"]
    return out


class EventsContract:
    """The repo's copy of the Event Streams extract as checks on the sandbox's answers."""

    def __init__(self) -> None:
        self.doc = json.loads((ROOT / "contract/events/openapi.json").read_text("utf-8"))
        self.components = _nullable(self.doc["components"])
        self.checked = 0
        self._templates = [
            (template, re.compile(re.sub(r"\{\w+\}", "[^/]+", template[3:]) + r"\Z"))
            for template in self.doc["paths"]
        ]

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]]:
        found = [t for t, rx in self._templates if rx.match(path)]
        template = min(found, key=lambda t: t.count("{"))
        return template, self.doc["paths"][template][method.lower()]

    def response(self, method: str, path: str, status: int) -> dict[str, Any]:
        return self.operation(method, path)[1]["responses"][str(status)]

    def check(self, answer: httpx.Response) -> None:
        """httpx hook: a documented status and a body matching its schema; errors classic."""
        answer.read()
        inside = EVENTS_PREFIX.fullmatch(answer.request.url.path)
        if inside is None:
            return
        if answer.status_code >= 400:
            body = answer.json()
            assert set(body) == {"code", "message", "more_info", "status"}, body
            assert body["status"] == answer.status_code
            return
        documented = self.response(answer.request.method, inside.group(1), answer.status_code)
        if answer.status_code == 204:
            assert answer.content == b""
            return
        schema = documented["content"]["application/json"]["schema"]
        validator = Draft7Validator({**_nullable(schema), "components": self.components})
        errors = [e.message for e in validator.iter_errors(answer.json())]
        assert not errors, f"{answer.request.method} {inside.group(1)}: {errors}"
        self.checked += 1

    def example_keys(self, method: str, path: str, status: int) -> dict[str, set[str]]:
        """The field names of each of the spec's examples of an answer."""
        content = self.response(method, path, status)["content"]["application/json"]
        return {name: set(ex["value"]) for name, ex in content["examples"].items()}


@dataclass
class Received:
    """One POST a receiver got: its path and query, headers (lowercase names), body."""

    target: str
    headers: dict[str, str]
    body: bytes

    @property
    def events(self) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = json.loads(self.body)
        return events


@dataclass
class Receiver:
    """A real local webhook (ThreadingHTTPServer on loopback). ``refuse``: answer 503 to the
    next N posts without keeping them; ``stall``: keep the next N posts, then wait
    ``stall_seconds`` before answering (the sandbox times out and sends them again)."""

    url: str = ""
    posts: list[Received] = field(default_factory=list)
    refused: int = 0
    refuse: int = 0
    stall: int = 0
    stall_seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def events(self) -> list[dict[str, Any]]:
        with self.lock:
            return [e for post in self.posts for e in post.events]

    def wait(self, condition: Callable[[], bool], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, "timed out waiting for the receiver"
            time.sleep(0.02)


@contextmanager
def receiver() -> Iterator[Receiver]:
    """A receiver listening on 127.0.0.1 (any free port) while the block runs."""
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with state.lock:
                refuse = state.refuse > 0
                stall = not refuse and state.stall > 0
                if refuse:
                    state.refuse -= 1
                    state.refused += 1
                else:
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    state.posts.append(Received(self.path, headers, body))
                if stall:
                    state.stall -= 1
            if stall:
                time.sleep(state.stall_seconds)
            self.send_response(503 if refuse else 204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def webhook(destination: str) -> dict[str, str]:
    """The form of ``POST /Sinks`` for a webhook sink."""
    return {
        "Description": "receiver",
        "SinkType": "webhook",
        "SinkConfiguration": json.dumps({"destination": destination, "method": "POST"}),
    }


def types(*names: str) -> list[str]:
    """``Types`` of ``POST /Subscriptions`` (full type names or comms-api suffixes)."""
    full = [n if n.startswith("com.") else f"com.twilio.comms-api.{n}" for n in names]
    return [json.dumps({"type": t}) for t in full]
