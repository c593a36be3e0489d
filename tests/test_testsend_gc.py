"""A test send pauses the garbage collector only while it builds its many objects, and
leaves it as it found it: on, or off when the caller had turned it off, even after an error.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

import commstoolkit as ct
from commstoolkit.sandbox import Sandbox
from commstoolkit.testsend import InvalidRecipientsError, sending
from tests.instant import instant_client


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


@pytest.fixture(scope="module")
def client() -> Iterator[ct.CommsClient]:
    box = Sandbox(":memory:", seed=7, senders=200)
    box.clock.instant = True
    with instant_client(box) as made:
        yield made
    box.close()


def test_the_collector_is_off_inside_and_back_after(collector_on: None) -> None:
    with sending.gc_paused():
        assert not gc.isenabled()
        with sending.gc_paused():  # nested
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_the_caller_turned_off_stays_off(collector_on: None) -> None:
    gc.disable()
    with sending.gc_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_overlapping_blocks_in_threads_turn_it_back_on_once_both_ended(
    collector_on: None,
) -> None:
    inside, leave = threading.Event(), threading.Event()

    def other() -> None:
        with sending.gc_paused():
            inside.set()
            leave.wait(5)

    thread = threading.Thread(target=other)
    thread.start()
    inside.wait(5)
    with sending.gc_paused():
        pass
    assert not gc.isenabled()  # the other block is still running
    leave.set()
    thread.join(5)
    assert gc.isenabled()


def test_a_test_send_leaves_the_collector_on(collector_on: None, client: ct.CommsClient) -> None:
    senders = ct.load_senders(client, status="ACTIVATED")
    pool = ct.create_pool(client, "gc-pool", list(senders.sender_id[:20]))
    numbers = [f"+1914318{n:04d}" for n in range(100)]
    run = ct.test_send(client, pool, numbers, "hello")
    assert len(run.messages) == 100
    assert gc.isenabled()
    routes = ct.test_send(client, pool, numbers, "hello", dry_run=True).routes
    assert routes is not None and set(routes["to"]) == set(numbers)
    assert gc.isenabled()


def test_a_refused_test_send_leaves_the_collector_on(
    collector_on: None, client: ct.CommsClient
) -> None:
    with pytest.raises(InvalidRecipientsError):
        ct.test_send(client, "comms_senderpool_01h9krwprkeee8fzqspvwy6nq8", ["+1 nope"], "hi")
    assert gc.isenabled()
