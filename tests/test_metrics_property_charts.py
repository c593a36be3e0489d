"""Issue 11 (metrics): the charts' plotted data over random sandbox test sends.

The same random sends as ``test_metrics_property`` (seeds, pools, channels, ordinary and
magic recipients); every bar, dot and box of ``send_outcomes``, ``fallback``,
``sender_delivery`` and ``delivery_latency`` is recomputed by hand from the raw messages the
API gives (each with its attempts), never through ``commstoolkit.metrics``.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from test_metrics_property import SENDS, _seconds, send

import commstoolkit as ct
from commstoolkit.frames import NO_SENDER
from commstoolkit.models import Message

RATED = ("DELIVERED", "READ", "UNDELIVERED", "FAILED")


def _label(m: Message) -> str:
    return m.channel if m.sender_id else NO_SENDER


def _route(m: Message) -> str:
    if not m.sender_id:
        return NO_SENDER
    first = m.attempts[0].channel
    if first == "RCS":
        fell_back = len(m.attempts) > 1 and m.attempts[-1].channel == "SMS"
        return "RCS → SMS fallback" if fell_back else "RCS"
    return first


def _bars(fig) -> dict[tuple[str, str], int]:
    """(status trace, x label) -> the bar's height, for every bar drawn."""
    return {
        (trace.name, str(x)): int(y)
        for trace in fig.data
        if trace.type == "bar"
        for x, y in zip(trace.x, trace.y, strict=True)
    }


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(**SENDS)
# Only an unaddressable recipient: no sender is rated, sender_delivery has nothing to draw.
@example(seed=3, pool_pick=0, channel="PHONE", recipients=["+15005550002"])
def test_every_chart_plots_a_hand_count_of_the_raw_messages(seed, pool_pick, channel, recipients):
    run, raw = send(seed, pool_pick, channel, recipients)
    frame = run.messages

    # send_outcomes: one bar per (status, channel or "no sender"), zero where none.
    outcomes = _bars(ct.charts.send_outcomes(frame))
    want = Counter((m.status, _label(m)) for m in raw)
    assert {key: n for key, n in outcomes.items() if n} == dict(want)

    # fallback: routes by the attempts (RCS, RCS -> SMS fallback, SMS, ..., no sender).
    routes = _bars(ct.charts.fallback(frame))
    want = Counter((m.status, _route(m)) for m in raw)
    assert {key: n for key, n in routes.items() if n} == dict(want)

    # sender_delivery: each sender's delivered / rated, and its message count in words.
    figure = ct.charts.sender_delivery(frame)
    by_sender: dict[str, list[Message]] = {}
    for m in raw:
        if m.sender_id and m.status in RATED:
            by_sender.setdefault(m.sender_address or m.sender_id, []).append(m)
    bar_traces = [trace for trace in figure.data if trace.type == "bar"]
    if by_sender:
        (bars,) = bar_traces
        drawn = dict(zip(map(str, bars.y), bars.x, strict=True))
        assert set(drawn) == set(by_sender)
        for sender, mine in by_sender.items():
            good = sum(m.status in ("DELIVERED", "READ") for m in mine)
            assert drawn[sender] == pytest.approx(good / len(mine))
        dots = [trace for trace in figure.data if trace.type == "scatter"]
        if dots:
            words = dict(zip(map(str, dots[0].y), dots[0].text, strict=True))
            for sender, mine in by_sender.items():
                n = len(mine)
                assert words[sender] == f"{n} msg" + ("" if n == 1 else "s")
    else:
        # No sender has a rated message (e.g. only unaddressable recipients): the empty
        # figure, which says so, and no bar.
        assert bar_traces == [] and "no data" in figure.layout.title.text

    # delivery_latency: per channel, the seconds to a final delivery status (READ left out,
    # unless tracking saw the message DELIVERED first; unaddressable left out).
    seen = frame.set_index("message_id")["seen_delivered_s"]
    want_seconds: dict[str, list[float]] = {}
    for m in raw:
        if not m.sender_id:
            continue
        if m.status in ("DELIVERED", "UNDELIVERED", "FAILED"):
            want_seconds.setdefault(m.channel, []).append(_seconds(m))
        elif m.status == "READ" and pd.notna(seen.get(m.id)):
            want_seconds.setdefault(m.channel, []).append(float(seen[m.id]))
    latency = ct.charts.delivery_latency(frame)
    got_seconds = {
        str(trace.name): sorted(float(y) for y in trace.y)
        for trace in latency.data
        if trace.type == "box" and len(trace.y)
    }
    assert got_seconds == {c: sorted(v) for c, v in want_seconds.items()}
