"""The sandbox server under bounded concurrent load on loopback loses no write.

8 client threads x 500 mixed requests (list senders, create pools, add and remove members,
send messages, poll operations) against one ``run_server`` on 127.0.0.1. Each thread keeps
what it expects (its pools' members, the recipients of each send); afterwards the server's
stored pools, memberships, operations and messages, and every operation's stats, must agree
with it, and no request may have been answered 5xx. Bounded: a fixed number of requests,
a 60-second cap on the whole run.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from commstoolkit.sandbox import Sandbox
from commstoolkit.sandbox.server import RunningServer, run_server

THREADS = 8
REQUESTS = 500
DEADLINE = 60.0
NUMBERS = [f"+1914318{n:04d}" for n in range(8000, 8100)]


@dataclass
class Worker:
    """One client thread's requests and what it expects the server to hold afterwards."""

    index: int
    senders: list[str]
    pools: dict[str, set[str]] = field(default_factory=dict)  # pool id -> members
    pool_names: list[str] = field(default_factory=list)
    pool_operations: list[str] = field(default_factory=list)
    sends: dict[str, int] = field(default_factory=dict)  # message operation -> recipients
    statuses: Counter = field(default_factory=Counter)
    requests: int = 0
    error: BaseException | None = None

    def run(self, base_url: str, auth: tuple[str, str], stop_at: float) -> None:
        rng = random.Random(self.index)
        try:
            with httpx.Client(base_url=base_url, auth=auth, timeout=30) as client:
                self._create(client, rng)
                while self.requests < REQUESTS and time.monotonic() < stop_at:
                    action = rng.choice(
                        ["list", "list", "create", "add", "add", "remove", "send", "send", "poll"]
                    )
                    getattr(self, f"_{action}")(client, rng)
        except BaseException as exc:  # reported by the test, in the main thread
            self.error = exc

    def _call(self, client: httpx.Client, method: str, path: str, **kwargs) -> httpx.Response:
        answer = client.request(method, path, **kwargs)
        self.requests += 1
        self.statuses[answer.status_code] += 1
        assert answer.status_code < 500, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer

    def _list(self, client: httpx.Client, rng: random.Random) -> None:
        answer = self._call(client, "GET", "/Senders", params={"pageSize": rng.randint(1, 100)})
        assert answer.status_code == 200

    def _create(self, client: httpx.Client, rng: random.Random) -> None:
        name = f"load-{self.index}-{len(self.pool_names)}"
        members = set(rng.sample(self.senders, 2))
        answer = self._call(
            client,
            "POST",
            "/SenderPools",
            json={"name": name, "senders": [{"senderId": s} for s in sorted(members)]},
        )
        assert answer.status_code == 202
        operation = answer.json()["operationId"]
        self.pool_names.append(name)
        self.pool_operations.append(operation)
        found = self._call(client, "GET", "/SenderPools", params={"operationId": operation})
        (pool,) = found.json()["senderPools"]  # the clock is instant: the pool exists
        self.pools[pool["id"]] = members

    def _add(self, client: httpx.Client, rng: random.Random) -> None:
        pool = rng.choice(sorted(self.pools))
        sender = rng.choice(self.senders)
        answer = self._call(
            client, "POST", f"/SenderPools/{pool}/Senders", json=[{"senderId": sender}]
        )
        assert answer.status_code == 202
        self.pool_operations.append(answer.json()["operationId"])
        self.pools[pool].add(sender)

    def _remove(self, client: httpx.Client, rng: random.Random) -> None:
        pool = rng.choice(sorted(self.pools))
        if not self.pools[pool]:
            return self._add(client, rng)
        sender = rng.choice(sorted(self.pools[pool]))
        answer = self._call(client, "DELETE", f"/SenderPools/{pool}/Senders/{sender}")
        assert answer.status_code == 202, answer.text
        self.pools[pool].discard(sender)
        return None

    def _send(self, client: httpx.Client, rng: random.Random) -> None:
        pool = rng.choice(sorted(self.pools))
        to = rng.sample(NUMBERS, rng.randint(1, 3))
        answer = self._call(
            client,
            "POST",
            "/Messages",
            json={
                "to": [{"address": n, "channel": "PHONE"} for n in to],
                "content": {"text": f"load {self.index}"},
                "from": {"senderPoolId": pool},
                "tags": {"worker": str(self.index)},
            },
        )
        assert answer.status_code == 202, answer.text
        self.sends[answer.json()["operationId"]] = len(to)

    def _poll(self, client: httpx.Client, rng: random.Random) -> None:
        if self.sends and rng.random() < 0.5:
            operation = rng.choice(sorted(self.sends))
            answer = self._call(client, "GET", f"/Messages/Operations/{operation}")
        else:
            operation = rng.choice(self.pool_operations)
            answer = self._call(client, "GET", f"/SenderPools/Operations/{operation}")
        assert answer.status_code == 200


