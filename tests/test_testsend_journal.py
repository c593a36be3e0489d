"""Journal mechanics and exactly-once sending, against a small fake of the Messages API.

The fake stores the messages each POST creates and can fail a POST before or after
storing it; crashes are simulated by stopping the process' work at any journal line.
Real-process crashes (SIGKILL) against the sandbox are in ``test_testsend_crash``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from itertools import count

import httpx
import pytest

import commstoolkit as ct
from commstoolkit.testsend import Journal, SendIncompleteError, TestSend, sending
from commstoolkit.testsend.journal import replay

POOL_ID = "comms_senderpool_01h9krwprkeee8fzqspvwy6nq8"
TOKEN = "tok_SECRET_never_in_a_journal"
NUMBERS = [f"+1415555{n:04d}" for n in range(100, 105)]
WHEN = "2024-04-05T06:20:00Z"


class FakeComms:
    """Messages, operations and pools; ``faults`` are consumed one per POST /Messages:
    "drop_before" (nothing stored, no answer), "drop_after" (stored, no answer),
    "error_after" (stored, answered 500), "refuse" (400, nothing stored)."""

    def __init__(self, *faults: str) -> None:
        self.faults = list(faults)
        self.messages: list[dict] = []
        self.operations: dict[str, list[dict]] = {}
        self.posts: list[dict] = []
        self.requests: list[httpx.Request] = []
        self.status = "COMPLETED"
        self._ids = count()

    def client(self, **kwargs) -> ct.CommsClient:
        kwargs.setdefault("live", False)
        return ct.CommsClient(
            account_sid="AC1",
            auth_token=TOKEN,
            transport=httpx.MockTransport(self),
            sleep=lambda seconds: None,
            **kwargs,
        )

    def per_recipient(self) -> Counter:
        return Counter(m["to"][0]["address"] for m in self.messages)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path.removeprefix("/v1")
        if request.method == "POST" and path == "/Messages":
            return self._send(request)
        if request.method == "POST" and path == "/Senders/Resolve":
            return self._resolve(request)  # a send resolves first: every recipient routed
        if path == "/Messages":
            return self._list(request)
        if path.startswith("/Messages/Operations/"):
            return self._operation(path.rsplit("/", 1)[1])
        if path.startswith("/Messages/"):
            found = next(m for m in self.messages if m["id"] == path.rsplit("/", 1)[1])
            return httpx.Response(200, json={**found, "attempts": [self._attempt(found)]})
        if path == f"/SenderPools/{POOL_ID}":
            pool = {"id": POOL_ID, "name": "Test", "tags": {}, "createdAt": WHEN, "updatedAt": WHEN}
            return httpx.Response(200, json=pool)
        return httpx.Response(404, json={"errors": [{"code": 20404, "message": "Not found"}]})

    def _send(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.posts.append(body)
        fault = self.faults.pop(0) if self.faults else "ok"
        if fault == "drop_before":
            raise httpx.RemoteProtocolError("Server disconnected", request=request)
        if fault == "refuse":
            error = {"code": 21614, "message": "Invalid phone", "context": "$.to[0].address"}
            return httpx.Response(400, json={"errors": [error]})
        op_id = f"comms_operation_0{next(self._ids):025d}"
        self.operations[op_id] = []
        for recipient in body["to"]:
            message = {
                "id": f"comms_message_0{next(self._ids):025d}",
                "from": {"address": "+12065550100", "channel": "SMS", "senderId": None},
                "to": [recipient],
                "status": "DELIVERED",
                "related": [{"name": "OPERATION", "id": op_id, "uri": "https://x.test/op"}],
                "tags": body.get("tags", {}),
                "scheduledFor": None,
                "createdAt": WHEN,
                "updatedAt": "2024-04-05T06:20:03Z",
                "deletedAt": None,
            }
            self.messages.append(message)
            self.operations[op_id].append(message)
        if fault == "drop_after":
            raise httpx.RemoteProtocolError("Server disconnected", request=request)
        if fault == "error_after":
            return httpx.Response(500, json={"errors": [{"code": 20500, "message": "Oops"}]})
        return httpx.Response(202, json={"operationId": op_id, "operationLocation": "https://x/o"})

    @staticmethod
    def _resolve(request: httpx.Request) -> httpx.Response:
        sender = {
            "senderId": "comms_sender_01h9krwprkeee8fzqspvwy6nq8",
            "displayName": "Test",
            "address": "+12065550100",
            "channel": "SMS",
        }
        recipients = json.loads(request.content)["recipientAddresses"]
        results = [{"from": sender, "to": to, "priority": 0} for to in recipients]
        return httpx.Response(200, json={"results": results})

    def _list(self, request: httpx.Request) -> httpx.Response:
        text = request.url.params.get("tags", "")
        wanted = [pair.split(":", 1) for pair in text.split(";") if pair]
        found = [m for m in self.messages if all(m["tags"].get(k) == v for k, v in wanted)]
        return httpx.Response(200, json={"messages": found, "pagination": {"next": None}})

    def _operation(self, op_id: str) -> httpx.Response:
        total = len(self.operations[op_id])
        stats = {"total": total, "recipients": total, "attempts": total, "delivered": total}
        op = {"id": op_id, "status": self.status, "stats": stats}
        return httpx.Response(200, json={**op, "createdAt": WHEN, "updatedAt": WHEN})

    @staticmethod
    def _attempt(message: dict) -> dict:
        return {
            "from": {"address": "+12065550100", "channel": "SMS", "senderId": None},
            "to": message["to"],
            "status": message["status"],
            "attemptedAt": WHEN,
            "infoUrl": "https://x.test/log",
            "error": None,
        }


def _events(path) -> list[str]:
    return [json.loads(line)["event"] for line in path.read_text().splitlines()]


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 2 recipients, so 5 recipients make 3 sends."""
    monkeypatch.setattr(sending, "CHUNK_SIZE", 2)


