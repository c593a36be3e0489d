"""The traffic charts (issue 13): what each figure shows, recomputed from the raw frames.

Every expected number here is counted with plain pandas from the traffic frame and its
interval from the Wilson formula written below — never through ``commstoolkit.metrics``
or the charts' own helpers — so a chart that counts, windows or orders wrongly fails.
"""

from __future__ import annotations

import json
import math
from statistics import NormalDist

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest

import commstoolkit as ct
from commstoolkit import analysis, charts
from commstoolkit.analysis import table as analysis_table
from commstoolkit.charts import traffic as traffic_charts
from commstoolkit.frames import MESSAGE_COLUMNS, schema
from tests.analysis.traffic import START, traffic

DELIVERED = {"DELIVERED", "READ"}
RATED = {"DELIVERED", "READ", "UNDELIVERED", "FAILED"}
ERRORS = {"UNDELIVERED", "FAILED"}
Z = NormalDist().inv_cdf(0.975)
SENDERS = {
    "s1": ("pool_a", "SMS", 0.95),
    "s2": ("pool_a", "SMS", 0.75),
    "s3": ("pool_b", "RCS", 0.9),
    "s4": ("pool_c", "SMS", 0.99),
    "s5": (None, "SMS", 0.85),  # sends directly, outside any pool
}
DRIFT_FROM = START + pd.Timedelta(days=11)  # s1 falls for the last 3 days of 14


def wilson(k: int, n: int) -> tuple[float, float]:
    """The 95% Wilson score interval, written out (NaN, NaN over nothing)."""
    if n == 0:
        return (math.nan, math.nan)
    p = k / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def _chance(frame: pd.DataFrame) -> np.ndarray:
    p = np.array([SENDERS[s][2] for s in frame["sender_id"]])
    late = (frame["created_at"] >= DRIFT_FROM).to_numpy(bool) & (frame["sender_id"] == "s1")
    return np.where(late, 0.55, p)


def _frame(n: int = 3000, seed: int = 4) -> pd.DataFrame:
    """Two weeks (the window: the second) with canceled, in-flight and unaddressable
    messages, traffic outside a pool and recipients of no known country."""
    frame = traffic(SENDERS, n, seed=seed, chance=_chance)
    rng = np.random.default_rng(seed)
    status = frame["status"].copy()
    status[rng.choice(n, 40, replace=False)] = "CANCELED"
    status[rng.choice(n, 25, replace=False)] = "SENT"
    frame["status"] = status
    no_sender = rng.choice(n, 15, replace=False)
    frame.loc[no_sender, ["sender_id", "sender_address", "channel"]] = pd.NA
    frame.loc[no_sender, "status"] = "FAILED"
    frame.loc[rng.choice(n, 30, replace=False), "to_country"] = pd.NA
    return frame


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return _frame()


def _window(frame: pd.DataFrame) -> pd.DataFrame:
    start, end = frame.attrs["window"]
    return frame[(frame["created_at"] >= start) & (frame["created_at"] < end)]


def _count(rows: pd.DataFrame) -> dict[str, int]:
    status = rows["status"].astype(str)
    return {
        "messages": len(rows),
        "rated": int(status.isin(RATED).sum()),
        "delivered": int(status.isin(DELIVERED).sum()),
        "errors": int(status.isin(ERRORS).sum()),
    }


def _close(actual, expected) -> None:
    """Lists of floats equal, NaN (or None) where NaN is expected."""
    actual = [math.nan if a is None else float(a) for a in actual]
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected, strict=True):
        assert (math.isnan(a) and math.isnan(e)) or a == pytest.approx(e, abs=1e-12), (a, e)


def _traces(fig: go.Figure, kind: str) -> list:
    return [t for t in fig.data if t.type == kind]


def _times(values) -> list[pd.Timestamp]:
    return list(pd.to_datetime(list(values)))


# -- the labels and columns charts share with the analysis without importing it ------------


