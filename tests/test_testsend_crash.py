"""A test send killed for real (SIGKILL, from this process) at a chosen step, then resumed.

The send runs in a subprocess on a file-backed sandbox shared with the test. The
subprocess stops at the chosen journal line (just before it is written, or just after),
says so on stdout, and waits to be killed; the test kills it with SIGKILL, resumes from
the journal and checks that every recipient has exactly one message.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter

import pytest

import commstoolkit as ct
from commstoolkit.sandbox import Sandbox
from commstoolkit.testsend import TestSend

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")

SCRIPT = r"""
import json, sys, time
import commstoolkit as ct
from commstoolkit.testsend import Journal, sending

db, journal, pool_id, event, occurrence, moment, chunk_size, recipients = sys.argv[1:]
sending.CHUNK_SIZE = int(chunk_size)
original = Journal.append
seen = {}

def pause():
    print(f"paused {moment} {event} #{occurrence}", flush=True)
    time.sleep(120)  # killed here

def append(self, kind, **fields):
    seen[kind] = seen.get(kind, 0) + 1
    hit = kind == event and seen[kind] == int(occurrence)
    if hit and moment == "before":
        pause()
    record = original(self, kind, **fields)
    if hit and moment == "after":
        pause()
    return record

Journal.append = append
client = ct.connect(sandbox=True, db=db, quiet=True)
ct.testsend.test_send(client, pool_id, json.loads(recipients), "Crash test", journal=journal)
print("finished", flush=True)
"""


@pytest.fixture
def shared(tmp_path):
    """(sandbox on a file, client on it, pool id): the subprocess opens the same file."""
    box = Sandbox(tmp_path / "sandbox.sqlite3", seed=5, senders=80)
    box.clock.instant = True
    client = ct.CommsClient(
        account_sid=box.account_sid,
        auth_token=box.auth_token,
        base_url=box.base_url,
        transport=box.transport(),
        live=False,
    )
    senders = ct.load_senders(client, status="ACTIVATED")
    ids = [
        sender_id
        for channel in ("SMS", "RCS", "WHATSAPP")
        for sender_id in senders.loc[senders["channel"] == channel, "sender_id"].head(2)
    ]
    pool = ct.create_pool(client, "crash-test", ids)
    yield box, client, pool.id
    client.close()
    box.close()


def _kill_at(shared, journal, recipients, event, occurrence, moment, chunk_size):
    box, client, pool_id = shared
    args = [str(box.db_path), str(journal), pool_id, event, str(occurrence), moment]
    args += [str(chunk_size), json.dumps(recipients)]
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("paused"), f"{line!r} {proc.stderr.read() if proc.poll() else ''}"
        with pytest.raises(ct.InvalidInputError, match="in use by another process"):
            TestSend.resume(client, journal)  # the live process still holds the journal
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
        proc.stderr.close()


def _messages_per_recipient(client, run_id) -> Counter:
    return Counter(m.to_address for m in client.messages.list(tags={"ct_run": run_id}))


def _run_id(journal) -> str:
    return json.loads(journal.read_text().splitlines()[0])["run_id"]


RECIPIENTS = [f"+1914318{n:04d}" for n in range(8100, 8108)]


@pytest.mark.parametrize(
    ("event", "moment", "posted"),
    [
        ("sent", "before", True),  # the POST was applied; its answer never reached the journal
        ("completed", "after", True),  # everything sent and journaled; nothing tracked yet
        ("sending", "after", False),  # the intent is journaled; the POST never left
    ],
)
def test_killed_around_a_single_send_then_resumed(shared, tmp_path, event, moment, posted):
    _, client, _ = shared
    journal = tmp_path / "send.jsonl"
    _kill_at(shared, journal, RECIPIENTS, event, 1, moment, chunk_size=10_000)
    run_id = _run_id(journal)
    before = _messages_per_recipient(client, run_id)
    assert sum(before.values()) == (len(RECIPIENTS) if posted else 0)
    run = TestSend.resume(client, journal)
    assert _messages_per_recipient(client, run_id) == Counter(dict.fromkeys(RECIPIENTS, 1))
    assert run.run_id == run_id and run.done
    assert len(run.operations) == 1 and len(run.messages) == len(RECIPIENTS)


@pytest.mark.parametrize(
    ("event", "occurrence", "moment", "already"),
    [
        ("sent", 1, "after", 3),  # chunk 1 sent and journaled, chunk 2 not started
        ("sent", 2, "before", 6),  # chunk 2 applied, not journaled
        ("sending", 3, "after", 6),  # chunk 3 about to leave
    ],
)
def test_killed_in_a_multi_chunk_send_then_resumed(
    shared, tmp_path, event, occurrence, moment, already
):
    _, client, _ = shared
    journal = tmp_path / "send.jsonl"
    _kill_at(shared, journal, RECIPIENTS, event, occurrence, moment, chunk_size=3)
    run_id = _run_id(journal)
    assert sum(_messages_per_recipient(client, run_id).values()) == already
    run = TestSend.resume(client, journal)
    assert _messages_per_recipient(client, run_id) == Counter(dict.fromkeys(RECIPIENTS, 1))
    assert len(run.operations) == 3 and run.done
    events = [json.loads(line)["event"] for line in journal.read_text().splitlines()]
    assert events.count("resumed") == 1 and events[-1] == "completed"
    # a second resume has nothing left to do
    TestSend.resume(client, journal, wait=False)
    assert _messages_per_recipient(client, run_id) == Counter(dict.fromkeys(RECIPIENTS, 1))
