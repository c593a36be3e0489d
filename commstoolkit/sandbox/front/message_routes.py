"""Handlers of the Messages endpoints and of ``POST /Senders/Resolve``.

- ``POST /Messages`` -> 202 ``{operationId, operationLocation}`` + ``Location``
- ``GET /Messages`` (``operationId``, ``status``, ``channel``, ``tags``, ``profile``, dates;
  ``sessionId`` is checked and ignored: outbound messages have no session), keyset-paginated
- ``GET /Messages/{messageId}`` (with ``content`` and ``attempts``)
- ``GET /Messages/Seek/{identifier}`` -> 301 to the message (a message id or an attempt's
  SM/MM SID, as in the attempt's ``infoUrl``)
- ``GET /Messages/Operations`` and ``/{operationId}``
- ``POST /Senders/Resolve`` -> 200 ``{results}``: per recipient, the sender each channel would
  use, best first (``priority`` 0, 1, ... within the recipient; at most 10 per recipient);
  nothing is sent and nothing changes.
"""

from __future__ import annotations

import functools
import re

from ..exceptions import invalid
from ..simulation.delivery import Router
from ..simulation.message_wire import MESSAGE_STATUSES
from ..state import ids
from . import validation as check
from .message_requests import parse_resolve, parse_send
from .routes import accepted_operation
from .routing import Call, Route
from .wire import Response, json_response

OPERATION_STATUSES = ("SCHEDULED", "PROCESSING", "COMPLETED", "CANCELED")
MESSAGE_CHANNELS = ("SMS", "RCS", "WHATSAPP")
TAGS_FILTER = re.compile(r"(?:[a-zA-Z0-9._~-]+:[a-zA-Z0-9._~-]+;){1,10}\Z")
MAX_RESULTS = 10


def send_messages(call: Call) -> Response:
    request = parse_send(call.request.body)
    operation_id = call.backend.messages.send(request)
    return accepted_operation(operation_id, f"{call.base}/Messages/Operations/{operation_id}")


def _tags_filter(value: str | None) -> dict[str, str] | None:
    """``key1:v1;key2:v2;`` -> ``{key1: v1, key2: v2}``."""
    if value is None:
        return None
    if not TAGS_FILTER.match(value):
        raise invalid(f"tags must look like key1:value1;key2:value2; (got {value[:60]!r})", "tags")
    return dict(pair.split(":", 1) for pair in value.split(";") if pair)


def list_messages(call: Call) -> Response:
    session = call.query("sessionId")
    check.optional(check.identifier, session, ids.SESSION, "sessionId")
    operation, profile = call.query("operationId"), call.query("profile")
    status, channel = call.query("status"), call.query("channel")
    filters = {
        "operation_id": check.optional(check.identifier, operation, ids.OPERATION, "operationId"),
        "profile": check.optional(check.identifier, profile, ids.PROFILE, "profile"),
        "status": check.optional(check.choice, status, (*MESSAGE_STATUSES, "GROUP", "INBOUND"),
                                 "status"),
        "channel": check.optional(check.choice, channel, MESSAGE_CHANNELS, "channel"),
        "tags": _tags_filter(call.query("tags")),
        **call.dates(),
    }  # fmt: skip
    fetch = functools.partial(call.backend.messages.list_messages, base=call.base)
    return call.listing("messages", fetch, filters)


def get_message(call: Call) -> Response:
    message_id = call.path_id("messageId", ids.MESSAGE)
    message = call.backend.messages.get_message(
        message_id, base=call.base, account_sid=call.sandbox.account_sid
    )
    return json_response(200, message)


def seek_message(call: Call) -> Response:
    message_id = call.backend.messages.seek(call.params["identifier"])
    location = f"{call.base}/Messages/{message_id}"
    return Response(301, b"", {"Location": location})


def list_message_operations(call: Call) -> Response:
    status = call.query("status")
    filters = {
        "status": check.optional(check.choice, status, OPERATION_STATUSES, "status"),
        **call.dates(),
    }
    return call.listing("operations", call.backend.messages.list_operations, filters)


def get_message_operation(call: Call) -> Response:
    operation_id = call.path_id("operationId", ids.OPERATION)
    return json_response(200, call.backend.messages.get_operation(operation_id))


def resolve_senders(call: Call) -> Response:
    request = parse_resolve(call.request.body)
    messages = call.backend.messages
    with call.sandbox.store.read():
        senders = messages.senders(
            request.sender, request.pool_id, check.SENDER_CHANNELS, "$.senderAddresses"
        )
        seed = call.sandbox.store.get_int("seed")
    choice = request.sender
    router = Router(seed, senders, filter_in=choice.filter_in, priority=choice.priority)
    results = []
    for address, channel in request.recipients:
        for rank, sender in enumerate(router.routes(address, channel)[:MAX_RESULTS]):
            results.append({
                "from": {
                    "senderId": sender.id,
                    "displayName": sender.display_name,
                    "address": sender.address,
                    "channel": sender.channel,
                },
                "to": {"address": address, "channel": channel},
                "priority": rank,
            })  # fmt: skip
    return json_response(200, {"results": results})


# Before the sender routes: "/Senders/Resolve" must not be read as a sender id.
MESSAGE_ROUTES = [
    Route("POST", "/Senders/Resolve", resolve_senders),
    Route("POST", "/Messages", send_messages),
    Route("GET", "/Messages", list_messages),
    Route("GET", "/Messages/Operations", list_message_operations),
    Route("GET", "/Messages/Operations/{operationId}", get_message_operation),
    Route("GET", "/Messages/Seek/{identifier}", seek_message),
    Route("GET", "/Messages/{messageId}", get_message),
]
