"""Issue 11, item 6 (PoolBuilder): no second pool of a name, no removal without the plan on
screen and a ticked count, and a pool deleted since the preview is said to be gone."""

from __future__ import annotations

import re

import commstoolkit as ct


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html).replace("&#x27;", "'").replace("&quot;", '"')


def _pools_named(client, name: str) -> list[str]:
    pools = ct.load_pools(client)
    return list(pools.loc[pools["name"] == name, "pool_id"])


def _members(client, pool_id: str) -> set[str]:
    return set(ct.load_pool_members(client, pool_id)["sender_id"])


def _plan_shown(builder) -> bool:
    return any(
        "commstoolkit-pool-plan" in out.get("data", {}).get("text/html", "")
        for out in builder.output.outputs
    )


# -- a new pool whose name is taken ------------------------------------------------------------


def test_a_taken_name_turns_the_plan_to_that_pool_instead_of_a_second_pool(builder, instant_client):
    # The analyst's steps: Apply, change a filter, change it back, Apply.
    builder.pool_name.value = "pb-one"
    builder.apply_button.click()
    (pool_id,) = _pools_named(instant_client, "pb-one")
    builder.channel_buttons["SMS"].value = False
    builder.channel_buttons["SMS"].value = True

    builder.apply_button.click()

    assert _pools_named(instant_client, "pb-one") == [pool_id]  # no second pool
    assert builder.target.value == "existing" and builder.pool_choice.value == pool_id
    plan = builder.plan
    assert plan is not None and not plan.is_new and plan.pool_id == pool_id
    assert _plan_shown(builder)
    assert _text(builder.message.value).startswith(
        f"A pool named 'pb-one' already exists ({pool_id}), so the plan now updates that pool "
        "instead of creating a second pool of the same name."
    )
    # Shown, not applied: the next click applies the plan of that pool (nothing to change).
    builder.apply_button.click()
    assert builder.result is not None and builder.result.id == pool_id
    assert "already matched the plan: nothing changed" in _text(builder.message.value)
    assert _pools_named(instant_client, "pb-one") == [pool_id]


def test_a_taken_name_keeps_the_tags_typed_for_the_new_pool(builder, instant_client):
    senders = ct.load_senders(instant_client)
    existing = ct.plan_pool(instant_client, senders["sender_id"][:2], name="tagged-twice")
    existing = existing.apply(progress=False)
    builder.pool_name.value = "tagged-twice"
    builder.pool_tags.value = "team=ops"
    plan = builder.preview()
    assert plan is not None and plan.pool_id == existing.id
    assert plan.update == {"tags": {"team": "ops"}}
    assert builder.pool_tags.value == "team=ops"
    assert plan.to_remove.empty  # keep mode: the pool's members stay


def test_several_pools_of_the_name_are_all_named_and_the_first_is_chosen(builder, instant_client):
    ids = ct.load_senders(instant_client)["sender_id"][:2]
    made = [ct.plan_pool(instant_client, ids, name="twin").apply(progress=False).id for _ in "ab"]
    builder.pool_name.value = "twin"
    plan = builder.preview()
    assert plan is not None and plan.pool_id in made
    assert builder.pool_choice.value == plan.pool_id
    message = _text(builder.message.value)
    assert message.startswith(f"2 pools are named 'twin' already ({', '.join(sorted(made))})")
    assert "pick another in the Pool list" in message
    assert len(_pools_named(instant_client, "twin")) == 2


# -- removals: the plan on screen and a ticked count -------------------------------------------


def _replace_plan(builder) -> str:
    builder.target.value = "existing"
    pool_id = builder.pool_choice.options[0][1]
    builder.pool_choice.value = pool_id
    builder.members_mode.value = "replace"
    builder.channel_buttons["SMS"].value = False
    return pool_id


