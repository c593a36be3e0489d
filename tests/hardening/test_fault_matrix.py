"""The fault matrix: every fault the sandbox can inject x every call an analyst makes.

Each cell runs twice against the sandbox server on loopback: with the fault firing once
(``times=1``), then with it persisting. Each time it asserts the outcome the client
promises (design.md §7: 429/503 retried for every method, transport errors retried on reads
only, 500 and unreadable answers never), the typed error otherwise, what the server
committed, and that no call sends more than 1 + ``max_retries`` requests. Then the fault is
cleared and the call re-run, and the invariants must hold: a pool's members equal its plan,
a test send has exactly one message per recipient. Nothing really sleeps between retries
(``sleep`` is injected); only the client-timeout row waits for its short timeouts.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

import commstoolkit as ct
from commstoolkit.errors import UnexpectedResponseError
from commstoolkit.pools import PoolApplyError
from commstoolkit.sandbox import Sandbox
from commstoolkit.sandbox.server import RunningServer
from commstoolkit.testsend import SendIncompleteError, TestSend, sending

from . import matrix

pytestmark = pytest.mark.filterwarnings("ignore::commstoolkit.pools.PoolPlanWarning")

MAX_RETRIES = 3
TIMEOUT = 0.25  # the client's timeout in the client-timeout row
LATENCY = 1.0  # the sandbox's delay there: longer than the timeout
RECIPIENTS = ["+15005550006", "+15005550005", "+19143188001"]
_names = itertools.count(1)


@dataclass(frozen=True)
class Fault:
    """A fault rule's settings and what the client promises about it."""

    rule: dict[str, Any]
    error: type[ct.CommsError]
    refusal: bool = False  # refused without processing: retried for every method
    transport: bool = False  # no answer: retried on reads only
    applied: bool = False  # the server committed the write before the answer was lost


FAULTS = {
    "429 + Retry-After": Fault({"status": 429, "retry_after": 2}, ct.RateLimitError, True),
    "503": Fault({"status": 503}, ct.ServiceUnavailableError, True),
    "500": Fault({"status": 500}, ct.ServerError),
    "drop before commit": Fault({"drop": "before"}, ct.CommsConnectionError, transport=True),
    "drop after commit": Fault(
        {"drop": "after"}, ct.CommsConnectionError, transport=True, applied=True
    ),
    "client timeout": Fault(
        {"latency": LATENCY}, ct.CommsTimeoutError, transport=True, applied=True
    ),
    "malformed body": Fault({"malformed": True}, UnexpectedResponseError, applied=True),
}
assert tuple(FAULTS) == matrix.FAULTS


