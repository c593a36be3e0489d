"""Pool plans and their application, against the in-process sandbox, counting every request."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import httpx
import pandas as pd
import pytest

import commstoolkit as ct
from commstoolkit.client import CommsClient
from commstoolkit.pools import (
    PoolApplyError,
    PoolPlanWarning,
    create_pool,
    delete_pool,
    plan_pool,
    pool_report,
    select_senders,
)
from commstoolkit.sandbox import Sandbox

_IDS = [
    (re.compile(r"comms_senderpool_[0-9a-z]+"), "{senderPoolId}"),
    (re.compile(r"comms_sender_[0-9a-z]+"), "{senderId}"),
    (re.compile(r"comms_operation_[0-9a-z]+"), "{operationId}"),
]
ADD = "POST /SenderPools/{senderPoolId}/Senders"
REMOVE = "DELETE /SenderPools/{senderPoolId}/Senders/{senderId}"
UNKNOWN_ID = "comms_sender_01h9krwprkeee8fzqspvwy6nq8"


class CountingTransport(httpx.BaseTransport):
    """The sandbox's transport, recording each request as (route template, JSON body)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.seen: list[tuple[str, str, object]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = route = request.url.path.removeprefix("/v1")
        for pattern, template in _IDS:
            route = pattern.sub(template, route)
        body = json.loads(request.content) if request.content else None
        self.seen.append((f"{request.method} {route}", path, body))
        return self.inner.handle_request(request)

    def routes(self) -> list[str]:
        return [route for route, _, _ in self.seen]

    def writes(self) -> list[tuple[str, object]]:
        return [(route, body) for route, _, body in self.seen if not route.startswith("GET ")]

    def deleted(self) -> list[str]:
        """The last path segment of every DELETE (the sender or pool removed)."""
        return [path.rsplit("/", 1)[1] for route, path, _ in self.seen if route[:6] == "DELETE"]


@dataclass
class Account:
    client: CommsClient
    sandbox: Sandbox
    calls: CountingTransport
    senders: pd.DataFrame

    def pool_id(self, name: str) -> str:
        return next(p.id for p in self.client.sender_pools.list() if p.name == name)

    def members(self, pool_id: str) -> set[str]:
        return {s.id for s in self.client.sender_pools.members.list(pool_id)}


def _account(senders: int, seed: int) -> Account:
    sandbox = Sandbox(":memory:", seed=seed, senders=senders)
    sandbox.clock.instant = True
    calls = CountingTransport(sandbox.transport())
    account_sid, auth_token = sandbox.credentials()
    client = CommsClient(
        account_sid=account_sid,
        auth_token=auth_token,
        base_url=sandbox.base_url,
        transport=calls,
        live=False,
    )
    client.sandbox = sandbox
    inventory = ct.load_senders(client, progress=False)
    calls.seen.clear()
    return Account(client, sandbox, calls, inventory)


@pytest.fixture
def account():
    """A fresh seeded account of 300 senders (with three overlapping pools)."""
    acct = _account(senders=300, seed=7)
    yield acct
    acct.client.close()
    acct.sandbox.close()


@pytest.fixture(scope="module")
def big():
    """An account of 25,000 senders, shared by the tests that need large pools."""
    acct = _account(senders=25_000, seed=1)
    yield acct
    acct.client.close()
    acct.sandbox.close()


def _ids(frame: pd.DataFrame) -> list[str]:
    return list(frame["sender_id"])


def _pick(account: Account, n: int, **filters) -> list[str]:
    return _ids(select_senders(account.senders, **filters))[:n]


# --- large pools ------------------------------------------------------------------------


@pytest.mark.slow
def test_25000_senders_take_one_create_two_adds_and_are_verified(big):
    ids = _ids(big.senders)[:25_000]
    plan = plan_pool(big.client, ids, name="big-25k", inventory=big.senders)
    assert plan.requests == [
        "POST /SenderPools name='big-25k' with 10,000 senders",
        "POST /SenderPools/{new pool}/Senders with 10,000 senders",
        "POST /SenderPools/{new pool}/Senders with 5,000 senders",
    ]
    assert any("1 create + 2 adds" in w for w in plan.warnings)

    pool = plan.apply(progress=False)

    writes = big.calls.writes()
    assert [route for route, _ in writes] == ["POST /SenderPools", ADD, ADD]
    sent = writes[0][1]["senders"] + writes[1][1] + writes[2][1]
    assert [s["senderId"] for s in sent] == ids
    # After the last write, apply() lists the members (25 pages of 1,000) to verify them.
    routes = big.calls.routes()
    last_write = max(i for i, route in enumerate(routes) if not route.startswith("GET"))
    assert routes[last_write + 1 :].count("GET /SenderPools/{senderPoolId}/Senders") == 25
    assert plan.pool_id == pool.id
    assert big.members(pool.id) == set(ids)


