"""The client's concurrency: a bounded pool whose results keep their order, and an AIMD
throttle that halves on 429 (once a burst), grows back one per window, and never passes
its ceiling; over a real server with a round trip and an in-flight limit, nothing fails."""

from __future__ import annotations

import threading
import time

import pandas as pd
import pytest

import commstoolkit as ct
from commstoolkit.client.concurrency import Throttle, run_concurrently
from commstoolkit.sandbox import Sandbox
from commstoolkit.sandbox.server import Pacing, run_server


def test_results_come_in_task_order_whatever_order_they_finish_in():
    def task(i):
        def run():
            time.sleep(0.002 * (10 - i))  # the first tasks finish last
            return i

        return run

    assert list(run_concurrently([task(i) for i in range(10)], 4)) == list(range(10))


def test_no_more_tasks_run_at_once_than_the_concurrency():
    running, peak, lock = 0, 0, threading.Lock()

    def task():
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.005)
        with lock:
            running -= 1
        return True

    assert all(run_concurrently([task] * 24, 3))
    assert peak == 3


def test_a_task_that_fails_raises_its_error():
    def boom():
        raise LookupError("gone")

    with pytest.raises(LookupError, match="gone"):
        list(run_concurrently([lambda: 1, boom, lambda: 3], 2))


def _answer(throttle: Throttle, statuses: list[int]) -> list[bool]:
    """Send ``len(statuses)`` requests at once through ``throttle``; answer them in order."""
    slots = [throttle.slot() for _ in statuses]
    reports = [slot.__enter__() for slot in slots]
    crowded = [report(status) for report, status in zip(reports, statuses, strict=True)]
    for slot in slots:
        slot.__exit__(None, None, None)
    return crowded


def test_the_limit_halves_once_per_burst_of_429s_and_learns_the_servers_limit():
    throttle = Throttle(8)
    assert throttle.limit == 4  # starts modestly
    _answer(throttle, [200] * 4)
    assert throttle.limit == 8  # slow start: doubled in one window of answers
    # Eight at once to a server that takes four: the last four are refused.
    crowded = _answer(throttle, [200] * 4 + [429] * 4)
    assert crowded == [False] * 4 + [True] * 4  # refused among others: the throttle's own
    assert throttle.limit == 4 and throttle.learned == 4  # one decrease for the burst
    for _ in range(32):  # at the learned limit it grows slowly: about one per 8 windows
        _answer(throttle, [200])
    assert 4.5 < throttle.limit < 5.2
    assert _answer(throttle, [429]) == [False]  # a lone request refused: a refusal like any
    assert 2 < throttle.limit < 2.7 and throttle.refusals == 5
    for _ in range(3):  # below the learned limit: one more per window of answers
        _answer(throttle, [200])
    assert 3 < throttle.limit < 4
    for _ in range(2000):
        _answer(throttle, [200])
    assert throttle.limit == 8  # never above the ceiling


def test_a_paced_server_with_an_in_flight_limit_loses_nothing():
    """429s beyond 3 in flight (Retry-After 0: the test does not wait); the load adapts,
    no request fails, the frame is the sequential one."""
    box = Sandbox(":memory:", seed=3, senders=4200)
    pacing = Pacing(latency=0.01, max_in_flight=3, retry_after=0)
    with run_server(box, pacing=pacing) as server, _client(box, server.base_url) as client:
        sequential = ct.load_senders(client, concurrency=1, progress=False)
        # split=False: ten channel x status queries at once, more than the limit
        frame = ct.load_senders(client, concurrency=8, split=False, progress=False)
        sliced = ct.load_senders(client, concurrency=8, progress=False)
        members = ct.load_pool_members(client, concurrency=8, progress=False)
        expected = ct.load_pool_members(client, concurrency=1, progress=False)
    pd.testing.assert_frame_equal(frame, sequential)
    pd.testing.assert_frame_equal(sliced, sequential)
    pd.testing.assert_frame_equal(members, expected)
    assert server.in_flight.refused > 0  # the limit was met, and adapted to
    assert server.in_flight.peak <= 3


def test_at_most_the_configured_concurrency_is_in_flight():
    box = Sandbox(":memory:", seed=2, senders=6000)
    pacing = Pacing(latency=0.01)
    with run_server(box, pacing=pacing) as server, _client(box, server.base_url) as client:
        ct.load_senders(client, concurrency=5, split=False, progress=False)
    assert server.in_flight.peak == 5


def _client(box: Sandbox, base_url: str) -> ct.CommsClient:
    """A client of ``box`` served over HTTP at ``base_url``."""
    return ct.CommsClient(
        account_sid=box.account_sid, auth_token=box.auth_token, base_url=base_url, live=False
    )


def test_the_default_is_8_with_a_round_trip_to_hide_else_1():
    from commstoolkit.client.concurrency import resolve_concurrency

    assert resolve_concurrency(None, in_process=False, round_trip=None) == 8
    assert resolve_concurrency(None, in_process=False, round_trip=0.1) == 8
    assert resolve_concurrency(None, in_process=False, round_trip=0.004) == 1  # loopback
    assert resolve_concurrency(None, in_process=True, round_trip=None) == 1  # embedded
    assert resolve_concurrency(3, in_process=True, round_trip=0.004) == 3  # as asked
    with pytest.raises(ct.InvalidInputError, match="concurrency"):
        resolve_concurrency(0, in_process=False, round_trip=None)


@pytest.mark.parametrize(("latency", "side_by_side"), [(0.0, False), (0.06, True)])
def test_by_default_only_a_round_trip_worth_hiding_is_hidden(latency, side_by_side):
    box = Sandbox(":memory:", seed=5, senders=5000)
    pacing = Pacing(latency=latency, jitter=0.001)  # jitter: paced even at 0 (counted)
    with run_server(box, pacing=pacing) as server, _client(box, server.base_url) as client:
        frame = ct.load_senders(client, progress=False)
        traffic = ct.load_traffic(client, "2025-05-01", "2025-05-02", progress=False)
    assert len(frame) == 5000 and traffic.empty
    assert (server.in_flight.peak > 1) is side_by_side
