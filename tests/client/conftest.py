"""Fake servers for client tests: tiny handler functions behind ``httpx.MockTransport``."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from commstoolkit.client import CommsClient, RetryPolicy

SID = "AC" + "0f" * 16
TOKEN = "tok_SECRET_c0ffee_do_not_print"
SENDER_ID = "comms_sender_01h9krwprkeee8fzqspvwy6nq8"
POOL_ID = "comms_senderpool_01h9krwprkeee8fzqspvwy6nq8"
OP_ID = "comms_operation_01h9krwprkeee8fzqspvwy6nq8"


def sender_json(n: int = 0, **overrides: Any) -> dict[str, Any]:
    """A Sender as the API returns it; ``n`` varies the id."""
    return {
        "id": f"comms_sender_01h9krwprkeee8fzqspvwy{n:04d}",
        "displayName": f"Sender {n}",
        "address": f"+1415555{n:04d}",
        "channel": "SMS",
        "status": "ACTIVATED",
        "tags": {},
        "createdAt": "2024-01-01T00:00:00Z",
        "updatedAt": "2024-01-02T00:00:00Z",
        **overrides,
    }


def errors_json(code: int, message: str) -> dict[str, Any]:
    return {
        "errors": [
            {
                "code": code,
                "message": message,
                "infoUrl": f"https://www.twilio.com/docs/errors/{code}",
                "context": None,
            }
        ]
    }


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content)


@dataclass
class FakeApi:
    """Records every request, answers with ``handler(request)``; ``sleeps`` logs waits."""

    handler: Callable[[httpx.Request], httpx.Response]
    requests: list[httpx.Request] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)

    def client(self, **kwargs: Any) -> CommsClient:
        kwargs.setdefault("retry", RetryPolicy(jitter=False))
        return CommsClient(
            account_sid=SID,
            auth_token=TOKEN,
            transport=httpx.MockTransport(self),
            sleep=self.sleeps.append,
            **kwargs,
        )


@pytest.fixture
def fake_api() -> Callable[..., FakeApi]:
    """``fake_api(handler)`` -> a FakeApi; ``.client()`` builds a client wired to it."""
    return FakeApi


def replies(*responses: httpx.Response | Exception) -> Callable[[httpx.Request], httpx.Response]:
    """A handler answering with each response in turn (an exception is raised), then the last."""
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        item = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(item, Exception):
            raise item
        return item

    return handler
