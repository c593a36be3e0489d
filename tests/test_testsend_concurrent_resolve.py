"""A test send resolves its recipients' routes 100 at a time (POST /Senders/Resolve, before
anything is sent). Over a network those calls go side by side, as the loaders' pages do
(issue 15): a 10,000-recipient send against Twilio is 100 Resolve calls, 10 s one after the
other at a 100 ms round trip. The routes, the refusals and the errors are those of one call
after the other; only the time differs."""

from __future__ import annotations

import pandas as pd
import pytest

import commstoolkit as ct
from commstoolkit.sandbox import Sandbox
from commstoolkit.sandbox.server import Pacing, run_server
from tests.instant import instant_client

RESOLVE = "/v1/Senders/Resolve"
INVALID = "+15005550001"  # the sandbox's number the API refuses (21614)
NUMBERS = [f"+1914{n:07d}" for n in range(3_000_000, 3_000_950)]  # 10 Resolve calls


@pytest.fixture(scope="module")
def box():
    sandbox = Sandbox(":memory:", seed=4, senders=400)
    client = instant_client(sandbox)
    senders = ct.load_senders(client, status="ACTIVATED")
    ids = list(senders.loc[senders["channel"].isin(["SMS", "RCS"]), "sender_id"].head(60))
    pool = ct.plan_pool(client, ids, name="resolve side by side").apply(progress=False)
    sandbox.pool_id = pool.id  # type: ignore[attr-defined]
    yield sandbox
    sandbox.close()


@pytest.fixture
def served(box):
    """The sandbox over HTTP, every Resolve answer held 80 ms (a network's round trip)."""
    with run_server(box, pacing=Pacing(routes={RESOLVE: 0.08})) as server:
        yield server


def _client(box: Sandbox, server) -> ct.CommsClient:
    return ct.CommsClient(
        account_sid=box.account_sid,
        auth_token=box.auth_token,
        base_url=server.base_url,
        live=False,
    )


def _dry_run(box, server, to, concurrency):
    with _client(box, server) as client:
        return ct.test_send(client, box.pool_id, to, "hello", dry_run=True, concurrency=concurrency)


def test_routes_side_by_side_equal_one_call_after_the_other(box, served):
    one_by_one = _dry_run(box, served, NUMBERS, 1).routes
    assert served.in_flight.peak == 1
    side_by_side = _dry_run(box, served, NUMBERS, None).routes  # the default adapts: 80 ms
    assert served.in_flight.peak > 1
    pd.testing.assert_frame_equal(side_by_side, one_by_one)
    # Every recipient once at rank 1, in the order given.
    first = side_by_side[side_by_side["rank"] == 1]
    assert first["to"].tolist() == NUMBERS
    assert first["sender_id"].notna().all()


def test_a_refused_batch_in_the_middle_is_the_same_error(box, served):
    to = [*NUMBERS[:450], INVALID, *NUMBERS[450:]]  # in the fifth of ten calls
    errors = []
    for concurrency in (1, 4):
        with pytest.raises(ct.InvalidRecipientsError) as caught:
            _dry_run(box, served, to, concurrency)
        errors.append(caught.value)
    assert [e.invalid[0][0] for e in errors] == [INVALID, INVALID]
    assert str(errors[0]) == str(errors[1])
    assert "code 21614" in str(errors[1])


def test_a_send_through_side_by_side_routes_sends_once(box, served):
    before = sum(1 for _ in instant_client(box).messages.list())
    with _client(box, served) as client:
        box.clock.instant = True
        run = ct.test_send(client, box.pool_id, NUMBERS[:250], "hi", concurrency=3)
    assert served.in_flight.peak > 1  # the three Resolve calls, two side by side
    assert len(run.messages) == 250
    assert sum(1 for _ in instant_client(box).messages.list()) == before + 250


@pytest.mark.parametrize("bad", [0, -1, 65, 2.0, True, "4"])
def test_a_bad_concurrency_is_named_before_any_request(box, served, bad):
    with _client(box, served) as client, pytest.raises(ct.InvalidInputError) as caught:
        ct.test_send(client, box.pool_id, NUMBERS[:5], "x", dry_run=True, concurrency=bad)
    assert "concurrency" in str(caught.value) and "1 to 64" in str(caught.value)
    assert served.in_flight.peak == 0
