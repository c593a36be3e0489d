"""The doctor on a test send: each sender against the rest of the send, one-sided Fisher
exact, Benjamini-Hochberg over the senders tested — every number recomputed here from the
send's messages with the definitions written again (binomial coefficients)."""

from __future__ import annotations

import pytest

import commstoolkit as ct
from commstoolkit.errors import InvalidInputError
from commstoolkit.sandbox import Sandbox
from commstoolkit.sandbox.simulation import delivery
from tests.analysis.test_health import _bh, _lower_tail, _wilson
from tests.instant import instant_client

RATED = ("DELIVERED", "READ", "UNDELIVERED", "FAILED")
GOOD = ("DELIVERED", "READ")
NUMBERS = [f"+1415555{i:04d}" for i in range(600)]


@pytest.fixture(scope="module")
def sent():
    box = Sandbox(":memory:", seed=7, senders=1000)
    box.clock.instant = True
    client = instant_client(box)
    pool_id = next(p.id for p in client.sender_pools.list() if p.name == "Customer Support - NAMER")
    run = ct.test_send(client, pool_id, NUMBERS, "Pool check, please ignore", progress=False)
    yield box, client, pool_id, run
    box.close()


def _by_hand(messages):
    """Per sender (delivered, rated); the senders tested and their raw and corrected p."""
    rated = messages[messages["sender_id"].notna() & messages["status"].isin(RATED)]
    counts = {
        str(s): (int(g["status"].isin(GOOD).sum()), len(g))
        for s, g in rated.groupby("sender_id", observed=True)
    }
    k_all = sum(k for k, _ in counts.values())
    n_all = sum(n for _, n in counts.values())
    tested = {}
    for sender, (k, n) in counts.items():
        fewest = max(0, n - (n_all - k_all))
        if n_all - n and _lower_tail(fewest, n, k_all, n_all) < 0.05:
            tested[sender] = _lower_tail(k, n, k_all, n_all)
    corrected = dict(zip(tested, _bh(list(tested.values())), strict=True))
    return counts, (k_all, n_all), tested, corrected


def test_the_bad_senders_of_a_test_send_are_found_with_the_send_s_numbers(sent):
    box, client, pool_id, run = sent
    diagnosis = ct.diagnose(client, pool_id, run)
    assert diagnosis.evidence["kind"] == "test send"
    assert diagnosis.evidence["run_id"] == run.run_id
    counts, (k_all, n_all), tested, corrected = _by_hand(run.messages)
    assert diagnosis.evidence["comparisons"] == len(tested)
    flagged = {
        s
        for s, q in corrected.items()
        if q < 0.05
        and (k_all - counts[s][0]) / (n_all - counts[s][1]) - counts[s][0] / counts[s][1] >= 0.10
    }
    below = diagnosis.of("below_pool")
    assert {f.subject["sender_id"] for f in below} == flagged
    bad = set(filter(None, box.store.get("bad_senders").split(",")))
    planted = {s for s in counts if delivery.traits(7, s, bad)[0] < 0.7 and counts[s][1] >= 10}
    assert planted and planted <= flagged  # the seed's bad senders of the pool are found
    for finding in below:
        sender = finding.subject["sender_id"]
        k, n = counts[sender]
        e = finding.evidence
        assert (e["rate"]["delivered"], e["rate"]["rated"]) == (k, n)
        assert (e["compared_with"]["delivered"], e["compared_with"]["rated"]) == (
            k_all - k,
            n_all - n,
        )
        assert (e["rate"]["low"], e["rate"]["high"]) == pytest.approx(_wilson(k, n))
        assert e["p"] == pytest.approx(tested[sender], rel=1e-9)
        assert e["p_adjusted"] == pytest.approx(corrected[sender], rel=1e-9)
        assert e["test"] == "Fisher exact, one-sided" and e["source"] == "test send"
        if finding.changes:  # surely 10 points below: removed, with a replacement
            assert e["rate"]["high"] <= e["compared_with"]["rate"] - 0.10
            assert finding.changes[0].action == "remove"
    plan = diagnosis.plan(accept="below_pool")
    removed = {c.sender_id for f in below for c in f.changes if c.action == "remove"}
    assert removed and set(plan.to_remove["sender_id"]) == removed
    assert all("of a test send" in plan.reasons[s] for s in removed)
    assert set(plan.to_add["sender_id"]) == {
        c.sender_id for c in diagnosis.changes if c.replaces in removed
    }


def test_the_messages_frame_is_the_same_evidence(sent):
    _, client, pool_id, run = sent
    from_run = ct.diagnose(client, pool_id, run)
    from_frame = ct.diagnose(client, pool_id, run.messages)
    assert [f.evidence.get("p") for f in from_run.findings] == [
        f.evidence.get("p") for f in from_frame.findings
    ]
    assert from_frame.evidence["run_id"] is None


def test_a_send_through_another_pool_or_a_dry_run_is_refused(sent):
    _, client, pool_id, run = sent
    other = next(p.id for p in client.sender_pools.list() if p.id != pool_id)
    with pytest.raises(InvalidInputError, match="went through pool") as error:
        ct.diagnose(client, other, run)
    assert error.value.field == "evidence"
    dry = ct.test_send(client, pool_id, NUMBERS[:3], "x", dry_run=True)
    with pytest.raises(InvalidInputError, match="dry run"):
        ct.diagnose(client, pool_id, dry)
