"""The benchmarks keep working: each one runs at a tiny size and prints its line.

Nothing here is timed (these machines are shared and noisy): PASS or MISS at these sizes
means nothing. The real run is ``python benchmarks/run.py`` (README, "Performance").
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import run
from benchmarks._common import route

TINY = [
    "--senders", "1500",
    "--growth-from", "500",
    "--pool-size", "1200",
    "--recipients", "40",
    "--recipients-growth", "80",
    "--frame-rows", "3000",
    "--repeats", "1",
    "--import-runs", "1",
]  # fmt: skip


@pytest.fixture(scope="module")
def lines() -> list:
    printed: list[str] = []
    result = run.run(TINY, out=printed.append)
    assert printed[-1].startswith("done:")
    return result


def test_every_target_prints_one_line_that_ran(lines):
    keys = [line.key for line in lines]
    assert keys == ["P7", "P1", "P1-grow", "PAGE", "P3", "P4", "P5", "P6", "P6-grow", "P8"]
    assert [line.key for line in lines if line.verdict == "FAIL"] == []
    assert all(line.verdict in ("PASS", "MISS") for line in lines)


def test_each_line_shows_its_measures_and_target(lines):
    for line in lines:
        text = line.render()
        assert line.key in text and line.verdict in text and line.what in text
        assert "target" in text


def test_the_pool_benchmark_counts_requests_by_kind(lines):
    (p5,) = [line for line in lines if line.key == "P5"]
    assert "1 create, 0 adds, 1 polls, 2 member-listing pages (pageSize 1000)" in p5.measured
    assert "GET /v1/Senders (pageSize 1000)" in p5.measured  # the inventory, loaded by plan


def test_the_send_benchmark_sends_one_request_per_run(lines):
    (p6,) = [line for line in lines if line.key == "P6"]
    assert "send requests per run [1]" in p6.measured


def test_a_crash_is_reported_and_sets_the_exit_status(monkeypatch):
    from benchmarks import imports

    def boom(sizes):
        raise RuntimeError("boom")

    monkeypatch.setattr(imports, "p7", boom)
    printed: list[str] = []
    lines = run.run([*TINY, "--only", "P7"], out=printed.append)
    assert [(line.key, line.verdict) for line in lines] == [("P7", "FAIL")]
    assert "RuntimeError: boom" in printed[1]
    monkeypatch.setattr(run, "run", lambda argv: lines)
    assert run.main([]) == 1


def test_routes_group_requests_by_kind():
    assert route("/v1/SenderPools/comms_senderpool_01abc/Senders") == "/v1/SenderPools/{id}/Senders"
    assert route("/v1/Senders") == "/v1/Senders"


def test_the_sandbox_server_turns_nagle_off():
    # Each answer is written in two parts; with Nagle on, the second waited ~40 ms for the
    # client's delayed ACK. asyncio turns it off only on sockets it knows to be TCP.
    from commstoolkit.sandbox.front.server import _listen

    sock = _listen("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()


def test_the_history_benchmark_runs_only_when_asked():
    printed: list[str] = []
    lines = run.run(["--only", "P12", "--history-messages", "3000"], out=printed.append)
    assert [line.key for line in lines] == ["P12"]
    assert lines[0].verdict in ("PASS", "MISS")
    assert "seed 3,000 messages of history (3 days of 1,000)" in lines[0].render()
    assert "first page of a day of it: " in lines[0].measured
    assert printed[-1].startswith("done:")


def test_the_traffic_benchmarks_run_only_when_asked():
    printed: list[str] = []
    lines = run.run(
        ["--only", "P10,P11", "--history-messages", "3000", "--repeats", "1"], out=printed.append
    )
    assert [line.key for line in lines] == ["P10", "P10-mem", "P11"]
    assert all(line.verdict in ("PASS", "MISS") for line in lines)
    assert "export_traffic of 3,000 messages (10 days)" in lines[0].render()
    assert " MiB -> " in lines[1].measured and "pandas " in lines[2].measured
    assert printed[-1].startswith("done:")
    assert "P10" not in {line.key for line in run.run(["--only", "P7", "--import-runs", "2"])}


def test_the_latency_benchmarks_run_only_when_asked():
    """Issue 15's lines: a paced server process, the ratios printed (tiny sizes: the
    verdicts mean nothing here)."""
    printed: list[str] = []
    argv = ["--latency", "--only", "P9", "--senders", "2500", "--pool-size", "1200"]
    argv += ["--recipients", "300", "--history-messages", "3000", "--repeats", "1"]
    lines = run.run(
        [*argv, "--import-runs", "1"],
        out=printed.append,
    )
    keys = [line.key for line in lines]
    assert keys[:5] == ["P9", "P15", "P16", "P14", "P9-429"] and keys[5:] == ["P13", "P13-mem"]
    assert all(line.verdict in ("PASS", "MISS") for line in lines), printed
    assert "ratio " in lines[0].measured and "sequential floor" in lines[0].measured
    assert "(3 Resolve calls)" in lines[2].what and "in flight" in lines[2].measured
    assert "1 create, 0 adds" in lines[3].measured
    assert "none failed" in lines[4].measured
    assert printed[-1].startswith("done:")