def test_replace_with_matches_never_removes_without_the_plan_on_screen_and_ticked_count(
    builder, instant_client
):
    pool_id = _replace_plan(builder)
    before = _members(instant_client, pool_id)

    builder.apply_button.click()  # one click, no preview: it only previews

    plan = builder.plan
    removed = len(plan.to_remove)
    assert removed > 0 and _members(instant_client, pool_id) == before
    assert _plan_shown(builder)
    box = builder.confirm_removal
    assert box.description == f"Remove {removed} members" and box.layout.display == ""
    assert box.value is False
    refused = (
        f"Nothing was applied: this plan removes {removed} of the pool's members. Read the "
        f'plan below, tick "Remove {removed} members" to confirm, then click Apply.'
    )
    assert _text(builder.message.value) == refused

    builder.apply_button.click()  # the plan is on screen, the box not ticked: still nothing
    assert _members(instant_client, pool_id) == before
    assert _text(builder.message.value) == refused

    box.value = True
    builder.apply_button.click()
    assert _members(instant_client, pool_id) == set(builder.selection["sender_id"])
    assert f"removed {removed}" in _text(builder.message.value)


def test_the_removal_box_is_unticked_whenever_the_plan_changes(builder, instant_client):
    pool_id = _replace_plan(builder)
    before = _members(instant_client, pool_id)
    first = builder.preview()
    builder.confirm_removal.value = True

    builder.channel_buttons["EMAIL"].value = False  # a change: the plan is out of date
    assert builder.plan is None
    assert builder.confirm_removal.value is False
    assert builder.confirm_removal.layout.display == "none"

    builder.confirm_removal.value = True  # ticked with no plan on screen
    builder.apply_button.click()  # plans, shows, unticks: nothing removed
    assert builder.plan is not first and builder.confirm_removal.value is False
    assert builder.confirm_removal.description == f"Remove {len(builder.plan.to_remove)} members"
    assert _members(instant_client, pool_id) == before

    builder.confirm_removal.value = True
    builder.preview_button.click()  # previewing again is a new plan: ticked again to apply
    assert builder.confirm_removal.value is False
    removed = len(builder.plan.to_remove)
    assert f'tick "Remove {removed} members" to confirm the removals, then click Apply.' in (
        _text(builder.message.value)
    )


def test_a_plan_that_removes_nothing_needs_no_tick(builder, instant_client):
    builder.target.value = "existing"
    pool_id = builder.pool_choice.options[0][1]
    builder.pool_choice.value = pool_id
    builder.apply_button.click()  # keep mode: adds only, applied in one click as before
    assert builder.confirm_removal.layout.display == "none"
    assert builder.result is not None and builder.result.id == pool_id
    assert "removed 0" in _text(builder.message.value)


# -- a pool deleted since the preview ----------------------------------------------------------


def test_a_pool_deleted_since_the_preview_is_said_to_be_gone_and_not_retried(
    builder, instant_client
):
    builder.target.value = "existing"
    pool_id = builder.pool_choice.options[0][1]
    builder.pool_choice.value = pool_id
    plan = builder.preview()
    assert plan is not None and len(plan.to_add)
    pools_before = len(ct.load_pools(instant_client))
    ct.delete_pool(instant_client, pool_id, confirm=True)

    builder.apply_button.click()

    message = _text(builder.message.value)
    assert message.startswith(
        f"Could not apply the plan: pool {pool_id} no longer exists; it was deleted after "
        "this plan was made."
    )
    assert "Clicking Apply again will not help" in message
    assert "click Apply again to finish" not in message
    assert builder.plan is None and builder.result is None
    assert pool_id not in dict(builder.pool_choice.options).values()

    builder.apply_button.click()  # no retry of the old plan: the target must be chosen again
    assert "Choose the pool to change" in _text(builder.message.value)
    assert len(ct.load_pools(instant_client)) == pools_before - 1


def test_a_pool_deleted_before_the_preview_is_dropped_from_the_list(builder, instant_client):
    builder.target.value = "existing"
    pool_id = builder.pool_choice.options[0][1]
    builder.pool_choice.value = pool_id
    ct.delete_pool(instant_client, pool_id, confirm=True)

    assert builder.preview() is None

    assert _text(builder.message.value) == (
        f"Could not plan the pool: pool {pool_id} no longer exists (it was deleted since the "
        "Pool list was loaded). The list is refreshed: choose another pool."
    )
    assert pool_id not in dict(builder.pool_choice.options).values()
    assert builder.pool_choice.value is None and builder.plan is None
