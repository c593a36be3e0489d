"""The sandbox's traffic history (issue 13): production messages of the days before the clock,
served by ``GET /Messages`` like live ones, with planted faults visible in the raw counts."""

from __future__ import annotations

import email.utils
import hashlib
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import phonenumbers
import pytest

import commstoolkit as ct
from commstoolkit.sandbox import ReseedRefusedError, Sandbox
from commstoolkit.sandbox.front.server import run_server
from commstoolkit.sandbox.simulation.clock import EPOCH

from .conftest import Contract, collect, make_client
from .messaging import send

DAYS, DAILY = 8, 4_000
DELIVERED = {"DELIVERED", "READ"}


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def history() -> Iterator[Sandbox]:
    """A sandbox with 8 days of about 4,000 messages a day (seed 7), its clock frozen."""
    with Sandbox(":memory:", speed=0, traffic_days=DAYS, daily_messages=DAILY) as box:
        yield box


@pytest.fixture(scope="module")
def everything(history: Sandbox) -> list[dict[str, Any]]:
    """Every message of the history, read through GET /Messages pages (nothing checked)."""
    with make_client(history) as client:
        items, pages = collect(client, "/Messages", key="messages", pageSize=1000)
    assert pages == -(-DAYS * DAILY // 1000)
    return items


def digest(box: Sandbox) -> str:
    """A hash of every history row (operations, messages, attempts) and the senders."""
    h = hashlib.sha256()
    for table in ("message_operations", "messages", "attempts", "senders"):
        for row in box.store.conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2"):
            h.update(repr(tuple(row)).encode())
    return h.hexdigest()


def test_the_history_is_deterministic_for_a_seed():
    def made(seed: int) -> tuple[str, dict]:
        with Sandbox(":memory:", speed=0, seed=seed, traffic_days=3, daily_messages=500) as box:
            return digest(box), box.history_faults()

    first, again, other = made(11), made(11), made(12)
    assert first == again
    assert first[0] != other[0]
    assert first[1]["messages"] == 1_500


def test_no_history_unless_asked(sandbox: Sandbox):
    assert sandbox.state()["messages"] == 0
    assert sandbox.history_faults() == {}


def test_volumes_follow_the_day_the_week_and_the_hour(history: Sandbox, everything: list[dict]):
    assert len(everything) == DAYS * DAILY
    start = EPOCH - timedelta(days=DAYS)
    created = [when(m["createdAt"]) for m in everything]
    assert min(created) >= start and max(created) < EPOCH
    per_day = Counter((c - start) // timedelta(days=1) for c in created)
    weekday = {d: n for d, n in per_day.items() if (start + timedelta(days=d)).weekday() < 5}
    weekend = {d: n for d, n in per_day.items() if (start + timedelta(days=d)).weekday() >= 5}
    assert len(per_day) == DAYS and weekend  # 8 days hold a weekend
    assert all(0.8 * DAILY < n < 1.35 * DAILY for n in weekday.values()), per_day
    assert all(n < 0.8 * min(weekday.values()) for n in weekend.values()), per_day
    # Fewer at night: the UK's night (1-5 UTC) against its afternoon (13-17 UTC).
    uk = Counter(c.hour for m, c in zip(everything, created, strict=True)
                 if m["to"][0]["address"].startswith("+44"))  # fmt: skip
    night, day = sum(uk[h] for h in range(1, 5)), sum(uk[h] for h in range(13, 17))
    assert day > 5 * night


def test_every_message_is_final_through_a_pool_or_a_single_sender(
    history: Sandbox, everything: list[dict]
):
    pools = {row[0]: row[1] for row in history.store.conn.execute("SELECT id, name FROM pools")}
    per_pool = Counter(pools.get(m["from"].get("senderPoolId"), "single") for m in everything)
    assert set(per_pool) == {*pools.values(), "single"}
    assert per_pool["Customer Support - NAMER"] > per_pool["single"] > 0
    assert {m["status"] for m in everything} <= {"DELIVERED", "READ", "UNDELIVERED", "FAILED"}
    statuses = Counter(m["status"] for m in everything)
    assert statuses["READ"] > 0.15 * len(everything)
    countries = Counter(
        phonenumbers.region_code_for_number(phonenumbers.parse(m["to"][0]["address"]))
        for m in everything[::7]
    )
    assert {"US", "CA", "GB", "DE", "FR"} <= set(countries)
    for message in everything[::97]:
        number = phonenumbers.parse(message["to"][0]["address"])
        assert phonenumbers.is_valid_number(number), message["to"]
    tags = Counter(m["tags"].get("campaign") for m in everything)
    assert len(tags) > 2  # campaigns change from day to day


def test_history_answers_hold_the_official_schemas(history: Sandbox, contract: Contract):
    with make_client(history, contract) as api:
        first = api.get("/Messages", params={"pageSize": 1000}).json()["messages"]
        checked = contract.checked
        fallback: list[dict] = []
        ids = [m["id"] for m in first[::40]]
        for message_id in ids:
            message = api.get(f"/Messages/{message_id}").json()
            assert message["content"]["text"]
            assert message["attempts"], message
        for row in history.store.conn.execute(
            "SELECT id FROM messages WHERE n_attempts = 2 LIMIT 5"
        ):
            message = api.get(f"/Messages/{row[0]}").json()
            rcs, sms = message["attempts"]
            assert (rcs["from"]["channel"], sms["from"]["channel"]) == ("RCS", "SMS")
            assert rcs["status"] == "FAILED" or rcs["status"] == "UNDELIVERED"
            fallback.append(message)
        operations = api.get("/Messages/Operations", params={"pageSize": 20}).json()
        for operation in operations["operations"]:
            stats = operation["stats"]
            assert operation["status"] == "COMPLETED"
            assert stats["total"] == sum(
                stats[k] for k in ("delivered", "read", "undelivered", "failed")
            )
    assert contract.checked > checked + len(ids)
    assert len(fallback) == 5


def test_a_date_window_lists_exactly_the_messages_created_in_it(
    history: Sandbox, everything: list[dict], contract: Contract
):
    start = EPOCH - timedelta(days=3, seconds=-1234)
    end = start + timedelta(hours=30, seconds=17)
    expected = [m["id"] for m in everything if start <= when(m["createdAt"]) < end]
    with make_client(history, contract) as api:
        found, pages = collect(
            api, "/Messages", key="messages", pageSize=250,
            startDate=stamp(start), endDate=stamp(end),
        )  # fmt: skip
    assert [m["id"] for m in found] == expected
    assert pages > 5


def test_the_degrading_sender_shows_in_the_raw_counts(history: Sandbox, everything: list[dict]):
    fault = history.history_faults()["degrading"]
    since = when(fault["since"])
    assert since == EPOCH - timedelta(days=3)
    mine = [m for m in everything if m["from"]["senderId"] == fault["senderId"]]
    assert {m["from"].get("senderPoolId") for m in mine} == {fault["senderPoolId"]}
    before = [m["status"] in DELIVERED for m in mine if when(m["createdAt"]) < since]
    after = [m["status"] in DELIVERED for m in mine if when(m["createdAt"]) >= since]
    assert len(after) >= 40 and len(before) >= 60
    assert sum(before) / len(before) > 0.85
    assert 0.40 < sum(after) / len(after) < 0.75
    # Its failed attempts carry error codes.
    with make_client(history) as client:
        failed = [m for m in mine if m["status"] not in DELIVERED][:5]
        for message in failed:
            attempts = client.get(f"/Messages/{message['id']}").json()["attempts"]
            assert attempts[-1]["error"]["code"] in (30003, 30007, 30008)


def test_the_bad_country_hour_shows_in_the_raw_counts(history: Sandbox, everything: list[dict]):
    fault = history.history_faults()["badHour"]
    prefix = {"US": "+1201", "GB": "+44"}[fault["country"]]
    rates: dict[int, list[bool]] = {}
    for message in everything:
        if message["to"][0]["address"].startswith(prefix):
            hour = when(message["createdAt"]).hour
            rates.setdefault(hour, []).append(message["status"] in DELIVERED)
    bad = rates.pop(fault["hourUtc"])
    assert len(bad) > 100
    assert 0.35 < sum(bad) / len(bad) < 0.65
    busy = [r for r in rates.values() if len(r) > 100]
    assert busy and all(sum(r) / len(r) > 0.85 for r in busy)


def test_a_deactivated_pool_member_carried_the_first_days(history: Sandbox, everything: list[dict]):
    fault = history.history_faults()["deactivated"]
    with make_client(history) as client:
        sender = client.get(f"/Senders/{fault['senderId']}").json()
        members = collect(client, f"/SenderPools/{fault['senderPoolId']}/Senders", pageSize=1000)
    assert sender["status"] == "DEACTIVATED"
    assert sender["updatedAt"] == fault["deactivatedAt"]
    assert fault["senderId"] in {m["id"] for m in members[0]}
    carried = [when(m["createdAt"]) for m in everything if m["from"]["senderId"] == sender["id"]]
    assert carried and max(carried) < when(fault["deactivatedAt"])
    assert when(fault["deactivatedAt"]) < EPOCH - timedelta(days=DAYS / 2)


def test_the_history_is_part_of_the_seed_for_reseeds(tmp_path: Path):
    db = tmp_path / "a.sqlite3"
    Sandbox(db, traffic_days=2, daily_messages=300).close()
    with Sandbox(db) as box:  # no history asked: the file's own is kept
        assert not box.reseeded and box.state()["messages"] == 600
    with Sandbox(db, traffic_days=2, daily_messages=100) as box:  # pristine: reseeded
        assert box.reseeded and box.state()["messages"] == 200
        with make_client(box) as api:
            send(api, ["+14155550100"])
        assert box.changes().sends == 1
    with pytest.raises(ReseedRefusedError, match="3 days of history") as refused:
        Sandbox(db, traffic_days=3)
    assert "2 days of history (100 messages a day)" in str(refused.value)
    with pytest.raises(ReseedRefusedError, match="no history"):
        Sandbox(db, traffic_days=0)
    with Sandbox(db, traffic_days=2, daily_messages=100) as box:  # as held: nothing to do
        assert not box.reseeded and box.changes().sends == 1
    with Sandbox(db, traffic_days=0, reset=True) as box:
        assert box.reseeded and box.state()["messages"] == 0
        assert box.history_faults() == {}


def test_the_history_counts_nothing_as_the_users_changes(history: Sandbox):
    assert not history.changes()


@pytest.mark.parametrize("bad", [-1, 366, 1.5, True, "7"])
def test_history_sizes_are_checked(bad: object):
    with pytest.raises(ValueError, match="traffic_days"):
        Sandbox(":memory:", traffic_days=bad)  # type: ignore[arg-type]


def test_the_date_header_is_the_sandbox_clock_in_process_and_over_http(sandbox: Sandbox):
    with make_client(sandbox) as api:
        answer = api.get("/Senders", params={"pageSize": 1})
        assert answer.headers.get_list("date") == ["Mon, 02 Jun 2025 09:00:00 GMT"]
        assert email.utils.parsedate_to_datetime(answer.headers["date"]) == EPOCH
        sandbox.clock.advance(3 * 86_400 + 5)
        refused = api.get("/Senders", auth=("AC0", "nope"))
        assert refused.status_code == 401
        assert refused.headers["date"] == "Thu, 05 Jun 2025 09:00:05 GMT"
    with run_server(sandbox) as server:
        answer = httpx.get(f"{server.base_url}/Senders", auth=sandbox.credentials())
        assert answer.status_code == 200
        assert answer.headers.get_list("date") == ["Thu, 05 Jun 2025 09:00:05 GMT"]
        missing = httpx.get(f"{server.base_url}/Nowhere", auth=sandbox.credentials())
        assert missing.headers.get_list("date") == ["Thu, 05 Jun 2025 09:00:05 GMT"]


def test_connects_default_sandbox_starts_with_a_week_of_history(tmp_path: Path):
    """The default per-user file (COMMSTOOLKIT_SANDBOX_DB of the tests) gets 7 days of about
    2,000 messages when new; a sandbox asked for by file or seed gets none unless asked."""
    with ct.connect(sandbox=True, quiet=True) as client:
        faults = client.sandbox.history_faults()
        assert (faults["trafficDays"], faults["messages"]) == (7, 14_000)
        client.sandbox.close()
    with ct.connect(sandbox=True, quiet=True) as again:  # an existing file: used as it is
        assert not again.sandbox.reseeded
        again.sandbox.close()
    with ct.connect(sandbox=True, db=tmp_path / "mine.sqlite3", quiet=True) as mine:
        assert mine.sandbox.history_faults() == {}
        mine.sandbox.close()
    with ct.connect(sandbox=True, db=":memory:", traffic_days=1, daily_messages=50,
                    quiet=True) as asked:  # fmt: skip
        assert asked.sandbox.state()["messages"] == 50
        asked.sandbox.close()
    with pytest.raises(ct.InvalidInputError) as refused:
        ct.connect(sandbox=True, db=":memory:", traffic_days=-1, quiet=True)
    assert refused.value.field == "traffic_days"


def test_sandbox_serve_takes_the_history_and_its_refusal(tmp_path: Path, capsys):
    from commstoolkit import cli

    with pytest.raises(SystemExit) as usage:
        cli.main(["sandbox", "serve", "--traffic-days", "-1"])
    assert usage.value.code == 2
    assert "traffic-days" in capsys.readouterr().err
    db = tmp_path / "served.sqlite3"
    with Sandbox(db, traffic_days=1, daily_messages=40) as box, make_client(box) as api:
        send(api, ["+14155550100"])  # the user's work: another history is refused
    argv = ["sandbox", "serve", "--port", "0", "--db", str(db), "--traffic-days", "2"]
    assert cli.main(argv) == 1
    said = capsys.readouterr().err
    # Messages a day not given: the file's own.
    assert "2 days of history (40 messages a day)" in said and "--reset" in said
    with Sandbox(db) as box:
        assert box.history_faults()["trafficDays"] == 1 and box.changes().sends == 1
