"""The Event Streams API over the sandbox: ``/events/v1/...`` (live ``events.twilio.com/v1``).

Sinks (create, list, fetch, update, delete, Test, Validate), Subscriptions (create, list,
fetch, update, delete) and their SubscribedEvents, Types (list, fetch): form-encoded requests
checked against the official contract (``event_params``), JSON answers, classic ``meta``
paging, and classic errors ``{code, message, more_info, status}``. ``answer`` serves one
request that ``dispatch`` has authenticated; fault rules do not apply here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

from ..events.streams import refused
from ..exceptions import INFO_URL, ApiError, error
from . import event_params as params
from .routing import Account, Call, Route, match
from .wire import Request, Response, json_response

PREFIX = "/events/v1"
Handler = Callable[[Call], Response]


def classic(err: ApiError) -> Response:
    """An ``ApiError`` as classic Twilio APIs answer it."""
    item = err.items[0]
    body = {
        "code": item.code,
        "message": item.message,
        "more_info": INFO_URL.format(code=item.code),
        "status": err.status,
    }
    return json_response(err.status, body, err.headers)


def answer(sandbox: Account, request: Request, rest: str) -> Response:
    """Serve ``rest`` (the path after ``/events/v1``); an ``ApiError`` becomes a classic one."""
    try:
        route, found, allowed = match(EVENT_ROUTES, request.method, rest)
        if route is None:
            if allowed:
                err = error(405, f"{request.method} is not allowed here; use {', '.join(allowed)}.")
                err.headers["Allow"] = ", ".join(allowed)
                raise err
            raise error(404, f"The requested resource {rest} was not found")
        params.path(route.method, route.template, found, rest)
        return route.handler(Call(sandbox, request, route, found, PREFIX.strip("/")))
    except ApiError as err:
        return classic(err)


def _form(call: Call) -> dict[str, object]:
    return params.body(call.route.method, call.route.template, call.request.headers,
                       call.request.body)  # fmt: skip


def _query(call: Call) -> dict[str, object]:
    return params.query(call.route.method, call.route.template, call.request.query)


def _listing(
    call: Call, key: str, items: list[tuple[int, dict[str, Any]]], found: dict[str, object],
    filters: list[tuple[str, object]],
) -> Response:  # fmt: skip
    """One page of ``items`` (in key order) with the classic ``meta``."""
    size, page, after = params.paging(found)
    keys = [k for k, _ in items]
    start = page * size if after is None else sum(1 for k in keys if k <= after)
    chosen = items[start : start + size]
    path = call.base + call.request.path[call.request.path.index(PREFIX) + len(PREFIX) :]
    shown = [(name, _text(value)) for name, value in filters if value is not None]

    def url(number: int, token_after: int | None) -> str:
        query = [*shown, ("PageSize", size), ("Page", number)]
        if token_after is not None:
            query.append(("PageToken", f"PA{token_after}"))
        return f"{path}?{urlencode(query)}"

    previous = None
    if page > 0 and start > 0:
        before = max(start - size, 0)
        previous = url(page - 1, keys[before - 1] if before else None)
    more = start + size < len(items)
    meta = {
        "page": page,
        "page_size": size,
        "first_page_url": url(0, None),
        "previous_page_url": previous,
        "url": url(page, after),
        "next_page_url": url(page + 1, keys[start + size - 1]) if more else None,
        "key": key,
    }
    return json_response(200, {key: [item for _, item in chosen], "meta": meta})


def _text(value: object) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _no_content() -> Response:
    return Response(204, b"", {})


# -- sinks -------------------------------------------------------------------------------------


def _configuration(sink_type: str, text: str) -> dict[str, Any]:
    """``SinkConfiguration``: a JSON object; a webhook's names an http(s) ``destination``."""
    try:
        configuration = json.loads(text)
    except ValueError:
        configuration = None
    if not isinstance(configuration, dict):
        raise refused("SinkConfiguration must be a JSON object (as a string)", "SinkConfiguration")
    if sink_type != "webhook":
        return configuration
    destination = configuration.get("destination")
    parts = urlsplit(destination) if isinstance(destination, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise refused(
            'A webhook sink needs {"destination": "https://..."} (an http or https URL) in '
            "SinkConfiguration",
            "SinkConfiguration",
        )
    method = configuration.setdefault("method", "POST")
    if method != "POST":
        raise refused(
            f'The sandbox delivers events as a JSON body, so "method" must be "POST", got '
            f"{method!r}",
            "SinkConfiguration",
        )
    return configuration


def create_sink(call: Call) -> Response:
    form = _form(call)
    sink_type = str(form["SinkType"])
    configuration = _configuration(sink_type, str(form["SinkConfiguration"]))
    sink = call.sandbox.events.create_sink(
        description=str(form["Description"]), sink_type=sink_type, configuration=configuration,
        base=call.base,
    )  # fmt: skip
    return json_response(201, sink)


def list_sinks(call: Call) -> Response:
    found = _query(call)
    in_use, status = found.get("InUse"), found.get("Status")
    items = call.sandbox.events.list_sinks(
        in_use=in_use if isinstance(in_use, bool) else None,
        status=str(status) if status is not None else None,
        base=call.base,
    )
    return _listing(call, "sinks", items, found, [("InUse", in_use), ("Status", status)])


def get_sink(call: Call) -> Response:
    return json_response(200, call.sandbox.events.get_sink(call.params["Sid"], call.base))


def update_sink(call: Call) -> Response:
    form = _form(call)
    sink = call.sandbox.events.update_sink(
        call.params["Sid"], description=str(form["Description"]), base=call.base
    )
    return json_response(200, sink)


def delete_sink(call: Call) -> Response:
    call.sandbox.events.delete_sink(call.params["Sid"])
    return _no_content()


def test_sink(call: Call) -> Response:
    return json_response(201, call.sandbox.events.test_sink(call.params["Sid"]))


def validate_sink(call: Call) -> Response:
    form = _form(call)
    result = call.sandbox.events.validate_sink(call.params["Sid"], str(form["TestId"]))
    return json_response(201, result)


# -- subscriptions -----------------------------------------------------------------------------


def _types(values: object) -> list[tuple[str, int | None]]:
    """``Types``: each a JSON string ``{"type": "...", "schema_version": N}``."""
    if not isinstance(values, list) or not values:
        raise refused("Types needs at least one event type", "Types")
    found: list[tuple[str, int | None]] = []
    for text in values:
        try:
            item = json.loads(text)
        except ValueError:
            item = None
        type_ = item.get("type") if isinstance(item, dict) else None
        version = item.get("schema_version") if isinstance(item, dict) else None
        if not isinstance(type_, str) or not (
            version is None or (isinstance(version, int) and not isinstance(version, bool))
        ):
            raise refused(
                'Each of Types must be a JSON object {"type": "...", "schema_version": N}, '
                f"got {text!r}",
                "Types",
            )
        found.append((type_, version))
    return found


def create_subscription(call: Call) -> Response:
    form = _form(call)
    subscription = call.sandbox.events.create_subscription(
        description=str(form["Description"]), sink_sid=str(form["SinkSid"]),
        types=_types(form["Types"]), base=call.base,
    )  # fmt: skip
    return json_response(201, subscription)


def list_subscriptions(call: Call) -> Response:
    found = _query(call)
    sink_sid = found.get("SinkSid")
    items = call.sandbox.events.list_subscriptions(
        sink_sid=str(sink_sid) if sink_sid is not None else None, base=call.base
    )
    return _listing(call, "subscriptions", items, found, [("SinkSid", sink_sid)])


def get_subscription(call: Call) -> Response:
    sid = call.params["Sid"]
    return json_response(200, call.sandbox.events.get_subscription(sid, call.base))


def update_subscription(call: Call) -> Response:
    form = _form(call)
    description = form.get("Description")
    subscription = call.sandbox.events.update_subscription(
        call.params["Sid"], description=None if description is None else str(description),
        base=call.base,
    )  # fmt: skip
    return json_response(200, subscription)


def delete_subscription(call: Call) -> Response:
    call.sandbox.events.delete_subscription(call.params["Sid"])
    return _no_content()


def list_subscribed(call: Call) -> Response:
    found = _query(call)
    items = call.sandbox.events.list_subscribed(call.params["SubscriptionSid"], base=call.base)
    return _listing(call, "types", items, found, [])


def _version(form: dict[str, object]) -> int | None:
    version = form.get("SchemaVersion")
    return version if isinstance(version, int) else None


def add_subscribed(call: Call) -> Response:
    form = _form(call)
    item, new = call.sandbox.events.add_subscribed(
        call.params["SubscriptionSid"], str(form["Type"]), _version(form), call.base
    )
    return json_response(201 if new else 200, item)


def get_subscribed(call: Call) -> Response:
    sid, type_ = call.params["SubscriptionSid"], call.params["Type"]
    return json_response(200, call.sandbox.events.get_subscribed(sid, type_, call.base))


def update_subscribed(call: Call) -> Response:
    form = _form(call)
    sid, type_ = call.params["SubscriptionSid"], call.params["Type"]
    item = call.sandbox.events.update_subscribed(sid, type_, _version(form), call.base)
    return json_response(200, item)


def remove_subscribed(call: Call) -> Response:
    call.sandbox.events.remove_subscribed(call.params["SubscriptionSid"], call.params["Type"])
    return _no_content()


# -- types -------------------------------------------------------------------------------------


def list_types(call: Call) -> Response:
    found = _query(call)
    schema_id = found.get("SchemaId")
    items = call.sandbox.events.list_types(
        schema_id=str(schema_id) if schema_id is not None else None, base=call.base
    )
    return _listing(call, "types", items, found, [("SchemaId", schema_id)])


def get_type(call: Call) -> Response:
    return json_response(200, call.sandbox.events.get_type(call.params["Type"], call.base))


EVENT_ROUTES = [
    Route("GET", "/Sinks", list_sinks),
    Route("POST", "/Sinks", create_sink),
    Route("GET", "/Sinks/{Sid}", get_sink),
    Route("POST", "/Sinks/{Sid}", update_sink),
    Route("DELETE", "/Sinks/{Sid}", delete_sink),
    Route("POST", "/Sinks/{Sid}/Test", test_sink),
    Route("POST", "/Sinks/{Sid}/Validate", validate_sink),
    Route("GET", "/Subscriptions", list_subscriptions),
    Route("POST", "/Subscriptions", create_subscription),
    Route("GET", "/Subscriptions/{Sid}", get_subscription),
    Route("POST", "/Subscriptions/{Sid}", update_subscription),
    Route("DELETE", "/Subscriptions/{Sid}", delete_subscription),
    Route("GET", "/Subscriptions/{SubscriptionSid}/SubscribedEvents", list_subscribed),
    Route("POST", "/Subscriptions/{SubscriptionSid}/SubscribedEvents", add_subscribed),
    Route("GET", "/Subscriptions/{SubscriptionSid}/SubscribedEvents/{Type}", get_subscribed),
    Route("POST", "/Subscriptions/{SubscriptionSid}/SubscribedEvents/{Type}", update_subscribed),
    Route("DELETE", "/Subscriptions/{SubscriptionSid}/SubscribedEvents/{Type}", remove_subscribed),
    Route("GET", "/Types", list_types),
    Route("GET", "/Types/{Type}", get_type),
]
