"""Pools as code from Python: ``load_pool_file``, ``plan_pool_file``, ``export_pool_file``.

The seeded sandbox account is the account; what a plan says is checked against the
account's own frames, recomputed here with plain pandas (not with ``select_senders``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import commstoolkit as ct
from commstoolkit.sandbox import Sandbox
from tests.transports import CountingTransport

BAD = Path(__file__).parent / "data" / "pool_files" / "bad"
BAD_FILES = sorted(BAD.glob("*.yaml"))


def expected_fragment(path: Path) -> str:
    """The message fragment a bad file states on its first line: ``# expect: :L:C: ...``."""
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# expect: "), path
    return first.removeprefix("# expect: ")


@pytest.fixture
def counted():
    box = Sandbox(":memory:")
    box.clock.instant = True
    transport = CountingTransport(box.transport())
    client = ct.CommsClient(
        account_sid=box.account_sid,
        auth_token=box.credentials()[1],
        base_url=box.base_url,
        transport=transport,
        live=False,
    )
    with client:
        yield client, transport
    box.close()


def members_of(client) -> dict[str, set[str]]:
    frame = ct.load_pool_members(client)
    pools = ct.load_pools(client)
    found: dict[str, set[str]] = {pool_id: set() for pool_id in pools["pool_id"]}
    for pool_id, sender_id in zip(frame["pool_id"], frame["sender_id"], strict=True):
        found[pool_id].add(sender_id)
    return found


def write(path: Path, document: dict) -> Path:
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


# -- round trip --------------------------------------------------------------------------------


def test_export_then_plan_is_empty_and_export_is_stable(client, tmp_path):
    path = tmp_path / "pools.yaml"
    text = ct.export_pool_file(client, path)
    assert path.read_text(encoding="utf-8") == text
    assert ct.export_pool_file(client) == text  # same account, same text

    document = yaml.safe_load(text)
    pools = ct.load_pools(client)
    members = members_of(client)
    assert [p["name"] for p in document["pools"]] == sorted(pools["name"])
    for entry in document["pools"]:
        assert entry["members"]["include"] == sorted(members[entry["id"]])

    plan = ct.plan_pool_file(client, path)
    assert len(plan) == len(pools)
    assert plan.changes() == 0 and plan.changes(prune=True) == 0
    assert all(not p.steps() and not p.is_new for p in plan)
    assert plan.unlisted == ()
    assert "no change" in str(plan)
    assert "3 unchanged: no change." in plan._repr_html_()  # the notebook view


@pytest.mark.parametrize(("seed", "senders"), [(3, 60), (11, 150), (42, 400)])
def test_export_then_plan_is_empty_on_other_accounts(tmp_path, seed, senders):
    box = Sandbox(":memory:", seed=seed, senders=senders)
    box.clock.instant = True
    with ct.CommsClient(
        account_sid=box.account_sid,
        auth_token=box.credentials()[1],
        base_url=box.base_url,
        transport=box.transport(),
        live=False,
    ) as client:
        path = tmp_path / "pools.yaml"
        ct.export_pool_file(client, path)
        specs = ct.load_pool_file(path)
        members = members_of(client)
        assert {spec.id: set(spec.include) for spec in specs} == members
        assert ct.plan_pool_file(client, path).changes(prune=True) == 0
    box.close()


def test_an_edit_plans_exactly_that_edit_then_apply_leaves_nothing_to_do(client, tmp_path):
    path = tmp_path / "pools.yaml"
    document = yaml.safe_load(ct.export_pool_file(client))
    senders = ct.load_senders(client)
    first, second, third = document["pools"]
    removed = first["members"]["include"].pop(2)
    outside = sorted(set(senders["sender_id"]) - set(second["members"]["include"]))[0]
    second["members"]["include"].append(outside)
    old_name, third["name"] = third["name"], "Ops Alerts - EMEA"
    first["tags"] = {**first["tags"], "owner": "ana"}
    write(path, document)

    plan = ct.plan_pool_file(client, path)
    by_id = {p.pool_id: p for p in plan}
    assert plan.changes() == 3
    assert list(by_id[first["id"]].to_remove["sender_id"]) == [removed]
    assert by_id[first["id"]].to_add.empty
    assert by_id[first["id"]].update == {"tags": first["tags"]}
    assert list(by_id[second["id"]].to_add["sender_id"]) == [outside]
    assert by_id[second["id"]].to_remove.empty and by_id[second["id"]].update == {}
    assert by_id[third["id"]].update == {"name": "Ops Alerts - EMEA"}
    assert by_id[third["id"]].to_add.empty and by_id[third["id"]].to_remove.empty

    text = plan.text()
    assert f"remove 1 sender: {removed}" in text
    assert f"add 1 sender: {outside}" in text
    assert f"rename {old_name!r} -> 'Ops Alerts - EMEA'" in text
    assert "retag {region: namer, team: support} -> {owner: ana, region: namer, team: support}" in (
        text
    )
    assert "Plan: 0 to create, 3 to change, 0 unchanged: changes pending." in text

    plan.apply(progress=False)
    again = ct.plan_pool_file(client, path)
    assert again.changes() == 0
    members = members_of(client)
    assert removed not in members[first["id"]]
    assert outside in members[second["id"]]
    pools = ct.load_pools(client).set_index("pool_id")
    assert pools.loc[third["id"], "name"] == "Ops Alerts - EMEA"
    assert pools.loc[first["id"], "tags.owner"] == "ana"


