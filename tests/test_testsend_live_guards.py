"""Live-mode guards against a real server: a sandbox served over HTTP, addressed as if live.

A witness fault rule (``"*"``, a millisecond of latency) counts on the server every API
request that reaches it, so "refused before any request" is what the server saw.
"""

from __future__ import annotations

import pytest

import commstoolkit as ct
from commstoolkit.sandbox import Sandbox
from commstoolkit.sandbox.server import run_server
from commstoolkit.testsend import ALLOW_ENV, SendRefusedError

TEAM = [f"+1914318{n:04d}" for n in range(8060, 8070)]


@pytest.fixture(scope="module")
def served():
    box = Sandbox(":memory:", seed=5, senders=60)
    box.clock.instant = True
    with run_server(box) as server:
        yield box, server
    box.close()


@pytest.fixture
def live(served, monkeypatch):
    """(client addressed as live at the server, pool id, witness) — witness() counts requests."""
    box, server = served
    monkeypatch.delenv(ALLOW_ENV, raising=False)
    client = ct.CommsClient(
        account_sid=box.account_sid,
        auth_token=box.auth_token,
        base_url=server.base_url,
        live=True,
    )
    pool_id = next(iter(client.sender_pools.list())).id
    box.faults.clear()
    rule = box.faults.add("*", latency=0.001)

    def witness() -> int:
        return next(r.fired for r in box.faults.list() if r.id == rule)

    with client:
        yield client, pool_id, witness
    box.faults.clear()


def _refused(client, pool_id, **kwargs) -> SendRefusedError:
    with pytest.raises(SendRefusedError) as caught:
        ct.testsend.test_send(client, pool_id, text="Guarded", **kwargs)
    return caught.value


def test_the_client_is_live_and_the_witness_sees_requests(live):
    client, pool_id, witness = live
    assert client.live and client.base_url.startswith("http://127.0.0.1:")
    client.sender_pools.get(pool_id)
    assert witness() == 1


def test_over_the_cap_without_confirm_is_refused(live):
    client, pool_id, witness = live
    err = _refused(client, pool_id, to=TEAM[:6], allow=TEAM)
    assert err.reasons == [
        "6 recipients is more than 5 for a live test send: pass confirm=True to send 6 real "
        "messages."
    ]
    assert witness() == 0


def test_a_recipient_not_on_the_allow_list_is_refused_even_confirmed(live):
    client, pool_id, witness = live
    err = _refused(client, pool_id, to=[TEAM[0], "+14155550123"], allow=TEAM[:1], confirm=True)
    assert err.reasons == ["1 recipient is not on the allow-list (allow=): +14155550123."]
    assert witness() == 0


def test_the_environment_allow_list_is_used_and_enforced(live, monkeypatch):
    client, pool_id, witness = live
    monkeypatch.setenv(ALLOW_ENV, ",".join(TEAM[:2]))
    err = _refused(client, pool_id, to=[TEAM[2]])
    assert err.reasons == [f"1 recipient is not on the allow-list ({ALLOW_ENV}): {TEAM[2]}."]
    assert witness() == 0


def test_no_allow_list_at_all_is_refused(live):
    client, pool_id, witness = live
    err = _refused(client, pool_id, to=TEAM[:1])
    assert err.field == "allow" and ALLOW_ENV in err.reasons[0]
    assert witness() == 0


def test_over_max_recipients_is_refused_even_confirmed(live):
    client, pool_id, witness = live
    err = _refused(client, pool_id, to=TEAM[:3], allow=TEAM, max_recipients=2, confirm=True)
    assert err.reasons == [
        "3 recipients is more than max_recipients=2; confirm=True does not lift this limit."
    ]
    assert witness() == 0


def test_a_send_that_passes_the_guards_reaches_the_server(live, tmp_path):
    client, pool_id, witness = live
    run = ct.testsend.test_send(
        client,
        pool_id,
        TEAM[:6],
        "Guarded",
        allow=TEAM,
        confirm=True,
        journal=tmp_path / "live.jsonl",
        timeout=30,
    )
    assert witness() > 0
    assert sorted(run.messages["to"]) == sorted(TEAM[:6])