@pytest.mark.slow
def test_a_failure_mid_apply_says_what_was_applied_and_a_rerun_finishes(big):
    ids = _ids(big.senders)[:25_000]
    plan = plan_pool(big.client, ids, name="big-faulty", inventory=big.senders)
    rule = big.sandbox.faults.add("POST /SenderPools/{senderPoolId}/Senders", status=500)

    with pytest.raises(PoolApplyError) as caught:
        plan.apply(progress=False)

    error = caught.value
    assert error.pool_id is not None and error.pool_id == plan.pool_id
    assert error.applied == ["POST /SenderPools name='big-faulty' with 10,000 senders"]
    assert error.pending == [
        f"POST /SenderPools/{error.pool_id}/Senders with 10,000 senders",
        f"POST /SenderPools/{error.pool_id}/Senders with 5,000 senders",
    ]
    assert isinstance(error.cause, ct.ServerError)
    message = str(error)
    assert "Applied (1): POST /SenderPools name='big-faulty'" in message
    assert "Not applied (2)" in message and "500" in message
    assert "plan.apply() again" in message
    assert len(big.members(error.pool_id)) == 10_000

    big.sandbox.faults.remove(rule)
    big.calls.seen.clear()
    pool = plan.apply(progress=False)

    assert pool.id == error.pool_id
    assert [route for route, _ in big.calls.writes()] == [ADD, ADD]
    assert big.members(pool.id) == set(ids)


# --- editing an existing pool -----------------------------------------------------------


def test_an_edit_removes_and_adds_exactly_the_difference(account):
    pool_id = account.pool_id("Ops Alerts - Global")
    current = sorted(account.members(pool_id))
    dropped = current[:4]
    added = [i for i in _pick(account, 50, statuses="ACTIVATED") if i not in current][:3]
    target = [i for i in current if i not in dropped] + added

    plan = plan_pool(account.client, target, pool_id=pool_id, inventory=account.senders)
    assert _ids(plan.to_add) == added
    assert sorted(_ids(plan.to_remove)) == dropped
    assert plan.unchanged == len(current) - 4
    plan.apply(progress=False)

    writes = account.calls.writes()
    assert writes[0] == (ADD, [{"senderId": i} for i in added])
    assert [route for route, _ in writes[1:]] == [REMOVE] * 4
    assert sorted(account.calls.deleted()) == dropped
    assert account.members(pool_id) == set(target)


def test_rename_and_new_tags_are_one_patch_and_the_pool_reflects_them(account):
    pool_id = account.pool_id("Ops Alerts - Global")
    members = sorted(account.members(pool_id))
    plan = plan_pool(
        account.client, members, pool_id=pool_id, name="Ops Alerts", tags={"team": "ops"}
    )
    assert plan.to_add.empty and plan.to_remove.empty
    assert plan.requests == [
        f"PATCH /SenderPools/{pool_id} name='Ops Alerts' tags={{'team': 'ops'}}"
    ]

    pool = plan.apply(progress=False)

    assert [route for route, _ in account.calls.writes()] == ["PATCH /SenderPools/{senderPoolId}"]
    assert (pool.name, pool.tags) == ("Ops Alerts", {"team": "ops"})


def test_applying_the_same_plan_twice_changes_nothing_the_second_time(account):
    chosen = select_senders(account.senders, channels=["SMS", "RCS"], statuses="ACTIVATED")
    ids = _ids(chosen)
    plan = plan_pool(account.client, chosen, name="twice", tags={"purpose": "test"})
    first = plan.apply()  # with its progress bar
    account.calls.seen.clear()

    second = plan.apply(progress=False)

    assert second.id == first.id
    assert account.calls.writes() == []
    assert [p.name for p in account.client.sender_pools.list()].count("twice") == 1
    assert account.members(first.id) == set(ids)
    replanned = plan_pool(account.client, ids, pool_id=first.id, tags={"purpose": "test"})
    assert replanned.requests == []


