"""Secret hygiene: with a recognisable token configured, nothing the toolkit shows contains it.

Checked: ``repr`` / ``str`` of clients, credentials, configs, errors and the sandbox; every log
record at DEBUG of ``commstoolkit``, ``httpx`` and ``httpcore`` during failing and retried
requests over real HTTP; formatted tracebacks (chained causes included) of failed calls;
test-send journals. Also: the sandbox server binds 127.0.0.1 unless told otherwise, refuses a
body over its cap with a 413 envelope, and its control endpoints are reached by nothing but
sandbox code (the client never calls ``/_sandbox``).
"""

from __future__ import annotations

import base64
import inspect
import logging
import os
import re
import subprocess
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import commstoolkit as ct
from commstoolkit.client._http import Credentials
from commstoolkit.sandbox import Sandbox
from commstoolkit.sandbox.front.dispatch import MAX_BODY
from commstoolkit.sandbox.server import RunningServer, run_server, serve, serve_command
from commstoolkit.testsend import SendIncompleteError

pytestmark = pytest.mark.filterwarnings("ignore::commstoolkit.pools.PoolPlanWarning")

TOKEN = "tok_HARDEN_5ecret"
SID = "AC00000000000000000000000000000000"
PACKAGE = Path(ct.__file__).resolve().parent
ENCODED = base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()


def assert_clean(text: str, where: str = "") -> None:
    assert TOKEN not in text, f"the token leaks in {where}: {text[:300]}"
    assert ENCODED not in text, f"the encoded credentials leak in {where}"
    assert "5ecret" not in text, where


@pytest.fixture(scope="module")
def secret_server() -> Iterator[tuple[Sandbox, RunningServer]]:
    with Sandbox(":memory:", seed=4, senders=40, auth_token=TOKEN) as box:
        box.clock.instant = True
        with run_server(box) as server:
            yield box, server


def _client(server: RunningServer, token: str = TOKEN, **kwargs) -> ct.CommsClient:
    return ct.CommsClient(
        account_sid=SID,
        auth_token=token,
        base_url=server.base_url,
        sleep=lambda s: None,
        live=False,
        **kwargs,
    )


def _failures(box: Sandbox, server: RunningServer) -> list[BaseException]:
    """Errors of failed and retried calls: 401, 404, 429, 500, drops, timeouts, bad answers."""
    caught: list[BaseException] = []

    def attempt(call) -> None:
        try:
            call()
        except Exception as exc:
            caught.append(exc)

    with _client(server, token=TOKEN + "x") as wrong:
        attempt(lambda: list(wrong.senders.list()))  # 401, with a token one letter off
    with _client(server) as client, _client(server, timeout=0.2) as impatient:
        pool = next(iter(client.sender_pools.list()))
        inventory = ct.load_senders(client)
        attempt(lambda: client.sender_pools.get(pool.id.replace(pool.id[-4:], "zzzz")))
        for rule in (
            {"status": 429, "retry_after": 1},
            {"status": 503},
            {"status": 500},
            {"drop": "before"},
            {"drop": "after"},
            {"malformed": True},
        ):
            box.faults.clear()
            box.faults.add("*", **rule)
            attempt(lambda: list(client.senders.list()))
            attempt(lambda: client.sender_pools.create(name="leak-check"))
            attempt(lambda: ct.plan_pool(client, [], name="p", inventory=inventory).apply())
        box.faults.clear()
        box.faults.add("GET /Senders", latency=1.0)
        attempt(lambda: list(impatient.senders.list()))
        box.faults.clear()
        box.faults.add("POST /Messages", status=503)
        attempt(lambda: ct.test_send(client, pool.id, "+15005550006", "secret?", wait=False))
        box.faults.clear()
    return caught


def test_reprs_and_strings_hold_no_secret(secret_server, capsys):
    box, server = secret_server
    client = _client(server)
    credentials = Credentials(account_sid=SID, auth_token=TOKEN)
    sandbox_client = ct.connect(
        sandbox=True, db=":memory:", senders=10, env={"TWILIO_AUTH_TOKEN": TOKEN}
    )
    live = ct.connect(account_sid=SID, auth_token=TOKEN, base_url=server.base_url)
    things = [
        client,
        client.senders,
        client.sender_pools,
        client.retry,
        client._http,
        credentials,
        box,
        live,
        sandbox_client,
        sandbox_client.sandbox,
    ]
    for thing in things:
        assert_clean(repr(thing), f"repr({type(thing).__name__})")
        assert_clean(str(thing), f"str({type(thing).__name__})")
    assert_clean(capsys.readouterr().out, "connect()'s line")
    for closing in (client, live, sandbox_client):
        closing.close()


def test_errors_and_their_tracebacks_hold_no_secret(secret_server):
    box, server = secret_server
    failures = _failures(box, server)
    kinds = {type(error).__name__ for error in failures}
    assert {
        "AuthenticationError",
        "NotFoundError",
        "RateLimitError",
        "ServerError",
        "TransportConnectionError",
        "TransportTimeoutError",
        "UnexpectedResponseError",
        "PoolApplyError",
        "SendIncompleteError",
    } <= kinds, kinds
    for error in failures:
        assert_clean(repr(error), type(error).__name__)
        assert_clean(str(error), type(error).__name__)
        text = "".join(traceback.format_exception(error))  # chained causes included
        assert_clean(text, f"traceback of {type(error).__name__}")
        for attribute in ("url", "method", "message", "context", "info_url"):
            assert_clean(str(getattr(error, attribute, "")), f"{type(error).__name__}.{attribute}")


