"""Helpers for the messaging tests: send through the API, read messages and operations back."""

from __future__ import annotations

from typing import Any

import httpx

from commstoolkit.sandbox import Sandbox

from .conftest import collect

SUPPORT_POOL = "Customer Support - NAMER"  # seeded with SMS, RCS and WhatsApp senders
NEVER_RCS, ALWAYS_RCS, RCS_OFF = "+15005550005", "+15005550006", "+15005550007"
INVALID, UNADDRESSABLE, FAILS, UNDELIVERED = (
    "+15005550001", "+15005550002", "+15005550003", "+15005550004",
)  # fmt: skip
FINAL = {"DELIVERED", "UNDELIVERED", "FAILED", "READ"}


def pool_id(api: httpx.Client, name: str = SUPPORT_POOL) -> str:
    """The id of a seeded pool, by name."""
    pools = collect(api, "/SenderPools", key="senderPools")[0]
    return next(p["id"] for p in pools if p["name"] == name)


def phones(*numbers: str, channel: str = "PHONE") -> list[dict[str, str]]:
    """Address recipients."""
    return [{"address": n, "channel": channel} for n in numbers]


def numbers(count: int, start: int = 0, prefix: str = "+1415") -> list[str]:
    """``count`` distinct ordinary (non-magic) phone numbers."""
    return [f"{prefix}{i:07d}" for i in range(start, start + count)]


def send(api: httpx.Client, to: list[dict] | list[str], **body: Any) -> str:
    """POST /Messages (text "Hello, World!" unless ``content`` is given); the operation id."""
    recipients = phones(*to) if to and isinstance(to[0], str) else to
    payload = {"to": recipients, "content": {"text": "Hello, World!"}, **body}
    answer = api.post("/Messages", json=payload)
    assert answer.status_code == 202, answer.text
    return answer.json()["operationId"]


def operation(api: httpx.Client, operation_id: str) -> dict[str, Any]:
    answer = api.get(f"/Messages/Operations/{operation_id}")
    assert answer.status_code == 200, answer.text
    return answer.json()


def messages_of(api: httpx.Client, operation_id: str, **filters: Any) -> list[dict[str, Any]]:
    """Every message of an operation (list items: no attempts)."""
    params = {"operationId": operation_id, "pageSize": 1000, **filters}
    return collect(api, "/Messages", key="messages", **params)[0]


def full(api: httpx.Client, message_id: str) -> dict[str, Any]:
    """GET /Messages/{id}: the message with content and attempts."""
    answer = api.get(f"/Messages/{message_id}")
    assert answer.status_code == 200, answer.text
    return answer.json()


def finish(sandbox: Sandbox, seconds: float = 600) -> None:
    """Move sandbox time far enough for every message to be final (and read)."""
    sandbox.clock.advance(seconds)


def sent_one(api: httpx.Client, sandbox: Sandbox, address: str, **body: Any) -> dict[str, Any]:
    """Send to one recipient, let it finish, and return the full message."""
    to = [address] if isinstance(address, str) else address
    operation_id = send(api, to, **body)
    finish(sandbox)
    (message,) = messages_of(api, operation_id)
    return full(api, message["id"])


def channels_of(message: dict[str, Any]) -> list[tuple[str, str]]:
    """(sender channel, status) of each attempt."""
    return [(a["from"]["channel"], a["status"]) for a in message["attempts"]]


def status_counts(stats: dict[str, int]) -> int:
    """The sum of the per-status counts of an operation's stats."""
    names = ("scheduled", "queued", "sent", "delivered", "read", "undelivered", "failed")
    return sum(stats[name] for name in (*names, "canceled"))