# -- the journal file --------------------------------------------------------------------


def test_each_event_is_one_json_line_made_durable_before_append_returns(tmp_path, monkeypatch):
    synced = []
    monkeypatch.setattr("os.fsync", synced.append)
    path = tmp_path / "run.jsonl"
    journal = Journal.create(path)
    journal.append("planned", run_id="r")
    assert json.loads(path.read_text())["event"] == "planned"  # readable by anyone, already
    journal.append("sending", chunk=1, recipients=["+1"])
    assert len(synced) == 2
    assert [e["event"] for e in journal.events()] == ["planned", "sending"]
    journal.close()
    assert _events(path) == ["planned", "sending"]


def test_a_used_journal_is_not_overwritten_and_a_missing_one_not_resumed(tmp_path):
    path = tmp_path / "run.jsonl"
    Journal.create(path).append("planned", run_id="r")
    with pytest.raises(ct.InvalidInputError, match="already holds a test send"):
        Journal.create(path)
    with pytest.raises(ct.InvalidInputError, match="no journal file"):
        Journal.open(tmp_path / "missing.jsonl")


def test_one_process_at_a_time_works_on_a_journal(tmp_path):
    path = tmp_path / "run.jsonl"
    first = Journal.create(path)
    with pytest.raises(ct.InvalidInputError, match="in use by another process"):
        Journal.open(path)
    first.close()
    Journal.open(path).close()


def test_a_line_torn_by_a_crash_is_skipped_and_the_next_event_stands_alone(tmp_path):
    path = tmp_path / "run.jsonl"
    path.write_text('{"event":"planned"}\n{"event":"sen')
    journal = Journal.open(path)
    journal.append("resumed")
    journal.close()
    assert [e["event"] for e in Journal.open(path).events()] == ["planned", "resumed"]


# -- sending -----------------------------------------------------------------------------


def test_a_send_is_journaled_tagged_and_holds_no_secret(tmp_path):
    api = FakeComms()
    path = tmp_path / "run.jsonl"
    run = ct.testsend.test_send(api.client(), POOL_ID, NUMBERS, "Hello", journal=path)
    (post,) = api.posts
    assert post["tags"] == {"ct_run": run.run_id, "ct_chunk": "1"}
    assert post["from"] == {"senderPoolId": POOL_ID}
    assert [r["address"] for r in post["to"]] == NUMBERS
    assert _events(path) == ["planned", "sending", "sent", "completed"]
    assert TOKEN not in path.read_text() and "AC1" not in path.read_text()
    assert run.done and [op.status for op in run.operations] == ["COMPLETED"]
    assert run.messages["to"].tolist() == NUMBERS
    assert run.journal.path == path


