"""API objects as frozen dataclasses: the one camelCase <-> snake_case boundary.

``Model.from_api(data)`` reads the API's JSON (camelCase, unknown fields ignored, timestamps
as tz-aware UTC ``datetime``); the request shapes the client sends have ``to_api()``.
Nothing outside this module spells a camelCase field name.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from itertools import chain
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
    "ResolveRequest",
    "Route",
    "SendMessages",
    "Sender",
    "SenderColumns",
    "SenderPool",
    "SenderPoolCreate",
    "SenderPoolUpdate",
    "SenderSearch",
    "channel_control",
    "format_timestamp",
    "member_refs",
    "paging",
    "parse_timestamp",
    "query_params",
    "read_page",
    "tags_query",
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


def _optional_timestamp(value: Any) -> datetime | None:
    return None if value is None else parse_timestamp(value)


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _is_count(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _tags(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in (value or {}).items()}


def query_params(**params: Any) -> dict[str, Any]:
    """API query parameters from snake_case keywords: camelCased, None dropped, dates formatted."""
    return {
        _camel(key): format_timestamp(value) if isinstance(value, date) else value
        for key, value in params.items()
        if value is not None
    }


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


class SenderColumns:
    """Senders held column by column (one list per ``Sender`` field), without a ``Sender``
    per item: the bulk path of ``frames.load_senders`` for large accounts.

    ``add(objects)`` appends a page of Sender JSON objects, ``extend(senders)`` appends
    ``Sender`` objects. Every value is what ``Sender.from_api`` reads, and a page it cannot
    read raises what ``Sender.from_api`` raises (the page is then not added). ``tags`` maps
    each tag key to one value per row, None where the sender has no such tag.
    ``created_at`` / ``updated_at`` keep a timestamp in the API's own form as its text
    (checked: ``API_TIMESTAMP_FORMAT``, UTC, a real date and time), so that a frame can
    read the column at once; a timestamp in any other form is the datetime
    ``parse_timestamp`` reads.
    """

    __slots__ = (
        "address",
        "channel",
        "created_at",
        "display_name",
        "id",
        "status",
        "tags",
        "updated_at",
    )

    def __init__(self) -> None:
        self.id: list[str] = []
        self.display_name: list[str | None] = []
        self.address: list[str] = []
        self.channel: list[str] = []
        self.status: list[str] = []
        self.created_at: list[datetime | str] = []
        self.updated_at: list[datetime | str] = []
        self.tags: dict[str, list[str | None]] = {}

    def __len__(self) -> int:
        return len(self.id)

    def add(self, objects: Sequence[Mapping[str, Any]]) -> int:
        """Append a page of ``Sender`` JSON objects; returns how many it held."""
        try:
            page = _sender_page(objects)
        except (KeyError, TypeError, ValueError, AttributeError):
            page = None
        if page is None:
            # Something unusual (a timestamp in another form, a tag value that is not text,
            # a bad object): read each one as Sender.from_api does, errors included.
            return self.extend([Sender.from_api(data) for data in objects])
        fields, tags = page
        self._append(fields, tags)
        return len(fields[0])

    def extend(self, senders: Sequence[Sender]) -> int:
        """Append ``Sender`` objects; returns how many."""
        fields = (
            [s.id for s in senders],
            [s.display_name for s in senders],
            [s.address for s in senders],
            [s.channel for s in senders],
            [s.status for s in senders],
            [s.created_at for s in senders],
            [s.updated_at for s in senders],
        )
        self._append(fields, [s.tags for s in senders])
        return len(senders)

    def _append(self, fields: tuple[list[Any], ...], tags: list[Mapping[str, str]]) -> None:
        before, added = len(self.id), len(fields[0])
        keys = set().union(*tags)
        for key in keys - self.tags.keys():
            self.tags[key] = [None] * before
        for key, values in self.tags.items():
            values.extend([t.get(key) for t in tags] if key in keys else [None] * added)
        columns: tuple[list[Any], ...] = (
            self.id,
            self.display_name,
            self.address,
            self.channel,
            self.status,
            self.created_at,
            self.updated_at,
        )
        for column, values in zip(columns, fields, strict=True):
            column.extend(values)


_NO_TAGS: Mapping[str, str] = {}


def _sender_page(
    objects: Sequence[Mapping[str, Any]],
) -> tuple[tuple[list[Any], ...], list[Mapping[str, str]]] | None:
    """A page of Sender JSON objects read field by field (one pass per field), or None when
    a tag map is not a dict of text values (``Sender.from_api`` converts those)."""
    tags = [data.get("tags") or _NO_TAGS for data in objects]
    if {t.__class__ for t in tags} - {dict}:
        return None
    try:  # every tag key and value is text: joining them all is the quickest check
        "".join(chain.from_iterable(tags))
        "".join(chain.from_iterable(t.values() for t in tags))
    except TypeError:
        return None
    fields = (
        [data["id"] for data in objects],
        [data.get("displayName") for data in objects],
        [data["address"] for data in objects],
        [data["channel"] for data in objects],
        [data["status"] for data in objects],
        _timestamps([data["createdAt"] for data in objects]),
        _timestamps([data["updatedAt"] for data in objects]),
    )
    return fields, tags


# The API's own timestamp form (strftime / strptime), always UTC: "2024-04-05T06:20:00Z".
API_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# Timestamps in the API's own form, one per line: a whole page of them checked at once.
_API_TIMESTAMPS = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ(?:\n\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)*", re.ASCII
)
# Python 3.11+ reads the "Z" itself; 3.10 needs the offset spelled out.
_from_api_form: Callable[[str], datetime] = (
    datetime.fromisoformat
    if sys.version_info >= (3, 11)
    else lambda text: datetime.fromisoformat(text[:19] + "+00:00")
)


def _timestamps(texts: list[Any]) -> list[Any]:
    """A page's timestamps for ``SenderColumns``: the texts themselves when every one is in
    the API's own form ("2024-04-05T06:20:00Z"; checked at once, and each read once to
    refuse a date such as month 13), else ``parse_timestamp`` of each."""
    try:
        joined = "\n".join(texts)
    except TypeError:
        joined = ""
    if texts and joined.count("\n") == len(texts) - 1 and _API_TIMESTAMPS.fullmatch(joined):
        try:
            for text in texts:
                _from_api_form(text)
        except ValueError:
            pass  # parse_timestamp raises it with its message
        else:
            return texts
    return [parse_timestamp(text) for text in texts]


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
    return read(data.get(_camel(items)) or []), pagination.get("next") or None


def paging(page_size: int | None, page_token: str | None) -> dict[str, Any]:
    """The paging fields of a request (query or body)."""
    return query_params(page_size=page_size, page_token=page_token)


def member_refs(sender_ids: Iterable[str]) -> list[dict[str, str]]:
    """The ``[{"senderId": …}, …]`` list used by create-pool and add-members bodies."""
    return [{"senderId": sender_id} for sender_id in sender_ids]


@dataclass(frozen=True, slots=True)
class SenderPoolCreate:
    """Body of ``POST /SenderPools``."""

    name: str | None = None
    sender_ids: tuple[str, ...] = ()
    tags: dict[str, str] | None = field(default=None, hash=False)

    def to_api(self) -> dict[str, Any]:
        """The JSON body; empty parts are left out."""
        body: dict[str, Any] = {}
        if self.name is not None:
            body["name"] = self.name
        if self.sender_ids:
            body["senders"] = member_refs(self.sender_ids)
        if self.tags is not None:
            body["tags"] = dict(self.tags)
        return body


@dataclass(frozen=True, slots=True)
class SenderPoolUpdate:
    """Body of ``PATCH /SenderPools/{id}`` (tags, when given, replace the whole map)."""

    name: str | None = None
    tags: dict[str, str] | None = field(default=None, hash=False)

    def to_api(self) -> dict[str, Any]:
        """The JSON body with the fields that change."""
        return SenderPoolCreate(name=self.name, tags=self.tags).to_api()


@dataclass(frozen=True, slots=True)
class SenderSearch:
    """Body of ``POST /Senders/Search`` (without paging)."""

    address: str
    channel: str
    status: str | None = None

    def to_api(self) -> dict[str, Any]:
        """The JSON body."""
        return query_params(address=self.address, channel=self.channel, status=self.status)


@dataclass(frozen=True, slots=True)
class Recipient:
    """A recipient address for Resolve: channel is one of ``RECIPIENT_CHANNELS``."""

    address: str
    channel: str

    def to_api(self) -> dict[str, str]:
        """The JSON object."""
        return {"address": self.address, "channel": self.channel}


@dataclass(frozen=True, slots=True)
class ResolveRequest:
    """Body of ``POST /Senders/Resolve``: which senders would reach these recipients."""

    recipients: tuple[Recipient, ...]
    sender_pool_id: str | None = None
    channels: tuple[str, ...] | None = None
    priority: dict[str, int] | None = field(default=None, hash=False)

    def to_api(self) -> dict[str, Any]:
        """The JSON body."""
        body: dict[str, Any] = query_params(sender_pool_id=self.sender_pool_id)
        body["recipientAddresses"] = [r.to_api() for r in self.recipients]
        return {**body, **channel_control(self.channels, self.priority)}


def channel_control(
    channels: Iterable[str] | None, priority: Mapping[str, int] | None
) -> dict[str, Any]:
    """``{"channels": {"filterIn": …, "priority": […]}}``, or {} when neither is given."""
    control: dict[str, Any] = {}
    if channels is not None:
        control["filterIn"] = list(channels)
    if priority is not None:
        control["priority"] = [{"channel": c, "priority": p} for c, p in priority.items()]
    return {"channels": control} if control else {}


def tags_query(tags: Mapping[str, str]) -> str:
    """The ``tags`` list filter (``key1:v1;key2:v2;``): resources having all these tags."""
    return "".join(f"{key}:{value};" for key, value in tags.items())


def _first(items: Any) -> Mapping[str, Any]:
    return items[0] if items else {}


def _related_operation(related: Any) -> str | None:
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
            operation_id=_related_operation(data.get("related")),
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


@dataclass(frozen=True, slots=True)
class SendMessages:
    """Body of ``POST /Messages``: address recipients, content, sender choice, tags, schedule.

    ``content`` is the API's content object (``{"text": …}``, media, template or modules);
    ``from`` is a pool (``sender_pool_id`` with ``channels`` = filterIn and ``priority``),
    one sender (``sender_id``) or left to the API (both None).
    """

    recipients: tuple[Recipient, ...]
    content: dict[str, Any] = field(hash=False)
    sender_pool_id: str | None = None
    sender_id: str | None = None
    channels: tuple[str, ...] | None = None
    priority: dict[str, int] | None = field(default=None, hash=False)
    tags: dict[str, str] | None = field(default=None, hash=False)
    send_at: datetime | None = None

    def to_api(self) -> dict[str, Any]:
        """The JSON body."""
        body: dict[str, Any] = {"to": [r.to_api() for r in self.recipients]}
        body["content"] = dict(self.content)
        sender = self._sender()
        if sender:
            body["from"] = sender
        if self.tags:
            body["tags"] = dict(self.tags)
        if self.send_at is not None:
            body["schedule"] = {"sendAt": [format_timestamp(self.send_at)]}
        return body

    def _sender(self) -> dict[str, Any]:
        if self.sender_id is not None:
            return {"senderId": self.sender_id}
        if self.sender_pool_id is None:
            return {}
        control = channel_control(self.channels, self.priority)
        return {"senderPoolId": self.sender_pool_id, **control}
