"""Statuses over sandbox time: messages move QUEUED -> SENT -> final (-> READ), operations are
PROCESSING until every message is final, stats always add up (10,000 recipients included),
schedules wait, ``instant`` finishes at once; and the listings' filters and pages."""

from __future__ import annotations

import time

import httpx

from commstoolkit.sandbox import Sandbox

from .conftest import collect
from .messaging import (
    ALWAYS_RCS,
    FAILS,
    FINAL,
    NEVER_RCS,
    RCS_OFF,
    UNADDRESSABLE,
    UNDELIVERED,
    finish,
    full,
    messages_of,
    numbers,
    operation,
    pool_id,
    send,
    status_counts,
)


def _mixed(count: int) -> list[str]:
    magic = [ALWAYS_RCS, NEVER_RCS, RCS_OFF, UNADDRESSABLE, FAILS, UNDELIVERED]
    return magic + numbers(count - len(magic))


def test_a_message_moves_queued_sent_delivered_read_with_the_clock(api, sandbox):
    operation_id = send(api, [ALWAYS_RCS], **{"from": {"senderPoolId": pool_id(api)}})
    (message,) = messages_of(api, operation_id)
    seen, operations = [], []
    for _ in range(800):
        current = api.get(f"/Messages/{message['id']}").json()
        if not seen or seen[-1] != current["status"]:
            seen.append(current["status"])
            operations.append(operation(api, operation_id)["status"])
        if current["status"] == "READ":
            break
        sandbox.clock.advance(0.1)
    assert seen == ["QUEUED", "SENT", "DELIVERED", "READ"]
    assert operations == ["PROCESSING", "PROCESSING", "COMPLETED", "COMPLETED"]
    attempt = current["attempts"][0]
    assert attempt["status"] == "READ" and current["updatedAt"] > current["createdAt"]


def test_the_operation_completes_only_when_every_message_is_final(api, sandbox):
    operation_id = send(api, _mixed(120), **{"from": {"senderPoolId": pool_id(api)}})
    attempts, steps = 0, 0
    while True:
        found = operation(api, operation_id)
        stats, statuses = found["stats"], [m["status"] for m in messages_of(api, operation_id)]
        assert status_counts(stats) == stats["total"] == stats["recipients"] == 120
        assert stats["attempts"] >= attempts
        attempts = stats["attempts"]
        final = all(s in FINAL for s in statuses)
        assert (found["status"] == "COMPLETED") == final
        assert final == (stats["queued"] == stats["sent"] == 0)
        if final:
            break
        sandbox.clock.advance(0.5)
        steps += 1
    assert steps > 4  # it took a while, in sandbox time
    assert stats["unaddressable"] == 1 and stats["attempts"] > 119


def test_stats_are_consistent_on_a_10000_recipient_send(api, raw_api, sandbox, capsys):
    to = _mixed(10_000)
    started = time.perf_counter()
    operation_id = send(api, to, **{"from": {"senderPoolId": pool_id(api)}})
    accepted = time.perf_counter() - started
    running = operation(api, operation_id)
    assert running["status"] == "PROCESSING"
    assert (running["stats"]["queued"], running["stats"]["failed"]) == (9_999, 1)  # unaddressable
    finish(sandbox)
    started = time.perf_counter()
    done = operation(api, operation_id)
    settled = time.perf_counter() - started
    stats = done["stats"]
    assert done["status"] == "COMPLETED"
    assert stats["total"] == stats["recipients"] == status_counts(stats) == 10_000
    assert (stats["unaddressable"], stats["queued"], stats["sent"], stats["scheduled"]) == (
        1, 0, 0, 0,
    )  # fmt: skip
    rows = sandbox.store.conn.execute(
        "SELECT COUNT(*), COUNT(DISTINCT message_id) FROM attempts WHERE operation_id = ?",
        (operation_id,),
    ).fetchone()
    assert stats["attempts"] == rows[0] and rows[1] == 10_000 - 1
    fallbacks = stats["attempts"] - rows[1]
    assert 0.05 < fallbacks / 10_000 < 0.25  # RCS turned off, or not delivered, then SMS
    for status in ("delivered", "read", "undelivered", "failed"):  # 10,000 items: unchecked
        listed = collect(raw_api, "/Messages", key="messages", operationId=operation_id,
                         status=status.upper(), pageSize=1000)[0]  # fmt: skip
        assert len(listed) == stats[status], status
    assert stats["delivered"] + stats["read"] > 0.85 * 10_000
    assert accepted < 2.0 and settled < 1.0, (accepted, settled)
    with capsys.disabled():
        print(f"\n10k send accepted in {accepted:.2f}s, settled stats read in {settled:.3f}s")


