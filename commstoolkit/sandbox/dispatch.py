"""One request in, one response out: size cap, auth, routing, settling, faults, errors.

Shared by the in-process transport and the ASGI server, so both behave identically. Never
raises and never answers 5xx on its own account except for a bug (logged, then a bare 500
``errors[]`` body without details).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import re
from typing import TYPE_CHECKING

from .control import CONTROL_ROUTES
from .exceptions import ApiError, error, unauthorized
from .faults import FaultRule
from .routes import ROUTES
from .routing import Call, match
from .wire import Request, Response, error_response

if TYPE_CHECKING:
    from .core import Sandbox

MAX_BODY = 6 * 1024 * 1024
VERSION = re.compile(r"/(v1|preview)(/.*)\Z")
logger = logging.getLogger("commstoolkit.sandbox")


def handle(sandbox: Sandbox, request: Request) -> Response:
    """Answer ``request`` against ``sandbox`` (the fault outcome rides on the Response)."""
    try:
        return _handle(sandbox, request)
    except ApiError as err:
        return error_response(err)
    except Exception:
        logger.exception("sandbox: unexpected error on %s %s", request.method, request.path)
        return error_response(error(500))


def authorized(sandbox: Sandbox, header: str | None) -> bool:
    """Whether an ``Authorization: Basic`` header carries the sandbox's credentials."""
    if not header or header[:6].lower() != "basic ":
        return False
    try:
        user, _, password = (
            base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
        )
    except (binascii.Error, UnicodeDecodeError):
        return False
    expected_user, expected_password = sandbox.credentials()
    return hmac.compare_digest(user.encode(), expected_user.encode()) & hmac.compare_digest(
        password.encode(), expected_password.encode()
    )


def _handle(sandbox: Sandbox, request: Request) -> Response:
    if len(request.body) > MAX_BODY:
        raise error(413, f"The request body is larger than {MAX_BODY} bytes.")
    if not authorized(sandbox, request.headers.get("authorization")):
        raise unauthorized()
    path = request.path.rstrip("/") or "/"
    versioned = VERSION.match(path)
    version, rest = versioned.groups() if versioned else (None, path)
    if rest.startswith("/_sandbox/") or rest == "/_sandbox":
        routes, api = CONTROL_ROUTES, False
    elif version:
        routes, api = ROUTES, True
    else:
        raise error(404, f"No such path {request.path}; API paths start with /v1 or /preview.")
    route, params, allowed = match(routes, request.method, rest)
    if route is None and allowed:
        err = error(405, f"{request.method} is not allowed here; use {', '.join(allowed)}.")
        err.headers["Allow"] = ", ".join(allowed)
        raise err
    if route is None:
        raise error(404, f"No such path {request.path}.")
    call = Call(sandbox, request, route, params, version)
    if not api:
        return route.handler(call)
    with sandbox.store.lock:
        sandbox.backend.settle()
        rule = sandbox.faults.pick(route.name)
        if rule is not None and (rule.status or rule.drop == "before"):
            return _faulted(rule, None)
        try:
            response = route.handler(call)
        except ApiError as err:
            response = error_response(err)
    return _faulted(rule, response) if rule else response


def _faulted(rule: FaultRule, response: Response | None) -> Response:
    """Apply a fired rule: its status instead of processing, or its effects on the answer."""
    if response is None:
        if rule.drop == "before":
            return Response(0, drop="before", latency=rule.latency)
        headers = {}
        if rule.retry_after is not None:
            headers["Retry-After"] = str(int(-(-rule.retry_after // 1)))
        err = error(rule.status or 500)
        err.headers.update(headers)
        response = error_response(err)
    if rule.malformed:
        response.body = response.body[: max(1, len(response.body) // 2)]
    response.drop = rule.drop
    response.latency = rule.latency
    return response
