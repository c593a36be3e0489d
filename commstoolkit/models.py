"""API objects as frozen dataclasses: the API's answers read into snake_case.

``Model.from_api(data)`` reads the API's JSON (camelCase, unknown fields ignored, timestamps
as tz-aware UTC ``datetime``). Beside the answers: the API's enums, its timestamp form
(``parse_timestamp`` / ``format_timestamp``) and ``Recipient``, the address the input rules
(``commstoolkit.rules``) turn what people give into. The request bodies the client sends
(``to_api()``) are in ``commstoolkit.client.bodies``; the column-wise reader of sender pages
for large frames (``SenderColumns``) is in ``commstoolkit.frames.sender_columns``. Those and
this module are the only ones that spell the API's camelCase field names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Generic, TypeVar

__all__ = [
    "API_TIMESTAMP_FORMAT",
    "FINAL_MESSAGE_STATUSES",
    "FINAL_OPERATION_STATUSES",
    "MESSAGE_ADDRESS_CHANNELS",
    "MESSAGE_CHANNELS",
    "MESSAGE_OPERATION_STATUSES",
    "MESSAGE_STATUSES",
    "OPERATION_KINDS",
    "POOL_OPERATION_STATUSES",
    "RECIPIENT_CHANNELS",
    "SENDER_CHANNELS",
    "SENDER_STATUSES",
    "Accepted",
    "Attempt",
    "Message",
    "Operation",
    "Page",
    "Recipient",
    "Route",
    "Sender",
    "SenderPool",
    "camel_case",
    "format_timestamp",
    "parse_timestamp",
    "read_page",
]

SENDER_CHANNELS = ("SMS", "RCS", "EMAIL", "WHATSAPP", "PUSH")
SENDER_STATUSES = ("ACTIVATED", "DEACTIVATED")
POOL_OPERATION_STATUSES = ("PROCESSING", "COMPLETED", "CANCELED")
MESSAGE_OPERATION_STATUSES = ("SCHEDULED", "PROCESSING", "COMPLETED", "CANCELED")
FINAL_OPERATION_STATUSES = ("COMPLETED", "CANCELED")
RECIPIENT_CHANNELS = ("EMAIL", "PHONE", "WHATSAPP", "PUSH")
OPERATION_KINDS = ("sender_pool", "message")
MESSAGE_STATUSES = (
    "SCHEDULED", "QUEUED", "SENT", "DELIVERED", "READ",
    "UNDELIVERED", "FAILED", "CANCELED", "GROUP", "INBOUND",
)  # fmt: skip
# Statuses after which an outbound message no longer changes (READ may still follow DELIVERED).
FINAL_MESSAGE_STATUSES = ("DELIVERED", "READ", "UNDELIVERED", "FAILED", "CANCELED")
MESSAGE_CHANNELS = ("SMS", "RCS", "WHATSAPP")  # the channels a message is sent on
MESSAGE_ADDRESS_CHANNELS = ("PHONE", "WHATSAPP")  # the channels of a send's recipients

# Message statuses that no longer change: a message operation's progress counts these.
_FINAL_MESSAGE_STATS = ("delivered", "read", "undelivered", "failed", "canceled")

T = TypeVar("T")
R = TypeVar("R")

_RFC3339 = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[Tt ](?P<time>\d{2}:\d{2}:\d{2})(?P<frac>\.\d+)?"
    r"(?P<offset>[Zz]|[+-]\d{2}:?\d{2})?"
)


def parse_timestamp(value: str | datetime) -> datetime:
    """Parse an RFC 3339 timestamp ("Z" or an offset, any fraction) into an aware UTC datetime.

    A timestamp without an offset is taken as UTC. Raises ValueError when unreadable.
    """
    # The API's own form, "2024-04-05T06:20:00Z", read without the regex (a listing of
    # 100,000 senders holds 200,000 of them); anything else takes the general path below.
    if (
        value.__class__ is str
        and len(value) == 20
        and value[19] == "Z"
        and value[10] == "T"
        and value[4] == value[7] == "-"
        and value[13] == value[16] == ":"
        and value.isascii()
    ):
        try:
            return datetime.fromisoformat(value[:19] + "+00:00")  # (.replace(tzinfo) is slower)
        except ValueError:
            pass  # e.g. month 13: the general path raises with its message
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return aware.astimezone(timezone.utc)
    match = _RFC3339.fullmatch(value.strip()) if isinstance(value, str) else None
    if not match:
        raise ValueError(f"not an RFC 3339 timestamp: {value!r}")
    frac = (match["frac"] or ".0")[1:7].ljust(6, "0")
    offset = match["offset"] or "Z"
    if offset in ("Z", "z"):
        offset = "+00:00"
    elif ":" not in offset:
        offset = f"{offset[:3]}:{offset[3:]}"
    parsed = datetime.fromisoformat(f"{match['date']}T{match['time']}.{frac}{offset}")
    return parsed.astimezone(timezone.utc)


def format_timestamp(value: datetime | date) -> str:
    """Format a datetime (naive = UTC) or a date (midnight UTC) as RFC 3339 UTC with "Z"."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    return parse_timestamp(value).replace(tzinfo=None).isoformat() + "Z"


