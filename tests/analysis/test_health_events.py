"""``traffic_health(..., events=)`` and ``error_codes``: on the sandbox's traffic history and
its events as a Kinesis stream delivered to storage would leave them (JSON lines per day),
every ``ev_*`` number is recomputed here from the raw JSON lines with plain Python (the
``json`` module, dictionaries, numpy's percentile, the Wilson formula), never through
``commstoolkit.metrics`` or ``load_events``."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import commstoolkit as ct
from commstoolkit import charts
from commstoolkit.analysis import HEALTH_COLUMNS, HEALTH_EVENT_COLUMNS, error_codes, traffic_health
from tests.test_metrics_item4 import _wilson  # checked there against published values

FILL = {"sender_id": "no sender", "channel": "no sender", "pool_id": "no pool"}
KEYS = {"sender": "sender_id", "channel": "channel", "pool": "pool_id", "day": "day"}


@pytest.fixture(scope="module")
def history(event_history):
    return event_history


def _time(text: str) -> pd.Timestamp:
    return pd.Timestamp(datetime.fromisoformat(text.replace("Z", "+00:00")))


def _expected(traffic: pd.DataFrame, raw: list[dict], by: str) -> dict:
    """Every ev_* number per group, from the traffic rows and the raw events."""
    key = KEYS[by]
    group, created, status = {}, {}, {}
    for row in traffic.itertuples():
        if key == "day":
            group[row.message_id] = row.created_at.floor("D")
        else:
            value = getattr(row, key)
            group[row.message_id] = FILL[key] if pd.isna(value) else value
        created[row.message_id] = row.created_at
        status[row.message_id] = (row.status, not pd.isna(row.sender_id))
    steps = defaultdict(dict)  # message -> (attempt, status) -> first time
    attempt_group, failed = {}, {}
    for event in raw:
        data = event["data"]
        message = data.get("message_id")
        if not event["type"].startswith("com.twilio.comms-api.message.") or message not in group:
            continue
        stage = event["type"].rsplit(".", 1)[1].upper()
        at = _time(event["time"])
        steps[message][(data["attempt"], stage)] = min(
            at, steps[message].get((data["attempt"], stage), at)
        )
        if data["attempt"] >= 1:
            where = {"sender": data["from"]["id"], "channel": data["from"]["channel"]}
            attempt_group[(message, data["attempt"])] = where.get(by, group[message])
            if stage in ("UNDELIVERED", "FAILED"):
                failed[(message, data["attempt"])] = data["error_code"]
    out = defaultdict(lambda: {"ev_messages": 0, "ttd": [], "ttr": [], "ev_attempts": 0,
                               "codes": Counter()})  # fmt: skip
    for message, moments in steps.items():
        mine = out[group[message]]
        mine["ev_messages"] += 1
        last = max(n for n, _ in moments)
        final, has_sender = status[message]
        moment = moments.get((last, "DELIVERED" if final == "READ" else final))
        if has_sender and moment is not None:
            mine["ttd"].append((moment - created[message]).total_seconds())
        if final == "READ":
            mine["ttr"].append((moments[(last, "READ")] - created[message]).total_seconds())
    for attempt, where in attempt_group.items():
        out[where]["ev_attempts"] += 1
        if attempt in failed:
            out[where]["codes"][failed[attempt]] += 1
    return out


def _close(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or abs(a - b) < 1e-6


@pytest.mark.parametrize("by", ["sender", "channel", "pool", "day"])
def test_every_event_number_is_the_raw_events(history, by):
    traffic, members, events, raw, _, *_ = history
    health = traffic_health(traffic, by=by, events=events, members=members)
    assert list(health.columns[-len(HEALTH_EVENT_COLUMNS) :]) == list(HEALTH_EVENT_COLUMNS)
    expected = _expected(traffic, raw, by)
    key = KEYS[by]
    shown = {row[key]: row for row in health.to_dict("records")}
    assert {k for k, v in expected.items() if v["ev_attempts"] or v["ev_messages"]} <= set(shown)
    assert sum(v["ev_messages"] for v in expected.values()) == len(traffic)  # every message
    for group, row in shown.items():
        want = expected.get(group, {"ev_messages": 0, "ttd": [], "ttr": [], "ev_attempts": 0,
                                    "codes": Counter()})  # fmt: skip
        assert row["ev_messages"] == want["ev_messages"], group
        for name, values in (("ev_ttd", want["ttd"]), ("ev_ttr", want["ttr"])):
            assert row[f"{name}_n"] == len(values), (group, name)
            for q in (50, 90):
                point = float(np.percentile(values, q)) if values else math.nan
                assert _close(row[f"{name}_p{q}_s"], point), (group, name, q)
        assert row["ev_attempts"] == want["ev_attempts"], group
        codes = want["codes"]
        total = sum(codes.values())
        assert row["ev_failed_attempts"] == total, group
        if not total:
            assert pd.isna(row["ev_top_error_code"]) and row["ev_top_error_count"] == 0
            assert math.isnan(row["ev_top_error_share"])
            continue
        top = min(codes, key=lambda code: (-codes[code], code))
        assert (row["ev_top_error_code"], row["ev_top_error_count"]) == (top, codes[top])
        assert row["ev_top_error_share"] == pytest.approx(codes[top] / total)
        low, high = _wilson(codes[top], total)
        assert (row["ev_top_error_low"], row["ev_top_error_high"]) == pytest.approx((low, high))


def test_the_health_columns_are_unchanged_by_events(history):
    traffic, _, events, _, _, *_ = history
    plain = traffic_health(traffic, by="pool")
    with_events = traffic_health(traffic, by="pool", events=events)
    pd.testing.assert_frame_equal(with_events[list(plain.columns)], plain)


def test_events_time_the_read_messages_polling_cannot(history):
    traffic, _, events, _, _, *_ = history
    health = traffic_health(traffic, by="channel", events=events)
    rcs = health.set_index("channel").loc["RCS"]
    read = int(((traffic["status"] == "READ") & (traffic["channel"] == "RCS")).sum())
    assert read > 0
    assert rcs["ttd_n"] + read == rcs["ev_ttd_n"] == rcs["delivered"] + rcs["errors"]


def test_a_sender_whose_every_attempt_fell_back_shows_with_its_error_code(history):
    traffic, members, events, raw, rcs, *_ = history
    carried = set(traffic["sender_id"].dropna())
    assert rcs not in carried  # it carried no message to the end
    health = traffic_health(traffic, by="sender", events=events, members=members)
    row = health.set_index("sender_id").loc[rcs]
    assert (row["messages"], row["ev_attempts"], row["ev_failed_attempts"]) == (0, 1, 1)
    assert (row["ev_top_error_code"], row["ev_top_error_share"]) == (61337, 1.0)
    assert row["channel"] == "RCS"
    # Without the members nothing names the address of a sender that carried no message to
    # the end: its attempts are counted as unplaced.
    alone = traffic_health(traffic, by="sender", events=events)
    unplaced = {
        (e["data"]["message_id"], e["data"]["attempt"])
        for e in raw
        if e["type"].startswith("com.twilio.comms-api.message.")
        and e["data"]["attempt"] >= 1
        and e["data"]["from"]["id"] not in carried
    }
    assert rcs not in set(alone["sender_id"])
    assert alone.attrs["unattributed_attempts"] == len(unplaced) >= 1
    assert health.attrs["unattributed_attempts"] == 0


def test_error_codes_per_channel_are_the_raw_failed_attempts(history):
    traffic, _, events, raw, _, *_ = history
    table = error_codes(events, traffic, by="channel")
    in_window = set(traffic["message_id"])
    counted = Counter()
    for event in raw:
        data = event["data"]
        failed = event["type"].endswith((".undelivered", ".failed"))
        if failed and data.get("attempt", 0) >= 1 and data["message_id"] in in_window:
            counted[(data["from"]["channel"], data["error_code"])] += 1
    got = {(r.channel, r.error_code): r.count for r in table.itertuples()}
    assert got == dict(counted)
    for row in table.itertuples():
        total = sum(n for (channel, _), n in counted.items() if channel == row.channel)
        assert row.failed_attempts == total
        assert (row.share_low, row.share_high) == pytest.approx(_wilson(row.count, total))
    every = error_codes(events)
    assert every["count"].sum() == sum(
        1 for e in raw if e["type"].endswith((".undelivered", ".failed")) and e["data"]["attempt"]
    )


def test_bad_event_input_is_named(history, tmp_path: Path):
    traffic, _, events, _, _, *_ = history
    with pytest.raises(ct.InvalidInputError, match="events") as caught:
        traffic_health(traffic, by="pool", events=traffic)
    assert caught.value.field == "events"
    with pytest.raises(ct.InvalidInputError, match="needs traffic=") as caught:
        error_codes(events, by="sender")
    assert caught.value.field == "traffic"
    with pytest.raises(ct.InvalidInputError, match="by='nope'"):
        error_codes(events, traffic, by="nope")
    assert set(HEALTH_COLUMNS).isdisjoint(HEALTH_EVENT_COLUMNS)
    dataset = history[-1]
    for wrong in (42, [42]):
        for traffic_or_dataset in (traffic, dataset):
            with pytest.raises(ct.InvalidInputError, match="events: expected") as caught:
                traffic_health(traffic_or_dataset, by="pool", events=wrong)
            assert caught.value.field == "events"
    for where, said in ((tmp_path / "nowhere", "does not exist"), (tmp_path, "no event files")):
        with pytest.raises(ct.InvalidInputError, match=said) as caught:
            traffic_health(dataset, by="pool", events=where)
        assert caught.value.field == "events" and str(where) in str(caught.value)


@pytest.mark.parametrize("by", ["sender", "channel", "pool", "day", "hour"])
def test_duckdb_counts_the_event_files_as_pandas_counts_the_events(history, by):
    """A dataset's event columns, counted in DuckDB over the JSON-lines files (or over the
    events frame), are the frame's, counted in pandas; the frame also takes the folder."""
    traffic, members, events, _, _, stream, dataset = history
    in_pandas = traffic_health(traffic, by=by, events=events, members=members)
    start, end = traffic.attrs["window"]
    for source in (stream, events):
        in_duckdb = traffic_health(dataset, by=by, start=start, end=end, events=source,
                                   members=members)  # fmt: skip
        pd.testing.assert_frame_equal(in_duckdb, in_pandas, check_exact=False, rtol=1e-9)
        assert in_duckdb.attrs == in_pandas.attrs
    from_files = traffic_health(traffic, by=by, events=stream, members=members)
    pd.testing.assert_frame_equal(from_files, in_pandas)