def test_the_charts_labels_and_health_columns_are_the_analysis_own():
    # One definition each, in frames.schema: the analysis writes them, the charts read them.
    assert analysis_table.HEALTH_COLUMNS is schema.HEALTH_COLUMNS
    assert traffic_charts.NO_POOL is analysis_table.NO_POOL is schema.NO_POOL
    assert traffic_charts.NO_COUNTRY is analysis_table.NO_COUNTRY is schema.NO_COUNTRY
    for chart in (
        charts.pool_daily,
        charts.sender_league,
        charts.drift,
        charts.failure_heatmap,
        charts.country_delivery,
    ):
        assert "Arguments:" in (chart.__doc__ or "") and "InvalidInputError" in chart.__doc__
        assert chart is getattr(ct.charts, chart.__name__)


# -- pool_daily -----------------------------------------------------------------------------


def test_pool_daily_counts_each_pool_s_days_in_the_window_only(frame):
    fig = charts.pool_daily(frame)
    inside = _window(frame)
    pool = inside["pool_id"].astype(object).where(inside["pool_id"].notna(), "no pool")
    name = inside["pool_name"].astype(object).where(inside["pool_name"].notna(), pool)
    start, end = frame.attrs["window"]
    days = pd.date_range(start, end - pd.Timedelta(days=1), freq="D")
    volume = pool.value_counts()
    order = sorted(volume.index, key=lambda p: (-volume[p], p))
    lines, bars = _traces(fig, "scatter"), _traces(fig, "bar")
    labels = {p: str(name[pool == p].iloc[0]) for p in order}
    assert [t.name for t in lines] == [labels[p] for p in order]
    assert [t.name for t in bars] == [labels[p] for p in order]
    assert "no pool" in [t.name for t in lines]
    total = 0
    for p, line, bar in zip(order, lines, bars, strict=True):
        assert _times(bar.x) == _times(line.x) == list(days.tz_localize(None))
        heights, rates, ups, downs = [], [], [], []
        for day in days:
            rows = inside[(pool == p).to_numpy() & (inside["created_at"].dt.floor("D") == day)]
            c = _count(rows)
            heights.append(c["messages"])
            rate = c["delivered"] / c["rated"] if c["rated"] else math.nan
            low, high = wilson(c["delivered"], c["rated"])
            rates.append(rate)
            ups.append(high - rate)
            downs.append(rate - low)
        assert list(bar.y) == heights
        total += sum(heights)
        _close(line.y, rates)
        _close(line.error_y.array, ups)
        _close(line.error_y.arrayminus, downs)
    assert total == len(inside)
    subtitle = fig.layout.title.subtitle.text
    before = len(frame) - len(inside)
    canceled = int((inside["status"] == "CANCELED").sum())
    in_flight = int((inside["status"] == "SENT").sum())
    assert f"{before:,} messages outside the window" in subtitle
    assert f"{canceled} messages canceled (in the volume, not rated)" in subtitle
    assert f"{in_flight} messages in flight (in the volume, not rated)" in subtitle
    assert f"{len(inside):,} messages, {len(order)} pools" in subtitle
    assert fig.layout.template == pio.templates["commstoolkit"]


def test_pool_daily_without_a_window_draws_every_day_and_top_keeps_the_busiest(frame):
    whole = frame.copy()
    whole.attrs = {}
    fig = charts.pool_daily(whole, top=2)
    bars = _traces(fig, "bar")
    assert len(bars) == 2
    assert len(bars[0].x) == 14  # both weeks: nothing is outside a window it does not have
    pool = whole["pool_id"].astype(object).where(whole["pool_id"].notna(), "no pool")
    busiest = pool.value_counts().index[:2]
    assert [sum(b.y) for b in bars] == [int((pool == p).sum()) for p in busiest]
    assert "outside the window" not in fig.layout.title.subtitle.text
    assert "the 2 busiest shown" in fig.layout.title.subtitle.text
    with pytest.raises(ct.InvalidInputError, match="top"):
        charts.pool_daily(frame, top=0)


def test_pool_daily_keeps_pools_of_one_name_apart():
    frame = traffic({"a": ("pool_x", "SMS", 0.9), "b": ("pool_y", "SMS", 0.9)}, 200, seed=1)
    frame["pool_name"] = pd.array(["East"] * len(frame), dtype="string")
    names = {t.name for t in _traces(charts.pool_daily(frame), "bar")}
    assert names == {"East (pool_x)", "East (pool_y)"}


