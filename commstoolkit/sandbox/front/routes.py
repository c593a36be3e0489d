"""The API's routing table and its handlers: parse, call the backend, serialize (moto's
``urls`` + ``responses``). Paths are the spec's, without the ``/v1`` or ``/preview`` prefix.

A body is read by the front's own checks first (they name the problem the way the API does),
then checked whole against the official request schema (``schema.check``) before anything
is done with it: what the checks let through and the contract refuses (a ``null`` inside the
body, a field the schema closes...) is a 400 all the same."""

from __future__ import annotations

from ..exceptions import invalid
from ..state import ids
from . import schema
from . import validation as check
from .routing import Call, Route
from .wire import Response, json_response

MAX_ADD = 10_000


def sender_filters(call: Call) -> dict[str, object]:
    """``channel``, ``status``, ``startDate``, ``endDate`` of a sender listing."""
    channel, status = call.query("channel"), call.query("status")
    return {
        "channel": check.optional(check.choice, channel, check.SENDER_CHANNELS, "channel"),
        "status": check.optional(check.choice, status, check.SENDER_STATUSES, "status"),
        **call.dates(),
    }


def accepted_operation(operation_id: str, location: str) -> Response:
    """202 with ``{operationId, operationLocation}`` and the Location header."""
    body = {"operationId": operation_id, "operationLocation": location}
    return json_response(202, body, {"Location": location})


def accepted_resource(resource_id: str, location: str) -> Response:
    """202 with ``{resourceId, resourceLocation}`` and the Location header."""
    body = {"resourceId": resource_id, "resourceLocation": location}
    return json_response(202, body, {"Location": location})


# -- senders -------------------------------------------------------------------------------


def list_senders(call: Call) -> Response:
    return call.listing("senders", call.backend.list_senders, sender_filters(call))


def get_sender(call: Call) -> Response:
    return json_response(200, call.backend.get_sender(call.path_id("senderId", ids.SENDER)))


def search_senders(call: Call) -> Response:
    body = check.json_object(call.request.body)
    for required in ("address", "channel"):
        if required not in body:
            raise invalid(f"$.{required} is required", f"$.{required}")
    filters = {
        "address": check.string(body["address"], "$.address"),
        "channel": check.choice(body["channel"], check.SENDER_CHANNELS, "$.channel"),
        "status": check.optional(
            check.choice, body.get("status"), check.SENDER_STATUSES, "$.status"
        ),
    }
    schema.check(call.route.name, body)
    return call.listing("senders", call.backend.search_senders, filters, body)


# -- sender pools --------------------------------------------------------------------------


def create_pool(call: Call) -> Response:
    body = check.json_object(call.request.body)
    name = check.string(body.get("name", ""), "$.name")
    tags = check.tags(body.get("tags", {}), "$.tags")
    senders = check.sender_refs(
        body.get("senders", []), "$.senders", min_items=0, max_items=MAX_ADD
    )
    schema.check(call.route.name, body)
    operation_id = call.backend.create_pool(name=name, tags=tags, sender_ids=senders)
    return accepted_operation(operation_id, f"{call.base}/SenderPools/Operations/{operation_id}")


def list_pools(call: Call) -> Response:
    operation = call.query("operationId")
    filters = {
        **call.dates(),
        "operation_id": check.optional(check.identifier, operation, ids.OPERATION, "operationId"),
    }
    return call.listing("senderPools", call.backend.list_pools, filters)


def get_pool(call: Call) -> Response:
    return json_response(200, call.backend.get_pool(call.path_id("senderPoolId", ids.POOL)))


def update_pool(call: Call) -> Response:
    pool_id = call.path_id("senderPoolId", ids.POOL)
    body = check.json_object(call.request.body)
    if "name" not in body and "tags" not in body:
        raise invalid("the body must set name, tags or both", "$")
    name = check.string(body["name"], "$.name") if "name" in body else None
    tags = check.tags(body["tags"], "$.tags") if "tags" in body else None
    schema.check(call.route.name, body)
    call.backend.update_pool(pool_id, name=name, tags=tags)
    return accepted_resource(pool_id, f"{call.base}/SenderPools/{pool_id}")


def delete_pool(call: Call) -> Response:
    pool_id = call.path_id("senderPoolId", ids.POOL)
    call.backend.delete_pool(pool_id)
    return accepted_resource(pool_id, f"{call.base}/SenderPools/{pool_id}")


def list_pool_senders(call: Call) -> Response:
    filters = {**sender_filters(call), "pool_id": call.path_id("senderPoolId", ids.POOL)}
    return call.listing("senders", call.backend.list_senders, filters)


def add_pool_senders(call: Call) -> Response:
    pool_id = call.path_id("senderPoolId", ids.POOL)
    body = check.json_body(call.request.body)
    senders = check.sender_refs(body, "$", min_items=1, max_items=MAX_ADD)
    schema.check(call.route.name, body)
    operation_id = call.backend.add_pool_senders(pool_id, senders)
    location = f"{call.base}/SenderPools/{pool_id}/Senders/Operations/{operation_id}"
    return accepted_operation(operation_id, location)


def remove_pool_sender(call: Call) -> Response:
    pool_id = call.path_id("senderPoolId", ids.POOL)
    sender_id = call.path_id("senderId", ids.SENDER)
    call.backend.remove_pool_sender(pool_id, sender_id)
    return accepted_resource(sender_id, f"{call.base}/SenderPools/{pool_id}/Senders/{sender_id}")


# -- sender pool operations ----------------------------------------------------------------


def list_operations(call: Call) -> Response:
    status = call.query("status")
    filters = {
        "status": check.optional(check.choice, status, check.POOL_OPERATION_STATUSES, "status"),
        **call.dates(),
    }
    return call.listing("operations", call.backend.list_operations, filters)


def get_operation(call: Call) -> Response:
    operation_id = call.path_id("operationId", ids.OPERATION)
    return json_response(200, call.backend.get_operation(operation_id))


def get_pool_operation(call: Call) -> Response:
    pool_id = call.path_id("senderPoolId", ids.POOL)
    operation_id = call.path_id("operationId", ids.OPERATION)
    return json_response(200, call.backend.get_operation(operation_id, pool_id))


# Literal segments come before parameters: "/SenderPools/Operations" is not a pool id.
ROUTES = [
    Route("GET", "/Senders", list_senders),
    Route("POST", "/Senders/Search", search_senders),
    Route("GET", "/Senders/{senderId}", get_sender),
    Route("POST", "/SenderPools", create_pool),
    Route("GET", "/SenderPools", list_pools),
    Route("GET", "/SenderPools/Operations", list_operations),
    Route("GET", "/SenderPools/Operations/{operationId}", get_operation),
    Route("GET", "/SenderPools/{senderPoolId}", get_pool),
    Route("PATCH", "/SenderPools/{senderPoolId}", update_pool),
    Route("DELETE", "/SenderPools/{senderPoolId}", delete_pool),
    Route("GET", "/SenderPools/{senderPoolId}/Senders", list_pool_senders),
    Route("POST", "/SenderPools/{senderPoolId}/Senders", add_pool_senders),
    Route(
        "GET", "/SenderPools/{senderPoolId}/Senders/Operations/{operationId}", get_pool_operation
    ),
    Route("DELETE", "/SenderPools/{senderPoolId}/Senders/{senderId}", remove_pool_sender),
]