def test_a_selector_pool_holds_what_the_selector_says_minus_the_exclusions(client, tmp_path):
    senders = ct.load_senders(client)
    # every ACTIVATED SMS and RCS sender tagged region=us-east, recomputed with pandas
    wanted = senders[
        senders["channel"].astype(str).isin(["SMS", "RCS"])
        & (senders["status"].astype(str) == "ACTIVATED")
        & (senders["tags.region"] == "us-east").fillna(False)
    ]["sender_id"].tolist()
    assert len(wanted) > 3
    minus = wanted[:2]
    email = senders.loc[senders["channel"].astype(str) == "EMAIL", "sender_id"].iloc[0]
    path = tmp_path / "pools.yaml"
    path.write_text(
        f"""
pools:
  - name: us-east-messaging
    tags: {{team: growth}}
    members:
      include: [{email}]
      select:
        channels: [sms, RCS]        # any letter case
        statuses: ACTIVATED
        tags: {{region: us-east}}
      exclude: [{minus[0]}, {minus[1]}]
""",
        encoding="utf-8",
    )
    (spec,) = ct.load_pool_file(path)
    assert spec.name == "us-east-messaging" and spec.id is None
    assert spec.select[0].channels == ("SMS", "RCS")
    assert spec.sender_ids(senders) == [email, *wanted[2:]]

    plan = ct.plan_pool_file(client, path)
    (pool_plan,) = plan
    assert pool_plan.is_new and pool_plan.name == "us-east-messaging"
    assert pool_plan.tags == {"team": "growth"}
    assert list(pool_plan.to_add["sender_id"]) == [email, *wanted[2:]]
    assert f"create 'us-east-messaging' with {len(wanted) - 1} senders" in str(plan)
    assert plan.changes() == 1
    assert len(plan.unlisted) == 3  # the seeded pools, kept without --prune

    plan.apply(progress=False)
    pools = ct.load_pools(client)
    new_id = pools.loc[pools["name"] == "us-east-messaging", "pool_id"].item()
    assert members_of(client)[new_id] == {email, *wanted[2:]}
    assert ct.plan_pool_file(client, path).changes() == 0


def test_tags_left_out_are_kept_and_empty_tags_clear_them(client, tmp_path):
    document = yaml.safe_load(ct.export_pool_file(client))
    entry = document["pools"][0]
    assert entry["tags"]
    del entry["tags"]
    plan = ct.plan_pool_file(client, write(tmp_path / "a.yaml", document))
    assert plan.changes() == 0

    entry["tags"] = {}
    plan = ct.plan_pool_file(client, write(tmp_path / "b.yaml", document))
    assert plan.changes() == 1 and plan[0].update == {"tags": {}}
    plan.apply(progress=False)
    pool = client.sender_pools.get(entry["id"])
    assert pool.tags == {}


def test_an_entry_without_id_manages_the_pool_of_its_name(client, tmp_path):
    document = yaml.safe_load(ct.export_pool_file(client))
    for entry in document["pools"]:
        del entry["id"]
    plan = ct.plan_pool_file(client, write(tmp_path / "pools.yaml", document))
    assert plan.changes() == 0
    assert [p.pool_id for p in plan] == [
        p["id"] for p in yaml.safe_load(ct.export_pool_file(client))["pools"]
    ]


def test_prune_lists_then_deletes_the_pools_the_file_does_not_name(client, tmp_path):
    document = yaml.safe_load(ct.export_pool_file(client))
    kept, *dropped = document["pools"]
    document["pools"] = [kept]
    path = write(tmp_path / "pools.yaml", document)
    plan = ct.plan_pool_file(client, path)
    assert plan.changes() == 0 and plan.changes(prune=True) == 2
    assert sorted(p.id for p in plan.unlisted) == sorted(d["id"] for d in dropped)
    assert "(--prune deletes it)" in plan.text()
    pruned = plan.text(prune=True)
    for entry in dropped:
        assert f"delete {entry['name']!r} ({entry['id']}): not in the file" in pruned

    plan.apply(progress=False)  # without prune: nothing is deleted
    assert len(ct.load_pools(client)) == 3
    plan.apply(prune=True, progress=False)
    assert list(ct.load_pools(client)["pool_id"]) == [kept["id"]]
    assert ct.plan_pool_file(client, path).changes(prune=True) == 0


