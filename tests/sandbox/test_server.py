"""The sandbox over real HTTP: uvicorn in a thread (httpx), and as a separate process driven
with the real curl binary."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from commstoolkit.sandbox import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, Sandbox
from commstoolkit.sandbox.server import RunningServer, run_server

from .conftest import Contract, make_client

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def served(sandbox: Sandbox) -> Iterator[RunningServer]:
    with run_server(sandbox) as server:
        yield server


@pytest.fixture
def http(served: RunningServer, sandbox: Sandbox, contract) -> Iterator[httpx.Client]:
    hooks = {"response": [contract.check]}
    with httpx.Client(
        base_url=served.base_url, auth=sandbox.credentials(), event_hooks=hooks
    ) as client:
        yield client


def test_a_pool_lifecycle_over_real_http(http: httpx.Client, served, sandbox: Sandbox):
    senders = http.get("/Senders", params={"channel": "SMS", "pageSize": 5}).json()["senders"]
    created = http.post(
        "/SenderPools", json={"name": "http", "senders": [{"senderId": s["id"]} for s in senders]}
    )
    assert created.status_code == 202
    location = created.headers["location"]
    assert location.startswith(f"http://127.0.0.1:{served.port}/v1/SenderPools/Operations/")
    sandbox.clock.advance(5)
    assert httpx.get(location, auth=sandbox.credentials()).json()["status"] == "COMPLETED"
    operation_id = created.json()["operationId"]
    (pool,) = http.get("/SenderPools", params={"operationId": operation_id}).json()["senderPools"]
    members = http.get(f"/SenderPools/{pool['id']}/Senders").json()["senders"]
    assert members == senders
    preview = served.url + "/preview/SenderPools/" + pool["id"]
    assert httpx.get(preview, auth=sandbox.credentials()).json() == pool


def test_errors_over_real_http(http: httpx.Client, served: RunningServer):
    assert http.get("/Senders", params={"pageSize": 0}).status_code == 400
    assert http.get("/Nope").status_code == 404
    assert http.put("/Senders").status_code == 405
    assert httpx.get(served.base_url + "/Senders", auth=("AC1", "x")).status_code == 401
    too_big = http.post("/SenderPools", content=b" " * (6 * 1024 * 1024 + 1))
    assert too_big.status_code == 413
    assert http.get("/Senders").status_code == 200  # the server is still fine


def test_every_answer_says_it_comes_from_the_sandbox(served: RunningServer, sandbox: Sandbox):
    """``X-Commstoolkit-Sandbox: 1`` on successes, errors, control answers and faults alike (a
    client tells a local sandbox server from Twilio by it); nothing secret in it."""
    base, auth = served.base_url, sandbox.credentials()
    sandbox.faults.add("GET /SenderPools", status=503, times=1)
    answers = [
        httpx.get(base + "/Senders", auth=auth),  # 200
        httpx.post(base + "/SenderPools", json={"name": "x"}, auth=auth),  # 202
        httpx.get(base + "/Senders", params={"pageSize": 0}, auth=auth),  # 400
        httpx.get(base + "/Senders", auth=("AC1", "wrong")),  # 401
        httpx.get(base + "/Senders"),  # 401, no credentials at all
        httpx.get(served.url + "/nowhere", auth=auth),  # 404
        httpx.get(base + "/SenderPools", auth=auth),  # 503 by the fault rule
        httpx.get(served.url + "/_sandbox/state", auth=auth),  # control
    ]
    assert [a.status_code for a in answers] == [200, 202, 400, 401, 401, 404, 503, 200]
    assert {a.headers.get("X-Commstoolkit-Sandbox") for a in answers} == {"1"}
    with make_client(sandbox) as in_process:  # the in-process transport says it too
        assert in_process.get("/Senders").headers["x-commstoolkit-sandbox"] == "1"


@pytest.mark.parametrize("when", ["before", "after"])
def test_dropped_connections_are_transport_errors_over_loopback(
    http: httpx.Client, sandbox: Sandbox, when: str
):
    sandbox.faults.add("POST /SenderPools", drop=when, times=1)
    before = sandbox.state()["operations"]
    with pytest.raises(httpx.TransportError):
        http.post("/SenderPools", json={"name": "dropped"})
    assert sandbox.state()["operations"] == before + (when == "after")
    assert http.post("/SenderPools", json={"name": "next"}).status_code == 202


def test_status_latency_and_malformed_faults_over_real_http(
    served: RunningServer, sandbox: Sandbox, contract: Contract
):
    with httpx.Client(base_url=served.base_url, auth=sandbox.credentials()) as client:
        sandbox.faults.add("GET /Senders", status=429, retry_after=2, times=1)
        limited = client.get("/Senders")
        assert (limited.status_code, limited.headers["retry-after"]) == (429, "2")
        contract.validate_response("GET", "/Senders", 429, limited.json(), limited.headers)
        sandbox.faults.add("GET /Senders", latency=1.0, times=1)
        with pytest.raises(httpx.ReadTimeout):
            client.get("/Senders", timeout=0.2)
        sandbox.faults.add("GET /Senders", malformed=True, times=1)
        with pytest.raises(json.JSONDecodeError):
            client.get("/Senders").json()
        assert client.get("/Senders").json()["senders"]


def test_control_endpoints_over_real_http(served: RunningServer, sandbox: Sandbox):
    auth = sandbox.credentials()
    rule = {"route": "GET /SenderPools", "status": 503}
    assert httpx.post(served.url + "/_sandbox/faults", json=rule, auth=auth).status_code == 201
    assert httpx.get(served.base_url + "/SenderPools", auth=auth).status_code == 503
    assert httpx.delete(served.url + "/_sandbox/faults", auth=auth).status_code == 200
    clock = httpx.post(served.url + "/_sandbox/clock", json={"advance": 60}, auth=auth).json()
    assert clock["now"] == "2025-06-02T09:01:00Z"


def _curl(*args: str) -> tuple[int, str]:
    """Run curl; (HTTP status, body)."""
    done = subprocess.run(
        ["curl", "-sS", "-w", "\n%{http_code}", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    body, _, status = done.stdout.rpartition("\n")
    return int(status), body


@contextmanager
def _serving(db: Path, env: dict[str, str] | None = None) -> Iterator[tuple[str, str]]:
    """``commstoolkit sandbox serve`` on a free port; (its URL, its banner)."""
    command = ["-m", "commstoolkit", "sandbox", "serve", "--port", "0", "--db", str(db)]
    process = subprocess.Popen(
        [sys.executable, *command],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        banner = "".join(process.stdout.readline() for _ in range(5))  # type: ignore[union-attr]
        found = re.search(r"(http://127\.0\.0\.1:\d+)/v1", banner)
        assert found, banner + process.stdout.read()  # type: ignore[union-attr]
        yield found.group(1), banner
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def server_process(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A served sandbox process; (its URL, its db file)."""
    db = tmp_path / "served.sqlite3"
    with _serving(db) as (url, _):
        yield url, db


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs the curl binary")
def test_curl_drives_a_served_sandbox_end_to_end(server_process: tuple[str, Path]):
    url, db = server_process
    user = f"{DEFAULT_ACCOUNT_SID}:{DEFAULT_AUTH_TOKEN}"
    status, body = _curl("-u", user, f"{url}/preview/Senders?status=ACTIVATED&pageSize=20")
    assert status == 200
    activated = json.loads(body)["senders"]
    assert len(activated) == 20 and {s["status"] for s in activated} == {"ACTIVATED"}

    chosen = [s["id"] for s in activated[:4]]
    request = {"name": "curl pool", "senders": [{"senderId": s} for s in chosen]}
    status, body = _curl(
        "-u", user, "-H", "Content-Type: application/json", "-d", json.dumps(request),
        f"{url}/preview/SenderPools",
    )  # fmt: skip
    assert status == 202
    operation = json.loads(body)
    assert operation["operationLocation"].startswith(f"{url}/preview/SenderPools/Operations/")

    deadline = time.monotonic() + 15
    while True:
        status, body = _curl("-u", user, operation["operationLocation"])
        if json.loads(body)["status"] == "COMPLETED" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert json.loads(body)["stats"] == {"total": 4, "queued": 0, "created": 4, "failed": 0}

    query = f"{url}/preview/SenderPools?operationId={operation['operationId']}"
    (pool,) = json.loads(_curl("-u", user, query)[1])["senderPools"]
    assert pool["name"] == "curl pool"
    members = json.loads(_curl("-u", user, f"{url}/preview/SenderPools/{pool['id']}/Senders")[1])
    assert [m["id"] for m in members["senders"]] == sorted(chosen)

    status, body = _curl("-u", f"{DEFAULT_ACCOUNT_SID}:wrong", f"{url}/preview/Senders")
    assert status == 401
    assert json.loads(body)["errors"][0]["code"] == 20003

    with Sandbox(db) as same_file:  # another process sees what the server did
        assert same_file.backend.get_pool(pool["id"]) == pool


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs the curl binary")
def test_the_server_takes_credentials_from_the_environment_and_never_prints_the_token(
    tmp_path: Path,
):
    env = {"TWILIO_ACCOUNT_SID": "ACfromenv", "TWILIO_AUTH_TOKEN": "tok_from_env_SECRET"}
    with _serving(tmp_path / "env.sqlite3", env) as (url, banner):
        assert "ACfromenv" in banner
        assert "tok_from_env_SECRET" not in banner
        assert _curl("-u", "ACfromenv:tok_from_env_SECRET", f"{url}/v1/Senders")[0] == 200
        default = f"{DEFAULT_ACCOUNT_SID}:{DEFAULT_AUTH_TOKEN}"
        assert _curl("-u", default, f"{url}/v1/Senders")[0] == 401
