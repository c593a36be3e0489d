"""The pure functions behind PoolBuilder's controls: filters, tags text, target, planned ids."""

from __future__ import annotations

from datetime import date

import pytest

from commstoolkit.errors import InvalidInputError
from commstoolkit.models import SENDER_CHANNELS
from commstoolkit.widgets._pool_inputs import (
    filter_arguments,
    format_tags,
    parse_tags,
    planned_senders,
    target_arguments,
)


def test_default_controls_filter_on_activated_only():
    assert filter_arguments() == {"statuses": ["ACTIVATED"]}


def test_every_value_switched_on_is_no_filter_and_none_matches_nothing():
    everything = filter_arguments(statuses=("ACTIVATED", "DEACTIVATED"))
    assert everything == {}
    assert filter_arguments(channels=(), statuses=())["channels"] == []


def test_filters_keep_enum_order_and_strip_search():
    found = filter_arguments(channels=("PUSH", "SMS"), search="  acme ")
    assert found["channels"] == ["SMS", "PUSH"]
    assert found["search"] == "acme"


def test_tag_key_without_values_is_no_filter():
    assert "tags" not in filter_arguments(tag_key="team", tag_values=())
    assert filter_arguments(tag_key="team", tag_values=("ops",))["tags"] == {"team": ["ops"]}


def test_created_to_is_inclusive():
    found = filter_arguments(created_from=date(2024, 1, 1), created_to=date(2024, 1, 31))
    assert found["created_after"] == date(2024, 1, 1)
    assert found["created_before"] == date(2024, 2, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", None),
        ("   ", None),
        ("team=ops", {"team": "ops"}),
        (" team = ops , region=uk, ", {"team": "ops", "region": "uk"}),
    ],
)
def test_parse_tags(text, expected):
    assert parse_tags(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("team", "'team' is not key=value"),
        ("=ops", "has no key before '='"),
        ("team=", "has no value after '='"),
        ("team=ops, team=sales", "repeats a key"),
    ],
)
def test_parse_tags_errors_say_what_to_write(text, problem):
    with pytest.raises(InvalidInputError, match=problem) as caught:
        parse_tags(text)
    assert "team=ops, region=uk" in str(caught.value)
    assert caught.value.field == "tags"


def test_format_tags_reads_back():
    tags = {"team": "ops", "region": "uk"}
    assert parse_tags(format_tags(tags)) == tags


def test_new_pool_needs_a_name():
    with pytest.raises(InvalidInputError, match="Name the new pool"):
        target_arguments("new", "  ", "", None)
    assert target_arguments("new", " promo ", "team=ops", None) == {
        "name": "promo",
        "pool_id": None,
        "tags": {"team": "ops"},
    }


def test_existing_pool_needs_a_pool_and_keeps_blank_settings():
    with pytest.raises(InvalidInputError, match="Choose the pool"):
        target_arguments("existing", "", "", None)
    assert target_arguments("existing", "", "", "comms_senderpool_x") == {
        "name": None,
        "pool_id": "comms_senderpool_x",
        "tags": None,
    }


def test_planned_senders_keep_or_replace_members():
    assert planned_senders(["b", "c"], None, "keep") == ["b", "c"]
    assert planned_senders(["b", "c"], ["a", "b"], "keep") == ["a", "b", "c"]
    assert planned_senders(["b", "c"], ["a", "b"], "replace") == ["b", "c"]


def test_channels_are_the_models_enum():
    # The toggles are built from this tuple: a new channel shows up without widget changes.
    assert filter_arguments(channels=SENDER_CHANNELS) == {"statuses": ["ACTIVATED"]}