# The API's own timestamp form (strftime / strptime), always UTC: "2024-04-05T06:20:00Z".
API_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def _optional_timestamp(value: Any) -> datetime | None:
    return None if value is None else parse_timestamp(value)


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def camel_case(name: str) -> str:
    """The API's spelling of a snake_case name: ``sender_pool_id`` -> ``senderPoolId``."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _is_count(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _tags(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in (value or {}).items()}


@dataclass(frozen=True, slots=True)
class Sender:
    """A sender: one phone number, short code, RCS agent, WhatsApp, e-mail or push identity."""

    id: str
    display_name: str | None
    address: str
    channel: str
    status: str
    tags: dict[str, str] = field(hash=False)
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Sender:
        """Read a ``Sender`` JSON object."""
        return cls(
            id=data["id"],
            display_name=data.get("displayName"),
            address=data["address"],
            channel=data["channel"],
            status=data["status"],
            tags=_tags(data.get("tags")),
            created_at=parse_timestamp(data["createdAt"]),
            updated_at=parse_timestamp(data["updatedAt"]),
        )


@dataclass(frozen=True, slots=True)
class SenderPool:
    """A named group of senders (its members are listed separately)."""

    id: str
    name: str | None
    tags: dict[str, str] = field(hash=False)
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> SenderPool:
        """Read a ``SenderPool`` JSON object."""
        return cls(
            id=data["id"],
            name=data.get("name"),
            tags=_tags(data.get("tags")),
            created_at=parse_timestamp(data["createdAt"]),
            updated_at=parse_timestamp(data["updatedAt"]),
        )


@dataclass(frozen=True, slots=True)
class Operation:
    """An asynchronous write: a sender-pool operation or a message (send) operation.

    ``kind`` is "sender_pool" or "message" (it decides where the operation is polled).
    ``status`` is None for an operation just accepted (202) and not fetched yet.
    ``stats`` has snake_case keys: total, queued, created, failed for pool operations;
    total, recipients, attempts, unaddressable, scheduled, queued, sent, delivered, read,
    undelivered, failed, canceled for message operations.
    """

    id: str
    kind: str
    status: str | None = None
    stats: dict[str, int] = field(default_factory=dict, hash=False)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    location: str | None = None

    @property
    def done(self) -> bool:
        """True once the operation is COMPLETED or CANCELED."""
        return self.status in FINAL_OPERATION_STATUSES

    @property
    def total(self) -> int | None:
        """Number of items the operation handles (``stats.total``), None before it is known."""
        return self.stats.get("total")

    @property
    def processed(self) -> int:
        """Items already settled: members created or failed, or messages in a final status."""
        keys = ("created", "failed") if self.kind == "sender_pool" else _FINAL_MESSAGE_STATS
        return sum(self.stats.get(key, 0) for key in keys)

    @classmethod
    def from_api(cls, data: Mapping[str, Any], kind: str) -> Operation:
        """Read a ``SenderPoolOperation`` or ``MessageOperation`` JSON object."""
        stats = data.get("stats") or {}
        return cls(
            id=data["id"],
            kind=kind,
            status=data.get("status"),
            stats={_snake(k): int(v) for k, v in stats.items() if _is_count(v)},
            created_at=_optional_timestamp(data.get("createdAt")),
            updated_at=_optional_timestamp(data.get("updatedAt")),
        )

    @classmethod
    def from_accepted(cls, data: Mapping[str, Any], kind: str) -> Operation:
        """Read a 202 ``{operationId, operationLocation}`` body."""
        return cls(id=data["operationId"], kind=kind, location=data.get("operationLocation"))


@dataclass(frozen=True, slots=True)
class Accepted:
    """A 202 answer to an update or delete: the resource it applies to and its location."""

    resource_id: str
    location: str | None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Accepted:
        """Read a 202 ``{resourceId, resourceLocation}`` body."""
        return cls(resource_id=data["resourceId"], location=data.get("resourceLocation"))


@dataclass(frozen=True, slots=True)
class Route:
    """One ranked sender -> recipient pairing from ``POST /Senders/Resolve`` (lower = preferred)."""

    sender_id: str
    display_name: str | None
    sender_address: str | None
    sender_channel: str
    to_address: str
    to_channel: str
    priority: int

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Route:
        """Read one entry of the Resolve answer's ``results``."""
        sender, to = data["from"], data["to"]
        return cls(
            sender_id=sender["senderId"],
            display_name=sender.get("displayName"),
            sender_address=sender.get("address"),
            sender_channel=sender["channel"],
            to_address=to["address"],
            to_channel=to["channel"],
            priority=int(data["priority"]),
        )


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list answer: its items and the ``pagination.next`` cursor (token or URL)."""

    items: list[T]
    next: str | None

    @classmethod
    def from_api(
        cls, data: Mapping[str, Any], items: str, parse: Callable[[Mapping[str, Any]], T]
    ) -> Page[T]:
        """Read a list body; ``items`` is the snake_case name of its list ("sender_pools")."""
        found, next_cursor = read_page(data, items, lambda objects: [parse(o) for o in objects])
        return cls(items=found, next=next_cursor)


def read_page(
    data: Mapping[str, Any], items: str, read: Callable[[list[Any]], R]
) -> tuple[R, str | None]:
    """Read a list body with a whole-page reader: ``(read(its objects), pagination.next)``.

    ``items`` is the snake_case name of its list; ``read`` gets the JSON objects as decoded
    (``SenderColumns.add`` reads a page at once, ``Page.from_api`` one object at a time).
    """
    pagination = data.get("pagination") or {}
    return read(data.get(camel_case(items)) or []), pagination.get("next") or None


@dataclass(frozen=True, slots=True)
class Recipient:
    """A recipient address for Resolve: channel is one of ``RECIPIENT_CHANNELS``."""

    address: str
    channel: str

    def to_api(self) -> dict[str, str]:
        """The JSON object."""
        return {"address": self.address, "channel": self.channel}


def _first(items: Any) -> Mapping[str, Any]:
    return items[0] if items else {}


def related_operation(related: Any) -> str | None:
    """The id of the OPERATION entry of a message's ``related`` (None: inbound, or none)."""
    return next((r.get("id") for r in related or () if r.get("name") == "OPERATION"), None)