# -- sender_league --------------------------------------------------------------------------


def _league_table(rows: list[dict]) -> pd.DataFrame:
    base = {column: 0 for column in schema.HEALTH_COLUMNS}
    table = pd.DataFrame([{**base, **row} for row in rows])
    pairs = list(zip(table["delivered"], table["rated"], strict=True))
    table["delivery_rate"] = [k / n if n else math.nan for k, n in pairs]
    table["delivery_low"] = [wilson(int(k), int(n))[0] for k, n in pairs]
    table["delivery_high"] = [wilson(int(k), int(n))[1] for k, n in pairs]
    before = zip(table["prev_delivered"], table["prev_rated"], strict=True)
    table["prev_delivery_rate"] = [k / n if n else math.nan for k, n in before]
    table["change_pts"] = (table["delivery_rate"] - table["prev_delivery_rate"]) * 100
    table["change_p"] = np.where(table["prev_rated"] > 0, 0.5, np.nan)
    table["change_significant"] = table.get("change_significant", False)
    return table


def test_sender_league_ranks_the_window_s_senders_worst_first_with_intervals(frame):
    members = pd.DataFrame(
        {
            "pool_id": ["pool_a", "pool_a", "pool_b"],
            "pool_name": ["Pool a", "Pool a", "Pool b"],
            "sender_id": ["s1", "idle", "s3"],
            "address": ["+18000000000", "+18009999999", "+18000000002"],
            "channel": ["SMS", "SMS", "RCS"],
            "status": ["ACTIVATED"] * 3,
        }
    )
    health = analysis.traffic_health(frame, by="sender", members=members)
    fig = charts.sender_league(health)
    inside = _window(frame)
    start, end = frame.attrs["window"]
    before = frame[(frame["created_at"] < start) & (frame["created_at"] >= start - (end - start))]
    expected = []
    for sender, rows in inside[inside["sender_id"].notna()].groupby("sender_id", observed=True):
        c = _count(rows)
        then = _count(before[before["sender_id"] == sender])
        address = str(rows["sender_address"].iloc[0])
        expected.append((c["delivered"] / c["rated"], -c["rated"], address, c, then))
    expected.sort(key=lambda e: e[:3])
    dots, previous, rings, column = fig.data
    assert list(dots.y) == [e[2] for e in expected]  # worst first...
    assert list(fig.layout.yaxis.categoryarray) == [e[2] for e in expected][::-1]  # ...on top
    _close(dots.x, [e[0] for e in expected])
    _close(
        dots.error_x.array, [wilson(e[3]["delivered"], e[3]["rated"])[1] - e[0] for e in expected]
    )
    _close(
        dots.error_x.arrayminus,
        [e[0] - wilson(e[3]["delivered"], e[3]["rated"])[0] for e in expected],
    )
    assert list(column.text) == [f"{e[3]['rated']:,} of {e[3]['messages']:,}" for e in expected]
    # The previous window's rate, where it had rated messages.
    had = [e for e in expected if e[4]["rated"]]
    assert list(previous.y) == [e[2] for e in had]
    _close(previous.x, [e[4]["delivered"] / e[4]["rated"] for e in had])
    # Rings around the table's significant changes (s1 fell in the window's last days).
    flagged = set(health.loc[health["change_significant"], "sender_address"].astype(str))
    assert set(rings.y) == flagged and "+18000000000" in flagged
    assert all(d.startswith("+1800") for d in dots.y)  # no "no sender", no idle sender
    subtitle = fig.layout.title.subtitle.text
    no_sender = int(inside["sender_id"].isna().sum())
    with_sender = inside[inside["sender_id"].notna()]
    unrated = int((~with_sender["status"].astype(str).isin(RATED)).sum())
    assert f"{no_sender} messages with no sender" in subtitle
    assert f"{unrated} messages canceled or in flight" in subtitle
    assert "1 sender with no rated message" in subtitle
    hover = dots.customdata[0][2]
    first = expected[0][3]
    low, high = wilson(first["delivered"], first["rated"])
    assert hover == (
        f"{first['delivered']:,} of {first['rated']:,} rated delivered: "
        f"{first['delivered'] / first['rated']:.1%} (95% CI {low:.1%}–{high:.1%})"
    )


