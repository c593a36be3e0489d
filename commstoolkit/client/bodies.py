"""The request bodies and query parameters the client sends, in the API's camelCase.

Each body is a frozen dataclass with ``to_api()``; the helpers build the query and paging
parameters of a listing. Only the client uses them: the answers it reads are
``commstoolkit.models``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from commstoolkit.models import Recipient, camel_case, format_timestamp

__all__ = [
    "ResolveRequest",
    "SendMessages",
    "SenderPoolCreate",
    "SenderPoolUpdate",
    "SenderSearch",
    "channel_control",
    "member_refs",
    "paging",
    "query_params",
    "tags_query",
]


def query_params(**params: Any) -> dict[str, Any]:
    """API query parameters from snake_case keywords: camelCased, None dropped, dates formatted."""
    return {
        camel_case(key): format_timestamp(value) if isinstance(value, date) else value
        for key, value in params.items()
        if value is not None
    }


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
