"""Fixtures of the events tests: a frozen-clock in-memory sandbox whose Event Streams retry a
failing webhook quickly (real seconds), and its real HTTP server on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import commstoolkit as ct
from commstoolkit.sandbox.events.outbox import RetryPolicy
from commstoolkit.sandbox.server import RunningServer, run_server


@pytest.fixture
def sandbox() -> Iterator[ct.Sandbox]:
    with ct.Sandbox(":memory:", speed=0) as box:
        box.events.retry = RetryPolicy(timeout=0.5, delays=(0.2, 0.3, 0.5, 0.8, 1.0, 1.5, 2.0))
        yield box


@pytest.fixture
def served(sandbox: ct.Sandbox) -> Iterator[RunningServer]:
    with run_server(sandbox) as server:
        yield server
