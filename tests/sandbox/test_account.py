"""The account as a whole: its clock, its SQLite file shared between processes, reseeding,
reset and state, and the control endpoints for them."""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from commstoolkit.sandbox import Changes, Sandbox, default_db_path

from .conftest import error_of, make_client

CONTROL = "https://sandbox.comms.invalid/_sandbox"
EPOCH = datetime(2025, 6, 2, 9, 0, tzinfo=timezone.utc)


def test_the_clock_starts_at_its_epoch_frozen_when_speed_is_zero(sandbox: Sandbox):
    assert sandbox.clock.now() == EPOCH
    time.sleep(0.02)
    assert sandbox.clock.now() == EPOCH
    assert sandbox.clock.advance(90) == EPOCH + timedelta(seconds=90)
    with pytest.raises(ValueError, match="seconds"):
        sandbox.clock.advance(-1)


def test_the_clock_runs_at_its_speed():
    with Sandbox(":memory:", speed=1000) as box:
        first = box.clock.now()
        time.sleep(0.05)
        assert box.clock.now() - first >= timedelta(seconds=50)
        box.clock.speed = 0
        frozen = box.clock.now()
        time.sleep(0.02)
        assert box.clock.now() == frozen
    with pytest.raises(ValueError, match="speed"):
        box.clock.speed = -2


def test_operations_finish_in_real_time_at_speed_one(sandbox: Sandbox, api: httpx.Client):
    sandbox.clock.speed = 1
    operation_id = api.post("/SenderPools", json={"name": "rt"}).json()["operationId"]
    status = api.get(f"/SenderPools/Operations/{operation_id}").json()["status"]
    assert status == "PROCESSING"
    time.sleep(0.6)
    assert api.get(f"/SenderPools/Operations/{operation_id}").json()["status"] == "COMPLETED"


def test_two_sandboxes_on_one_file_share_the_account(tmp_path: Path):
    db = tmp_path / "shared.sqlite3"
    with Sandbox(db, speed=0) as notebook, Sandbox(db) as server:
        assert server.state() == notebook.state()
        with make_client(notebook) as client:
            operation_id = client.post("/SenderPools", json={"name": "shared"}).json()[
                "operationId"
            ]
        server.clock.advance(5)
        assert notebook.clock.now() == EPOCH + timedelta(seconds=5)
        server.faults.add("GET /Senders", status=503)
        with make_client(server) as client:
            (pool,) = client.get("/SenderPools", params={"operationId": operation_id}).json()[
                "senderPools"
            ]
        assert notebook.backend.get_pool(pool["id"]) == pool
        with make_client(notebook) as client:
            assert client.get("/Senders").status_code == 503
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_an_existing_file_is_used_as_is_unless_another_seed_or_size_is_asked(tmp_path: Path):
    db = tmp_path / "account.sqlite3"
    with Sandbox(db, seed=3, senders=40, speed=0) as first:
        first.clock.advance(60)  # the clock and faults are not the user's work
        first.faults.add("GET /Senders", status=503, times=1)
        before = first.state()
    with Sandbox(db) as reopened:
        assert reopened.state() == before
        assert (reopened.reseeded, reopened.discarded) == (False, Changes())
    with Sandbox(db, seed=3, senders=40) as same:
        assert same.state() == before and not same.reseeded
    # Nothing of the user's in it: another size or seed reseeds it (nothing is lost).
    with Sandbox(db, senders=50) as resized:
        assert (resized.state()["senders"], resized.state()["seed"]) == (50, 3)
        assert resized.state()["operations"] == 3
        assert (resized.reseeded, bool(resized.discarded)) == (True, False)
    with Sandbox(db, seed=4) as reseeded:
        assert (reseeded.state()["senders"], reseeded.state()["seed"]) == (50, 4)


def test_default_db_path_follows_the_environment(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("COMMSTOOLKIT_SANDBOX_DB", str(tmp_path / "x.sqlite3"))
    assert default_db_path() == tmp_path / "x.sqlite3"
    monkeypatch.delenv("COMMSTOOLKIT_SANDBOX_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_db_path() == tmp_path / "data" / "commstoolkit" / "sandbox.sqlite3"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    expected = tmp_path / "home" / ".local" / "share" / "commstoolkit" / "sandbox.sqlite3"
    assert default_db_path() == expected
    with Sandbox(speed=0) as box:
        assert box.db_path == expected and expected.exists()


def test_reset_restores_the_seeded_account(sandbox: Sandbox, api: httpx.Client):
    fresh = sandbox.state()
    first_page = api.get("/Senders").json()
    api.post("/SenderPools", json={"name": "gone after reset"})
    sandbox.clock.advance(100)
    sandbox.faults.add("GET /SenderPools", status=500)
    sandbox.reset()
    assert sandbox.state() == fresh
    assert api.get("/Senders").json() == first_page
    assert sandbox.clock.speed == 0
    sandbox.reset(seed=9, senders=20)
    assert (sandbox.state()["seed"], sandbox.state()["senders"]) == (9, 20)


def test_state_counts_what_the_account_holds(sandbox: Sandbox):
    state = sandbox.state()
    assert state["senders"] == state["activated"] + state["deactivated"] == 300
    assert (state["pools"], state["operations"], state["processing"]) == (3, 3, 0)
    assert state["memberships"] == sum(
        len(sandbox.backend.pool_member_ids(p["id"])) for p in _pools(sandbox)
    )
    assert state["now"] == "2025-06-02T09:00:00Z"


def _pools(sandbox: Sandbox) -> list[dict]:
    return sandbox.backend.list_pools(limit=1000)[0]


def test_control_endpoints_for_clock_state_and_reset(raw_api: httpx.Client, sandbox: Sandbox):
    clock = raw_api.get(f"{CONTROL}/clock").json()
    assert clock == {
        "now": "2025-06-02T09:00:00Z",
        "epochSeconds": EPOCH.timestamp(),
        "speed": 0.0,
        "instant": False,
    }
    moved = raw_api.post(f"{CONTROL}/clock", json={"advance": 3600, "instant": True}).json()
    assert (moved["now"], moved["instant"]) == ("2025-06-02T10:00:00Z", True)
    assert raw_api.post(f"{CONTROL}/clock", json={"speed": 2}).json()["speed"] == 2.0
    assert raw_api.get(f"{CONTROL}/state").json() == sandbox.state()
    raw_api.post("/SenderPools", json={"name": "made, then reset"})
    reset = raw_api.post(f"{CONTROL}/reset", json={"seed": 11, "senders": 25})
    assert (reset.status_code, reset.json()["seed"], reset.json()["senders"]) == (200, 11, 25)
    assert reset.json()["discarded"] == {"pools": 1, "sends": 0, "messages": 0}
    assert reset.json()["changes"] == {"pools": 0, "sends": 0, "messages": 0}
    for body, context in [
        ({"advance": -5}, "$.advance"),
        ({"speed": "fast"}, "$.speed"),
        ({"instant": 1}, "$.instant"),
        ({"rewind": 5}, "$.rewind"),
    ]:
        answer = raw_api.post(f"{CONTROL}/clock", json=body)
        assert (answer.status_code, error_of(answer)["context"]) == (400, context)
    bad = raw_api.post(f"{CONTROL}/reset", json={"senders": -1})
    assert (bad.status_code, error_of(bad)["context"]) == (400, "$.senders")


def test_control_endpoints_need_the_same_credentials(sandbox: Sandbox):
    with make_client(sandbox, auth=("AC1", "nope")) as client:
        assert client.post(f"{CONTROL}/reset").status_code == 401
        assert client.get(f"{CONTROL}/faults").status_code == 401