def test_the_error_code_chart_draws_each_channels_shares_with_their_intervals(history):
    traffic, _, events, raw, *_ = history
    in_window = set(traffic["message_id"])
    counted: dict[str, Counter] = defaultdict(Counter)
    for event in raw:
        data = event["data"]
        failed = event["type"].endswith((".undelivered", ".failed"))
        if failed and data.get("attempt", 0) >= 1 and data["message_id"] in in_window:
            counted[data["from"]["channel"]][str(data["error_code"])] += 1
    fig = charts.error_codes(error_codes(events, traffic, by="channel"))
    assert {trace.name for trace in fig.data} == set(counted)
    for trace in fig.data:
        codes, total = counted[trace.name], sum(counted[trace.name].values())
        assert dict(zip(trace.y, trace.x, strict=True)) == pytest.approx(
            {code: n / total for code, n in codes.items()}
        )
        lows = [codes[c] / total - _wilson(codes[c], total)[0] for c in trace.y]
        assert list(trace.error_x.arrayminus) == pytest.approx(lows)
        assert trace.marker.color == charts.CHANNEL_COLORS[trace.name]
    every = sum(sum(c.values()) for c in counted.values())
    assert f"share of {every:,} failed attempts" in fig.layout.title.subtitle.text
    overall = charts.error_codes(error_codes(events, traffic), top=2)
    assert len(overall.data) == 1 and len(overall.data[0].y) == 2
    assert overall.data[0].y[0] == str(max(
        (code for c in counted.values() for code in c),
        key=lambda code: sum(c[code] for c in counted.values()),
    ))  # fmt: skip
    empty = charts.error_codes(error_codes(events.iloc[:0]))
    assert empty.data == () and empty.layout.title.text.endswith("no data (no failed attempt)")
    refused = r"no columns 'count', 'share'.*an error-code table"
    with pytest.raises(ct.InvalidInputError, match=refused):
        charts.error_codes(traffic)