def test_the_plan_reads_but_never_writes(account):
    pool_id = account.pool_id("Customer Support - NAMER")
    before = account.members(pool_id)
    plan_pool(account.client, _pick(account, 10), pool_id=pool_id, name="renamed")
    assert account.calls.writes() == []
    assert account.members(pool_id) == before


def test_an_operation_reporting_failed_senders_stops_the_apply(account):
    # An inventory that wrongly lists an id the account lacks: the add operation then
    # counts it as failed, and the apply must say so rather than finish quietly.
    fake = account.senders.iloc[:1].copy()
    fake["sender_id"] = UNKNOWN_ID
    inventory = pd.concat([account.senders, fake], ignore_index=True)
    pool_id = account.pool_id("Marketing Promotions - UK")
    target = [*sorted(account.members(pool_id)), UNKNOWN_ID]
    plan = plan_pool(account.client, target, pool_id=pool_id, inventory=inventory)

    with pytest.raises(PoolApplyError, match="1 of 1 senders failed") as caught:
        plan.apply(progress=False)

    assert isinstance(caught.value.cause, ct.OperationError)
    assert caught.value.cause.operation.stats["failed"] == 1
    assert caught.value.applied == []


def test_members_that_differ_from_the_plan_after_applying_raise(account):
    pool_id = account.pool_id("Marketing Promotions - UK")
    members = sorted(account.members(pool_id))
    plan = plan_pool(account.client, members[1:], pool_id=pool_id)
    intruder = next(i for i in _ids(account.senders) if i not in members)
    account.client.wait(account.client.sender_pools.members.add(pool_id, [intruder]))

    with pytest.raises(PoolApplyError, match="differ from the plan") as caught:
        plan.apply(progress=False)

    assert caught.value.unexpected == {intruder}
    assert caught.value.missing == frozenset()
    assert caught.value.pending == [] and caught.value.cause is None


def test_a_create_that_may_have_reached_the_api_says_so(account):
    account.sandbox.faults.add("POST /SenderPools", drop="after", times=1)
    plan = plan_pool(account.client, _pick(account, 5), name="ambiguous")

    with pytest.raises(PoolApplyError, match="a pool may have been created") as caught:
        plan.apply(progress=False)

    assert caught.value.applied == [] and caught.value.pool_id is None
    assert isinstance(caught.value.cause, ct.CommsConnectionError)


def test_rerunning_after_a_lost_create_answer_finishes_that_pool_instead_of_a_second(account):
    ids = _pick(account, 8)
    # A pool of the same name that was there before is no candidate: it is left alone.
    earlier = plan_pool(account.client, ids[5:], name="lost-answer").apply(progress=False)
    account.sandbox.faults.add("POST /SenderPools", drop="after", times=1)
    plan = plan_pool(account.client, ids[:5], name="lost-answer")
    with pytest.raises(PoolApplyError, match=r"Run plan\.apply"):
        plan.apply(progress=False)
    pool = plan.apply(progress=False)

    named = {p.id for p in account.client.sender_pools.list() if p.name == "lost-answer"}
    assert named == {earlier.id, pool.id}  # one pool from the lost answer, no second one
    assert account.members(pool.id) == set(ids[:5])
    assert account.members(earlier.id) == set(ids[5:])


# --- errors before any request ----------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"senders": ["comms_sender_NOPE", "x"], "name": "p"}, "senders", "2 malformed"),
        ({"senders": [None], "name": "p"}, "senders", "malformed"),
        ({"senders": pd.DataFrame({"id": [1]}), "name": "p"}, "senders", "sender_id"),
        ({"senders": [], "name": "p", "tags": {f"k{i}": "v" for i in range(11)}}, "tags", "10"),
        ({"senders": [], "name": "p", "tags": {"k" * 129: "v"}}, "tags", "128"),
        ({"senders": [], "name": "p", "tags": {"team": "v" * 257}}, "tags", "256"),
        ({"senders": [], "name": "p", "tags": {"team": "a b"}}, "tags", "characters"),
        ({"senders": [], "name": "p", "tags": {"team": 5}}, "tags", "not allowed"),
        ({"senders": []}, "name", "name= "),
        ({"senders": [], "name": " "}, "name", "non-empty"),
        ({"senders": [], "pool_id": "pool-1"}, "pool_id", "not a sender pool id"),
    ],
)
def test_bad_input_is_refused_before_any_request(account, kwargs, field, words):
    with pytest.raises(ct.InvalidInputError) as caught:
        plan_pool(account.client, **kwargs)
    assert caught.value.field == field
    assert words in str(caught.value)
    assert account.calls.seen == []


