"""The server's pacing (issue 15): a round trip on every API answer (per route, with
jitter), and 429 with Retry-After beyond N requests in flight; from Python and from
``commstoolkit sandbox serve --latency ... --jitter ... --max-in-flight ...``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from commstoolkit.sandbox import Sandbox
from commstoolkit.sandbox.server import Pacing, parse_duration, parse_latency, run_server

REPO = Path(__file__).resolve().parents[2]


def _timed(http: httpx.Client, path: str) -> tuple[float, httpx.Response]:
    start = time.perf_counter()
    response = http.get(path)
    return time.perf_counter() - start, response


@pytest.fixture(scope="module")
def box():
    sandbox = Sandbox(":memory:", seed=1, senders=50)
    yield sandbox
    sandbox.close()


def test_every_api_answer_waits_the_latency_and_routes_their_own(box):
    pacing = Pacing(latency=0.06, routes={"/v1/SenderPools": 0.15})
    with (
        run_server(box, pacing=pacing) as server,
        httpx.Client(base_url=server.url, auth=box.credentials()) as http,
    ):
        http.get("/v1/Senders?pageSize=1")  # connect first: time answers, not the TCP setup
        senders, answer = _timed(http, "/v1/Senders?pageSize=1")
        pools, _ = _timed(http, "/v1/SenderPools")
        control, _ = _timed(http, "/_sandbox/clock")
    assert answer.status_code == 200
    assert senders >= 0.06 and pools >= 0.15
    assert pools - senders > 0.05  # the route's own latency, not the default
    assert control < senders  # control endpoints are never paced


def test_jitter_adds_up_to_its_length(box):
    pacing = Pacing(latency=0.02, jitter=0.04, seed=3)
    with (
        run_server(box, pacing=pacing) as server,
        httpx.Client(base_url=server.url, auth=box.credentials()) as http,
    ):
        http.get("/v1/Senders?pageSize=1")
        times = [_timed(http, "/v1/Senders?pageSize=1")[0] for _ in range(8)]
    assert all(t >= 0.02 for t in times)
    assert max(times) - min(times) > 0.005  # not one fixed delay


def test_beyond_the_in_flight_limit_the_answer_is_429_with_retry_after(box):
    pacing = Pacing(latency=0.2, max_in_flight=2, retry_after=3)
    answers: list[httpx.Response] = []

    def get() -> None:
        with httpx.Client(base_url=server.url, auth=box.credentials()) as http:
            answers.append(http.get("/v1/Senders?pageSize=1"))

    with run_server(box, pacing=pacing) as server:
        threads = [threading.Thread(target=get) for _ in range(5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200, 200, 429, 429, 429]
    refused = next(a for a in answers if a.status_code == 429)
    assert refused.headers["Retry-After"] == "3"
    assert refused.json()["errors"][0]["code"] == 20429
    assert refused.headers["X-Commstoolkit-Sandbox"] == "1"
    assert server.in_flight.peak == 2 and server.in_flight.refused == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("100ms", (None, 0.1)),
        ("0.25s", (None, 0.25)),
        ("/v1/Messages=150ms", ("/v1/Messages", 0.15)),
        ("/v1/Messages/=2S", ("/v1/Messages", 2.0)),
    ],
)
def test_latency_flags_read(text, expected):
    assert parse_latency(text) == expected


@pytest.mark.parametrize("text", ["100", "fast", "-5ms", "61s", "Messages=5ms"])
def test_bad_latency_flags_are_named(text):
    with pytest.raises(ValueError, match="--latency"):
        parse_latency(text)


def test_bad_pacing_settings_are_refused():
    with pytest.raises(ValueError, match="max_in_flight"):
        Pacing(max_in_flight=0)
    with pytest.raises(ValueError, match="latency"):
        Pacing(latency=-1)
    with pytest.raises(ValueError, match="jitter"):
        parse_duration("1 minute", "jitter")


def _cli(*args: str, tmp_path: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "COMMSTOOLKIT_SANDBOX_DB": str(tmp_path / "default.sqlite3")}
    return subprocess.Popen(
        [sys.executable, "-m", "commstoolkit", "sandbox", "serve", "--port", "0", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        (["--latency", "100"], "is not a duration such as '100ms'"),
        (["--jitter", "lots"], "--jitter: 'lots' is not a duration"),
        (["--max-in-flight", "0"], "--max-in-flight: '0' is not a whole number >= 1"),
    ],
)
def test_bad_serve_flags_are_usage_errors(flag, message, tmp_path):
    process = _cli(*flag, tmp_path=tmp_path)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 2
    assert message in output


def test_serve_paces_as_its_flags_say(tmp_path):
    process = _cli(
        "--db",
        str(tmp_path / "paced.sqlite3"),
        "--latency",
        "50ms",
        "--latency",
        "/v1/SenderPools=120ms",
        "--max-in-flight",
        "4",
        tmp_path=tmp_path,
    )
    try:
        banner = "".join(process.stdout.readline() for _ in range(6))  # type: ignore[union-attr]
        found = re.search(r"(http://127\.0\.0\.1:\d+)/v1", banner)
        assert found, banner
        assert "pacing       latency 50 ms, /v1/SenderPools 120 ms, 429 " in banner
        auth = ("AC00000000000000000000000000000000", "sandbox-auth-token")
        with httpx.Client(base_url=found.group(1), auth=auth) as http:
            http.get("/v1/Senders?pageSize=1")
            senders, answer = _timed(http, "/v1/Senders?pageSize=1")
            pools, _ = _timed(http, "/v1/SenderPools")
        assert answer.status_code == 200
        assert senders >= 0.05 and pools >= 0.12 and pools - senders > 0.04
    finally:
        process.terminate()
        process.wait(10)