def test_debug_logs_of_failing_and_retried_requests_hold_no_secret(secret_server, caplog):
    box, server = secret_server
    with caplog.at_level(logging.DEBUG):
        for name in ("commstoolkit", "httpx", "httpcore"):
            logging.getLogger(name).setLevel(logging.DEBUG)
        _failures(box, server)
    records = caplog.records
    assert any(r.name.startswith("httpcore") for r in records)  # the transport did log
    assert any("retry" in r.getMessage() for r in records if r.name.startswith("commstoolkit"))
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    for record in records:
        assert_clean(formatter.format(record), f"log record of {record.name}")
        assert_clean(repr(record.args), f"log args of {record.name}")


def test_test_send_journals_hold_no_secret(secret_server, tmp_path):
    box, server = secret_server
    journal = tmp_path / "run.jsonl"
    with _client(server) as client:
        pool = next(iter(client.sender_pools.list()))
        box.faults.add("POST /Messages", status=500, times=1)  # an error recorded in it
        try:
            result = ct.test_send(client, pool.id, ["+15005550006", "+15005550005"], "hello",
                                  journal=journal)  # fmt: skip
        finally:
            box.faults.clear()
        assert_clean(repr(result), "TestSend")
        assert_clean(result._repr_html_(), "TestSend HTML")
        assert_clean(str(result.summary()), "SendSummary")
    text = journal.read_text(encoding="utf-8")
    assert '"unknown"' in text  # the failed attempt is in the journal
    assert_clean(text, "the journal")


def test_a_stopped_send_keeps_no_secret_in_its_journal(secret_server, tmp_path):
    box, server = secret_server
    journal = tmp_path / "stopped.jsonl"
    with _client(server) as client:
        pool = next(iter(client.sender_pools.list()))
        box.faults.add("POST /Messages", status=429, retry_after=1)
        try:
            with pytest.raises(SendIncompleteError) as caught:
                ct.test_send(client, pool.id, "+15005550006", "hello", journal=journal)
        finally:
            box.faults.clear()
    assert_clean("".join(traceback.format_exception(caught.value)), "SendIncompleteError")
    assert_clean(journal.read_text(encoding="utf-8"), "the journal")


def test_the_server_binds_loopback_unless_told_otherwise(secret_server):
    for function in (run_server, serve, serve_command):
        assert inspect.signature(function).parameters["host"].default == "127.0.0.1"
    from commstoolkit.apps.cli import main  # the CLI's --host default too

    del main
    cli = (PACKAGE / "apps" / "cli" / "sandbox.py").read_text(encoding="utf-8")
    assert re.search(r'"--host", default="127\.0\.0\.1"', cli)
    _, server = secret_server
    assert server.host == "127.0.0.1"


def test_the_server_caps_request_bodies_with_a_413_envelope(secret_server):
    box, server = secret_server
    before = box.state()["operations"]

    def chunks() -> Iterator[bytes]:  # streamed: no Content-Length to refuse up front
        yield b'{"name": "'
        for _ in range(MAX_BODY // 65_536 + 2):
            yield b"x" * 65_536
        yield b'"}'

    with httpx.Client(base_url=server.base_url, auth=(SID, TOKEN), timeout=60) as raw:
        answer = raw.post("/SenderPools", content=chunks())
    assert answer.status_code == 413
    (item,) = answer.json()["errors"]
    assert set(item) == {"code", "message", "infoUrl", "context"}
    assert box.state()["operations"] == before


def test_control_endpoints_are_sandbox_only(secret_server):
    """No module outside the sandbox names /_sandbox, the client never requests it, and the
    control endpoints need the sandbox's credentials like the API."""
    outside = [
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if "sandbox" not in path.relative_to(PACKAGE).parts
        and "/_sandbox" in path.read_text(encoding="utf-8")
    ]
    assert outside == []
    box, server = secret_server
    seen: list[str] = []

    def record(request: httpx.Request) -> None:
        seen.append(request.url.path)

    with _client(server) as client:
        client._http._client.event_hooks["request"].append(record)
        ct.load_senders(client)
        ct.load_pools(client)
        pool = ct.create_pool(client, "control-check", [], progress=False)
        ct.test_send(client, pool.id, "+15005550006", "x", dry_run=True)
        ct.delete_pool(client, pool.id, confirm=True)
    assert seen and not [path for path in seen if "_sandbox" in path]
    with httpx.Client(base_url=server.url, timeout=10) as anonymous:
        for path in ("/_sandbox/state", "/_sandbox/faults"):
            assert anonymous.get(path).status_code == 401
        assert anonymous.post("/_sandbox/reset", json={}).status_code == 401
    assert box.state()["senders"] == 40


def test_sandbox_serve_prints_no_configured_token(tmp_path):
    """``commstoolkit sandbox serve`` shows its credentials, but never a configured token."""
    env = {**os.environ, "TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN}
    command = [sys.executable, "-m", "commstoolkit.apps.cli", "sandbox", "serve", "--port", "0",
               "--db", str(tmp_path / "serve.sqlite3"), "--senders", "5"]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        lines = [process.stdout.readline().decode() for _ in range(6)]  # type: ignore[union-attr]
    finally:
        process.terminate()
        process.wait(10)
    text = "".join(lines)
    assert "127.0.0.1" in text and "not shown" in text, text
    assert_clean(text, "sandbox serve's banner")