def test_attempts_that_failed_without_a_code_count_under_no_code(history):
    """Codes dropped from every failed attempt but the 30008s: "no code" is the most
    frequent code wherever it outnumbers them, and is shown as such (NA), not skipped."""
    traffic, _, events, *_, dataset = history
    failed = events["status"].isin(["UNDELIVERED", "FAILED"]).to_numpy(bool)
    made = (events["attempt"].fillna(0) > 0).to_numpy(bool)
    kept = (events["error_code"] == 30008).fillna(False).to_numpy(bool)
    uncoded = events.copy()
    uncoded.loc[failed & ~kept, "error_code"] = pd.NA
    attempts = uncoded.loc[failed & made & uncoded["message_id"].isin(traffic["message_id"])]
    per_channel = Counter(
        zip(attempts["sender_channel"], attempts["error_code"].isna(), strict=True)
    )
    assert any(per_channel[(c, False)] for c in ("RCS", "SMS"))  # some 30008s stay
    health = traffic_health(traffic, by="channel", events=uncoded)
    for row in health.itertuples():
        no_code, coded = per_channel[(row.channel, True)], per_channel[(row.channel, False)]
        assert row.ev_failed_attempts == no_code + coded
        if no_code > coded:
            assert pd.isna(row.ev_top_error_code) and row.ev_top_error_count == no_code
    start, end = traffic.attrs["window"]
    in_duckdb = traffic_health(dataset, by="channel", start=start, end=end, events=uncoded)
    pd.testing.assert_frame_equal(in_duckdb, health, check_exact=False, rtol=1e-9)


def test_a_failed_event_delivered_twice_counts_its_first_copys_code(history):
    """A sink may deliver an event twice: the first copy (here without a code) is the
    attempt's, in DuckDB as in pandas (DuckDB's arg_min would skip the missing code)."""
    traffic, _, events, *_, dataset = history
    failed = events["status"].isin(["UNDELIVERED", "FAILED"]) & (events["attempt"] > 0)
    first = events.loc[failed.fillna(False).to_numpy(bool)].copy()
    first["error_code"] = pd.NA
    first["time"] = first["time"] - pd.Timedelta("1ms")
    twice = pd.concat([events, first], ignore_index=True)
    health = traffic_health(traffic, by="channel", events=twice)
    assert pd.isna(health["ev_top_error_code"]).all()  # every attempt's code: none
    assert (health["ev_top_error_share"].dropna() == 1.0).all()
    start, end = traffic.attrs["window"]
    in_duckdb = traffic_health(dataset, by="channel", start=start, end=end, events=twice)
    pd.testing.assert_frame_equal(in_duckdb, health, check_exact=False, rtol=1e-9)
