"""Charts: each figure's data matches the frame it was given (counts, order, every channel).

Inventory and pool charts draw real frames from the sandbox; message charts draw synthetic
frames with the columns and dtypes of ``frames.messages_frame`` / ``attempts_frame``.
Figures are inspected through their data, never rendered.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest

import commstoolkit as ct
from commstoolkit import charts
from commstoolkit.charts import _base as charts_base
from commstoolkit.frames import (
    MEMBER_COLUMNS,
    MESSAGE_COLUMNS,
    SENDER_COLUMNS,
    attempts_frame,
    messages_frame,
)
from commstoolkit.models import (
    MESSAGE_CHANNELS,
    SENDER_CHANNELS,
    SENDER_STATUSES,
    Attempt,
    Message,
)

T0 = pd.Timestamp("2024-04-05 06:20:00", tz="UTC")
FINAL = ("DELIVERED", "READ", "UNDELIVERED", "FAILED", "CANCELED")

# A small test send, one line per sender: (sender_id, address, channel, statuses, fallbacks).
# Fallbacks cycle over the sender's messages; None is "attempts not loaded".
SEND = [
    ("s_good", "+14155550101", "SMS", ["DELIVERED"] * 9 + ["UNDELIVERED"], [False, True, None]),
    ("s_rcs", "rcs:brand_agent", "RCS", ["READ"] * 6 + ["DELIVERED"] * 2, [False]),
    ("s_bad", "+14155550103", "SMS", ["DELIVERED"] * 3 + ["FAILED"] * 2 + ["UNDELIVERED"], [True]),
    ("s_slow", "+14155550104", "SMS", ["DELIVERED"] * 5 + ["SENT", "QUEUED"], [False, None]),
    ("s_wa", "whatsapp:+14155550105", "WHATSAPP", ["DELIVERED", "READ", "FAILED"], [False]),
]
LATENCY = {"SMS": 4.0, "RCS": 2.0, "WHATSAPP": 3.0}


def _messages(rows: list[dict]) -> pd.DataFrame:
    """A messages frame from partial rows, with the dtypes of ``frames.messages_frame``."""
    dtypes = messages_frame([]).dtypes.to_dict()
    full = []
    for n, row in enumerate(rows):
        created = T0 + pd.Timedelta(seconds=n)
        final = row["status"] in FINAL
        latency = row.get("latency_s", LATENCY.get(row.get("channel"), 5.0) + n % 3)
        full.append(
            {
                "message_id": f"comms_message_{n:04d}",
                "operation_id": "comms_operation_0001",
                "to": f"+1415555{n:04d}",
                "to_channel": "WHATSAPP" if row.get("channel") == "WHATSAPP" else "PHONE",
                "n_attempts": None if row.get("fallback") is None else 1 + bool(row["fallback"]),
                "error_code": 30003 if row["status"] == "UNDELIVERED" else None,
                "created_at": created,
                "updated_at": created + pd.Timedelta(seconds=latency if final else 1),
                "latency_s": latency if final else np.nan,
                **row,
            }
        )
    return pd.DataFrame(full, columns=list(MESSAGE_COLUMNS)).astype(dtypes)


def _send_rows() -> list[dict]:
    rows = []
    for sender_id, address, channel, statuses, fallbacks in SEND:
        for i, status in enumerate(statuses):
            rows.append(
                {
                    "sender_id": sender_id,
                    "sender_address": address,
                    "channel": channel,
                    "status": status,
                    "fallback": fallbacks[i % len(fallbacks)],
                }
            )
    # Unaddressable: FAILED at once, no sender, no attempt.
    rows.append(
        {
            "sender_id": None,
            "sender_address": None,
            "channel": None,
            "status": "FAILED",
            "fallback": False,
            "latency_s": 0.0,
        }
    )
    return rows


@pytest.fixture
def send() -> pd.DataFrame:
    return _messages(_send_rows())


@pytest.fixture
def attempts() -> pd.DataFrame:
    """Attempts of three messages, built by ``frames.attempts_frame`` from API models."""
    t0 = datetime(2024, 4, 5, 6, 20, tzinfo=timezone.utc)

    def attempt(channel: str, status: str, seconds: int) -> Attempt:
        at = t0 + timedelta(seconds=seconds)
        return Attempt(f"s_{channel}", f"{channel}-addr", channel, None, status, at, None, None)

    def message(n: int, status: str, *tried: Attempt) -> Message:
        last = tried[-1]
        return Message(
            f"comms_message_{n}", "comms_operation_1", status, f"+1415555000{n}", "PHONE",
            last.sender_id, last.sender_address, last.channel, None, {}, None, t0, t0, tried,
        )  # fmt: skip

    return attempts_frame(
        [
            message(1, "DELIVERED", attempt("RCS", "FAILED", 0), attempt("SMS", "DELIVERED", 12)),
            message(2, "READ", attempt("RCS", "READ", 3)),
            message(3, "UNDELIVERED", attempt("SMS", "UNDELIVERED", 14)),
        ]
    )


@pytest.fixture
def senders(client) -> pd.DataFrame:
    return ct.load_senders(client)


@pytest.fixture
def members(client) -> pd.DataFrame:
    return ct.load_pool_members(client)


def _bars(fig: go.Figure, horizontal: bool = False) -> dict[str, dict[str, float]]:
    """{trace name: {category: value}} of a bar chart."""
    out = {}
    for trace in fig.data:
        categories, values = (trace.y, trace.x) if horizontal else (trace.x, trace.y)
        out[trace.name] = {str(c): float(v) for c, v in zip(categories, values, strict=True)}
    return out


def _crosstab(rows: pd.Series, columns: pd.Series) -> dict[str, dict[str, float]]:
    """{column value: {row value: count}}, computed with pandas, independently of charts."""
    table = pd.crosstab(rows, columns, dropna=False)
    return {str(c): {str(r): float(table.at[r, c]) for r in table.index} for c in table.columns}


# -- the template ------------------------------------------------------------------------


def test_the_project_template_is_registered_with_a_fixed_colour_per_channel_and_status():
    template = pio.templates["commstoolkit"]
    assert template == charts.TEMPLATE
    colours = charts.COLORS
    assert list(template.layout.colorway[:5]) == [colours[c] for c in SENDER_CHANNELS]
    assert len({colours[c] for c in SENDER_CHANNELS}) == 5
    assert colours["DELIVERED"] != colours["READ"] and colours["FAILED"] != colours["UNDELIVERED"]
    finals = {colours[s] for s in ("DELIVERED", "READ", "UNDELIVERED", "FAILED")}
    assert len(finals) == 4
    assert not finals & {colours[c] for c in SENDER_CHANNELS}
    assert template.layout.font.family and template.layout.margin.t


def test_a_status_keeps_its_colour_whatever_else_the_frame_holds():
    only_failed = charts.send_outcomes(_messages([{"channel": "SMS", "status": "FAILED"}]))
    mixed = charts.send_outcomes(
        _messages([{"channel": "SMS", "status": s} for s in ("DELIVERED", "QUEUED", "FAILED")])
    )
    colour = {t.name: t.marker.color for t in mixed.data}
    assert only_failed.data[0].marker.color == colour["FAILED"] == charts.COLORS["FAILED"]
    assert colour["DELIVERED"] == charts.COLORS["DELIVERED"]


# -- inventory ---------------------------------------------------------------------------


def test_inventory_counts_senders_by_channel_and_status(senders):
    fig = charts.inventory(senders)
    assert _bars(fig) == _crosstab(senders["channel"], senders["status"])
    assert [t.name for t in fig.data] == list(SENDER_STATUSES)
    for trace in fig.data:
        assert list(trace.x) == list(SENDER_CHANNELS)
        assert trace.marker.color == charts.COLORS[trace.name]
    assert fig.layout.barmode == "stack"
    assert fig.layout.title.text == "Senders by channel and status"
    assert f"{len(senders)} senders" in fig.layout.title.subtitle.text
    assert fig.layout.xaxis.title.text == "Channel" and fig.layout.yaxis.title.text == "Senders"
    assert "%{customdata[0]}" in fig.data[0].hovertemplate
    assert [w for (w,) in fig.data[0].customdata] == [
        f"{int(n):,} sender{'' if n == 1 else 's'}" for n in fig.data[0].y
    ]


def test_inventory_shows_every_channel_even_without_senders(senders):
    sms_only = senders[senders["channel"] == "SMS"]
    plain = sms_only.astype({"channel": str, "status": str})  # no categories to lean on
    for frame in (sms_only, plain):
        bars = _bars(charts.inventory(frame))
        assert list(bars["ACTIVATED"]) == list(SENDER_CHANNELS)
        assert bars["ACTIVATED"]["PUSH"] == bars["DEACTIVATED"]["RCS"] == 0
        assert bars["ACTIVATED"]["SMS"] == (sms_only["status"] == "ACTIVATED").sum()


def test_a_missing_value_is_counted_as_unknown_never_dropped(senders):
    holes = senders.copy()
    holes.loc[holes.index[:3], "status"] = pd.NA
    bars = _bars(charts.inventory(holes))
    assert sum(sum(counts.values()) for counts in bars.values()) == len(holes)
    assert sum(bars["unknown"].values()) == 3
    outcomes = _bars(charts.send_outcomes(_messages([{"channel": "SMS", "status": None}])))
    assert outcomes == {"unknown": {"SMS": 1, "RCS": 0, "WHATSAPP": 0}}


# -- pools -------------------------------------------------------------------------------


def test_pool_composition_counts_each_pool_by_channel_and_status(members):
    fig = charts.pool_composition(members)
    expected = _crosstab(
        members["pool_name"], members["channel"].astype(str) + ", " + members["status"].astype(str)
    )
    got = _bars(fig, horizontal=True)
    assert set(got) == set(expected)  # only the pairs some pool has
    for name, counts in got.items():
        assert counts == expected[name]
    patterns = {t.name: t.marker.pattern.shape for t in fig.data}
    assert patterns["SMS, ACTIVATED"] == "" and patterns["SMS, DEACTIVATED"] == "/"
    assert {t.marker.color for t in fig.data if t.name.startswith("RCS")} == {charts.COLORS["RCS"]}


def test_pool_composition_puts_the_largest_pool_on_top(members):
    fig = charts.pool_composition(members)
    by_size = members["pool_name"].value_counts().sort_values(ascending=False)
    # A horizontal bar chart draws its category array bottom-up.
    assert list(fig.layout.yaxis.categoryarray)[::-1] == list(by_size.index)


def test_pool_overlap_counts_shared_senders_with_pool_sizes_on_the_diagonal(members):
    fig = charts.pool_overlap(members)
    pools = {
        name: set(group["sender_id"]) for name, group in members.groupby("pool_name", observed=True)
    }
    order = sorted(pools, key=lambda name: -len(pools[name]))
    shared, sizes = fig.data
    assert list(shared.x) == list(shared.y) == list(sizes.x) == order
    cells = [[sizes.z[i][j] if i == j else shared.z[i][j] for j in range(3)] for i in range(3)]
    assert cells == [[len(pools[a] & pools[b]) for b in order] for a in order]
    assert [sizes.z[i][i] for i in range(len(order))] == [len(pools[p]) for p in order]
    assert [list(row) for row in shared.text] == [
        ["" if a == b else str(len(pools[a] & pools[b])) for b in order] for a in order
    ]  # every cell annotated with its count
    assert any(shared.z[i][j] > 0 for i in range(len(order)) for j in range(len(order)) if i != j)
    assert "in both" in shared.customdata[0][1]


def test_pools_with_the_same_name_stay_apart():
    members = pd.DataFrame(
        {
            "pool_id": ["p1", "p1", "p2"],
            "pool_name": ["Alerts", "Alerts", "Alerts"],
            "sender_id": ["a", "b", "b"],
            "address": ["+1", "+2", "+2"],
            "channel": ["SMS", "SMS", "SMS"],
            "status": ["ACTIVATED"] * 3,
        }
    )
    shared, sizes = charts.pool_overlap(members).data
    assert list(shared.x) == ["Alerts (p1)", "Alerts (p2)"]
    assert [list(row) for row in shared.z] == [[None, 1], [1, None]]
    assert [list(row) for row in sizes.z] == [[2, None], [None, 1]]


# -- send outcomes -----------------------------------------------------------------------


def test_send_outcomes_counts_statuses_per_channel_with_every_channel(send):
    fig = charts.send_outcomes(send)
    channel = send["channel"].astype(object).fillna("no sender")
    expected = _crosstab(channel, send["status"].astype(str))
    got = _bars(fig)
    assert set(got) == set(send["status"].astype(str))
    for status, counts in got.items():
        assert list(counts) == [*MESSAGE_CHANNELS, "no sender"]
        assert counts == expected[status]
    assert [t.name for t in fig.data][:4] == ["DELIVERED", "READ", "UNDELIVERED", "FAILED"]
    assert f"{len(send)} messages" in fig.layout.title.subtitle.text


def test_send_outcomes_keeps_channels_with_no_message():
    fig = charts.send_outcomes(_messages([{"channel": "SMS", "status": "DELIVERED"}]))
    assert _bars(fig) == {"DELIVERED": {"SMS": 1, "RCS": 0, "WHATSAPP": 0}}


# -- delivery per sender -----------------------------------------------------------------


def test_sender_delivery_rates_each_sender_worst_first(send):
    fig = charts.sender_delivery(send)
    rated = send[send["status"].isin(["DELIVERED", "READ", "UNDELIVERED", "FAILED"])]
    rated = rated.dropna(subset=["sender_id"])
    delivered = (
        rated["status"]
        .isin(["DELIVERED", "READ"])
        .groupby(rated["sender_address"])
        .agg(["mean", "size"])
    )
    bars, dots = fig.data
    # The bad sender (50%) stands out on top.
    assert (
        list(fig.layout.yaxis.categoryarray)[::-1]
        == list(bars.y)
        == list(dots.y)
        == [
            "+14155550103",
            "whatsapp:+14155550105",
            "+14155550101",
            "rcs:brand_agent",
            "+14155550104",
        ]
    )
    assert [round(x, 6) for x in bars.x] == [round(delivered.at[a, "mean"], 6) for a in bars.y]
    assert list(dots.x) == list(bars.x)
    assert list(dots.text) == [f"{delivered.at[a, 'size']} msgs" for a in bars.y]
    assert list(dots.marker.color) == list(bars.x)  # coloured by rate, on the colour axis
    assert list(bars.marker.color) == charts_base.rate_colors(bars.x)
    assert fig.layout.coloraxis.cmin == 0 and fig.layout.coloraxis.cmax == 1
    assert "s_bad" in bars.customdata[0][0]


def test_sender_delivery_counts_neither_messages_in_flight_nor_unaddressable_ones(send):
    fig = charts.sender_delivery(send)
    slow = list(fig.data[0].y).index("+14155550104")
    assert fig.data[0].x[slow] == 1.0 and fig.data[1].text[slow] == "5 msgs"
    subtitle = fig.layout.title.subtitle.text
    assert "1 with no sender and 2 in flight or canceled left out" in subtitle


def test_sender_delivery_ties_rank_the_busier_sender_first_and_top_keeps_the_worst():
    rows = [{"sender_id": "a", "sender_address": "A", "channel": "SMS", "status": "FAILED"}]
    rows += [{"sender_id": "b", "sender_address": "B", "channel": "SMS", "status": "FAILED"}] * 3
    rows += [{"sender_id": "c", "sender_address": "C", "channel": "SMS", "status": "DELIVERED"}]
    fig = charts.sender_delivery(_messages(rows))
    assert list(fig.data[0].y) == ["B", "A", "C"]
    assert list(charts.sender_delivery(_messages(rows), top=2).data[0].y) == ["B", "A"]
    with pytest.raises(ct.InvalidInputError, match="top"):
        charts.sender_delivery(_messages(rows), top=0)


def test_sender_delivery_with_no_final_message_is_an_empty_figure():
    fig = charts.sender_delivery(
        _messages([{"sender_id": "a", "channel": "SMS", "status": "SENT"}])
    )
    assert fig.data == () and "no data" in fig.layout.title.text


# -- fallback ----------------------------------------------------------------------------


def test_fallback_counts_routes_from_the_fallback_column(send):
    fig = charts.fallback(send)

    def route(channel, fell_back) -> str:
        if pd.isna(channel):
            return "no sender"
        if fell_back is pd.NA:
            return "unknown"
        if fell_back:
            return "RCS → SMS fallback" if channel == "SMS" else f"fallback → {channel}"
        return channel

    routes = pd.Series(
        [route(c, f) for c, f in zip(send["channel"], send["fallback"], strict=True)]
    )
    expected = _crosstab(routes, send["status"].astype(str).reset_index(drop=True))
    got = _bars(fig)
    for status, counts in got.items():
        assert counts == {r: expected[status].get(r, 0.0) for r in counts}
    assert list(next(iter(got.values()))) == [
        "RCS", "RCS → SMS fallback", "SMS", "WHATSAPP", "no sender", "unknown",
    ]  # fmt: skip
    assert sum(v["unknown"] for v in got.values()) == send["fallback"].isna().sum() > 0


def test_fallback_never_guesses_when_attempts_were_not_loaded(send):
    unknown = send.assign(fallback=pd.array([pd.NA] * len(send), dtype="boolean"))
    got = _bars(charts.fallback(unknown))
    no_sender = send["channel"].isna().sum()
    assert no_sender > 0 and sum(v["no sender"] for v in got.values()) == no_sender
    assert sum(v["unknown"] for v in got.values()) == len(send) - no_sender
    assert sum(v["RCS → SMS fallback"] + v["RCS"] + v["SMS"] for v in got.values()) == 0
    assert "route unknown for" in charts.fallback(unknown).layout.title.subtitle.text


# -- latency -----------------------------------------------------------------------------


def test_delivery_latency_draws_time_to_delivered_per_channel_without_read(send):
    fig = charts.delivery_latency(send)
    # hand count: DELIVERED / UNDELIVERED / FAILED with a sender; READ and no sender out
    timed = send[
        send["status"].isin(["DELIVERED", "UNDELIVERED", "FAILED"]) & send["sender_id"].notna()
    ]
    channel = timed["channel"].astype(object)
    assert {t.name for t in fig.data} == set(channel)
    for trace in fig.data:
        assert sorted(trace.y) == sorted(timed.loc[channel == trace.name, "latency_s"])
        assert trace.marker.color == charts.COLORS.get(trace.name, trace.marker.color)
    assert list(fig.layout.xaxis.categoryarray) == list(MESSAGE_CHANNELS)
    assert "Seconds (time to delivered)" in fig.layout.yaxis.title.text
    n_read = int((send["status"] == "READ").sum())
    subtitle = fig.layout.title.subtitle.text
    assert f"time to delivered (n={len(timed)}, READ excluded: {n_read}" in subtitle
    assert "unaddressable excluded: 1" in subtitle


def test_delivery_latency_of_time_to_read(send):
    fig = charts.delivery_latency(send, measure="read")
    read = send[send["status"] == "READ"]
    assert sum(len(t.y) for t in fig.data) == len(read)
    assert sorted(y for t in fig.data for y in t.y) == sorted(read["latency_s"])
    assert f"time to read (n={len(read)}" in fig.layout.title.subtitle.text
    with pytest.raises(ct.InvalidInputError, match="delivered, read"):
        charts.delivery_latency(send, measure="final")


def test_delivery_latency_as_ecdf(send):
    fig = charts.delivery_latency(send, kind="ecdf")
    sms = send[
        (send["channel"] == "SMS") & send["status"].isin(["DELIVERED", "UNDELIVERED", "FAILED"])
    ]
    trace = next(t for t in fig.data if t.name == "SMS")
    assert sorted(trace.x) == sorted(sms["latency_s"])
    assert max(trace.y) == pytest.approx(1.0)
    with pytest.raises(ct.InvalidInputError, match="box, ecdf"):
        charts.delivery_latency(send, kind="violin")


def test_delivery_latency_before_any_final_status_is_an_empty_figure():
    fig = charts.delivery_latency(_messages([{"channel": "SMS", "status": "QUEUED"}]))
    assert fig.data == () and "no data" in fig.layout.title.text


# -- timeline ----------------------------------------------------------------------------


def _timeline(fig: go.Figure) -> dict[str, dict[pd.Timestamp, float]]:
    return {
        t.name: dict(zip(pd.to_datetime(t.x, utc=True), map(float, t.y), strict=True))
        for t in fig.data
    }


def test_send_timeline_counts_messages_by_when_their_status_last_changed(send):
    fig = charts.send_timeline(send, freq="5s")
    bins = send["updated_at"].dt.floor("5s")
    expected = send.groupby([send["status"].astype(str), bins]).size()
    got = _timeline(fig)
    assert set(got) == set(send["status"].astype(str))
    for status, counts in got.items():
        assert counts == {t: float(n) for t, n in expected[status].items()}
    assert fig.data[0].width == pytest.approx(0.9 * 5000)
    assert fig.layout.xaxis.title.text == "Time (UTC)"
    assert "bins of 5 s" in fig.layout.title.subtitle.text


def test_send_timeline_counts_attempts_by_attempted_at(attempts):
    fig = charts.send_timeline(attempts, freq="10s")
    assert fig.layout.title.text == "Attempts over time"
    t0 = pd.Timestamp("2024-04-05 06:20:00", tz="UTC")
    ten = pd.Timedelta(seconds=10)
    assert _timeline(fig) == {
        "DELIVERED": {t0 + ten: 1.0},
        "READ": {t0: 1.0},
        "UNDELIVERED": {t0 + ten: 1.0},
        "FAILED": {t0: 1.0},
    }


def test_send_timeline_picks_a_bin_giving_at_most_60_bars(send):
    fig = charts.send_timeline(send)
    times = {x for t in fig.data for x in t.x}
    assert 1 < len(times) <= 60
    assert sum(sum(t.y) for t in fig.data) == len(send)
    with pytest.raises(ct.InvalidInputError, match="freq"):
        charts.send_timeline(send, freq="soon")


# -- every chart: empty frames, missing columns, the template ----------------------------

MESSAGE_CHARTS = [
    charts.send_outcomes,
    charts.sender_delivery,
    charts.fallback,
    charts.delivery_latency,
    charts.send_timeline,
]


@pytest.fixture
def every_chart(senders, members, send, attempts):
    """(chart, a frame it draws) for every chart, attempts included."""
    return [
        (charts.inventory, senders),
        (charts.pool_composition, members),
        (charts.pool_overlap, members),
        *((chart, send) for chart in MESSAGE_CHARTS),
        (charts.send_timeline, attempts),
    ]


def test_every_chart_applies_the_template_and_draws_something(every_chart):
    for chart, frame in every_chart:
        fig = chart(frame)
        assert isinstance(fig, go.Figure)
        assert fig.layout.template == pio.templates["commstoolkit"], chart.__name__
        assert fig.data, chart.__name__
        assert fig.layout.title.text and "no data" not in fig.layout.title.text
        assert fig.layout.xaxis.title.text and fig.layout.yaxis.title.text, chart.__name__
        assert all(t.hovertemplate for t in fig.data), chart.__name__


def test_every_chart_on_an_empty_frame_is_an_empty_figure_saying_so(every_chart):
    for chart, frame in every_chart:
        fig = chart(frame.iloc[:0])
        assert fig.data == (), chart.__name__
        assert fig.layout.title.text.endswith(": no data"), chart.__name__
        assert fig.layout.template == pio.templates["commstoolkit"]
    assert charts.send_outcomes(messages_frame([]), title="Run 7").layout.title.text == (
        "Run 7: no data"
    )


@pytest.mark.parametrize(
    ("chart", "column", "expects"),
    [
        (charts.inventory, "status", "a senders frame (ct.load_senders)"),
        (charts.pool_composition, "pool_name", "a pool members frame"),
        (charts.pool_overlap, "sender_id", "a pool members frame"),
        (charts.send_outcomes, "channel", "a messages frame"),
        (charts.sender_delivery, "sender_address", "a messages frame"),
        (charts.fallback, "fallback", "a messages frame"),
        (charts.delivery_latency, "latency_s", "a messages frame"),
        (charts.send_timeline, "updated_at", "or an attempts frame"),
    ],
)
def test_a_missing_column_is_named_with_the_frame_expected(chart, column, expects):
    columns = {
        "inventory": SENDER_COLUMNS,
        "pool_composition": MEMBER_COLUMNS,
        "pool_overlap": MEMBER_COLUMNS,
    }.get(chart.__name__, MESSAGE_COLUMNS)
    frame = pd.DataFrame(columns=[c for c in columns if c != column])
    with pytest.raises(ct.InvalidInputError) as error:
        chart(frame)
    message = str(error.value)
    assert f"no column '{column}'" in message and expects in message
    assert message.startswith(f"charts.{chart.__name__}:")
    assert column in error.value.allowed


def test_a_chart_given_something_else_than_a_frame_says_what_it_takes():
    with pytest.raises(ct.InvalidInputError, match="must be a pandas DataFrame") as error:
        charts.inventory([{"channel": "SMS"}])
    assert error.value.field == "senders"


# -- issue 11, item 8 (found by an analyst) ----------------------------------------------


def test_every_chart_refuses_a_frame_of_another_kind_naming_the_missing_columns(
    senders, members, send, attempts
):
    frames = {"senders": senders, "members": members, "messages": send, "attempts": attempts}
    takes = {
        charts.inventory: {"senders"},
        charts.pool_composition: {"members"},
        charts.pool_overlap: {"members"},
        **{chart: {"messages"} for chart in MESSAGE_CHARTS},
        charts.send_timeline: {"messages", "attempts"},
    }
    for chart, accepted in takes.items():
        for kind, frame in frames.items():
            if kind in accepted:
                assert chart(frame).data, (chart.__name__, kind)
                continue
            with pytest.raises(ct.InvalidInputError) as error:
                chart(frame)
            message = str(error.value)
            missing = [c for c in error.value.allowed if c not in frame.columns]
            assert missing, (chart.__name__, kind)
            named = "column" if len(missing) == 1 else "columns"
            assert f"has no {named} {', '.join(map(repr, missing))};" in message, message
            assert message.startswith(f"charts.{chart.__name__}:")
    # The analyst's case: a messages frame has channel and status, yet is no senders frame.
    with pytest.raises(ct.InvalidInputError, match="has no column 'display_name'"):
        charts.inventory(send)


def test_sender_delivery_of_an_all_failed_run_draws_a_dot_and_its_count_at_zero():
    rows = [{"sender_id": "a", "sender_address": "A", "channel": "SMS", "status": "FAILED"}] * 3
    rows += [{"sender_id": "b", "sender_address": "B", "channel": "SMS", "status": "FAILED"}]
    fig = charts.sender_delivery(_messages(rows))
    bars, dots = fig.data
    assert list(bars.x) == list(dots.x) == [0.0, 0.0] and list(dots.y) == ["A", "B"]
    assert dots.mode == "markers+text" and dots.marker.size > 0
    assert list(dots.text) == ["3 msgs", "1 msg"]
    assert fig.layout.xaxis.range[0] < 0  # the dot at 0% is not cut in half by the axis
    assert list(dots.marker.color) == [0.0, 0.0] and dots.marker.coloraxis == "coloraxis"
    assert list(bars.marker.color) == [charts_base.rate_colors([0.0])[0]] * 2


def test_sender_delivery_gives_bars_css_colours_never_numbers(send):
    """plotly.js warned "Invalid color specifier: number 0.5" for every bar coloured by a
    number on the colour axis: bars now get CSS colours, numbers go to the dots only."""
    bars, dots = charts.sender_delivery(send).data
    colour = re.compile(r"rgb\(\d{1,3}, \d{1,3}, \d{1,3}\)")
    assert all(isinstance(c, str) and colour.fullmatch(c) for c in bars.marker.color)
    assert bars.marker.coloraxis is None
    assert charts_base.rate_colors([0.0, 1.0]) == ["rgb(214, 39, 40)", "rgb(44, 160, 44)"]
    assert charts.COLORS["FAILED"] == "#d62728" and charts.COLORS["DELIVERED"] == "#2ca02c"
    assert dots.type == "scatter"  # scatter markers map numbers through the colour axis


def test_pool_overlap_colours_only_overlaps_and_labels_the_diagonal_as_sizes(members):
    """The analyst saw a scale stopping at 8 while the diagonal held 16 to 51."""
    fig = charts.pool_overlap(members)
    shared, sizes = fig.data
    n = len(shared.x)
    off = [shared.z[i][j] for i in range(n) for j in range(n) if i != j]
    assert [shared.z[i][i] for i in range(n)] == [None] * n  # sizes are off the colour scale
    assert [sizes.z[i][j] for i in range(n) for j in range(n) if i != j] == [None] * (n * n - n)
    diagonal = [sizes.z[i][i] for i in range(n)]
    assert min(diagonal) > max(off) > 0  # the sandbox's case: sizes 16-51, overlaps up to 8
    axis = fig.layout.coloraxis
    assert (axis.cmin, axis.cmax) == (0, max(off))  # the scale covers what is coloured
    assert shared.coloraxis == "coloraxis" and sizes.showscale is False
    assert {c for _, c in sizes.colorscale} == {"#e9e9e9"}  # one grey, whatever the size
    assert [sizes.text[i][i] for i in range(n)] == [f"size {d}" for d in diagonal]
    assert axis.colorbar.title.text == "Senders in<br>both pools"
    subtitle = fig.layout.title.subtitle.text
    assert f"scale 0 to {max(off)}" in subtitle and "not on the colour scale" in subtitle
    assert fig.layout.yaxis.autorange == "reversed"  # largest pool top left


def test_legends_list_only_the_channel_and_status_pairs_drawn(members, senders):
    some = members[members["channel"].isin(["SMS", "RCS"]) & (members["status"] == "ACTIVATED")]
    fig = charts.pool_composition(some)
    assert [t.name for t in fig.data] == ["SMS, ACTIVATED", "RCS, ACTIVATED"]
    assert [sum(t.x) for t in fig.data] == [
        (some["channel"] == "SMS").sum(),
        (some["channel"] == "RCS").sum(),
    ]
    activated = senders[senders["status"] == "ACTIVATED"]
    inventory = charts.inventory(activated)
    assert [t.name for t in inventory.data] == ["ACTIVATED"]
    assert list(inventory.data[0].x) == list(SENDER_CHANNELS)  # every channel still shown


def test_long_pool_names_are_cut_with_an_ellipsis_on_the_axes_and_whole_on_hover():
    long = "Customer Support escalations, North America, weekday daytime shift, premium " * 2
    members = pd.DataFrame(
        {
            "pool_id": ["p1", "p1", "p2", "p2", "p3"],
            "pool_name": [long, long, long + "(copy)", long + "(copy)", "Short"],
            "sender_id": ["a", "b", "b", "c", "c"],
            "address": ["+1", "+2", "+2", "+3", "+3"],
            "channel": ["SMS"] * 5,
            "status": ["ACTIVATED"] * 5,
        }
    )
    assert len(long) > 100
    cut = long[:31].rstrip() + "…"
    overlap = charts.pool_overlap(members)
    composition = charts.pool_composition(members)
    for fig, axes in ((overlap, ("xaxis", "yaxis")), (composition, ("yaxis",))):
        for axis in axes:
            ticks = dict(zip(fig.layout[axis].tickvals, fig.layout[axis].ticktext, strict=True))
            # The values stay the full names: hover (%{x}, %{y}, customdata) shows them.
            assert ticks == {long: f"{cut} (p1)", long + "(copy)": f"{cut} (p2)", "Short": "Short"}
            assert fig.layout[axis].automargin is True
    assert set(overlap.data[0].x) == {long, long + "(copy)", "Short"}
    notes = {c for row in overlap.data[0].customdata for c in row}
    assert f"{long}(copy) & {long}: 1 sender in both" in notes
    assert set(composition.data[0].y) == {long, long + "(copy)", "Short"}
    assert "%{y}" in composition.data[0].hovertemplate
    assert (
        charts_base.shortened("x" * 32) == "x" * 32 and len(charts_base.shortened("x" * 33)) == 32
    )


def test_a_one_message_send_timeline_draws_a_narrow_bar_on_an_axis_ten_bins_wide():
    fig = charts.send_timeline(_messages([{"channel": "SMS", "status": "DELIVERED"}]))
    (bar,) = fig.data
    assert list(bar.y) == [1]
    start, end = (pd.Timestamp(t, tz="UTC") for t in fig.layout.xaxis.range)
    assert end - start == pd.Timedelta(seconds=10)  # 10 bins of 1 s
    left = pd.Timestamp(bar.x[0], tz="UTC")
    assert start < left and left + pd.Timedelta(seconds=1) < end  # the bar sits inside
    assert bar.width == pytest.approx(900) and bar.width / 10_000 < 0.1  # < 10% of the width
    assert fig.layout.title.subtitle.text == "1 message by updated_at, bins of 1 s"


def test_send_timeline_refuses_a_freq_without_unit_instead_of_5_nanosecond_bins(send):
    for bare in (5, "5", 5.0, np.int64(5)):
        with pytest.raises(ct.InvalidInputError, match="bare number has no unit") as error:
            charts.send_timeline(send, freq=bare)
        assert error.value.field == "freq" and "'5s'" in str(error.value)
    for bad, why in (("0.5s", "shorter than one second"), ("-1s", "not positive"), ("1M", "")):
        with pytest.raises(ct.InvalidInputError, match="freq must be a duration") as error:
            charts.send_timeline(send, freq=bad)
        assert why in str(error.value) and error.value.field == "freq"
    for bad in (True, 0, float("nan"), [5]):
        with pytest.raises(ct.InvalidInputError, match="freq"):
            charts.send_timeline(send, freq=bad)
    with pytest.raises(ct.InvalidInputError, match="freq"):  # before looking at the frame
        charts.send_timeline(send.iloc[:0], freq=5)
    for good, seconds in (("5s", 5), ("2 min", 120), (timedelta(seconds=30), 30)):
        fig = charts.send_timeline(send, freq=good)
        assert fig.data[0].width == pytest.approx(0.9 * seconds * 1000)
    assert "bare number" in charts.send_timeline.__doc__


def test_hover_counts_agree_in_number(members, attempts):
    """A bar of one read "1 senders" / "1 messages" on hover: the words come with the data."""
    one = _messages([{"channel": "SMS", "status": "FAILED", "fallback": False}])
    two = _messages([{"channel": "SMS", "status": "FAILED", "fallback": False}] * 2)
    for chart, column in ((charts.send_outcomes, 1), (charts.fallback, 0)):
        for frame, words in ((one, "1 message"), (two, "2 messages")):
            (trace,) = chart(frame).data
            bar = list(trace.x).index("SMS")
            assert trace.customdata[bar][column] == words, chart.__name__
            assert f"%{{customdata[{column}]}}" in trace.hovertemplate
    for frame, words in ((one, "1 message"), (two, "2 messages")):
        (trace,) = charts.send_timeline(frame, freq="1min").data
        assert [w for (w,) in trace.customdata] == [words]
        assert "%{customdata[0]}" in trace.hovertemplate
    timeline = charts.send_timeline(attempts, freq="10s")
    words = {w for t in timeline.data for (w,) in t.customdata}
    assert words == {"1 attempt"}
    single = members[members["pool_name"] == members["pool_name"].iloc[0]].iloc[:1]
    (trace,) = charts.pool_composition(single).data
    assert [w for (w,) in trace.customdata] == ["1 sender"]
    assert trace.hovertemplate == "%{y}<br>%{fullData.name}: %{customdata[0]}<extra></extra>"
    assert "1 senders" not in charts.pool_overlap(single).data[1].customdata[0][0]