class CountingTransport(httpx.BaseTransport):
    """The real HTTP transport, recording ``(method, path)`` of every request it sends."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.sent: list[tuple[str, str]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append((request.method, request.url.path))
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()

    def count(self, route: str) -> int:
        """Requests sent to a route named as fault rules name it (``"POST /SenderPools"``)."""
        method, template = route.split(" ", 1)
        pattern = re.compile("/v1" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template)))
        return sum(1 for m, p in self.sent if m == method and pattern.fullmatch(p))


@dataclass
class Env:
    """One phase of one cell: the sandbox, a counted client on its server, a scratch folder."""

    box: Sandbox
    client: ct.CommsClient
    transport: CountingTransport
    inventory: pd.DataFrame
    send_pool: str
    folder: Path
    slept: list[float] = field(default_factory=list)

    def ids(self, n: int) -> list[str]:
        return list(self.inventory["sender_id"].head(n))

    def members(self, pool_id: str) -> set[str]:
        self.box.backend.settle()  # what requests do first: due operations complete
        return set(self.box.backend.pool_member_ids(pool_id))

    def pools_named(self, name: str) -> list[dict]:
        self.box.backend.settle()
        found, after = [], None
        while True:
            items, more = self.box.backend.list_pools(after=after, limit=1000)
            found += [p for p in items if p["name"] == name]
            if not more:
                return found
            after = items[-1]["id"]


@dataclass
class Call:
    """One call of the matrix: the route its fault is put on and how to run and check it."""

    route: str
    read: bool
    setup: Callable[[Env], dict[str, Any]]
    run: Callable[[Env, dict[str, Any]], Any]
    recover: Callable[[Env, dict[str, Any]], Any]
    check: Callable[[Env, dict[str, Any]], None]
    applied: Callable[[Env, dict[str, Any]], bool] = lambda env, ctx: False
    send: bool = False


def _name() -> str:
    return f"matrix-{next(_names)}"


# -- the calls ----------------------------------------------------------------------------


def _plan_setup(members: int, wanted: int, **settings: Any) -> Callable[[Env], dict]:
    """An existing pool of ``members`` senders, and a plan for its first ``wanted``."""

    def setup(env: Env) -> dict:
        name = _name()
        pool = ct.create_pool(env.client, name, env.ids(members), progress=False)
        plan = ct.plan_pool(
            env.client, env.ids(wanted), pool_id=pool.id, inventory=env.inventory, **settings
        )
        return {"plan": plan, "pool": pool.id, "name": name}

    return setup


def _apply(env: Env, ctx: dict) -> Any:
    return ctx["plan"].apply(progress=False)


def _members_match_plan(env: Env, ctx: dict) -> None:
    plan = ctx["plan"]
    assert plan.pool_id is not None
    assert env.members(plan.pool_id) == set(plan.target_ids)


def _create_setup(env: Env) -> dict:
    name = _name()
    plan = ct.plan_pool(env.client, env.ids(3), name=name, inventory=env.inventory)
    return {"plan": plan, "name": name}


def _update_check(env: Env, ctx: dict) -> None:
    _members_match_plan(env, ctx)
    pool = env.box.backend.get_pool(ctx["pool"])
    assert (pool["name"], pool["tags"]) == (ctx["name"] + "-renamed", {"stage": "b"})


def _update_setup(env: Env) -> dict:
    ctx = _plan_setup(2, 2)(env)
    ctx["plan"] = ct.plan_pool(
        env.client,
        env.ids(2),
        pool_id=ctx["pool"],
        name=ctx["name"] + "-renamed",
        tags={"stage": "b"},
        inventory=env.inventory,
    )
    return ctx


def _send_setup(env: Env) -> dict:
    return {"journal": env.folder / f"{_name()}.jsonl"}


def _send(env: Env, ctx: dict) -> TestSend:
    try:
        result = ct.test_send(
            env.client, env.send_pool, RECIPIENTS, "Matrix", journal=ctx["journal"], timeout=30
        )
    except SendIncompleteError as exc:
        ctx["run_id"] = exc.test_send.run_id
        raise
    ctx["run_id"] = result.run_id
    return result


def _resume(env: Env, ctx: dict) -> None:
    TestSend.resume(env.client, ctx["journal"], timeout=30)


def _messages_of(env: Env, run_id: str) -> list[str]:
    frame = ct.load_messages(env.client, run_id=run_id, details=False)
    return list(frame["to"])


def _one_message_each(env: Env, ctx: dict) -> None:
    counts = Counter(_messages_of(env, ctx["run_id"]))
    assert counts == Counter(RECIPIENTS), counts


def _sent_already(env: Env) -> dict:
    ctx = _send_setup(env)
    ctx["frame_rows"] = len(_send(env, ctx).messages)
    return ctx


def _load_run(env: Env, ctx: dict) -> pd.DataFrame:
    ctx["frame"] = ct.load_messages(env.client, run_id=ctx["run_id"], details=False)
    return ctx["frame"]


def _poll_setup(env: Env) -> dict:
    operation = env.client.sender_pools.create(name=_name(), sender_ids=env.ids(1))
    return {"operation": operation}


def _poll(env: Env, ctx: dict) -> Any:
    ctx["done"] = env.client.wait(ctx["operation"], timeout=30)
    return ctx["done"]


def _poll_check(env: Env, ctx: dict) -> None:
    assert ctx["done"].status == "COMPLETED"
    pool = env.client.sender_pools.find_created(ctx["operation"])
    assert env.members(pool.id) == set(env.ids(1))


def _listed(env: Env, ctx: dict) -> pd.DataFrame:
    ctx["frame"] = ct.load_senders(env.client)
    return ctx["frame"]


CALLS = {
    "list senders": Call(
        "GET /Senders",
        read=True,
        setup=lambda env: {},
        run=_listed,
        recover=_listed,
        check=lambda env, ctx: _equal(len(ctx["frame"]), env.box.state()["senders"]),
    ),
    "create pool": Call(
        "POST /SenderPools",
        read=False,
        setup=_create_setup,
        run=_apply,
        recover=_apply,
        check=_members_match_plan,
        applied=lambda env, ctx: bool(env.pools_named(ctx["name"])),
    ),
    "add senders": Call(
        "POST /SenderPools/{senderPoolId}/Senders",
        read=False,
        setup=_plan_setup(2, 3),
        run=_apply,
        recover=_apply,
        check=_members_match_plan,
        applied=lambda env, ctx: env.ids(3)[2] in env.members(ctx["pool"]),
    ),
    "remove sender": Call(
        "DELETE /SenderPools/{senderPoolId}/Senders/{senderId}",
        read=False,
        setup=_plan_setup(3, 2),
        run=_apply,
        recover=_apply,
        check=_members_match_plan,
        applied=lambda env, ctx: env.ids(3)[2] not in env.members(ctx["pool"]),
    ),
    "update pool": Call(
        "PATCH /SenderPools/{senderPoolId}",
        read=False,
        setup=_update_setup,
        run=_apply,
        recover=_apply,
        check=_update_check,
        applied=lambda env, ctx: env.box.backend.get_pool(ctx["pool"])["name"].endswith("renamed"),
    ),
    "send messages": Call(
        "POST /Messages",
        read=False,
        setup=_send_setup,
        run=_send,
        recover=_resume,
        check=_one_message_each,
        send=True,
    ),
    "poll operation": Call(
        "GET /SenderPools/Operations/{operationId}",
        read=True,
        setup=_poll_setup,
        run=_poll,
        recover=_poll,
        check=_poll_check,
    ),
    "list messages": Call(
        "GET /Messages",
        read=True,
        setup=_sent_already,
        run=_load_run,
        recover=_load_run,
        check=lambda env, ctx: _equal(sorted(ctx["frame"]["to"]), sorted(RECIPIENTS)),
    ),
}
assert tuple(CALLS) == matrix.CALLS


def _equal(left: object, right: object) -> None:
    assert left == right


# -- what the client promises ---------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    ok: bool
    requests: int
    error: type[Exception] | None = None  # the typed error (the cause, for pools/sends)


def expected(fault: Fault, call: Call, *, persistent: bool) -> Expected:
    """Design.md §7 and §6, spelled out for one phase of one cell."""
    retried = fault.refusal or (call.read and fault.transport)
    if retried:
        if persistent:
            return Expected(False, 1 + MAX_RETRIES, fault.error)
        return Expected(True, 2)
    if call.send:
        # No retry by the client: the send is looked up by its tags, then only what is
        # missing is sent again (at most SENDS_PER_CHUNK sends per chunk).
        if fault.applied:
            return Expected(True, 1)
        if persistent:
            return Expected(False, sending.SENDS_PER_CHUNK, None)
        return Expected(True, 2)
    return Expected(False, 1, fault.error)


# -- running a cell ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(served: tuple[Sandbox, RunningServer], tmp_path_factory) -> Iterator[dict]:
    box, server = served
    client = _client(server.base_url, CountingTransport(), [], timeout=10)
    with client:
        inventory = ct.load_senders(client, status="ACTIVATED")
        inventory = inventory[inventory["channel"].isin(["SMS", "RCS"])].reset_index(drop=True)
        send_pool = ct.create_pool(client, "matrix-sends", inventory["sender_id"].head(4))
    yield {
        "box": box,
        "server": server,
        "inventory": inventory,
        "send_pool": send_pool.id,
        "folder": tmp_path_factory.mktemp("journals"),
    }
    if matrix.complete():
        matrix.write_artifact()


def _client(base_url: str, transport: CountingTransport, slept: list, timeout: float):
    return ct.CommsClient(
        account_sid="AC00000000000000000000000000000000",
        auth_token="sandbox-auth-token",
        base_url=base_url,
        transport=transport,
        timeout=timeout,
        retry=ct.RetryPolicy(max_retries=MAX_RETRIES),
        sleep=slept.append,
        live=False,
    )


def _phase(world: dict, fault: Fault, call: Call, *, persistent: bool) -> str:
    box: Sandbox = world["box"]
    box.faults.clear()
    transport, slept = CountingTransport(), []
    with _client(world["server"].base_url, transport, slept, 10.0) as client:
        env = Env(box, client, transport, world["inventory"], world["send_pool"], world["folder"])
        ctx = call.setup(env)
        transport.sent.clear()
        box.faults.add(call.route, times=None if persistent else 1, **fault.rule)
        want = expected(fault, call, persistent=persistent)
        if fault.rule.get("latency"):  # only the call under test is impatient
            client._http._client.timeout = httpx.Timeout(TIMEOUT)
        try:
            call.run(env, ctx)
            raised: BaseException | None = None
        except ct.CommsError as exc:
            raised = exc
        client._http._client.timeout = httpx.Timeout(10.0)
        box.faults.clear()
        sent = transport.count(call.route)
        outcome = _check_outcome(raised, want, fault, call)
        assert sent == want.requests, f"{sent} requests on the wire, expected {want.requests}"
        assert sent <= 1 + MAX_RETRIES  # never a retry storm
        applied = False
        if raised is not None and not call.read and not call.send:
            applied = call.applied(env, ctx)
            assert applied == fault.applied, f"committed: {applied}"
        if raised is not None:
            call.recover(env, ctx)
        call.check(env, ctx)
        if call.route == "POST /SenderPools" and applied:
            # The re-run found the pool whose answer was lost and finished it: no second pool.
            assert len(env.pools_named(ctx["name"])) == 1
        if fault.rule.get("retry_after") and not want.ok:
            assert slept[:MAX_RETRIES] == [2.0] * MAX_RETRIES  # Retry-After honoured, no wait
    note = " applied" if applied else ""
    return f"{outcome}{note} ({sent})"


def _check_outcome(raised: BaseException | None, want: Expected, fault: Fault, call: Call) -> str:
    if want.ok:
        assert raised is None, f"expected success, got {raised!r}"
        return "ok"
    assert raised is not None, "expected an error, the call succeeded"
    error: BaseException = raised
    if call.send:
        assert isinstance(raised, SendIncompleteError), repr(raised)
        if want.error is not None:
            assert isinstance(raised.__cause__, want.error), repr(raised.__cause__)
        return "SendIncompleteError"
    if isinstance(raised, PoolApplyError):
        assert raised.cause is not None
        error = raised.cause
    assert isinstance(error, want.error or Exception), repr(error)
    assert type(error) is want.error, f"{type(error).__name__} is not {want.error}"
    if isinstance(error, ct.CommsError) and hasattr(error, "request_sent"):
        assert error.request_sent is True
    return type(error).__name__


@pytest.mark.parametrize("call_name", matrix.CALLS)
@pytest.mark.parametrize("fault_name", matrix.FAULTS)
def test_fault_matrix_cell(world: dict, fault_name: str, call_name: str) -> None:
    fault, call = FAULTS[fault_name], CALLS[call_name]
    once = _phase(world, fault, call, persistent=False)
    always = _phase(world, fault, call, persistent=True)
    matrix.RESULTS[(fault_name, call_name)] = f"{once} / {always}"