def test_sender_league_breaks_ties_by_more_rated_messages_and_top_keeps_the_worst():
    table = _league_table(
        [
            {"sender_id": "a", "sender_address": "A", "channel": "SMS", "messages": 10,
             "rated": 10, "delivered": 5},
            {"sender_id": "b", "sender_address": "B", "channel": "SMS", "messages": 40,
             "rated": 40, "delivered": 20},
            {"sender_id": "c", "sender_address": "C", "channel": "SMS", "messages": 9,
             "rated": 9, "delivered": 9, "prev_rated": 10, "prev_delivered": 5,
             "change_significant": True},
            {"sender_id": "d", "sender_address": "A", "channel": "RCS", "messages": 3,
             "rated": 3, "delivered": 0},
        ]
    )  # fmt: skip
    fig = charts.sender_league(table)
    assert list(fig.data[0].y) == ["A (d)", "B", "A (a)", "C"]  # a shared address gets its id
    assert list(fig.data[2].y) == ["C"]
    assert list(fig.data[1].x) == [0.5]
    top = charts.sender_league(table, top=2)
    assert list(top.data[0].y) == ["A (d)", "B"]
    assert "the 2 worst shown" in top.layout.title.subtitle.text
    assert "4 senders, 62 rated messages" in top.layout.title.subtitle.text


# -- drift ----------------------------------------------------------------------------------


def test_drift_draws_each_day_and_the_sender_s_own_rate_before_and_in_the_last_days(frame):
    found = analysis.traffic_findings(frame).of("drift")
    assert [f.subject["sender_id"] for f in found] == ["s1"]
    fig = charts.drift(frame, found)
    assert fig.to_json() == charts.drift(frame, "s1").to_json()
    window_start, end = frame.attrs["window"]
    # The frame holds the window before too (as a compare=True load does): drawn, and the
    # baseline reaches back into it, as the drift finding's does.
    start = window_start - (end - window_start)
    drawn = frame[(frame["created_at"] >= start) & (frame["created_at"] < end)]
    rows = drawn[drawn["sender_id"] == "s1"]
    since = end - pd.Timedelta(days=3)
    daily = next(t for t in fig.data if t.name == "Per day (95% CI)")
    days = pd.date_range(start, end - pd.Timedelta(days=1), freq="D")
    assert _times(daily.x) == list((days + pd.Timedelta(hours=12)).tz_localize(None))
    rates, ups = [], []
    for day in days:
        c = _count(rows[rows["created_at"].dt.floor("D") == day])
        rate = c["delivered"] / c["rated"]
        rates.append(rate)
        ups.append(wilson(c["delivered"], c["rated"])[1] - rate)
    _close(daily.y, rates)
    _close(daily.error_y.array, ups)
    then = _count(rows[rows["created_at"] < since])
    now = _count(rows[rows["created_at"] >= since])
    lines = {t.name: t for t in fig.data if t.mode == "lines" and t.hoverinfo != "skip"}
    baseline = lines["Before the last days (95% CI band)"]
    recent = lines["The last days (95% CI band)"]
    _close(baseline.y, [then["delivered"] / then["rated"]] * 2)
    assert _times(baseline.x) == [start.tz_localize(None), end.tz_localize(None)]
    _close(recent.y, [now["delivered"] / now["rated"]] * 2)
    assert _times(recent.x) == [since.tz_localize(None), end.tz_localize(None)]
    bands = [t for t in fig.data if t.fill == "toself"]
    low, high = wilson(then["delivered"], then["rated"])
    _close(bands[0].y, [low, low, high, high])
    low, high = wilson(now["delivered"], now["rated"])
    _close(bands[1].y, [low, low, high, high])
    panel = fig.layout.annotations[0].text
    assert f"({then['delivered']}/{then['rated']}) before" in panel
    assert f"({now['delivered']}/{now['rated']}) in the last 3 days" in panel


