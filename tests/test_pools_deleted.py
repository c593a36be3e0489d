"""Issue 11, item 6 (pools): applying a plan whose pool was deleted since it was made raises
``PoolDeletedError``, saying the pool is gone and that re-running will not help."""

from __future__ import annotations

import pytest

import commstoolkit as ct
from commstoolkit.pools import PoolApplyError, PoolDeletedError, plan_pool


@pytest.fixture
def client(client):
    client.sandbox.clock.instant = True
    return client


@pytest.fixture
def ids(client) -> list[str]:
    senders = ct.load_senders(client)
    return list(ct.select_senders(senders, statuses="ACTIVATED")["sender_id"][:12])


def _named(client, name: str) -> list[str]:
    return [pool.id for pool in client.sender_pools.list() if pool.name == name]


# -- a pool deleted since the plan was made ----------------------------------------------------


def test_applying_to_a_pool_deleted_since_planning_says_it_is_gone_and_not_to_rerun(client, ids):
    pool = plan_pool(client, ids[:6], name="doomed").apply(progress=False)
    plan = plan_pool(client, ids[2:9], pool_id=pool.id)
    assert len(plan.to_remove) == 2 and len(plan.to_add) == 3
    ct.delete_pool(client, pool.id, confirm=True)

    with pytest.raises(PoolDeletedError) as caught:
        plan.apply(progress=False)

    error = caught.value
    assert isinstance(error, PoolApplyError) and isinstance(error.cause, ct.NotFoundError)
    assert error.pool_id == pool.id and error.applied == []
    assert len(error.pending) == len(plan.requests)
    message = str(error)
    assert message.startswith(f"Pool 'doomed' ({pool.id}) no longer exists: it was deleted after")
    assert "Running plan.apply() again will not help" in message
    assert "plan_pool(client, senders, name='doomed')" in message
    assert "stopped at" not in message and "Run plan.apply() again to finish" not in message
    # And it stays true: a second apply says the same, and creates nothing.
    with pytest.raises(PoolDeletedError):
        plan.apply(progress=False)
    assert _named(client, "doomed") == []


def test_a_pool_deleted_between_two_steps_of_an_apply_is_reported_as_gone(client, ids):
    pool = plan_pool(client, ids[:6], name="mid-way").apply(progress=False)
    plan = plan_pool(client, ids[2:9], pool_id=pool.id)
    real_remove = client.sender_pools.members.remove

    def remove_after_delete(pool_id, sender_id):
        ct.delete_pool(client, pool_id, confirm=True)  # deleted elsewhere, just before
        return real_remove(pool_id, sender_id)

    client.sender_pools.members.remove = remove_after_delete
    with pytest.raises(PoolDeletedError, match="no longer exists") as caught:
        plan.apply(progress=False)
    assert caught.value.applied == [f"POST /SenderPools/{pool.id}/Senders with 3 senders"]
    assert "Applied before that (1)" in str(caught.value)


def test_a_404_for_a_sender_no_longer_in_the_pool_is_not_taken_for_a_deleted_pool(client, ids):
    pool = plan_pool(client, ids[:4], name="alive").apply(progress=False)
    plan = plan_pool(client, ids[:3], pool_id=pool.id)
    client.sandbox.faults.add(
        "DELETE /SenderPools/{senderPoolId}/Senders/{senderId}", status=404, times=1
    )
    with pytest.raises(PoolApplyError) as caught:
        plan.apply(progress=False)
    assert not isinstance(caught.value, PoolDeletedError)
    assert "Run plan.apply() again to finish" in str(caught.value)
    plan.apply(progress=False)
    assert {s.id for s in client.sender_pools.members.list(pool.id)} == set(ids[:3])
