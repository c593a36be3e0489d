"""Fixtures of the widget tests: a sandbox whose operations finish at once, a builder on it."""

from __future__ import annotations

import pytest

import commstoolkit as ct
from commstoolkit.widgets import PoolBuilder


@pytest.fixture
def instant_client(client):
    """The in-process sandbox client, with operations completing as soon as they start."""
    client.sandbox.clock.instant = True
    return client


@pytest.fixture
def senders(instant_client):
    return ct.load_senders(instant_client)


@pytest.fixture
def builder(instant_client):
    return PoolBuilder(instant_client)