def test_drift_bins_count_back_from_the_window_s_end_and_name_senders_left_out(frame):
    shifted = frame.copy()
    start, end = frame.attrs["window"]
    shifted.attrs["window"] = (start - pd.Timedelta(hours=6), end - pd.Timedelta(hours=6))
    fig = charts.drift(shifted, ["s2", "s1", "nobody", "s2"], recent="2D")
    assert len(fig.layout.annotations) == 2  # one title per panel: s2, then s1
    daily = [t for t in fig.data if t.name == "Per day (95% CI)"]
    assert len(daily) == 2
    new_end = end - pd.Timedelta(hours=6)
    middles = _times(daily[0].x)
    # Whole 24-hour bins end at the window's end; the first bin starts at the window's start.
    assert middles[-1] == (new_end - pd.Timedelta(hours=12)).tz_localize(None)
    # ... back over the window before too (the frame holds it from its 7th hour on).
    drawn_from = start - pd.Timedelta(hours=6) - pd.Timedelta(days=7)
    assert middles[0] == (drawn_from + pd.Timedelta(hours=12)).tz_localize(None)
    rows = shifted[(shifted["sender_id"] == "s2")]
    last = rows[
        (rows["created_at"] >= new_end - pd.Timedelta(days=1)) & (rows["created_at"] < new_end)
    ]
    c = _count(last)
    _close(daily[0].y[-1:], [c["delivered"] / c["rated"]])
    assert "nobody (no rated message in the window)" in fig.layout.title.subtitle.text
    assert "the last 2 days" in fig.layout.annotations[0].text
    empty = charts.drift(frame, "nobody")
    assert empty.data == () and "no data" in empty.layout.title.text


@pytest.mark.parametrize("senders", [[], 5, [None], ""])
def test_drift_refuses_senders_it_cannot_read(frame, senders):
    with pytest.raises(ct.InvalidInputError, match="senders"):
        charts.drift(frame, senders)


@pytest.mark.parametrize("recent", ["14D", "30D", "soon", 3, "-1D"])
def test_drift_refuses_a_recent_span_leaving_no_baseline(frame, recent):
    with pytest.raises(ct.InvalidInputError, match="recent"):
        charts.drift(frame, "s1", recent=recent)


# -- failure_heatmap ------------------------------------------------------------------------


def test_failure_heatmap_gives_each_weekday_and_hour_its_error_rate_blank_when_unrated():
    frame = _frame(400, seed=9)
    # Monday 03:00 UTC holds only canceled messages: blank, not 0%.
    monday = pd.Timestamp("2026-11-09 03:10", tz="UTC")  # a Monday of the window
    frame = frame[~((frame["created_at"].dt.day_of_week == 0) & (frame["created_at"].dt.hour == 3))]
    extra = frame.iloc[:2].copy()
    extra["created_at"] = monday
    extra["status"] = "CANCELED"
    frame = pd.concat([frame, extra]).reset_index(drop=True)
    frame.attrs = {"window": (START + pd.Timedelta(days=7), START + pd.Timedelta(days=14))}
    fig = charts.failure_heatmap(frame)
    (heat,) = fig.data
    inside = _window(frame)
    expected = np.full((7, 24), math.nan)
    blank = 0
    for weekday in range(7):
        for hour in range(24):
            cell = inside[
                (inside["created_at"].dt.day_of_week == weekday)
                & (inside["created_at"].dt.hour == hour)
            ]
            c = _count(cell)
            if c["rated"]:
                expected[weekday, hour] = c["errors"] / c["rated"]
                low, high = wilson(c["errors"], c["rated"])
                assert heat.customdata[weekday][hour].startswith(
                    f"{c['errors']:,} of {c['rated']:,} rated failed (UNDELIVERED or FAILED): "
                    f"{c['errors'] / c['rated']:.1%} (95% CI {low:.1%}–{high:.1%})"
                )
            else:
                blank += 1
                assert heat.z[weekday][hour] is None
    for weekday in range(7):
        _close(heat.z[weekday], list(expected[weekday]))
    assert heat.z[0][3] is None and heat.customdata[0][3] == "no rated message (2 messages)"
    assert blank > 0 and f"({blank} cells)" in fig.layout.title.subtitle.text
    assert list(heat.y) == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    assert list(heat.x) == list(range(24))
    assert heat.hoverongaps is False and (heat.zmin, heat.zmax) == (0, 1)


