"""Hardening fixtures: a sandbox served over loopback, and the fault matrix in the summary."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from commstoolkit.sandbox import Sandbox
from commstoolkit.sandbox.server import RunningServer, run_server

from . import matrix


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Sandbox, RunningServer]]:
    """(sandbox, server): a fresh seeded in-memory sandbox (instant clock) on 127.0.0.1,
    with two days of traffic history (so that listings and reads serve history messages)."""
    with Sandbox(":memory:", seed=11, senders=80, traffic_days=2, daily_messages=150) as box:
        box.clock.instant = True
        with run_server(box) as server:
            yield box, server


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the fault matrix (whatever part of it ran) at the end of the run, -s or not."""
    text = matrix.table()
    if text:
        terminalreporter.write_sep("=", "fault matrix (tests/hardening/test_fault_matrix.py)")
        for line in text.splitlines():
            terminalreporter.write_line(line)
