"""Control endpoints under ``/_sandbox/`` (sandbox only, same basic auth as the API).

- ``POST /_sandbox/reset`` ``{seed?, senders?}`` -> 200 state, plus ``discarded``: the user's
  changes it threw away (``{pools, sends, messages}``); an explicit reset, so always allowed
- ``GET /_sandbox/state`` -> 200 state
- ``GET /_sandbox/clock``; ``POST /_sandbox/clock`` ``{advance?, speed?, instant?}`` -> 200 clock
- ``GET /_sandbox/events`` ``?sinkSid=&state=`` -> ``{events: [{sink_sid, state, tries, event}],
  sinks: [{sid, status, tries, next_try, last_error}]}``: what Event Streams emitted to each
  sink (``state`` pending, delivered, failed or kept) and each sink's delivery state
- ``GET /_sandbox/faults`` -> ``{faults: [...]}``; ``POST`` a rule ``{route, status?, retryAfter?,
  probability?, times?, latency?, drop?, malformed?}`` -> 201 rule; ``DELETE`` -> all removed;
  ``DELETE /_sandbox/faults/{faultId}`` -> one removed
"""

from __future__ import annotations

from collections.abc import Callable

from ..events.outbox import STATES, sink_states
from ..exceptions import invalid, not_found
from ..state.seed import check_size
from . import validation as check
from .routing import Call, Route
from .wire import Response, json_response

FAULT_FIELDS = {
    "route": "route",
    "status": "status",
    "retryAfter": "retry_after",
    "probability": "probability",
    "times": "times",
    "latency": "latency",
    "drop": "drop",
    "malformed": "malformed",
}


def _body(call: Call, allowed: tuple[str, ...]) -> dict[str, object]:
    """The JSON object body (empty allowed); unknown fields are a 400."""
    body = check.json_object(call.request.body, nulls=True) if call.request.body.strip() else {}
    for key in body:
        if key not in allowed:
            raise invalid(f"unknown field {key!r}; allowed: {', '.join(allowed)}", f"$.{key}")
    return body


def _apply(action: Callable[[], object], where: str) -> None:
    """Run a sandbox setter, turning its ValueError into a 400 at ``where``."""
    try:
        action()
    except ValueError as exc:
        raise invalid(str(exc), where) from None


def reset(call: Call) -> Response:
    body = _body(call, ("seed", "senders"))
    for key in ("seed", "senders"):
        given = {"seed": None, "senders": None, key: body.get(key)}
        _apply(lambda: check_size(**given), f"$.{key}")  # noqa: B023
    seed, senders = body.get("seed"), body.get("senders")
    discarded = call.sandbox.reset(seed=seed, senders=senders)  # type: ignore[arg-type]
    return json_response(200, {**call.sandbox.state(), "discarded": discarded.to_wire()})


def state(call: Call) -> Response:
    return json_response(200, call.sandbox.state())


def get_clock(call: Call) -> Response:
    return json_response(200, call.sandbox.clock.to_wire())


def set_clock(call: Call) -> Response:
    body = _body(call, ("advance", "speed", "instant"))
    clock = call.sandbox.clock
    if "speed" in body:
        _apply(lambda: setattr(clock, "speed", body["speed"]), "$.speed")
    if "instant" in body:
        _apply(lambda: setattr(clock, "instant", body["instant"]), "$.instant")
    if "advance" in body:
        _apply(lambda: clock.advance(body["advance"]), "$.advance")  # type: ignore[arg-type]
    return json_response(200, clock.to_wire())


def list_events(call: Call) -> Response:
    state = call.query("state")
    if state is not None and state not in STATES:
        raise invalid(f"state must be one of {', '.join(STATES)}, got {state!r}", "state")
    events = call.sandbox.events.emitted(sink_sid=call.query("sinkSid"), state=state)
    return json_response(200, {"events": events, "sinks": sink_states(call.sandbox.store)})


def list_faults(call: Call) -> Response:
    return json_response(200, {"faults": [r.to_wire() for r in call.sandbox.faults.list()]})


def add_fault(call: Call) -> Response:
    body = _body(call, tuple(FAULT_FIELDS))
    if "route" not in body:
        raise invalid('$.route is required (a route like "POST /SenderPools", or "*")', "$.route")
    kwargs = {FAULT_FIELDS[k]: v for k, v in body.items()}
    try:
        rule_id = call.sandbox.faults.add(**kwargs)  # type: ignore[arg-type]
    except ValueError as exc:
        field = next((k for k, v in FAULT_FIELDS.items() if str(exc).startswith(v)), None)
        raise invalid(str(exc), f"$.{field}" if field else "$") from None
    rule = next(r for r in call.sandbox.faults.list() if r.id == rule_id)
    return json_response(201, rule.to_wire())


def clear_faults(call: Call) -> Response:
    call.sandbox.faults.clear()
    return json_response(200, {"faults": []})


def remove_fault(call: Call) -> Response:
    raw = call.params["faultId"]
    try:
        call.sandbox.faults.remove(int(raw))
    except (ValueError, KeyError):
        raise not_found(f"Fault rule {raw} not found", "faultId") from None
    return json_response(200, {"faults": [r.to_wire() for r in call.sandbox.faults.list()]})


CONTROL_ROUTES = [
    Route("POST", "/_sandbox/reset", reset),
    Route("GET", "/_sandbox/state", state),
    Route("GET", "/_sandbox/clock", get_clock),
    Route("POST", "/_sandbox/clock", set_clock),
    Route("GET", "/_sandbox/events", list_events),
    Route("GET", "/_sandbox/faults", list_faults),
    Route("POST", "/_sandbox/faults", add_fault),
    Route("DELETE", "/_sandbox/faults", clear_faults),
    Route("DELETE", "/_sandbox/faults/{faultId}", remove_fault),
]
