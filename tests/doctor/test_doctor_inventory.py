"""The doctor on the seeded sandbox account without traffic (the inventory), its plan and
its views: every change carries its reason into the PoolPlan, the plan applies like any
other, and bad input is refused before any request."""

from __future__ import annotations

import pandas as pd
import pytest

import commstoolkit as ct
from commstoolkit.doctor import Diagnosis, DoctorFinding, ProposedChange
from commstoolkit.errors import InvalidInputError
from commstoolkit.pools import plan_pool
from tests.test_pools import _account


@pytest.fixture
def account():
    acct = _account(senders=1000, seed=7)
    yield acct
    acct.client.close()
    acct.sandbox.close()


def _pool(account, name: str, senders: list[str]) -> str:
    client = account.client
    operation = client.wait(client.sender_pools.create(name=name, sender_ids=senders))
    return client.sender_pools.find_created(operation).id


def _ids(senders: pd.DataFrame, channel: str, status: str, n: int, **tags: str) -> list[str]:
    chosen = senders[(senders["channel"] == channel) & (senders["status"] == status)]
    for key, value in tags.items():
        chosen = chosen[chosen[f"tags.{key}"] == value]
    assert len(chosen) >= n, (channel, status, tags)
    return chosen["sender_id"].head(n).tolist()


def test_deactivated_members_are_removed_and_replaced_by_activated_senders(account):
    senders = account.senders
    pool_id = account.pool_id("Customer Support - NAMER")
    members = ct.load_pool_members(account.client, [pool_id])
    deactivated = set(members.loc[members["status"] == "DEACTIVATED", "sender_id"])
    assert deactivated
    diagnosis = ct.diagnose(account.client, "Customer Support - NAMER")
    assert diagnosis.evidence == {"kind": "inventory"}
    found = {f.subject["sender_id"] for f in diagnosis.of("deactivated_member")}
    assert found == deactivated
    by_id = senders.set_index("sender_id")
    for change in diagnosis.changes:
        if change.action == "add":
            assert by_id.at[change.sender_id, "status"] == "ACTIVATED"
            assert change.sender_id not in set(members["sender_id"])
            if change.replaces:
                assert by_id.at[change.sender_id, "channel"] == by_id.at[change.replaces, "channel"]
                # The pool's tags: every member carries team=support.
                assert by_id.at[change.sender_id, "tags.team"] == "support"
    plan = diagnosis.plan()
    assert set(plan.to_remove["sender_id"]) == deactivated
    assert set(plan.reasons) == set(plan.to_remove["sender_id"]) | set(plan.to_add["sender_id"])
    assert all("DEACTIVATED" in plan.reasons[s] for s in deactivated)
    pool = plan.apply(progress=False)
    after = ct.diagnose(account.client, pool)
    assert after.of("deactivated_member") == []
    assert {s.id for s in account.client.sender_pools.members.list(pool_id)} == plan.target_ids


def test_rcs_without_sms_and_missing_channels_propose_a_sender_of_each(account):
    senders = account.senders
    rcs = _ids(senders, "RCS", "ACTIVATED", 2, team="support")
    pool_id = _pool(account, "rcs only", rcs)
    diagnosis = ct.diagnose(account.client, pool_id)
    (fallback,) = diagnosis.of("rcs_without_sms")
    assert fallback.severity == "high"
    (add,) = fallback.changes
    by_id = senders.set_index("sender_id")
    assert add.action == "add" and by_id.at[add.sender_id, "channel"] == "SMS"
    assert by_id.at[add.sender_id, "status"] == "ACTIVATED"
    assert by_id.at[add.sender_id, "tags.team"] == "support"  # the pool's tag
    missing = {f.subject["channel"] for f in diagnosis.of("missing_channel")}
    assert missing == {"WHATSAPP"}  # SMS is rcs_without_sms' (louder) finding
    plan = diagnosis.plan(accept="rcs_without_sms")
    assert list(plan.to_add["sender_id"]) == [add.sender_id] and plan.to_remove.empty
    assert "no activated SMS sender" in plan.reasons[add.sender_id]
    assert not any("no SMS fallback" in w for w in plan.warnings)


def test_removing_the_last_sender_of_a_channel_says_so(account):
    senders = account.senders
    (sms,) = _ids(senders, "SMS", "DEACTIVATED", 1)
    rcs = _ids(senders, "RCS", "ACTIVATED", 1)
    pool_id = _pool(account, "last sms", [sms, *rcs])
    diagnosis = ct.diagnose(account.client, pool_id)
    (replacement,) = [c for c in diagnosis.changes if c.replaces == sms]
    # Keep the removal, refuse its replacement and the SMS sender proposed for the fallback.
    plan = diagnosis.plan(reject=[replacement.sender_id, "rcs_without_sms"])
    assert list(plan.to_remove["sender_id"]) == [sms] and plan.to_add.empty
    assert "the pool's last SMS sender: after this plan it has none" in plan.reasons[sms]
    assert any("no activated SMS sender" in w for w in plan.warnings), plan.warnings
    assert "last SMS sender" in str(plan)


def test_same_name_and_shared_senders(account):
    senders = account.senders
    sms = _ids(senders, "SMS", "ACTIVATED", 4)
    first = _pool(account, "Twins", sms[:2])
    second = _pool(account, "Twins", sms[1:3])
    with pytest.raises(InvalidInputError, match=f"2 pools are named 'Twins'.*{first}"):
        ct.diagnose(account.client, "Twins")
    diagnosis = ct.diagnose(account.client, first)
    (same,) = diagnosis.of("same_name")
    assert same.evidence["namesakes"] == [second] and not same.changes
    (shared,) = diagnosis.of("shared_senders")
    assert shared.evidence["shared"] == 1 and shared.evidence["pools"] == {second: 1}