def test_failure_heatmap_takes_a_test_send_s_messages_frame_too(frame):
    messages = frame[list(MESSAGE_COLUMNS)].copy()
    messages.attrs = {}
    fig = charts.failure_heatmap(messages)
    z = np.array([[math.nan if v is None else v for v in row] for row in fig.data[0].z])
    c = _count(messages[messages["created_at"].dt.day_of_week == 2])
    rated = messages[(messages["created_at"].dt.day_of_week == 2) & messages["status"].isin(RATED)]
    per_hour = rated.groupby(rated["created_at"].dt.hour)["status"].apply(
        lambda s: s.astype(str).isin(ERRORS).mean()
    )
    _close(z[2][per_hour.index.to_numpy()], list(per_hour))
    assert c["rated"] == len(rated)


# -- country_delivery -----------------------------------------------------------------------


def test_country_delivery_from_traffic_or_its_health_table_is_the_same_figure(frame):
    from_traffic = charts.country_delivery(frame)
    from_health = charts.country_delivery(analysis.traffic_health(frame, by="country"))
    inside = _window(frame)
    country = inside["to_country"].astype(object).where(inside["to_country"].notna(), "unknown")
    expected = []
    for name in country.unique():
        c = _count(inside[(country == name).to_numpy()])
        expected.append((c["delivered"] / c["rated"], -c["rated"], name, c))
    expected.sort(key=lambda e: e[:3])
    for fig in (from_traffic, from_health):
        bars, column = fig.data
        assert list(bars.y) == [e[2] for e in expected]
        assert "unknown" in bars.y
        _close(bars.x, [e[0] for e in expected])
        bounds = [wilson(e[3]["delivered"], e[3]["rated"]) for e in expected]
        pairs = list(zip(expected, bounds, strict=True))
        _close(bars.error_x.array, [hi - e[0] for e, (_, hi) in pairs])
        _close(bars.error_x.arrayminus, [e[0] - lo for e, (lo, _) in pairs])
        assert list(column.text) == [f"{e[3]['rated']:,} of {e[3]['messages']:,}" for e in expected]
        assert all(c.startswith("rgb") for c in bars.marker.color)
    assert json.loads(from_traffic.to_json())["data"] == json.loads(from_health.to_json())["data"]
    outside = len(frame) - len(inside)
    assert f"{outside:,} messages outside the window" in from_traffic.layout.title.subtitle.text
    top = charts.country_delivery(frame, top=1)
    assert list(top.data[0].y) == [expected[0][2]]


# -- every chart: empty frames, missing columns, plotly accepts them ------------------------


def _every(frame: pd.DataFrame) -> dict:
    return {
        "pool_daily": (charts.pool_daily, (frame,)),
        "sender_league": (charts.sender_league, (analysis.traffic_health(frame, by="sender"),)),
        "drift": (charts.drift, (frame, "s1")),
        "failure_heatmap": (charts.failure_heatmap, (frame,)),
        "country_delivery": (
            charts.country_delivery,
            (analysis.traffic_health(frame, by="country"),),
        ),
        "country_delivery(traffic)": (charts.country_delivery, (frame,)),
    }


def test_every_traffic_chart_renders_with_the_template_and_hover_texts(frame):
    for name, (chart, args) in _every(frame).items():
        fig = chart(*args)
        assert fig.layout.template == pio.templates["commstoolkit"], name
        assert fig.data and "no data" not in fig.layout.title.text, name
        drawn = [t for t in fig.data if t.hoverinfo != "skip"]
        assert all(t.hovertemplate for t in drawn), name
        html = fig.to_html(include_plotlyjs=False)
        assert "plotly" in html.lower(), name
        assert fig.to_dict()["layout"]["title"]["subtitle"]["text"], name
        go.Figure(fig.to_dict())  # plotly validates every property again


def test_every_traffic_chart_on_an_empty_frame_is_an_empty_figure_saying_so(frame):
    for name, (chart, args) in _every(frame).items():
        fig = chart(args[0].iloc[:0], *args[1:])
        assert fig.data == (), name
        assert fig.layout.title.text.endswith(": no data"), name
    # Nothing inside the window: said so.
    before = frame[frame["created_at"] < frame.attrs["window"][0]]
    fig = charts.pool_daily(before)
    assert fig.layout.title.text.endswith("no data (no message in the window)")


