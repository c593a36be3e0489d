"""Concurrent loads give exactly what sequential ones give (issue 15): the same rows, in the
same order, with the same dtypes, no sender or message twice or missing; across seeds, sizes
and fault mixes (429 bursts, 503, connections dropped after a read was sent)."""

from __future__ import annotations

import logging

import pandas as pd
import pyarrow.parquet as pq
import pytest

import commstoolkit as ct
from commstoolkit.client import RetryPolicy
from commstoolkit.sandbox import Sandbox

SENDERS = "GET /Senders"
MEMBERS = "GET /SenderPools/{senderPoolId}/Senders"
MESSAGES = "GET /Messages"
# (route, settings): bounded faults (``times``), so that no request can meet more of them
# than the retry policy below allows; 429s under the throttle do not count against it.
FAULT_MIXES = {
    "none": [],
    "429 bursts": [
        ("GET *", {"status": 429, "retry_after": 0, "times": 2}),
        ("GET *", {"status": 429, "retry_after": 0, "probability": 0.3, "times": 12}),
    ],
    "503": [
        ("GET *", {"status": 503, "retry_after": 0, "times": 1}),
        ("GET *", {"status": 503, "retry_after": 0, "probability": 0.25, "times": 3}),
    ],
    "dropped reads": [
        ("GET *", {"drop": "after", "times": 1}),
        ("GET *", {"drop": "after", "probability": 0.25, "times": 3}),
    ],
    "all three": [
        ("GET *", {"status": 429, "retry_after": 0, "probability": 0.2, "times": 6}),
        ("GET *", {"status": 503, "retry_after": 0, "probability": 0.1, "times": 3}),
        ("GET *", {"drop": "after", "probability": 0.1, "times": 3}),
    ],
}
# Each mix's first rule fires on the first requests (probability 1), the next at random.


def _client(box: Sandbox) -> ct.CommsClient:
    """An in-process client that never sleeps and retries more than any mix above needs."""
    return ct.CommsClient(
        account_sid=box.account_sid,
        auth_token=box.auth_token,
        base_url=box.base_url,
        transport=box.transport(),
        retry=RetryPolicy(max_retries=8, backoff_initial=0, jitter=False),
        sleep=lambda seconds: None,
        live=False,
    )


def _faults(box: Sandbox, mix: str) -> None:
    for route, settings in FAULT_MIXES[mix]:
        box.faults.add(route, **settings)


def _same(concurrent: pd.DataFrame, sequential: pd.DataFrame, key: str) -> None:
    pd.testing.assert_frame_equal(concurrent, sequential)
    assert concurrent[key].is_unique


@pytest.fixture(autouse=True)
def _never_sequential_by_accident(caplog):
    """A concurrent load that fell back to one page at a time says so: here it never may."""
    with caplog.at_level(logging.WARNING, logger="commstoolkit.frames"):
        yield
    if "one page at a time" not in caplog.text or "another order" in caplog.text:
        return
    pytest.fail(f"a concurrent load fell back to a sequential one: {caplog.text}")


@pytest.mark.parametrize("mix", list(FAULT_MIXES))
@pytest.mark.parametrize(("seed", "senders"), [(1, 1200), (2, 2600), (3, 4300)])
def test_senders_concurrently_equal_sequentially(seed, senders, mix):
    box = Sandbox(":memory:", seed=seed, senders=senders)
    client = _client(box)
    sequential = ct.load_senders(client, concurrency=1, progress=False)
    _faults(box, mix)
    for split in (None, False):
        frame = ct.load_senders(client, concurrency=6, split=split, progress=False)
        _same(frame, sequential, "sender_id")
    assert len(sequential) == senders
    # A filter asked for keeps its own order: SMS first, then RCS, each by id.
    channels = ["sms", "RCS"]
    expected = ct.load_senders(client, channel=channels, concurrency=1, progress=False)
    _same(ct.load_senders(client, channel=channels, progress=False), expected, "sender_id")
    assert list(expected["channel"].unique()) == ["SMS", "RCS"]
    if mix != "none":
        assert sum(rule.fired for rule in box.faults.list()) > 0


@pytest.mark.parametrize("mix", ["none", "all three"])
@pytest.mark.parametrize("seed", [4, 5])
def test_members_and_pools_concurrently_equal_sequentially(seed, mix):
    box = Sandbox(":memory:", seed=seed, senders=3000)
    box.clock.instant = True
    client = _client(box)
    ids = list(ct.load_senders(client, concurrency=1, progress=False)["sender_id"][::-1][:2300])
    op = client.wait(client.sender_pools.create(name="Big", sender_ids=ids))
    big = client.sender_pools.find_created(op).id
    members = ct.load_pool_members(client, concurrency=1, progress=False)
    pools = ct.load_pools(client, concurrency=1, progress=False)
    _faults(box, mix)
    for split in (None, False):
        frame = ct.load_pool_members(client, concurrency=5, split=split, progress=False)
        pd.testing.assert_frame_equal(frame, members)
        pd.testing.assert_frame_equal(ct.load_pools(client, split=split, progress=False), pools)
    big_rows = members[members["pool_id"] == big]
    assert len(big_rows) == 2300 and big_rows["sender_id"].is_unique
    assert list(big_rows["sender_id"]) == sorted(ids)
    one = ct.load_pool_members(client, [big], concurrency=1, progress=False)
    pd.testing.assert_frame_equal(ct.load_pool_members(client, [big], progress=False), one)