def test_more_than_a_chunk_is_sent_in_several_tagged_requests(small_chunks):
    api = FakeComms()
    run = ct.testsend.test_send(api.client(), POOL_ID, NUMBERS, "Hello")
    assert [len(p["to"]) for p in api.posts] == [2, 2, 1]
    assert [p["tags"]["ct_chunk"] for p in api.posts] == ["1", "2", "3"]
    assert {p["tags"]["ct_run"] for p in api.posts} == {run.run_id}
    assert len(run.operations) == 3
    assert api.per_recipient() == Counter(dict.fromkeys(NUMBERS, 1))
    assert run.journal.path is None  # the sandbox keeps it in memory by default


@pytest.mark.parametrize("fault", ["drop_after", "error_after"])
def test_a_send_applied_without_an_answer_is_found_by_tag_not_resent(fault, small_chunks):
    api = FakeComms(fault)
    run = ct.testsend.test_send(api.client(), POOL_ID, NUMBERS, "Hello")
    assert len(api.posts) == 3  # no re-send of the first chunk
    assert api.per_recipient() == Counter(dict.fromkeys(NUMBERS, 1))
    assert len(run.operations) == 3  # chunk 1's operation found from its messages
    kinds = [e["event"] for e in run.journal.events()]
    assert kinds[:5] == ["planned", "sending", "unknown", "reconciled", "sending"]
    reconciled = next(e for e in run.journal.events() if e["event"] == "reconciled")
    assert (reconciled["found"], reconciled["missing"]) == (sorted(NUMBERS[:2]), [])


def test_a_send_lost_before_the_server_is_looked_up_then_sent_once():
    api = FakeComms("drop_before")
    run = ct.testsend.test_send(api.client(), POOL_ID, NUMBERS, "Hello")
    assert len(api.posts) == 2
    assert api.per_recipient() == Counter(dict.fromkeys(NUMBERS, 1))
    assert len(run.operations) == 1


def test_no_answer_three_times_stops_and_says_how_to_resume():
    api = FakeComms("drop_before", "drop_before", "drop_before")
    with pytest.raises(SendIncompleteError) as caught:
        ct.testsend.test_send(api.client(), POOL_ID, NUMBERS, "Hello")
    assert len(api.posts) == 3 and api.messages == []
    assert "TestSend.resume" in str(caught.value) and caught.value.chunk == 1
    resumed = TestSend.resume(api.client(), caught.value.test_send.journal)
    assert api.per_recipient() == Counter(dict.fromkeys(NUMBERS, 1))
    assert resumed.run_id == caught.value.test_send.run_id


def test_a_refused_chunk_stops_the_send_and_resume_sends_only_the_rest(small_chunks, tmp_path):
    api = FakeComms("ok", "refuse")
    path = tmp_path / "run.jsonl"
    with pytest.raises(SendIncompleteError) as caught:
        ct.testsend.test_send(api.client(), POOL_ID, NUMBERS, "Hello", journal=path)
    err = caught.value
    assert isinstance(err.cause, ct.BadRequestError) and err.chunk == 2
    assert "2 of 5 recipients have a message" in str(err)
    assert "(at $.to[0].address) [POST /v1/Messages]" in str(err)
    assert f"— recipient {NUMBERS[2]}." in str(err)  # the first of chunk 2
    assert len(err.test_send.operations) == 1
    resumed = TestSend.resume(api.client(), path)
    assert [len(p["to"]) for p in api.posts] == [2, 2, 2, 1]
    assert api.per_recipient() == Counter(dict.fromkeys(NUMBERS, 1))
    assert len(resumed.operations) == 3
    assert _events(path)[-6:] == ["resumed", "sending", "sent", "sending", "sent", "completed"]


class Crash(BaseException):
    """Stands for the process dying: nothing in the library catches it."""