@pytest.fixture(scope="module")
def loaded() -> Iterator[tuple[Sandbox, RunningServer]]:
    with Sandbox(":memory:", seed=21, senders=200) as box:
        box.clock.instant = True
        with run_server(box) as server:
            yield box, server


def _all(client: httpx.Client, path: str, key: str, **params) -> list[dict]:
    items, token = [], None
    while True:
        query = {**params, "pageSize": 1000, **({"pageToken": token} if token else {})}
        page = client.get(path, params=query).json()
        items += page[key]
        token = page["pagination"]["next"]
        if token is None:
            return items


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_concurrent_load_loses_no_write(loaded):
    box, server = loaded
    auth = box.credentials()
    before = box.state()
    with httpx.Client(base_url=server.base_url, auth=auth, timeout=30) as client:
        senders = [s["id"] for s in _all(client, "/Senders", "senders", status="ACTIVATED")]
    workers = [Worker(i, senders) for i in range(THREADS)]
    started = time.monotonic()
    threads = [
        threading.Thread(target=w.run, args=(server.base_url, auth, started + DEADLINE))
        for w in workers
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DEADLINE + 30)
    elapsed = time.monotonic() - started
    for worker in workers:
        if worker.error is not None:
            raise worker.error
    assert elapsed < DEADLINE
    assert sum(w.requests for w in workers) >= THREADS * REQUESTS

    after = box.state()
    pool_operations = sum(len(w.pool_operations) for w in workers)
    sent = sum(n for w in workers for n in w.sends.values())
    assert after["pools"] == before["pools"] + sum(len(w.pools) for w in workers)
    assert after["operations"] == before["operations"] + pool_operations
    assert after["processing"] == 0
    assert after["messageOperations"] == before["messageOperations"] + sum(
        len(w.sends) for w in workers
    )
    assert after["messages"] == before["messages"] + sent
    with httpx.Client(base_url=server.base_url, auth=auth, timeout=30) as client:
        for worker in workers:
            for pool, members in worker.pools.items():
                stored = {s["id"] for s in _all(client, f"/SenderPools/{pool}/Senders", "senders")}
                assert stored == members, f"pool {pool} of worker {worker.index}"
            mine = _all(client, "/Messages", "messages", tags=f"worker:{worker.index};")
            assert len(mine) == sum(worker.sends.values())
            for operation, recipients in list(worker.sends.items())[:25]:
                fetched = client.get(f"/Messages/Operations/{operation}").json()
                assert fetched["stats"]["total"] == recipients
                stored = _all(client, "/Messages", "messages", operationId=operation)
                assert len(stored) == recipients
            for operation in worker.pool_operations[:25]:
                fetched = client.get(f"/SenderPools/Operations/{operation}").json()
                assert fetched["status"] == "COMPLETED"
                assert fetched["stats"]["failed"] == 0
    print(f"\n{THREADS} threads x {REQUESTS} requests in {elapsed:.1f}s")
