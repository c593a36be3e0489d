"""Inventory DataFrames: columns, dtypes, contents, empty frames, bad input."""

from __future__ import annotations

import httpx
import pandas as pd
import pytest

import commstoolkit as ct
from commstoolkit.frames import MEMBER_COLUMNS, POOL_COLUMNS, SENDER_COLUMNS

CHANNELS = ["SMS", "RCS", "EMAIL", "WHATSAPP", "PUSH"]
STATUSES = ["ACTIVATED", "DEACTIVATED"]


def _all_senders_raw(client):
    """Every sender as the API lists it, with no help from frames."""
    return list(client.senders.list())


def test_senders_frame_holds_every_sender_with_the_documented_columns(client):
    frame = ct.load_senders(client)
    raw = _all_senders_raw(client)
    assert list(frame.columns[: len(SENDER_COLUMNS)]) == list(SENDER_COLUMNS)
    assert len(frame) == len(raw) == client.sandbox.state()["senders"]
    assert frame["sender_id"].is_unique
    assert set(frame["sender_id"]) == {s.id for s in raw}
    first = raw[0]
    row = frame.set_index("sender_id").loc[first.id]
    assert row["address"] == first.address
    assert row["channel"] == first.channel
    assert row["created_at"] == pd.Timestamp(first.created_at)


def test_senders_frame_dtypes(client):
    frame = ct.load_senders(client)
    assert list(frame["channel"].cat.categories) == CHANNELS
    assert list(frame["status"].cat.categories) == STATUSES
    assert str(frame["created_at"].dt.tz) == "UTC"
    assert str(frame["updated_at"].dt.tz) == "UTC"
    assert isinstance(frame["sender_id"].dtype, pd.StringDtype)
    assert frame["created_at"].notna().all()


def test_every_channel_and_status_appears_in_the_seeded_account(client):
    frame = ct.load_senders(client)
    counts = pd.crosstab(frame["channel"], frame["status"])
    assert (counts["ACTIVATED"] > 0).all()
    assert counts["DEACTIVATED"].sum() > 0


def test_tags_become_one_column_per_key(client):
    frame = ct.load_senders(client)
    tag_columns = [c for c in frame.columns if c.startswith("tags.")]
    assert tag_columns, "the seeded account tags its senders"
    raw = {s.id: s.tags for s in _all_senders_raw(client)}
    for column in tag_columns:
        key = column.removeprefix("tags.")
        expected = [raw[sid].get(key) for sid in frame["sender_id"]]
        got = [None if pd.isna(v) else v for v in frame[column]]
        assert got == expected


def test_filters_are_applied_and_categories_stay_complete(client):
    frame = ct.load_senders(client, channel="SMS", status="ACTIVATED")
    assert len(frame) > 0
    assert set(frame["channel"]) == {"SMS"}
    assert set(frame["status"]) == {"ACTIVATED"}
    assert list(frame["channel"].cat.categories) == CHANNELS
    counts = frame["channel"].value_counts()
    assert counts["PUSH"] == 0  # empty categories still show in counts


def test_filter_lists_combine(client):
    both = ct.load_senders(client, channel=["SMS", "RCS"])
    sms = ct.load_senders(client, channel="SMS")
    rcs = ct.load_senders(client, channel="RCS")
    assert len(both) == len(sms) + len(rcs)
    assert set(both["channel"]) == {"SMS", "RCS"}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"channel": "FAX"}, "channel"),
        ({"status": "active"}, "status"),
        ({"channel": ["SMS", "fax"]}, "channel"),  # "sms" is SMS (item 7): a list with an unknown
        ({"channel": []}, "channel"),
    ],
)
def test_bad_filters_fail_before_any_request(kwargs, field):
    def refuse(request):
        raise AssertionError(f"no request expected, got {request.method} {request.url}")

    client = ct.CommsClient(
        account_sid="AC" + "1" * 32,
        auth_token="not-a-real-token",
        transport=httpx.MockTransport(refuse),
    )
    with pytest.raises(ct.InvalidInputError) as caught:
        ct.load_senders(client, **kwargs)
    assert caught.value.field == field
    assert "ACTIVATED" in str(caught.value) or "WHATSAPP" in str(caught.value)


def _empty_client():
    def empty(request):
        key = "senderPools" if request.url.path.endswith("/SenderPools") else "senders"
        return httpx.Response(200, json={key: [], "pagination": {"next": None, "self": "x"}})

    return ct.CommsClient(
        account_sid="AC" + "1" * 32,
        auth_token="not-a-real-token",
        transport=httpx.MockTransport(empty),
    )


def test_empty_results_keep_columns_and_dtypes(client):
    full = ct.load_senders(client)
    empty = ct.load_senders(_empty_client())
    assert len(empty) == 0
    assert list(empty.columns) == list(SENDER_COLUMNS)
    assert empty.dtypes.to_dict() == full[list(SENDER_COLUMNS)].dtypes.to_dict()
    pools = ct.load_pools(_empty_client())
    assert list(pools.columns) == list(POOL_COLUMNS)
    assert len(pools) == 0
    members = ct.load_pool_members(_empty_client())
    assert list(members.columns) == list(MEMBER_COLUMNS)
    assert members["channel"].dtype == full["channel"].dtype


def test_pools_frame_counts_members(client):
    pools = ct.load_pools(client)
    members = ct.load_pool_members(client)
    assert len(pools) == 3  # the seeded account has three pools
    assert list(pools.columns[: len(POOL_COLUMNS)]) == list(POOL_COLUMNS)
    per_pool = members.groupby("pool_id", observed=True)
    for pool in pools.itertuples():
        group = per_pool.get_group(pool.pool_id)
        assert pool.size == len(group)
        assert pool.n_activated == (group["status"] == "ACTIVATED").sum()
        assert pool.n_activated + pool.n_deactivated == pool.size
        assert pool.channels == ", ".join(sorted(set(group["channel"])))
    assert (members.groupby("sender_id")["pool_id"].nunique() > 1).any(), "seeded pools overlap"


def test_members_frame_matches_the_api(client):
    pool = next(iter(client.sender_pools.list()))
    frame = ct.load_pool_members(client, pool_ids=pool.id)
    api = list(client.sender_pools.members.list(pool.id))
    assert list(frame.columns) == list(MEMBER_COLUMNS)
    assert list(frame["sender_id"]) == [s.id for s in api]
    assert set(frame["pool_name"]) == {pool.name}


def test_members_of_an_unknown_pool_is_not_found(client):
    with pytest.raises(ct.NotFoundError):
        ct.load_pool_members(client, pool_ids=["comms_senderpool_01h9krwprkeee8fzqspvwy6nq8"])


def test_members_of_a_new_empty_pool_is_an_empty_typed_frame(client):
    operation = client.wait(client.sender_pools.create(name="empty"), timeout=30)
    pool = client.sender_pools.find_created(operation)
    frame = ct.load_pool_members(client, pool_ids=[pool.id])
    assert len(frame) == 0
    assert list(frame["channel"].cat.categories) == CHANNELS


def test_many_pages_load_completely():
    with ct.connect(sandbox=True, db=":memory:", senders=2600, seed=3, quiet=True) as big:
        frame = ct.load_senders(big, progress=False)
        assert len(frame) == 2600
        assert frame["sender_id"].is_unique