def test_a_name_several_pools_share_needs_an_id(client, tmp_path):
    senders = ct.load_senders(client)
    ids = senders["sender_id"].tolist()
    one = ct.plan_pool(client, ids[:2], name="twins").apply(progress=False)
    second = ct.plan_pool(client, ids[2:4], name="twins")
    assert second.namesakes == (one.id,)
    two = second.apply(progress=False)
    path = tmp_path / "pools.yaml"
    path.write_text(f"pools:\n  - name: twins\n    members:\n      include: [{ids[0]}]\n")
    with pytest.raises(ct.InvalidInputError) as caught:
        ct.plan_pool_file(client, path)
    message = str(caught.value)
    assert message.startswith(f"{path}:2:11: pools[0].name: 2 pools of the account are named")
    assert one.id in message and two.id in message and "add `id:`" in message
    # the export names both (each with its id) and plans no change
    exported = ct.export_pool_file(client, tmp_path / "export.yaml")
    assert exported.count("name: twins") == 2
    assert ct.plan_pool_file(client, tmp_path / "export.yaml").changes() == 0


# -- the file format ---------------------------------------------------------------------------


def test_anchors_lists_of_selectors_and_dates_are_read(client, tmp_path):
    senders = ct.load_senders(client)
    cut = senders["created_at"].sort_values().iloc[len(senders) // 2]
    path = tmp_path / "pools.yaml"
    path.write_text(
        f"""
version: 1
pools:
  - name: newer-whatsapp-and-push
    members:
      select:
        - &active
          statuses: [ACTIVATED]
          channels: WHATSAPP
          created_after: {cut.isoformat()}
        - <<: *active
          channels: [PUSH]
          created_after: 2000-01-01
""",
        encoding="utf-8",
    )
    (spec,) = ct.load_pool_file(path)
    assert len(spec.select) == 2 and spec.select[1].statuses == ("ACTIVATED",)
    expected = senders[
        (senders["status"].astype(str) == "ACTIVATED")
        & (
            ((senders["channel"].astype(str) == "WHATSAPP") & (senders["created_at"] >= cut))
            | (senders["channel"].astype(str) == "PUSH")
        )
    ]
    assert set(spec.sender_ids(senders)) == set(expected["sender_id"])


def test_a_version_this_toolkit_does_not_read_is_refused(tmp_path):
    path = tmp_path / "pools.yaml"
    path.write_text("version: 2\npools: []\n")
    with pytest.raises(ct.InvalidInputError, match=r":1:10: version: 2 is not a version"):
        ct.load_pool_file(path)


@pytest.mark.parametrize("path", BAD_FILES, ids=[p.stem for p in BAD_FILES])
def test_each_bad_file_is_one_located_message_before_any_write(counted, path):
    client, transport = counted
    with pytest.raises(ct.InvalidInputError) as caught:
        ct.plan_pool_file(client, path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}:"), message
    assert message.startswith(f"{path}{expected_fragment(path)}"), message
    assert caught.value.field and caught.value.field in message
    assert transport.writes() == []
    if not any(
        what in message
        for what in ("not a sender of", "matches no sender", "has no pool", "no sender has")
    ):
        assert transport.sent == []  # the file's own mistakes: not even a read


def test_the_corpus_covers_what_the_issue_names():
    fragments = " ".join(expected_fragment(p) for p in BAD_FILES)
    for what in (
        "unknown key",
        "allowed keys",
        "is not one of SMS, RCS",  # unknown channel, with the allowed values
        "is not one of ACTIVATED, DEACTIVATED",
        "matches no sender",
        "two pools named",
        "YAML syntax error",
        "expected a list",
        "tags",
    ):
        assert what in fragments, what


def test_the_readme_example_file_plans_what_its_comments_say(client, tmp_path):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    start = readme.index("```yaml\n# pools.yaml\n") + len("```yaml\n")
    path = tmp_path / "pools.yaml"
    path.write_text(readme[start : readme.index("```", start)], encoding="utf-8")
    senders = ct.load_senders(client)
    us_east = senders[
        senders["channel"].astype(str).isin(["SMS", "RCS"])
        & (senders["status"].astype(str) == "ACTIVATED")
        & (senders["tags.region"] == "us-east").fillna(False)
    ]["sender_id"].tolist()
    plan = ct.plan_pool_file(client, path)
    create, rename = plan
    excluded = set(plan.specs[0].exclude)
    assert create.is_new and list(create.to_add["sender_id"]) == [
        i for i in us_east if i not in excluded
    ]
    assert rename.update["name"] == "Ops Alerts - EMEA"
    assert set(rename.target_ids) == set(plan.specs[1].include)
    assert len(plan.unlisted) == 2