def _crash_at(monkeypatch, event: str, occurrence: int, *, written: bool) -> None:
    """Die at the ``occurrence``-th ``event``, just before or just after it is written."""
    original = Journal.append
    seen = Counter()

    def append(self, kind, **fields):
        seen[kind] += 1
        hit = kind == event and seen[kind] == occurrence
        if hit and not written:
            raise Crash(f"before {kind} #{occurrence}")
        record = original(self, kind, **fields)
        if hit:
            raise Crash(f"after {kind} #{occurrence}")
        return record

    monkeypatch.setattr(Journal, "append", append)


def _crash_points() -> Iterator[tuple[str, int, bool]]:
    for event, times in (("sending", 3), ("sent", 3), ("completed", 1)):
        for occurrence in range(1, times + 1):
            for written in (False, True):
                yield event, occurrence, written


@pytest.mark.parametrize(("event", "occurrence", "written"), list(_crash_points()))
def test_a_crash_at_any_step_then_resume_sends_each_recipient_once(
    event, occurrence, written, small_chunks, tmp_path, monkeypatch
):
    api = FakeComms()
    path = tmp_path / "run.jsonl"
    with monkeypatch.context() as patch:
        _crash_at(patch, event, occurrence, written=written)
        with pytest.raises(Crash):
            ct.testsend.test_send(api.client(), POOL_ID, NUMBERS, "Hello", journal=path)
    resumed = TestSend.resume(api.client(), path)
    assert api.per_recipient() == Counter(dict.fromkeys(NUMBERS, 1))
    assert len(api.posts) == 3  # a POST that left is never made again
    assert resumed.done and len(resumed.operations) == 3
    journal = Journal.open(path)
    state = replay(journal.events())
    journal.close()
    assert state.completed and all(chunk.done for chunk in state.chunks)
    finished = event == "completed" and written
    assert _events(path).count("resumed") == (0 if finished else 1)


def test_a_crash_before_the_plan_leaves_nothing_to_resume(tmp_path, monkeypatch):
    api = FakeComms()
    path = tmp_path / "run.jsonl"
    _crash_at(monkeypatch, "planned", 1, written=False)
    with pytest.raises(Crash):
        ct.testsend.test_send(api.client(), POOL_ID, NUMBERS, "Hello", journal=path)
    monkeypatch.undo()
    assert api.posts == []
    with pytest.raises(ct.InvalidInputError, match="does not start with a planned test send"):
        TestSend.resume(api.client(), path)


def test_resuming_a_finished_send_sends_nothing(tmp_path):
    api = FakeComms()
    path = tmp_path / "run.jsonl"
    ct.testsend.test_send(api.client(), POOL_ID, NUMBERS, "Hello", journal=path)
    TestSend.resume(api.client(), path)
    assert len(api.posts) == 1 and "resumed" not in _events(path)


def test_a_journal_is_resumed_only_against_the_api_it_was_sent_to(tmp_path):
    api = FakeComms("refuse")
    path = tmp_path / "run.jsonl"
    with pytest.raises(SendIncompleteError):
        ct.testsend.test_send(api.client(), POOL_ID, NUMBERS, "Hello", journal=path)
    elsewhere = api.client(base_url="https://comms.example.test/v1")
    with pytest.raises(ct.InvalidInputError, match="resume it with a client for the same API"):
        TestSend.resume(elsewhere, path)
    with pytest.raises(ct.InvalidInputError, match="sandbox"):
        TestSend.resume(api.client(live=True), path)
    assert len(api.posts) == 1


def test_live_sends_keep_a_journal_file_by_default(tmp_path, monkeypatch):
    monkeypatch.setenv("COMMSTOOLKIT_JOURNAL_DIR", str(tmp_path / "journals"))
    api = FakeComms()
    run = ct.testsend.test_send(api.client(live=True), POOL_ID, NUMBERS[:2], "Hello", allow=NUMBERS)
    assert run.journal.path == tmp_path / "journals" / f"{run.run_id}.jsonl"
    assert _events(run.journal.path)[-1] == "completed"


def test_waiting_too_long_warns_and_returns_the_send():
    api = FakeComms()
    api.status = "PROCESSING"
    with pytest.warns(UserWarning, match=r"still running after 0.2s; call .wait\(\) again"):
        run = ct.testsend.test_send(api.client(), POOL_ID, NUMBERS, "Hello", timeout=0.2)
    assert not run.done and run.operations[0].status == "PROCESSING"
    api.status = "COMPLETED"
    assert run.wait(progress=False).done
