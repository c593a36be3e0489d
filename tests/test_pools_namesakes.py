"""Issue 11, item 6 (pools): a plan for a new pool (or a rename) whose name other pools
already have warns, naming their ids (``PoolPlan.namesakes``)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

import commstoolkit as ct
from commstoolkit.pools import plan_pool

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def client(client):
    client.sandbox.clock.instant = True
    return client


@pytest.fixture
def ids(client) -> list[str]:
    senders = ct.load_senders(client)
    return list(ct.select_senders(senders, statuses="ACTIVATED")["sender_id"][:12])


# -- a name already taken --------------------------------------------------------------------


def test_a_new_pool_plan_warns_when_its_name_is_taken_and_names_the_pool(client, ids):
    first = plan_pool(client, ids[:5], name="pb-one")
    assert first.namesakes == ()
    assert not [w for w in first.warnings if "already exist" in w]
    pool = first.apply(progress=False)

    second = plan_pool(client, ids[:5], name="pb-one")

    assert second.is_new and second.namesakes == (pool.id,)
    found = [w for w in second.warnings if "already exists" in w]
    assert found == [
        f"A pool named 'pb-one' already exists ({pool.id}): applying creates one more pool of "
        "that name, and anything that picks a pool by name may take the wrong one. To change "
        f"that pool instead, plan with plan_pool(..., pool_id={pool.id!r}); or choose another "
        "name."
    ]
    assert found[0] in str(second)  # the text of the plan shows it too


def test_a_new_pool_plan_names_every_pool_of_that_name(client, ids):
    made = [plan_pool(client, ids[:2], name="twin").apply(progress=False).id for _ in range(2)]
    plan = plan_pool(client, ids[:2], name="twin")
    assert set(plan.namesakes) == set(made)
    (warning,) = [w for w in plan.warnings if "already exist" in w]
    assert warning.startswith("2 pools named 'twin' already exist (")
    assert all(pool_id in warning for pool_id in made)
    assert "To change one of them instead" in warning


def test_a_rename_to_a_taken_name_is_warned_about_but_keeping_the_name_is_not(client, ids):
    taken = plan_pool(client, ids[:2], name="taken").apply(progress=False)
    mine = plan_pool(client, ids[2:4], name="mine").apply(progress=False)

    renamed = plan_pool(client, ids[2:4], pool_id=mine.id, name="taken")
    assert renamed.namesakes == (taken.id,)
    assert any("after the rename 2 pools would share that name" in w for w in renamed.warnings)

    kept = plan_pool(client, ids[2:4], pool_id=mine.id, name="mine")
    plain = plan_pool(client, ids[2:4], pool_id=mine.id)
    assert kept.namesakes == () and kept.warnings == plain.warnings


def test_create_pool_issues_the_name_taken_warning(client, ids):
    with pytest.warns(ct.PoolPlanWarning):  # the plan's other warnings
        first = ct.create_pool(client, "again", ids[:3], progress=False)
    with pytest.warns(ct.PoolPlanWarning) as caught:
        ct.create_pool(client, "again", ids[:3], progress=False)
    assert [w for w in caught if f"already exists ({first.id})" in str(w.message)]


def test_pools_that_cannot_be_listed_leave_a_warning_and_the_apply_creates_nothing(client, ids):
    inventory = ct.load_senders(client)
    plan_pool(client, ids[:2], name="flaky").apply(progress=False)
    rule = client.sandbox.faults.add("GET /SenderPools", status=500)

    plan = plan_pool(client, ids[:2], name="flaky", inventory=inventory)

    assert plan.namesakes == ()
    assert plan.warnings[0].startswith(
        "Could not check whether other pools are named 'flaky': listing the pools failed "
        "(ServerError: "
    )
    with pytest.raises(ct.PoolApplyError):  # apply lists the pools before it creates one
        plan.apply(progress=False)
    client.sandbox.faults.remove(rule)
    assert len([p for p in client.sender_pools.list() if p.name == "flaky"]) == 1


# -- notebook 03 picks its pool by name --------------------------------------------------------


def _connect_cell(pool_name: str, db) -> dict:
    """Run notebook 03's "connect" cell (it finds the pool by name) on the sandbox file ``db``."""
    notebook = nbformat.read(REPO / "notebooks" / "03_test_send.ipynb", as_version=4)
    source = next(c.source for c in notebook.cells if c.get("id") == "connect")
    namespace: dict = {
        "mode": "sandbox",
        "sandbox_db": str(db),
        "seed": None,
        "senders": None,
        "sandbox_speed": 60,
        "pool_name": pool_name,
    }
    try:
        exec(source, namespace)
    finally:
        if "client" in namespace:
            namespace["client"].close()
    return namespace


def test_notebook_03_refuses_a_pool_name_several_pools_share(tmp_path):
    db = tmp_path / "sandbox.sqlite3"
    name = "Customer Support - NAMER"
    assert _connect_cell(name, db)["pool_id"].startswith("comms_senderpool_")  # one: fine
    with ct.connect(sandbox=True, db=db, quiet=True) as client:
        client.sandbox.clock.instant = True
        (first,) = [p.id for p in client.sender_pools.list() if p.name == name]
        second = plan_pool(client, [], name=name).apply(progress=False).id

    with pytest.raises(ValueError) as caught:
        _connect_cell(name, db)

    message = str(caught.value)
    assert message.startswith(f"pool_name: 2 pools are named {name!r} (")
    assert first in message and second in message


def test_notebook_02_refuses_a_pool_name_several_pools_share(client, ids):
    notebook = nbformat.read(REPO / "notebooks" / "02_build_a_pool.ipynb", as_version=4)
    source = next(c.source for c in notebook.cells if c.get("id") == "plan")
    senders = ct.load_senders(client)
    namespace = {"ct": ct, "client": client, "pool_name": "dup", "pool_tags": None}
    namespace |= {"chosen": senders.head(3), "senders": senders}
    exec(source, dict(namespace))  # no pool of the name: a plan for a new pool
    made = [plan_pool(client, ids[:2], name="dup").apply(progress=False).id for _ in "ab"]

    with pytest.raises(ValueError) as caught:
        exec(source, dict(namespace))

    assert str(caught.value) == (
        f"pool_name: 2 pools are named 'dup' ({', '.join(made)}); rename or delete all but "
        "one, then run again"
    )
