"""The reusable inventory (issue 15): ``max_age`` answers from a recent enough frame on disk,
per account and base URL, with no secret in the files; plans never read it; clear_cache."""

from __future__ import annotations

import base64
from pathlib import Path

import pandas as pd
import pytest

import commstoolkit as ct
from commstoolkit.frames.cache import cache_dir
from commstoolkit.sandbox import Sandbox
from tests.instant import instant_client

TOKEN = "cache-test-token-SECRET"


@pytest.fixture(autouse=True)
def folder(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "cache"
    monkeypatch.setenv("COMMSTOOLKIT_CACHE_DIR", str(path))
    return path


@pytest.fixture
def box():
    sandbox = Sandbox(":memory:", seed=4, senders=1500, auth_token=TOKEN)
    sandbox.clock.instant = True
    yield sandbox
    sandbox.close()


def test_a_recent_frame_answers_without_a_request(box):
    client = instant_client(box)
    fresh = ct.load_senders(client, max_age="15m", progress=False)
    assert fresh.attrs["cached"] is False
    box.faults.add("GET /Senders", status=500)  # any request now fails
    cached = ct.load_senders(client, max_age="15m", progress=False)
    pd.testing.assert_frame_equal(cached, fresh)  # same rows, order and dtypes
    assert cached.attrs == {"fetched_at": fresh.attrs["fetched_at"], "cached": True}
    assert pd.Timestamp(cached.attrs["fetched_at"]).tzname() == "UTC"
    # Too old (any frame is older than 0 s), or not asked for: the server is asked.
    with pytest.raises(ct.ServerError):
        ct.load_senders(client, max_age=0, progress=False)
    with pytest.raises(ct.ServerError):
        ct.load_senders(client, progress=False)
    # Another filter is another entry.
    with pytest.raises(ct.ServerError):
        ct.load_senders(client, channel="SMS", max_age="15m", progress=False)


def test_pools_and_members_are_cached_too(box):
    client = instant_client(box)
    pools = ct.load_pools(client, max_age="1h", progress=False)
    members = ct.load_pool_members(client, max_age=3600, progress=False)
    box.faults.add("*", status=500)
    pd.testing.assert_frame_equal(ct.load_pools(client, max_age="1h"), pools)
    pd.testing.assert_frame_equal(ct.load_pool_members(client, max_age="1h"), members)


def test_entries_are_per_account_and_base_url(box):
    other = Sandbox(":memory:", seed=9, senders=40, account_sid="AC" + "1" * 32)
    try:
        mine = ct.load_senders(instant_client(box), max_age="15m", progress=False)
        theirs = ct.load_senders(instant_client(other), max_age="15m", progress=False)
        assert theirs.attrs["cached"] is False and len(theirs) == 40 and len(mine) == 1500
        preview = ct.CommsClient(
            account_sid=box.account_sid,
            auth_token=TOKEN,
            base_url=box.base_url.replace("/v1", "/preview"),
            transport=box.transport(),
            live=False,
        )
        assert ct.load_senders(preview, max_age="15m", progress=False).attrs["cached"] is False
        assert ct.load_senders(instant_client(box), max_age="15m").attrs["cached"] is True
    finally:
        other.close()


def test_no_secret_and_no_account_id_in_the_files(box, folder):
    client = instant_client(box)
    ct.load_senders(client, max_age="15m", progress=False)
    ct.load_pool_members(client, max_age="15m", progress=False)
    files = list(folder.iterdir())
    assert len(files) == 2
    encoded = base64.b64encode(f"{box.account_sid}:{TOKEN}".encode())
    for path in files:
        data = path.read_bytes()
        assert TOKEN.encode() not in data and encoded not in data
        assert box.account_sid.encode() not in data and box.account_sid not in path.name


def test_plans_recheck_the_server_never_the_cache(box):
    client = instant_client(box)
    senders = ct.load_senders(client, progress=False)
    chosen = list(senders["sender_id"][:5])
    with pytest.warns(ct.PoolPlanWarning):  # a few SMS senders only: the plan says so
        pool = ct.create_pool(client, "Cached", chosen)
    before = ct.load_pool_members(client, [pool.id], max_age="1h", progress=False)
    assert sorted(before["sender_id"]) == sorted(chosen)
    client.sender_pools.members.remove(pool.id, chosen[0])
    # The cache still says five members; the plan asks the server, which has four.
    stale = ct.load_pool_members(client, [pool.id], max_age="1h", progress=False)
    assert stale.attrs["cached"] is True and len(stale) == 5
    plan = ct.plan_pool(client, chosen, pool_id=pool.id)
    assert list(plan.to_add["sender_id"]) == [chosen[0]] and plan.to_remove.empty


def test_clear_cache_removes_every_entry(box, folder):
    client = instant_client(box)
    ct.load_senders(client, max_age="15m", progress=False)
    ct.load_pools(client, max_age="15m", progress=False)
    assert ct.clear_cache() == 2
    assert list(folder.iterdir()) == []
    assert ct.load_senders(client, max_age="15m", progress=False).attrs["cached"] is False
    assert ct.clear_cache() == 1


@pytest.mark.parametrize("bad", ["soon", "-5m", -1, float("nan"), True, [15]])
def test_a_bad_max_age_is_refused_before_any_request(box, bad):
    box.faults.add("*", status=500)
    with pytest.raises(ct.InvalidInputError, match="max_age") as error:
        ct.load_senders(instant_client(box), max_age=bad)
    assert error.value.field == "max_age"


def test_the_cache_folder_follows_xdg_without_the_override(monkeypatch, tmp_path):
    monkeypatch.delenv("COMMSTOOLKIT_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "commstoolkit"
