"""A seed never silently wipes what the user made (design.md §5): the account records the
user's own changes since it was seeded, a reseed asked for without ``reset`` is refused when it
would discard any, ``reset=True`` (and ``reset()``) discards them and says what it discarded."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from commstoolkit.sandbox import Changes, ReseedRefusedError, Sandbox

from .conftest import make_client
from .messaging import SUPPORT_POOL, numbers, pool_id, send

Write = Callable[[httpx.Client], object]


def _members(api: httpx.Client, pool: str) -> list[str]:
    answer = api.get(f"/SenderPools/{pool}/Senders", params={"pageSize": 1000})
    return [s["id"] for s in answer.json()["senders"]]


def _some_senders(api: httpx.Client, n: int = 2) -> list[str]:
    answer = api.get("/Senders", params={"status": "ACTIVATED", "pageSize": n})
    return [s["id"] for s in answer.json()["senders"]]


WRITES: dict[str, Write] = {
    "make a pool": lambda api: api.post("/SenderPools", json={"name": "mine"}),
    "rename a pool": lambda api: api.patch(f"/SenderPools/{pool_id(api)}", json={"name": "x"}),
    "delete a pool": lambda api: api.delete(f"/SenderPools/{pool_id(api)}"),
    "add members": lambda api: api.post(
        f"/SenderPools/{pool_id(api)}/Senders",
        json=[{"senderId": s} for s in _some_senders(api)],
    ),
    "remove a member": lambda api: api.delete(
        f"/SenderPools/{pool_id(api)}/Senders/{_members(api, pool_id(api))[0]}"
    ),
    "send messages": lambda api: send(api, numbers(3), sender={"senderPoolId": pool_id(api)}),
}

READS: dict[str, Write] = {
    "list senders": lambda api: api.get("/Senders"),
    "search senders": lambda api: api.post(
        "/Senders/Search", json={"address": "x", "channel": "SMS"}
    ),
    "resolve senders": lambda api: api.post(
        "/Senders/Resolve", json={"to": [{"address": "+14155550100", "channel": "PHONE"}]}
    ),
    "list pools": lambda api: api.get("/SenderPools"),
    "list messages": lambda api: api.get("/Messages"),
    "a failed write": lambda api: api.delete(
        "/SenderPools/comms_senderpool_01h9krwprkeee8fzqspvwy6nq8"
    ),
}


def _seeded(tmp_path: Path, **kwargs: object) -> Path:
    db = tmp_path / "account.sqlite3"
    Sandbox(db, seed=3, senders=60, speed=0, **kwargs).close()  # type: ignore[arg-type]
    return db


@pytest.mark.parametrize("write", WRITES, ids=list(WRITES))
def test_every_write_of_the_api_counts_as_the_users_work(tmp_path: Path, write: str):
    db = _seeded(tmp_path)
    with Sandbox(db) as box, make_client(box) as api:
        answer = WRITES[write](api)
        if isinstance(answer, httpx.Response):
            assert answer.is_success, answer.text
        assert box.changes()
        before = box.state()
    with pytest.raises(ReseedRefusedError):
        Sandbox(db, seed=4)
    with Sandbox(db) as after:
        assert after.state() == before


@pytest.mark.parametrize("read", READS, ids=list(READS))
def test_reads_failures_clock_and_faults_are_not_the_users_work(tmp_path: Path, read: str):
    db = _seeded(tmp_path)
    with Sandbox(db) as box, make_client(box) as api:
        READS[read](api)
        box.clock.advance(30)
        box.faults.add("GET /Senders", status=500, times=1)
        assert box.changes() == Changes()
    with Sandbox(db, seed=4) as reseeded:
        assert (reseeded.reseeded, reseeded.discarded, reseeded.state()["seed"]) == (
            True,
            Changes(),
            4,
        )


def test_a_reseed_that_would_discard_the_users_work_is_refused_before_anything_changes(
    tmp_path: Path,
):
    db = _seeded(tmp_path)
    with Sandbox(db) as box, make_client(box) as api:
        made = api.post("/SenderPools", json={"name": "mine"}).json()["operationId"]
        box.clock.advance(60)
        support = pool_id(api)
        api.patch(f"/SenderPools/{support}", json={"name": "support, renamed"})
        send(api, numbers(40), sender={"senderPoolId": support})
        assert box.changes() == Changes(pools=2, sends=1, messages=40)
        assert str(box.changes()) == "2 pools made or changed, 40 messages sent (1 send)"
        before = box.state()
    for asked in ({"seed": 11}, {"senders": 80}, {"seed": 11, "senders": 80, "speed": 5}):
        with pytest.raises(ReseedRefusedError) as refused:
            Sandbox(db, **asked)  # type: ignore[arg-type]
        text = str(refused.value)
        assert str(db) in text
        assert "2 pools made or changed, 40 messages sent (1 send)" in text
        assert "reset=True" in text and "--reset" in text and "another db" in text
        assert (refused.value.db, refused.value.changes) == (str(db), Changes(2, 1, 40))
    assert "with seed 11 and 80 senders (it has seed 3, 60 senders)" in text
    with Sandbox(db) as box, make_client(box) as api:
        assert box.state() == before  # speed=5 was not applied either
        assert box.clock.speed == 0
        (pool,) = api.get("/SenderPools", params={"operationId": made}).json()["senderPools"]
        assert pool["name"] == "mine"


def test_reset_true_reseeds_and_says_what_it_discarded(tmp_path: Path):
    db = _seeded(tmp_path)
    with Sandbox(db) as box, make_client(box) as api:
        send(api, numbers(5), sender={"senderPoolId": pool_id(api)})
    with Sandbox(db, seed=11, reset=True) as box:
        assert (box.reseeded, box.discarded) == (True, Changes(pools=0, sends=1, messages=5))
        assert (box.state()["seed"], box.state()["senders"], box.state()["messages"]) == (11, 60, 0)
        assert box.changes() == Changes()
    # reset=True with the file's own seed starts it over too.
    with Sandbox(db) as box, make_client(box) as api:
        api.post("/SenderPools", json={"name": "again"})
    with Sandbox(db, reset=True) as box:
        assert (box.discarded, box.state()["seed"], box.state()["pools"]) == (Changes(1), 11, 3)
    with pytest.raises(ValueError, match="reset"):
        Sandbox(db, reset="yes")  # type: ignore[arg-type]


def test_the_reset_method_is_explicit_and_returns_what_it_discarded(tmp_path: Path):
    with Sandbox(_seeded(tmp_path)) as box, make_client(box) as api:
        api.delete(f"/SenderPools/{pool_id(api, SUPPORT_POOL)}")
        assert box.reset(seed=5) == Changes(pools=1)
        assert box.state()["seed"] == 5 and box.changes() == Changes()


def test_the_record_is_shared_by_every_process_using_the_file(tmp_path: Path):
    db = _seeded(tmp_path)
    with Sandbox(db) as here:
        assert not here.changes()
        script = textwrap.dedent(
            f"""
            import httpx
            from commstoolkit.sandbox import Sandbox
            with Sandbox({str(db)!r}) as box:
                with httpx.Client(transport=box.transport(), base_url=box.base_url,
                                  auth=box.credentials()) as api:
                    assert api.post("/SenderPools", json={{"name": "theirs"}}).status_code == 202
            """
        )
        subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
        assert here.changes() == Changes(pools=1)
    with pytest.raises(ReseedRefusedError, match="1 pool made or changed"):
        Sandbox(db, seed=9)


def test_a_file_written_before_the_record_existed_is_read_from_its_tables(tmp_path: Path):
    db = _seeded(tmp_path)
    with Sandbox(db) as box, make_client(box) as api:
        box.clock.advance(5)
        api.post("/SenderPools", json={"name": "mine"})
        api.delete(f"/SenderPools/{pool_id(api, 'Ops Alerts - Global')}")
        send(api, numbers(4), sender={"senderPoolId": pool_id(api)})
        box.clock.advance(5)
        api.patch(f"/SenderPools/{pool_id(api)}", json={"tags": {"k": "v"}})
    with sqlite3.connect(db) as conn:  # as an earlier version left it: no record of changes
        conn.execute("DROP TABLE changes")
    with pytest.raises(ReseedRefusedError, match="3 pools made or changed, 4 messages sent"):
        Sandbox(db, seed=1)
    with Sandbox(db) as box:  # what was read back stays recorded after the refusal
        assert box.changes() == Changes(pools=3, sends=1, messages=4)
    pristine = _seeded(tmp_path / "pristine")
    with sqlite3.connect(pristine) as conn:
        conn.execute("DROP TABLE changes")
    with Sandbox(pristine, seed=1) as box:
        assert (box.reseeded, box.discarded, box.state()["seed"]) == (True, Changes(), 1)