def test_an_unknown_pool_is_a_clear_not_found_and_nothing_changes(account):
    missing = "comms_senderpool_01h9krwprkeee8fzqspvwy6nq8"
    with pytest.raises(ct.NotFoundError, match="does not exist, so there is nothing to plan"):
        plan_pool(account.client, _pick(account, 3), pool_id=missing)
    assert account.calls.writes() == []


def test_delete_pool_needs_confirm_then_deletes(account):
    pool_id = account.pool_id("Marketing Promotions - UK")
    account.calls.seen.clear()
    with pytest.raises(ct.InvalidInputError, match="confirm=True"):
        delete_pool(account.client, pool_id)
    assert account.calls.seen == []

    delete_pool(account.client, pool_id, confirm=True)

    with pytest.raises(ct.NotFoundError):
        account.client.sender_pools.get(pool_id)


# --- warnings ---------------------------------------------------------------------------


def _warning(plan, words: str) -> str:
    found = [w for w in plan.warnings if words in w]
    assert found, f"no warning with {words!r} in {plan.warnings}"
    return found[0]


def test_a_pool_of_every_activated_channel_has_no_warnings(account):
    ids = [
        _pick(account, 1, channels=c, statuses="ACTIVATED")[0] for c in ct.models.SENDER_CHANNELS
    ]
    plan = plan_pool(account.client, ids, name="clean", inventory=account.senders)
    assert plan.warnings == []


def test_each_risky_plan_is_warned_about_in_a_sentence(account):
    inv = account.senders
    sms = _pick(account, 2, channels="SMS", statuses="ACTIVATED")
    rcs = _pick(account, 2, channels="RCS", statuses="ACTIVATED")
    dead = _pick(account, 3, statuses="DEACTIVATED")

    def plan(ids):
        return plan_pool(account.client, ids, name="w", inventory=inv)

    text = _warning(plan([*sms, *dead]), "DEACTIVATED")
    assert text.startswith("The pool would hold 3 DEACTIVATED senders (3 added")
    unknown = plan([*sms, UNKNOWN_ID])
    assert UNKNOWN_ID in _warning(unknown, "not among the account's senders")
    assert UNKNOWN_ID not in _ids(unknown.to_add)
    repeated = plan([*sms, sms[0], sms[0]])
    assert sms[0] in _warning(repeated, "more than once")
    assert _ids(repeated.to_add) == sms
    assert "no SMS fallback" in _warning(plan(rcs), "RCS senders but no activated SMS")
    uncovered = _warning(plan(sms), "no activated sender for")
    assert "for RCS, WHATSAPP, although" in uncovered  # e-mail and push are no gap
    assert plan([]).warnings == ["The pool would be empty: it could not send anything."]


def test_a_large_removal_is_warned_about(account):
    ids = _ids(account.senders)[:120]
    pool = plan_pool(account.client, ids, name="shrinking").apply(progress=False)
    plan = plan_pool(account.client, ids[:10], pool_id=pool.id, inventory=account.senders)
    assert "Removing 110 senders takes 110 requests" in _warning(plan, "Removing")
    assert len(plan.requests) == 110


def test_create_pool_issues_the_warnings_and_returns_the_pool(account):
    ids = _pick(account, 5, channels="RCS", statuses="ACTIVATED")
    with pytest.warns(PoolPlanWarning) as caught:
        pool = create_pool(account.client, "rcs-only", ids, tags={"kind": "rcs"}, progress=False)
    issued = [str(w.message) for w in caught]
    assert any("no SMS fallback" in w for w in issued)
    assert any("no activated sender for SMS, WHATSAPP, although" in w for w in issued)
    assert pool.name == "rcs-only" and pool.tags == {"kind": "rcs"}
    assert account.members(pool.id) == set(ids)


