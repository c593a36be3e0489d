"""PoolBuilder without a browser: set ``.value``, ``.click()``, check attributes and the sandbox."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pandas as pd
from pandas.testing import assert_frame_equal

import commstoolkit as ct
from commstoolkit.widgets import PoolBuilder

NON_SMS = ["RCS", "EMAIL", "WHATSAPP", "PUSH"]


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html).replace("&#x27;", "'")


def _members(client, pool_id: str) -> set[str]:
    return set(ct.load_pool_members(client, pool_id)["sender_id"])


def _pool_named(client, name: str) -> pd.Series:
    pools = ct.load_pools(client)
    found = pools[pools["name"] == name]
    assert len(found) == 1, f"expected one pool named {name!r}, found {len(found)}"
    return found.iloc[0]


# -- selection ---------------------------------------------------------------------------------


def test_default_selection_is_the_activated_senders(builder, senders):
    assert_frame_equal(builder.selection, ct.select_senders(senders, statuses="ACTIVATED"))
    assert builder.filters == {"statuses": ["ACTIVATED"]}


def test_filters_select_what_select_senders_selects(builder, senders):
    builder.channel_buttons["SMS"].value = False
    builder.status_buttons["DEACTIVATED"].value = True
    builder.search_text.value = "a"
    builder.tag_key.value = "team"
    builder.tag_values.value = ("ops", "support")
    expected = ct.select_senders(
        senders,
        channels=NON_SMS,
        statuses=["ACTIVATED", "DEACTIVATED"],
        search="a",
        tags={"team": ["ops", "support"]},
    )
    assert 0 < len(expected) < len(senders)
    assert_frame_equal(builder.selection, expected)


def test_created_range_includes_both_days(builder, senders):
    first = senders["created_at"].sort_values().iloc[10]
    builder.status_buttons["DEACTIVATED"].value = True
    builder.created_from.value = first.date()
    builder.created_to.value = first.date()
    day = first.normalize()
    expected = ct.select_senders(senders, created_after=day, created_before=day + timedelta(days=1))
    assert first in set(builder.selection["created_at"])
    assert_frame_equal(builder.selection, expected)


def test_tag_key_lists_its_values_and_resets_them(builder, senders):
    builder.tag_key.value = "team"
    assert list(builder.tag_values.options) == sorted(senders["tags.team"].dropna().unique())
    builder.tag_values.value = ("ops",)
    builder.tag_key.value = "region"
    assert builder.tag_values.value == ()
    assert "tags" not in builder.filters


def test_no_channel_switched_on_matches_nothing(builder):
    for button in builder.channel_buttons.values():
        button.value = False
    assert builder.selection.empty
    assert builder.count_label.value == "No sender matches these filters."
    assert builder.preview_table.value == ""


def test_count_label_gives_the_total_and_each_channel(builder, senders):
    builder.channel_buttons["EMAIL"].value = False
    chosen = senders[(senders["status"] == "ACTIVATED") & (senders["channel"] != "EMAIL")]
    counts = chosen["channel"].astype(str).value_counts()
    assert builder.count_label.value == (
        f"{len(chosen)} senders match · SMS {counts['SMS']} · RCS {counts['RCS']} · "
        f"WHATSAPP {counts['WHATSAPP']} · PUSH {counts['PUSH']}"
    )


def test_preview_table_shows_the_first_twenty_rows(builder):
    assert builder.preview_table.value.count("<tr") == 1 + 20
    assert f"First 20 of {len(builder.selection)} senders" in builder.preview_table.value
    builder.search_text.value = builder.selection["address"].iloc[0]
    assert "All 1 sender" in builder.preview_table.value


def test_large_inventory_stays_fast(instant_client, senders):
    # 100,000 senders: each change reselects in well under a second and renders 20 rows.
    big = pd.concat([senders] * 334, ignore_index=True).head(100_000)
    big["sender_id"] = pd.array(
        [f"comms_sender_01h{i:023d}" for i in range(len(big))], dtype="string"
    )
    builder = PoolBuilder(instant_client, senders=big)
    started = time.perf_counter()
    builder.channel_buttons["SMS"].value = False
    builder.search_text.value = "ops"
    builder.status_buttons["DEACTIVATED"].value = True
    elapsed = time.perf_counter() - started
    assert elapsed < 1.5, f"three changes took {elapsed:.2f} s"
    assert len(builder.selection) > 1_000
    assert builder.preview_table.value.count("<tr") == 1 + 20


# -- new pool ----------------------------------------------------------------------------------


def test_preview_then_apply_creates_the_pool(builder, instant_client):
    builder.channel_buttons["SMS"].value = False
    builder.pool_name.value = "widget-pool"
    builder.pool_tags.value = "team=ops, region=uk"
    builder.preview_button.click()
    plan = builder.plan
    assert plan is not None and plan.is_new
    assert set(plan.to_add["sender_id"]) == set(builder.selection["sender_id"])
    shown = builder.output.outputs[0]["data"]["text/html"]
    assert "commstoolkit-pool-plan" in shown and "widget-pool" in shown
    assert "Plan ready: create pool 'widget-pool'" in _text(builder.message.value)

    builder.apply_button.click()
    pool = builder.result
    assert pool is not None and pool.name == "widget-pool"
    assert pool.tags == {"team": "ops", "region": "uk"}
    assert _members(instant_client, pool.id) == set(builder.selection["sender_id"])
    assert _text(builder.message.value) == (
        f"Created pool 'widget-pool' ({pool.id}) with {len(builder.selection)} senders."
    )
    assert builder.plan is plan
    assert builder.apply_button.disabled
    assert pool.id in dict(builder.pool_choice.options).values()


def test_apply_without_preview_plans_first(builder, instant_client):
    builder.pool_name.value = "direct"
    builder.apply_button.click()
    assert builder.plan is not None
    assert _members(instant_client, builder.result.id) == set(builder.selection["sender_id"])


def test_applying_the_same_plan_again_changes_nothing(builder, instant_client):
    builder.pool_name.value = "once"
    builder.apply()
    pools_before = len(ct.load_pools(instant_client))
    assert builder.apply() is builder.result
    assert "applied already" in _text(builder.message.value)
    assert len(ct.load_pools(instant_client)) == pools_before


def test_any_change_makes_the_plan_out_of_date(builder):
    builder.pool_name.value = "later"
    builder.preview()
    assert builder.plan is not None
    builder.search_text.value = "x"
    assert builder.plan is None
    assert builder.output.outputs == ()
    assert builder.message.value == ""


# -- errors: sentences in the widget, never a traceback ------------------------------------------


def _assert_sentence(builder, *fragments: str) -> str:
    text = _text(builder.message.value)
    assert "Traceback" not in text and "File " not in text
    for fragment in fragments:
        assert fragment in text
    return text


def test_empty_name_is_a_sentence(builder, instant_client):
    pools_before = len(ct.load_pools(instant_client))
    builder.pool_name.value = "   "
    builder.apply_button.click()
    _assert_sentence(builder, "Could not plan the pool: Name the new pool first")
    assert builder.plan is None and builder.result is None
    assert len(ct.load_pools(instant_client)) == pools_before


def test_malformed_tags_text_is_a_sentence(builder):
    builder.pool_name.value = "tagged"
    builder.pool_tags.value = "team ops"
    builder.preview_button.click()
    _assert_sentence(builder, "'team ops' is not key=value", "team=ops, region=uk")
    assert builder.plan is None


def test_tags_over_the_api_limits_are_a_sentence(builder):
    builder.pool_name.value = "tagged"
    builder.pool_tags.value = "bad key=x"
    builder.preview_button.click()
    _assert_sentence(builder, "Could not plan the pool", "'bad key'")


def test_server_error_on_create_is_a_sentence(builder, instant_client):
    instant_client.sandbox.faults.add("POST /SenderPools", status=500)
    builder.pool_name.value = "doomed"
    builder.apply_button.click()
    text = _assert_sentence(builder, "Could not apply the plan", "0 of 1 request(s) were made")
    assert "500" in text
    assert builder.result is None
    assert not builder.apply_button.disabled
    assert "doomed" not in set(ct.load_pools(instant_client)["name"])


def test_failure_mid_apply_says_what_was_made_and_apply_again_finishes(builder, instant_client):
    _, pool_id = _choose_pool(builder)
    members = _members(instant_client, pool_id)
    builder.members_mode.value = "replace"
    builder.channel_buttons["SMS"].value = False
    plan = builder.preview()
    assert len(plan.to_add) and len(plan.to_remove)
    # The add goes through; the first removal fails.
    instant_client.sandbox.faults.add(
        "DELETE /SenderPools/{senderPoolId}/Senders/{senderId}", status=500
    )
    builder.confirm_removal.value = True  # the plan removes members: confirmed on screen
    builder.apply_button.click()
    total = len(plan.requests)
    _assert_sentence(
        builder,
        "Could not apply the plan: the request DELETE /SenderPools/",
        f"1 of {total} request(s) were made",
        f"The pool is {pool_id}; click Apply again to finish",
    )
    assert builder.result is None and builder.plan is plan
    assert _members(instant_client, pool_id) == members | set(plan.to_add["sender_id"])

    instant_client.sandbox.faults.clear()
    builder.apply_button.click()
    assert builder.result is not None
    assert _members(instant_client, pool_id) == set(builder.selection["sender_id"])


# -- existing pool -----------------------------------------------------------------------------


def _choose_pool(builder) -> tuple[str, str]:
    builder.target.value = "existing"
    label, pool_id = builder.pool_choice.options[0]
    builder.pool_choice.value = pool_id
    return label, pool_id


def test_choosing_a_pool_fills_its_name_and_tags_and_shows_the_diff(builder, instant_client):
    _, pool_id = _choose_pool(builder)
    pool = _pool_named(instant_client, builder.pool_name.value)
    assert pool["pool_id"] == pool_id
    members = _members(instant_client, pool_id)
    selected = set(builder.selection["sender_id"])
    added = len(selected - members)
    assert _text(builder.diff_label.value) == (
        f"Pool {pool['name']!r} has {len(members)} senders; after applying: "
        f"{len(members | selected)} senders ({added} to add, 0 to remove, "
        f"{len(members)} unchanged)."
    )
    assert "in pool" in builder.preview_table.value


def test_keep_mode_adds_matches_and_removes_nothing(builder, instant_client):
    _, pool_id = _choose_pool(builder)
    members = _members(instant_client, pool_id)
    builder.channel_buttons["EMAIL"].value = False
    plan = builder.preview()
    selected = set(builder.selection["sender_id"])
    assert set(plan.to_add["sender_id"]) == selected - members
    assert plan.to_remove.empty
    assert plan.update == {}
    builder.apply_button.click()
    assert _members(instant_client, pool_id) == members | selected
    assert _text(builder.message.value).startswith(f"Updated pool {builder.pool_name.value!r}")


def test_replace_mode_plans_exactly_the_diff(builder, instant_client):
    _, pool_id = _choose_pool(builder)
    members = _members(instant_client, pool_id)
    builder.members_mode.value = "replace"
    builder.channel_buttons["SMS"].value = False
    plan = builder.preview()
    selected = set(builder.selection["sender_id"])
    assert set(plan.to_add["sender_id"]) == selected - members
    assert set(plan.to_remove["sender_id"]) == members - selected
    assert len(plan.to_remove) > 0
    builder.confirm_removal.value = True
    builder.apply()
    assert _members(instant_client, pool_id) == selected
    assert f"removed {len(members - selected)}" in _text(builder.message.value)


def test_existing_mode_without_a_pool_is_a_sentence(builder):
    builder.target.value = "existing"
    builder.preview_button.click()
    _assert_sentence(builder, "Choose the pool to change")


def test_switching_back_to_new_clears_the_pools_name(builder):
    _choose_pool(builder)
    assert builder.pool_name.value
    builder.target.value = "new"
    assert builder.pool_name.value == "" and builder.pool_tags.value == ""