def test_a_scheduled_send_waits_for_its_time(api: httpx.Client, sandbox: Sandbox):
    send_at = "2025-06-02T10:00:00Z"  # one hour after the sandbox epoch
    operation_id = send(api, [ALWAYS_RCS, UNADDRESSABLE], schedule={"sendAt": [send_at]})
    found = operation(api, operation_id)
    assert found["status"] == "SCHEDULED"
    assert (found["stats"]["scheduled"], found["stats"]["unaddressable"]) == (2, 0)
    listed = messages_of(api, operation_id)
    assert {m["status"] for m in listed} == {"SCHEDULED"}
    assert {m["scheduledFor"] for m in listed} == {send_at}
    assert full(api, listed[0]["id"])["attempts"] == []
    sandbox.clock.advance(3599)
    assert operation(api, operation_id)["status"] == "SCHEDULED"
    sandbox.clock.advance(1)
    assert operation(api, operation_id)["status"] == "PROCESSING"
    finish(sandbox)
    done = operation(api, operation_id)
    assert done["status"] == "COMPLETED" and done["stats"]["unaddressable"] == 1
    assert full(api, listed[0]["id"])["attempts"][0]["attemptedAt"] == send_at
    plain = messages_of(api, send(api, [ALWAYS_RCS]))
    assert plain[0]["scheduledFor"] is None


def test_a_schedule_more_than_30_days_ahead_is_refused(api: httpx.Client):
    body = {"to": [{"address": ALWAYS_RCS, "channel": "PHONE"}], "content": {"text": "x"},
            "schedule": {"sendAt": ["2025-07-03T09:00:00Z"]}}  # fmt: skip
    answer = api.post("/Messages", json=body)
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["context"] == "$.schedule.sendAt[0]"


def test_instant_makes_every_message_final_at_once(api: httpx.Client, sandbox: Sandbox):
    sandbox.clock.instant = True
    operation_id = send(api, _mixed(50), **{"from": {"senderPoolId": pool_id(api)}})
    found = operation(api, operation_id)
    assert found["status"] == "COMPLETED"
    assert {m["status"] for m in messages_of(api, operation_id)} <= FINAL


def test_content_variables_are_filled_in_on_the_message(api: httpx.Client, sandbox: Sandbox):
    to = [{"address": NEVER_RCS, "channel": "PHONE", "variables": {"name": "Zane"}},
          {"address": ALWAYS_RCS, "channel": "PHONE"}]  # fmt: skip
    content = {
        "text": "Hi {{ name | default: 'there' }}!",
        "media": [{"url": "https://x.test/a.png"}],
    }
    operation_id = send(api, to, content=content)
    first, second = (full(api, m["id"]) for m in messages_of(api, operation_id))
    assert first["content"] == {**content, "text": "Hi Zane!"}
    assert second["content"]["text"] == "Hi there!"
    finish(sandbox)
    sid = full(api, first["id"])["attempts"][0]["infoUrl"].rsplit("/", 1)[1]
    assert sid.startswith("MM")  # an SMS attempt with media is an MMS


def test_listing_filters_and_pages(api: httpx.Client, sandbox: Sandbox):
    pool = pool_id(api)
    first = send(api, _mixed(30), tags={"run": "a1"}, **{"from": {"senderPoolId": pool}})
    sandbox.clock.advance(3600)
    second = send(api, numbers(10, start=900), tags={"run": "b2", "team": "x"})
    finish(sandbox)
    everything, pages = collect(api, "/Messages", key="messages", pageSize=7)
    assert pages == 6 and len({m["id"] for m in everything}) == 40
    assert [m["id"] for m in everything] == sorted(m["id"] for m in everything)
    by_tag = collect(api, "/Messages", key="messages", tags="run:b2;team:x;")[0]
    assert {m["related"][0]["id"] for m in by_tag} == {second} and len(by_tag) == 10
    assert collect(api, "/Messages", key="messages", tags="run:zz;")[0] == []
    later = collect(api, "/Messages", key="messages", startDate="2025-06-02T09:30:00Z")[0]
    assert {m["related"][0]["id"] for m in later} == {second}
    earlier = collect(api, "/Messages", key="messages", endDate="2025-06-02T09:30:00Z")[0]
    assert {m["related"][0]["id"] for m in earlier} == {first}
    whatsapp_free = collect(api, "/Messages", key="messages", channel="WHATSAPP")[0]
    assert whatsapp_free == []
    rcs = collect(api, "/Messages", key="messages", channel="RCS", operationId=first)[0]
    assert rcs and {m["from"]["channel"] for m in rcs} == {"RCS"}
    session = {"sessionId": "comms_session_01h9krwprkeee8fzqspvwy6nq8"}
    assert len(collect(api, "/Messages", key="messages", **session)[0]) == 40  # ignored
    operations = collect(api, "/Messages/Operations", key="operations", pageSize=1)
    assert [o["id"] for o in operations[0]] == [first, second] and operations[1] == 2
    assert collect(api, "/Messages/Operations", key="operations", status="PROCESSING")[0] == []
    for bad in ({"sessionId": "x"}, {"tags": "run"}, {"status": "LOST"}, {"channel": "PHONE"},
                {"operationId": "comms_sender_01h9krwprkeee8fzqspvwy6nq8"}):  # fmt: skip
        answer = api.get("/Messages", params=bad)
        assert answer.status_code == 400, bad
        assert answer.json()["errors"][0]["context"] == next(iter(bad))