@pytest.fixture(scope="module")
def history():
    box = Sandbox(":memory:", seed=7, senders=300, traffic_days=3, daily_messages=2500)
    yield box
    box.close()


# A fixed window (a relative one moves with the sandbox clock between two loads).
WINDOW = ("2025-05-30T00:00:00Z", "2025-06-02T09:00:00Z")


@pytest.mark.parametrize("mix", list(FAULT_MIXES))
def test_traffic_concurrently_equals_sequentially(history, mix):
    client = _client(history)
    history.faults.clear()
    sequential = ct.load_traffic(client, *WINDOW, concurrency=1, progress=False)
    _faults(history, mix)
    try:
        for concurrency in (2, 8) if mix == "none" else (8,):
            frame = ct.load_traffic(client, *WINDOW, concurrency=concurrency, progress=False)
            _same(frame, sequential, "message_id")
        compared = ct.load_traffic(client, "2025-05-31", "2025-06-01", compare=True)
    finally:
        history.faults.clear()
    expected = ct.load_traffic(client, "2025-05-31", "2025-06-01", compare=True, concurrency=1)
    _same(compared, expected, "message_id")
    assert len(sequential) > 7000  # pages a day: the window was cut into slices


@pytest.mark.parametrize("mix", ["none", "all three"])
def test_export_concurrently_writes_what_a_sequential_export_writes(history, mix, tmp_path):
    client = _client(history)
    history.faults.clear()
    plain = ct.export_traffic(client, *WINDOW, tmp_path / "plain", concurrency=1, progress=False)
    _faults(history, mix)
    try:
        fast = ct.export_traffic(
            client, *WINDOW, tmp_path / "fast", rows_per_group=1500, progress=False
        )
    finally:
        history.faults.clear()
    assert fast.written == plain.written and len(fast.written) == 4
    for day in plain.written:
        name = f"day={day.isoformat()}/part-0.parquet"
        written = pq.read_table(tmp_path / "fast" / name)
        assert written.equals(pq.read_table(tmp_path / "plain" / name))
        assert written.column("message_id").to_pandas().is_unique
    read = ct.read_traffic(tmp_path / "fast")
    pd.testing.assert_frame_equal(read, ct.read_traffic(tmp_path / "plain"))


def test_a_server_in_another_order_gets_a_sequential_load(monkeypatch, caplog):
    # (its warning says "one page at a time", which this test wants: "another order")
    """Concurrent pieces are merged by id; a server whose pages do not ascend by id cannot
    be reproduced that way, so the loader lists it one page at a time instead."""
    box = Sandbox(":memory:", seed=8, senders=2500)
    client = _client(box)
    from commstoolkit.client import pagination

    original = pagination.Pager._fetch

    def descending(self, cursor, read):
        found, following = original(self, cursor, lambda objects: read(objects[::-1]))
        return found, following

    monkeypatch.setattr(pagination.Pager, "_fetch", descending)
    sequential = ct.load_senders(client, concurrency=1, progress=False)
    with caplog.at_level(logging.WARNING, logger="commstoolkit.frames"):
        frame = ct.load_senders(client, progress=False)
    pd.testing.assert_frame_equal(frame, sequential)
    assert "one page at a time" in caplog.text
    caplog.clear()
    logging.getLogger("commstoolkit.frames").warning("another order: as expected")


@pytest.mark.parametrize("bad", [0, 65, 2.0, True, "4"])
def test_a_bad_concurrency_is_refused_before_any_request(bad):
    box = Sandbox(":memory:", seed=1, senders=10)
    box.faults.add("*", status=500)  # any request would fail differently
    client = _client(box)
    for load in (ct.load_senders, ct.load_pools, ct.load_pool_members):
        with pytest.raises(ct.InvalidInputError, match="concurrency") as error:
            load(client, concurrency=bad)
        assert error.value.field == "concurrency"
    with pytest.raises(ct.InvalidInputError, match="concurrency"):
        ct.load_traffic(client, *WINDOW, concurrency=bad)
    with pytest.raises(ct.InvalidInputError, match="concurrency"):
        ct.export_traffic(client, *WINDOW, "unused", concurrency=bad)
