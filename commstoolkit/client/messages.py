"""``client.messages``: send messages, list and fetch them, and their operations (``.operations``).

A send is asynchronous: ``send`` returns the message ``Operation`` to wait for
(``client.wait(op)``). It is never retried once it may have reached the server (the API
has no idempotency key): a ``TransportError`` with ``request_sent`` True means "look the
messages up by their tags before sending again".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from commstoolkit.client._http import HttpCore
from commstoolkit.client._resource import Resource
from commstoolkit.client.bodies import SendMessages, query_params, tags_query
from commstoolkit.client.operations import Operations
from commstoolkit.client.pagination import Pager
from commstoolkit.errors import InvalidInputError
from commstoolkit.models import (
    MESSAGE_ADDRESS_CHANNELS,
    MESSAGE_CHANNELS,
    MESSAGE_STATUSES,
    Message,
    Operation,
)
from commstoolkit.rules import (
    SEND_RECIPIENTS_MAX,
    check_choices,
    check_date_range,
    check_id,
    check_message_text,
    check_optional_choice,
    check_optional_id,
    check_page_size,
    check_priority,
    check_recipients,
    check_tags,
    check_timestamp,
    operation_id_of,
)

__all__ = ["Messages"]

KIND = "message"
# int and float: Unix seconds (rules.unix_seconds).
DateLike = date | str | int | float | None


class Messages(Resource):
    """Messages: ``send``, ``list``, ``get``; message operations under ``.operations``."""

    def __init__(self, http: HttpCore) -> None:
        super().__init__(http)
        self.operations = Operations(http, KIND)

    def send(
        self,
        recipients: Any,
        *,
        text: str | None = None,
        content: Mapping[str, Any] | None = None,
        sender_pool_id: str | None = None,
        sender_id: str | None = None,
        channels: Iterable[str] | None = None,
        priority: Mapping[str, int] | None = None,
        tags: Mapping[str, str] | None = None,
        send_at: datetime | date | str | None = None,
    ) -> Operation:
        """Send one message per recipient; returns the message operation (not yet fetched).

        ``recipients``: 1-10,000 phone numbers (text, channel PHONE), ``(address, channel)``
        pairs, ``{"address", "channel"}`` mappings or ``Recipient`` objects, channel PHONE or
        WHATSAPP. Give ``text`` (1-1,600 characters) or ``content`` (the API's content object
        as is: media, a template id or channel modules). The sender is a pool
        (``sender_pool_id``, optionally limited to ``channels`` among SMS, RCS, WHATSAPP and
        ranked by ``priority``: channel -> int, lower wins) or one ``sender_id``; neither
        lets the API choose. ``tags`` (<= 10 pairs) are stored on every message and can be
        listed by; ``send_at`` schedules the send (the API allows up to 30 days ahead).

        Raises ``InvalidInputError`` before any request when an argument is not allowed.
        """
        body = SendMessages(
            recipients=check_recipients(
                recipients, channels=MESSAGE_ADDRESS_CHANNELS, max_items=SEND_RECIPIENTS_MAX
            ),
            content=_content(text, content),
            sender_pool_id=check_optional_id(sender_pool_id, "sender pool", "sender_pool_id"),
            sender_id=check_optional_id(sender_id, "sender", "sender_id"),
            channels=_optional_choices(channels, "channels"),
            priority=None if priority is None else check_priority(priority, MESSAGE_CHANNELS),
            tags=None if tags is None else check_tags(tags),
            send_at=check_timestamp(send_at, "send_at"),
        )
        _check_sender_choice(body)
        return self._call(
            "POST",
            "/Messages",
            lambda data: Operation.from_accepted(data, KIND),
            "operation",
            json_body=body.to_api(),
        )

    def list(
        self,
        operation_id: Operation | str | None = None,
        status: str | None = None,
        channel: str | None = None,
        tags: Mapping[str, str] | None = None,
        start_date: DateLike = None,
        end_date: DateLike = None,
        page_size: int = 1000,
    ) -> Pager[Message]:
        """Every message matching all the filters given (without attempts: see ``get``).

        ``operation_id``: the messages of one send (an ``Operation`` or its id);
        ``status``: one of the message statuses (QUEUED, SENT, DELIVERED, ...);
        ``channel``: SMS, RCS or WHATSAPP; ``tags``: messages carrying every one of these
        tags; dates bound the creation time (the end must come after the start).
        """
        start_at, end_at = check_date_range(start_date, end_date)
        params = query_params(
            operation_id=None
            if operation_id is None
            else operation_id_of(operation_id, "operation_id"),
            status=check_optional_choice(status, MESSAGE_STATUSES, "status"),
            channel=check_optional_choice(channel, MESSAGE_CHANNELS, "channel"),
            tags=None if tags is None else tags_query(_check_filter_tags(tags)),
            start_date=start_at,
            end_date=end_at,
        )
        return Pager(
            self._http,
            "GET",
            "/Messages",
            items="messages",
            parse=Message.from_api,
            page_size=check_page_size(page_size),
            params=params,
        )

    def get(self, id: str) -> Message:
        """One message by id, with its ``attempts``; ``NotFoundError`` if it does not exist."""
        message_id = check_id(id, "message", "id")
        return self._call("GET", f"/Messages/{message_id}", Message.from_api, "message")


def _content(text: str | None, content: Mapping[str, Any] | None) -> dict[str, Any]:
    if (text is None) == (content is None):
        raise InvalidInputError(
            "give the message as text=... or content=... (exactly one of them)",
            field="text",
            allowed=("text", "content"),
        )
    if text is not None:
        return {"text": check_message_text(text)}
    if not isinstance(content, Mapping) or not content:
        raise InvalidInputError(
            f"content: expected the API's content object (a non-empty dict), got {content!r}",
            field="content",
        )
    if "text" in content:
        check_message_text(content["text"], "content.text")
    return dict(content)


def _optional_choices(values: Iterable[str] | None, field: str) -> tuple[str, ...] | None:
    return None if values is None else check_choices(values, MESSAGE_CHANNELS, field)


def _check_sender_choice(body: SendMessages) -> None:
    if body.sender_id is not None and body.sender_pool_id is not None:
        raise InvalidInputError(
            "give sender_pool_id or sender_id, not both",
            field="sender_id",
            allowed=("sender_pool_id", "sender_id"),
        )
    if body.sender_pool_id is None and (body.channels is not None or body.priority is not None):
        raise InvalidInputError(
            "channels and priority choose among a pool's senders: give sender_pool_id too",
            field="channels",
        )


def _check_filter_tags(tags: Mapping[str, str]) -> dict[str, str]:
    checked = check_tags(tags)
    if not checked:
        raise InvalidInputError(
            "tags: give at least one tag to filter by (or tags=None)",
            field="tags",
            allowed="1..10 pairs",
        )
    return checked
