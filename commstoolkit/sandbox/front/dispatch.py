"""One request in, one response out: size cap, auth, routing, settling, faults, errors.

Shared by the in-process transport and the ASGI server, so both behave identically. Paths
under ``/events/v1`` are Event Streams (``event_routes``: classic errors, no fault rules). Never
raises, and answers 5xx only when a fault rule says so or on a bug (logged; the client gets a
bare 500 ``errors[]`` body, never a stack trace).
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import hmac
import logging
import math
import re

from ..exceptions import ApiError, error, unauthorized
from . import event_routes
from .control import CONTROL_ROUTES
from .faults import FaultRule
from .message_routes import MESSAGE_ROUTES
from .routes import ROUTES
from .routing import Account, Call, Route, match
from .wire import SANDBOX_HEADER, SANDBOX_HEADER_VALUE, Request, Response, error_response

DEFAULT_ACCOUNT_SID = "AC00000000000000000000000000000000"
DEFAULT_AUTH_TOKEN = "sandbox-auth-token"
MAX_BODY = 6 * 1024 * 1024
VERSION = re.compile(r"/(v1|preview)(/.*)\Z")
# Every API route, in matching order (a path goes to the first template it matches, so the
# messaging routes, with "POST /Senders/Resolve", come before "/Senders/{senderId}").
API_ROUTES: list[Route] = [*MESSAGE_ROUTES, *ROUTES]
logger = logging.getLogger("commstoolkit.sandbox")


def handle(sandbox: Account, request: Request) -> Response:
    """Answer ``request`` against ``sandbox`` (a fault's drop and latency ride on the Response).

    Every answer, errors included, carries ``X-Commstoolkit-Sandbox: 1`` and a ``Date``
    header (RFC 9110 IMF-fixdate) with the *sandbox clock's* time, so that a client counting
    a window back from the server's now ("the last 7 days") counts from the sandbox's now.
    """
    try:
        response = _handle(sandbox, request)
    except ApiError as err:
        events = _events_path(request.path) is not None
        response = event_routes.classic(err) if events else error_response(err)
    except Exception:
        logger.exception("sandbox: unexpected error on %s %s", request.method, request.path)
        response = error_response(error(500))
    response.headers[SANDBOX_HEADER] = SANDBOX_HEADER_VALUE
    try:
        response.headers["Date"] = http_date(sandbox.clock.seconds())
    except Exception:  # a closed account file: the answer goes out without a Date
        logger.exception("sandbox: no clock for the Date header of %s", request.path)
    return response


def refused(sandbox: Account, retry_after: float) -> Response:
    """A 429 answered without processing (the server's in-flight limit: ``pacing``), with
    ``Retry-After`` (whole seconds, as the API sends it) and the headers of every answer."""
    err = error(429)
    err.headers["Retry-After"] = str(math.ceil(retry_after))
    response = error_response(err)
    response.headers[SANDBOX_HEADER] = SANDBOX_HEADER_VALUE
    try:
        response.headers["Date"] = http_date(sandbox.clock.seconds())
    except Exception:  # a closed account file: the answer goes out without a Date
        logger.exception("sandbox: no clock for the Date header of a 429")
    return response


def http_date(seconds: float) -> str:
    """``Mon, 02 Jun 2025 09:00:00 GMT`` (RFC 9110 IMF-fixdate) for epoch ``seconds``."""
    return email.utils.formatdate(int(seconds // 1), usegmt=True)


def authorized(sandbox: Account, header: str | None) -> bool:
    """Whether an ``Authorization: Basic`` header carries the sandbox's credentials."""
    if not header or header[:6].lower() != "basic ":
        return False
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return False
    user, _, password = decoded.partition(":")
    expected_user, expected_password = sandbox.credentials()
    same_user = hmac.compare_digest(user.encode(), expected_user.encode())
    return hmac.compare_digest(password.encode(), expected_password.encode()) and same_user


def _handle(sandbox: Account, request: Request) -> Response:
    if len(request.body) > MAX_BODY:
        raise error(413, f"The request body is larger than {MAX_BODY} bytes.")
    if not authorized(sandbox, request.headers.get("authorization")):
        raise unauthorized()
    path = request.path.rstrip("/") or "/"
    events = _events_path(path)
    if events is not None:
        return event_routes.answer(sandbox, request, events)
    versioned = VERSION.match(path)
    version, rest = versioned.groups() if versioned else (None, path)
    if rest == "/_sandbox" or rest.startswith("/_sandbox/"):
        route, params = _route(CONTROL_ROUTES, request.method, rest)
        return route.handler(Call(sandbox, request, route, params, version))
    if version is None:
        raise error(404, f"No such path {request.path}; API paths start with /v1 or /preview.")
    route, params = _route(API_ROUTES, request.method, rest)
    call = Call(sandbox, request, route, params, version)
    with sandbox.store.lock:
        sandbox.backend.settle()
        rule = sandbox.faults.pick(route.name)
        instead = _instead(rule) if rule else None
        if instead is not None:
            return instead
        try:
            response = route.handler(call)
        except ApiError as err:
            response = error_response(err)
    return _spoil(rule, response) if rule else response


def _events_path(path: str) -> str | None:
    """The path after ``/events/v1`` (Event Streams), or None for any other path."""
    prefix = event_routes.PREFIX
    if path == prefix or path.startswith(prefix + "/"):
        return path[len(prefix) :] or "/"
    return None


def _route(routes: list[Route], method: str, path: str) -> tuple[Route, dict[str, str]]:
    """The route for ``method path``; 404 for an unknown path, 405 for a wrong method."""
    route, params, allowed = match(routes, method, path)
    if route is not None:
        return route, params
    if allowed:
        err = error(405, f"{method} is not allowed here; use {', '.join(allowed)}.")
        err.headers["Allow"] = ", ".join(allowed)
        raise err
    raise error(404, f"No such path {path}.")


def _instead(rule: FaultRule) -> Response | None:
    """What a fired rule answers without processing the request (None: process it)."""
    if rule.drop == "before":
        return Response(0, drop="before", latency=rule.latency)
    if rule.status is None:
        return None
    err = error(rule.status)
    if rule.retry_after is not None:
        err.headers["Retry-After"] = str(math.ceil(rule.retry_after))
    return _spoil(rule, error_response(err))


def _spoil(rule: FaultRule, response: Response) -> Response:
    """A fired rule's effects on an answer: truncated body, hang-up, latency."""
    if rule.malformed:
        response.body = response.body[: max(1, len(response.body) // 2)]
    response.drop = rule.drop
    response.latency = rule.latency
    return response