@pytest.mark.parametrize(
    ("chart", "argument", "column", "expects"),
    [
        (charts.pool_daily, "traffic", "pool_name", "a traffic frame (analysis.load_traffic"),
        (charts.sender_league, "health", "change_significant", "a health table by sender"),
        (charts.drift, "traffic", "sender_address", "a traffic frame"),
        (charts.failure_heatmap, "traffic", "created_at", "or a messages frame"),
        (
            charts.country_delivery,
            "health_or_traffic",
            "delivery_rate",
            "a health table by country",
        ),
    ],
)
def test_a_missing_column_is_named_with_the_frame_expected(frame, chart, argument, column, expects):
    given = {
        "health": analysis.traffic_health(frame, by="sender"),
        "health_or_traffic": analysis.traffic_health(frame, by="country"),
    }.get(argument, frame)
    args = (
        (given.drop(columns=[column]), "s1")
        if chart is charts.drift
        else (given.drop(columns=[column]),)
    )
    with pytest.raises(ct.InvalidInputError, match=f"has no column '{column}'") as error:
        chart(*args)
    assert expects in str(error.value)
    assert error.value.field == argument
    with pytest.raises(ct.InvalidInputError, match="must be a pandas DataFrame"):
        chart(*((given.to_dict(), "s1") if chart is charts.drift else (given.to_dict(),)))


def test_a_health_table_of_another_grouping_is_refused_naming_what_it_lacks(frame):
    by_pool = analysis.traffic_health(frame, by="pool")
    with pytest.raises(ct.InvalidInputError, match="'sender_id'"):
        charts.sender_league(by_pool)
    with pytest.raises(ct.InvalidInputError, match="'to_country'"):
        charts.country_delivery(by_pool)
    with pytest.raises(ct.InvalidInputError, match="'pool_id'"):
        charts.pool_daily(frame.drop(columns=["pool_id", "pool_name", "to_country"]))


def test_a_message_on_a_bin_boundary_counts_in_the_bin_it_opens():
    frame = traffic({"a": ("pool_a", "SMS", 1.0)}, 200, days=4, window_days=4, seed=2)
    end = frame.attrs["window"][1]
    frame.loc[0, ["created_at", "status"]] = [end - pd.Timedelta(days=1), "FAILED"]
    fig = charts.drift(frame, "a", recent="1D")
    daily = next(t for t in fig.data if t.name == "Per day (95% CI)")
    last = frame[frame["created_at"] >= end - pd.Timedelta(days=1)]
    c = _count(last)
    assert c["delivered"] == c["rated"] - 1
    _close(daily.y[-1:], [c["delivered"] / c["rated"]])
    _close(daily.y[:-1], [1.0] * 3)
    recent = next(t for t in fig.data if t.name == "The last days (95% CI band)")
    _close(recent.y, [c["delivered"] / c["rated"]] * 2)
    assert fig.layout.annotations[0].text.endswith(" in the last day")
    assert (
        "in the last 36 hours" in charts.drift(frame, "a", recent="36h").layout.annotations[0].text
    )


def test_country_delivery_breaks_ties_by_more_rated_messages_then_name():
    frame = traffic({"a": ("pool_a", "SMS", 1.0)}, 80, days=2, window_days=2, seed=3)
    frame["to_country"] = pd.array(["IT"] * 20 + ["FR"] * 40 + ["ES"] * 20, dtype="string")
    frame["status"] = pd.Categorical(
        (["DELIVERED", "FAILED"] * 40), categories=frame["status"].cat.categories
    )
    frame.loc[frame["to_country"] == "ES", "status"] = "UNDELIVERED"
    fig = charts.country_delivery(frame)
    assert list(fig.data[0].y) == ["ES", "FR", "IT"]  # 0%, then 50% of 40 before 50% of 20
    frame.loc[frame["to_country"] == "ES", "status"] = "DELIVERED"
    frame.loc[frame["to_country"] == "FR", "to_country"] = "AT"
    frame.loc[frame.index[20:40], "to_country"] = "GR"
    fig = charts.country_delivery(frame)
    assert list(fig.data[0].y) == ["AT", "GR", "IT", "ES"]  # ties of 20 rated: by name
