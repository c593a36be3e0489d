"""``load_traffic`` on the sandbox: the same messages as the API lists, with their pool and
country; the window, the pool filter, the comparison window and the attempt sample."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import phonenumbers
import pytest

import commstoolkit as ct
from commstoolkit.analysis import columns as cols
from commstoolkit.analysis.traffic import load_traffic
from commstoolkit.frames import MESSAGE_COLUMNS, load_messages

from .conftest import NUMBERS


def test_the_frame_is_every_message_of_the_window_with_pool_and_country(account):
    client, pools, start, end = account
    frame = load_traffic(client, start, end)
    listed = load_messages(client, details=False)
    assert len(frame) == len(listed) == 3 * (2 * len(NUMBERS) + 2)
    assert list(frame.columns) == list(cols.TRAFFIC_COLUMNS)
    assert dict(frame.dtypes) == {c: frame[c].dtype for c in cols.TRAFFIC_COLUMNS}
    for column, dtype in cols.TRAFFIC_DTYPES.items():
        assert frame[column].dtype == dtype, column
    # The same messages and values as the messages frame (attempts not loaded in both).
    mine = frame.set_index("message_id").sort_index()
    theirs = listed.set_index("message_id").sort_index()
    pd.testing.assert_frame_equal(
        mine[list(MESSAGE_COLUMNS[1:])], theirs[list(MESSAGE_COLUMNS[1:])], check_like=False
    )
    # Each message's pool is the one it was sent through; the direct send has none.
    raw = {m.id: m for m in client.messages.list()}
    for row in frame.itertuples():
        assert (None if pd.isna(row.pool_id) else row.pool_id) == raw[row.message_id].sender_pool_id
        want = phonenumbers.region_code_for_number(phonenumbers.parse(row.to))
        assert row.to_country == want
    names = {v: k for k, v in pools.items()}
    in_pools = frame.dropna(subset=["pool_id"])
    assert (in_pools["pool_name"] == in_pools["pool_id"].map(names)).all()
    assert frame["pool_id"].isna().sum() == 6
    assert frame["created_at"].is_monotonic_increasing
    assert frame.attrs["window"] == (pd.Timestamp(start), pd.Timestamp(end))


def test_the_window_bounds_creation_time_start_inclusive_end_exclusive(account):
    client, _, start, _ = account
    day_two = start + timedelta(days=1)
    frame = load_traffic(client, day_two, day_two + timedelta(days=1))
    assert len(frame) == 2 * len(NUMBERS) + 2
    assert (frame["created_at"] >= pd.Timestamp(day_two)).all()
    assert (frame["created_at"] < pd.Timestamp(day_two + timedelta(days=1))).all()
    # A length counts back from the end.
    again = load_traffic(client, "1d", day_two + timedelta(days=1))
    assert list(again["message_id"]) == list(frame["message_id"])


def test_pools_by_name_or_id_and_the_comparison_window(account):
    client, pools, start, end = account
    east = load_traffic(client, start, end, pools="East")
    assert set(east["pool_id"]) == {pools["East"]} and len(east) == 3 * len(NUMBERS)
    both = load_traffic(client, start, end, pools=[pools["West"], "East"])
    assert set(both["pool_id"]) == set(pools.values())
    last = start + timedelta(days=2)
    compared = load_traffic(client, last, last + timedelta(days=1), compare=True)
    assert compared.attrs["previous"] == (
        pd.Timestamp(last - timedelta(days=1)),
        pd.Timestamp(last),
    )
    assert len(compared) == 2 * (2 * len(NUMBERS) + 2)
    health = ct.analysis.traffic_health(compared, "pool")
    assert set(health["prev_rated"]) != {0}


def test_the_attempt_sample_is_stratified_by_sender_and_says_its_size(account):
    client, _, start, end = account
    frame = load_traffic(client, start, end, details="sample", sample_size=2, seed=1)
    sampled = frame[frame["n_attempts"].notna()]
    per_sender = sampled.groupby("sender_id", dropna=False).size()
    everyone = frame.groupby("sender_id", dropna=False).size()
    assert (per_sender == everyone.clip(upper=2).reindex(per_sender.index)).all()
    assert set(per_sender.index) == set(everyone.index)
    assert frame.attrs["details"] == {"mode": "sample", "messages": len(sampled), "per_sender": 2}
    rate = ct.metrics.fallback_rate(frame)
    assert rate.excluded.get("attempts_not_loaded") == len(frame) - len(sampled)
    # The sampled rows carry what fetching each message says.
    for row in sampled.itertuples():
        message = client.messages.get(row.message_id)
        assert row.n_attempts == message.n_attempts and row.fallback == message.fallback
    # A different seed, another sample (of the same size per sender).
    other = load_traffic(client, start, end, details="sample", sample_size=2, seed=2)
    assert other.attrs["details"]["messages"] == len(sampled)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"start": "7x"}, "start"),
        ({"start": "2026-11-02", "end": "2026-11-01"}, "end"),
        ({"start": "1d", "end": "2d"}, "end"),
        ({"start": "1d", "details": "every"}, "details"),
        ({"start": "1d", "details": "sample", "sample_size": 0}, "sample_size"),
        ({"start": "1d", "channel": "FAX"}, "channel"),
        ({"start": "1d", "compare": "yes"}, "compare"),
    ],
)
def test_bad_input_names_the_field_before_any_request(kwargs, field):
    class NoNetwork:
        def __getattr__(self, name):
            raise AssertionError(f"a request was about to be made ({name})")

    offline = ct.CommsClient(
        account_sid="AC" + "0" * 32, auth_token="x" * 32, base_url="http://127.0.0.1:9", live=False
    )
    offline.sender_pools.list = NoNetwork  # type: ignore[method-assign]
    with pytest.raises(ct.InvalidInputError) as error:
        load_traffic(offline, **kwargs)
    assert error.value.field == field


def test_an_unknown_pool_name_lists_the_accounts_pools(account):
    client, _, start, end = account
    with pytest.raises(ct.InvalidInputError, match=r"no pool has the id or name 'North'.*'East'"):
        load_traffic(client, start, end, pools="North")


def test_the_country_of_every_regions_example_numbers_is_phonenumbers_own():
    checked = 0
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
            want = phonenumbers.region_code_for_number(phonenumbers.parse(e164))
            assert cols.country_of(e164) == want, e164
            checked += 1
    assert checked > 400
    assert cols.country_of(None) is None and cols.country_of("whatsapp:+1") is None