@dataclass(frozen=True, slots=True)
class Attempt:
    """One delivery attempt of a message: the sender and channel tried, and how it ended."""

    sender_id: str | None
    sender_address: str | None
    channel: str | None
    to_address: str | None
    status: str
    attempted_at: datetime | None
    error_code: int | None
    error_message: str | None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Attempt:
        """Read one entry of a ``Message``'s ``attempts``."""
        sender = data.get("from") or {}
        error = data.get("error") or {}
        return cls(
            sender_id=sender.get("senderId"),
            sender_address=sender.get("address"),
            channel=sender.get("channel"),
            to_address=_first(data.get("to")).get("address"),
            status=data["status"],
            attempted_at=_optional_timestamp(data.get("attemptedAt")),
            error_code=error.get("code"),
            error_message=error.get("message"),
        )


@dataclass(frozen=True, slots=True)
class Message:
    """One message to one recipient; ``sender_*`` and ``channel`` show the final sender.

    ``operation_id`` comes from the ``OPERATION`` entry of ``related`` (None for inbound
    messages). ``attempts`` is None when the answer had none (``GET /Messages`` lists
    messages without them); ``GET /Messages/{id}`` fills it (empty for an unaddressable
    recipient). ``fallback`` and ``n_attempts`` are None while the attempts are unknown.
    """

    id: str
    operation_id: str | None
    status: str
    to_address: str | None
    to_channel: str | None
    sender_id: str | None
    sender_address: str | None
    channel: str | None
    sender_pool_id: str | None
    tags: dict[str, str] = field(hash=False)
    scheduled_for: datetime | None
    created_at: datetime
    updated_at: datetime
    attempts: tuple[Attempt, ...] | None = None

    @property
    def n_attempts(self) -> int | None:
        """How many attempts were made (None when the attempts were not loaded)."""
        return None if self.attempts is None else len(self.attempts)

    @property
    def fallback(self) -> bool | None:
        """True when a second attempt followed the first (e.g. RCS failed, then SMS)."""
        return None if self.attempts is None else len(self.attempts) > 1

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Message:
        """Read a ``MessageMetadata`` (list item) or full ``Message`` JSON object."""
        sender = data.get("from") or {}
        to = _first(data.get("to"))
        attempts = data.get("attempts")
        return cls(
            id=data["id"],
            operation_id=related_operation(data.get("related")),
            status=data["status"],
            to_address=to.get("address"),
            to_channel=to.get("channel"),
            sender_id=sender.get("senderId"),
            sender_address=sender.get("address"),
            channel=sender.get("channel"),
            sender_pool_id=sender.get("senderPoolId"),
            tags=_tags(data.get("tags")),
            scheduled_for=_optional_timestamp(data.get("scheduledFor")),
            created_at=parse_timestamp(data["createdAt"]),
            updated_at=parse_timestamp(data["updatedAt"]),
            attempts=None if attempts is None else tuple(map(Attempt.from_api, attempts)),
        )