def test_plan_selection_by_index_kind_and_sender(account):
    diagnosis = ct.diagnose(account.client, "Customer Support - NAMER")
    removals = [(f, c) for f in diagnosis.findings for c in f.changes if c.action == "remove"]
    assert len(removals) >= 2
    (first, change), (_, other) = removals[0], removals[1]
    plan = diagnosis.plan(accept=[first.index])
    assert list(plan.to_remove["sender_id"]) == [change.sender_id]
    # The replacement goes with its removal.
    assert set(plan.to_add["sender_id"]) == {
        c.sender_id for c in diagnosis.changes if c.replaces == change.sender_id
    }
    plan = diagnosis.plan(reject=[other.sender_id])
    assert other.sender_id not in set(plan.to_remove["sender_id"])
    assert not {c.sender_id for c in diagnosis.changes if c.replaces == other.sender_id} & set(
        plan.to_add["sender_id"]
    )
    assert diagnosis.plan(accept=[]).to_remove.empty
    with pytest.raises(InvalidInputError, match="finding 99 does not exist") as error:
        diagnosis.plan(accept=[99])
    assert error.value.field == "accept"
    with pytest.raises(InvalidInputError, match="'nonsense' is neither") as error:
        diagnosis.plan(reject="nonsense")
    assert error.value.field == "reject"


def test_bad_input_is_refused_before_any_request(account):
    calls = account.calls
    calls.seen.clear()
    for evidence in (42, "traffic", pd.DataFrame({"x": [1]})):
        with pytest.raises(InvalidInputError) as error:
            ct.diagnose(account.client, "Customer Support - NAMER", evidence)
        assert error.value.field == "evidence"
    with pytest.raises(InvalidInputError, match="sender pool"):
        ct.diagnose(account.client, "comms_senderpool_nope")
    assert calls.seen == []
    with pytest.raises(InvalidInputError, match="no pool is named 'Nope'"):
        ct.diagnose(account.client, "Nope")
    assert all(route.startswith("GET ") for route in calls.routes())


def test_plan_pool_reasons_are_checked_kept_for_changes_only_and_shown_escaped(account):
    client = account.client
    pool_id = account.pool_id("Customer Support - NAMER")
    members = ct.load_pool_members(client, [pool_id])["sender_id"].tolist()
    outsider = _ids(account.senders, "SMS", "ACTIVATED", 60)
    add = next(s for s in outsider if s not in members)
    account.calls.seen.clear()
    with pytest.raises(InvalidInputError, match="reasons") as error:
        plan_pool(client, members, pool_id=pool_id, reasons={"not-an-id": "x"})
    assert error.value.field == "reasons"
    with pytest.raises(InvalidInputError, match="reasons"):
        plan_pool(client, members, pool_id=pool_id, reasons={add: "  "})
    assert account.calls.seen == []
    reasons = {add: "<b>better</b> & cheaper", members[0]: "gone <script>", members[1]: "kept"}
    plan = plan_pool(client, [*members[1:], add], pool_id=pool_id, reasons=reasons)
    assert plan.reasons == {add: reasons[add], members[0]: reasons[members[0]]}
    text = str(plan)
    assert "+ " in text and f"{add}): <b>better</b> & cheaper" in text
    assert f"{members[0]}): gone <script>" in text
    page = plan._repr_html_()
    assert "&lt;b&gt;better&lt;/b&gt; &amp; cheaper" in page and "<script>" not in page
    assert "gone &lt;script&gt;" in page
    # Without reasons, the plan reads as before.
    assert "why:" not in str(plan_pool(client, members[1:], pool_id=pool_id))


def test_the_diagnosis_reads_as_text_html_and_a_frame(account):
    diagnosis = ct.diagnose(account.client, "Customer Support - NAMER")
    text = str(diagnosis)
    assert text.startswith("Diagnosis of pool 'Customer Support - NAMER'")
    for finding in diagnosis.findings:
        assert f"[{finding.index}] {finding.severity} · {finding.kind}" in text
    frame = diagnosis.frame()
    assert list(frame["index"]) == list(range(len(diagnosis.findings)))
    assert list(frame["kind"]) == [f.kind for f in diagnosis.findings]
    assert "**" not in "".join(frame["text"])
    page = diagnosis._repr_html_()
    assert page.count("<tr>") == len(diagnosis.findings) + 1
    # Everything is escaped: a finding's text with markup shows as text.
    hostile = Diagnosis(
        account.client,
        diagnosis.pool,
        diagnosis.members,
        [
            DoctorFinding(
                "same_name",
                "medium",
                {},
                "pool **<img src=x onerror=alert(1)>** `<i>`",
                changes=(ProposedChange("remove", "comms_sender_x", "<a>", "SMS", "<b>why"),),
                index=0,
            )
        ],
    )
    page = hostile._repr_html_()
    assert "<img" not in page and "<i>" not in page and "<a>" not in page and "<b>" not in page
    assert "<strong>&lt;img src=x onerror=alert(1)&gt;</strong>" in page
    assert "<code>&lt;i&gt;</code>" in page


def test_a_proposed_sender_deactivated_since_the_diagnosis_is_never_added(account):
    diagnosis = ct.diagnose(account.client, "Customer Support - NAMER")
    change = next(c for c in diagnosis.changes if c.replaces)
    store = account.sandbox.store
    with store.write():  # deactivated in the account after the diagnosis was made
        store.conn.execute(
            "UPDATE senders SET status = 'DEACTIVATED' WHERE id = ?", (change.sender_id,)
        )
    plan = diagnosis.plan()
    assert change.sender_id not in set(plan.to_add["sender_id"])
    assert change.replaces in set(plan.to_remove["sender_id"])
    assert "no longer ACTIVATED" in plan.reasons[change.replaces]