# --- how a plan reads -------------------------------------------------------------------


def test_a_plan_reads_well_as_text_and_html(account):
    pool_id = account.pool_id("Ops Alerts - Global")
    members = sorted(account.members(pool_id))
    plan = plan_pool(account.client, [*members[2:], UNKNOWN_ID], pool_id=pool_id, name="A&B <ops>")
    text = str(plan)
    assert text.startswith("Plan: update pool 'A&B <ops>'")
    assert "to add 0 · to remove 2 · unchanged" in text
    assert f"DELETE /SenderPools/{pool_id}/Senders/{members[0]}" in text
    assert UNKNOWN_ID in text
    page = plan._repr_html_()
    assert "A&amp;B &lt;ops&gt;" in page and "<ops>" not in page
    assert "to remove</th><td>2</td>" in page
    assert members[0] in page  # first rows of the removals are shown
    assert "<NA>" not in page and "&lt;NA&gt;" not in page  # untagged senders show blank
    assert "not among the account&#x27;s senders" in page
    assert "+0 -2" in repr(plan)


def test_the_plan_is_read_only(account):
    plan = plan_pool(account.client, _pick(account, 3), name="ro")
    with pytest.raises(AttributeError):
        plan.name = "other"
    plan.warnings.append("tampered")
    assert "tampered" not in plan.warnings


# --- pool report ------------------------------------------------------------------------


def test_pool_report_counts_match_the_members_frame(account):
    before = ct.load_pool_members(account.client)
    ops = before[(before["pool_name"] == "Ops Alerts - Global") & (before["channel"] != "SMS")]
    shared = list(ops["sender_id"][:2])
    rcs = [
        i
        for i in _pick(account, 100, channels="RCS", statuses="ACTIVATED")
        if i not in set(before["sender_id"])
    ][:3]
    plan_pool(account.client, [*rcs, *shared], name="rcs-shared").apply(progress=False)

    report = pool_report(account.client)
    members = ct.load_pool_members(account.client)

    assert sorted(report["pool_id"]) == sorted(p.id for p in account.client.sender_pools.list())
    for row in report.itertuples():
        mine = members[members["pool_id"] == row.pool_id]
        active = mine[mine["status"] == "ACTIVATED"]
        assert row.size == len(mine)
        assert row.n_activated == len(active)
        assert row.n_deactivated == (mine["status"] == "DEACTIVATED").sum()
        assert row.channels == ", ".join(sorted(set(mine["channel"].astype(str))))
        assert row.has_rcs == (active["channel"] == "RCS").any()
        assert row.has_sms == (active["channel"] == "SMS").any()
        assert row.fallback_ok == (not row.has_rcs or row.has_sms)
        others = members[(members["pool_id"] != row.pool_id)]
        also = mine[mine["sender_id"].isin(others["sender_id"])]
        assert row.n_shared == len(also)
        sharing = others[others["sender_id"].isin(mine["sender_id"])]
        assert row.shared_with == ", ".join(sorted(set(sharing["pool_name"])))
    new = report.set_index("pool_id").loc[account.pool_id("rcs-shared")]
    assert (new["fallback_ok"], new["n_shared"]) == (False, 2)
    assert "Ops Alerts - Global" in new["shared_with"]


def test_pool_report_from_frames_equals_the_report_from_the_client(account):
    from_client = pool_report(account.client)
    frames = (ct.load_pools(account.client), ct.load_pool_members(account.client))
    pd.testing.assert_frame_equal(pool_report(frames), from_client)


def test_pool_report_of_an_account_without_pools_is_empty_but_typed(account):
    for pool in list(account.client.sender_pools.list()):
        delete_pool(account.client, pool, confirm=True)
    report = pool_report(account.client)
    assert report.empty
    assert list(report.columns) == [
        "pool_id", "name", "size", "channels", "n_activated", "n_deactivated",
        "has_rcs", "has_sms", "fallback_ok", "n_shared", "shared_with",
    ]  # fmt: skip
    assert report["size"].dtype == "int64" and report["has_rcs"].dtype == bool
