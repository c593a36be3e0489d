"""Issue 11, item 1 — one definition per metric (``commstoolkit.metrics``), used everywhere.

The analyst's case: on one send, ``run.summary()`` said "fallback rate 15.0%" (fallbacks
over every message) while ``charts.fallback`` said "288 messages tried RCS first, 21% fell
back" (over the RCS-first messages). Now both are ``metrics.fallback_rate``: fallbacks over
the messages whose first attempt was RCS. Each test counts the numbers by hand from the
raw ``Message`` objects (their attempts as the API gave them), never through ``metrics``,
and compares them with the summary, the charts' plotted data, the panel's sentence and
notebook 03's finding.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from instant import instant_client

import commstoolkit as ct
from commstoolkit import charts, metrics
from commstoolkit.frames import messages_frame
from commstoolkit.models import Message
from commstoolkit.sandbox import Sandbox
from commstoolkit.widgets._send_views import send_outcome_text

MAGIC = ["+15005550002", "+15005550003", "+15005550004", "+15005550005", "+15005550006"]
MAGIC += ["+15005550007"]
ORDINARY = [f"+1212555{n:04d}" for n in range(100, 160)]
NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "03_test_send.ipynb"


@pytest.fixture(scope="module")
def client():
    box = Sandbox(":memory:", seed=7, senders=200)
    box.clock.instant = True
    with instant_client(box) as made:
        yield made
    box.close()


@pytest.fixture(scope="module")
def run(client):
    pools = ct.load_pools(client)
    pool = pools.loc[pools["name"] == "Customer Support - NAMER", "pool_id"].iloc[0]
    return ct.test_send(client, pool, [*ORDINARY, *MAGIC], "item 1", allow_unroutable=True)


@pytest.fixture(scope="module")
def raw(client, run) -> list[Message]:
    """The run's messages as the API gives them, each with its attempts."""
    listed = client.messages.list(tags={"ct_run": run.run_id})
    return [client.messages.get(m.id) for m in listed]


def _hand(raw: list[Message]) -> dict[str, float]:
    """Every headline number, counted by hand from the raw messages."""
    statuses = [m.status for m in raw]
    rated = [s for s in statuses if s in ("DELIVERED", "READ", "UNDELIVERED", "FAILED")]
    delivered = [s for s in statuses if s in ("DELIVERED", "READ")]
    rcs_first = [m for m in raw if m.attempts and m.attempts[0].channel == "RCS"]
    fell_back = [m for m in rcs_first if len(m.attempts) > 1 and m.attempts[-1].channel == "SMS"]
    return {
        "messages": len(raw),
        "delivered": len(delivered),
        "rated": len(rated),
        "rcs_first": len(rcs_first),
        "fallbacks": len(fell_back),
        "unaddressable": sum(1 for m in raw if not m.attempts and m.sender_id is None),
    }


def test_fallback_rate_is_one_definition_in_summary_and_chart(run, raw):
    hand = _hand(raw)
    assert hand["fallbacks"] > 0 and hand["rcs_first"] < hand["messages"]
    summary = run.summary()
    assert summary.fallbacks == hand["fallbacks"]
    assert summary.fallback.denominator == hand["rcs_first"]
    assert summary.fallback_rate == hand["fallbacks"] / hand["rcs_first"]
    # not the old definition, over every message
    assert summary.fallback_rate != hand["fallbacks"] / hand["messages"]
    rate = f"{hand['fallbacks'] / hand['rcs_first']:.1%}"
    assert f"fallback rate {rate} ({hand['fallbacks']} of {hand['rcs_first']} RCS-first)" in str(
        summary
    )
    fig = charts.fallback(run.messages)
    said = fig.layout.title.subtitle.text
    assert said.startswith(
        f"{hand['rcs_first']} messages tried RCS first, {hand['fallbacks']} ({rate}) fell back"
    )
    plotted = {}
    for trace in fig.data:
        for route, count in zip(trace.x, trace.y, strict=True):
            plotted[route] = plotted.get(route, 0) + count
    assert plotted["RCS → SMS fallback"] == hand["fallbacks"]
    assert plotted["RCS"] + plotted["RCS → SMS fallback"] == hand["rcs_first"]
    text = send_outcome_text(run, "p")
    assert f"{hand['fallbacks']} of {hand['rcs_first']} RCS-first messages fell back" in text


def test_delivery_rate_is_one_definition_in_summary_charts_panel_and_tables(run, raw):
    hand = _hand(raw)
    summary = run.summary()
    assert (summary.delivered, summary.delivery.denominator) == (hand["delivered"], hand["rated"])
    assert summary.delivery_rate == hand["delivered"] / hand["rated"]
    assert summary.unaddressable == hand["unaddressable"] == 1
    assert f"({summary.delivery_rate:.0%} of {hand['rated']} rated)" in send_outcome_text(run, "p")
    # per sender: the table and the chart's bars, against a hand count per sender id
    per_sender: dict[str, list[int]] = {}
    for m in raw:
        if m.sender_id and m.status in ("DELIVERED", "READ", "UNDELIVERED", "FAILED"):
            counts = per_sender.setdefault(m.sender_id, [0, 0])
            counts[0] += m.status in ("DELIVERED", "READ")
            counts[1] += 1
    fig = charts.sender_delivery(run.messages)
    bars = fig.data[0]
    plotted = {row[0]: (row[2], row[3], x) for row, x in zip(bars.customdata, bars.x, strict=True)}
    assert set(plotted) == set(per_sender)
    table = summary.by_sender.reset_index().set_index("sender_id")
    for sender_id, (delivered, rated) in per_sender.items():
        assert plotted[sender_id] == (delivered, rated, delivered / rated)
        assert table.loc[sender_id, "delivered"] == delivered
        assert table.loc[sender_id, "rated"] == rated
        assert table.loc[sender_id, "delivery_rate"] == delivered / rated
    # send_outcomes: delivered or read over every message
    subtitle = charts.send_outcomes(run.messages).layout.title.subtitle.text
    assert f"{hand['delivered'] / hand['messages']:.0%} delivered or read" in subtitle


def test_a_canceled_message_counts_in_neither_rate_table_nor_chart():
    """CANCELED is final but not rated: the summary's tables used delivered / final, the
    chart delivered / rated; now both leave it out."""
    rows = [("DELIVERED", "s1"), ("UNDELIVERED", "s1"), ("CANCELED", "s1"), ("SENT", "s1")]
    frame = messages_frame([]).reindex(range(len(rows)))
    frame["status"] = pd.Series([s for s, _ in rows], dtype=frame["status"].dtype)
    frame["sender_id"] = pd.Series([i for _, i in rows], dtype="string")
    frame["sender_address"] = pd.Series(["+1"] * len(rows), dtype="string")
    frame["channel"] = pd.Series(["SMS"] * len(rows), dtype=frame["channel"].dtype)
    frame["fallback"] = pd.array([False] * len(rows), dtype="boolean")
    rate = metrics.delivery_rate(frame)
    assert (rate.numerator, rate.denominator) == (1, 2)
    assert rate.excluded == {"canceled": 1, "in_flight": 1}
    summary = ct.testsend.summary.summarise(frame)
    assert summary.by_channel.loc["SMS", "delivery_rate"] == 0.5 == summary.delivery_rate
    bars = charts.sender_delivery(frame).data[0]
    assert list(bars.x) == [0.5]


def test_the_notebook_finding_counts_through_metrics(run, raw):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    source = next(c.source for c in notebook.cells if c.get("id") == "finding")
    assert "metrics." in source and "comb(" not in source  # no private copy left
    namespace: dict[str, object] = {"MAGIC": MAGIC}
    exec(source.rsplit("\nMarkdown(", 1)[0], namespace)
    finding = namespace["finding"]
    text = finding(run.messages, "P")  # type: ignore[operator]
    judged = [
        m
        for m in raw
        if m.sender_id
        and m.to_address not in MAGIC
        and m.status in ("DELIVERED", "READ", "UNDELIVERED", "FAILED")
    ]
    delivered = sum(m.status in ("DELIVERED", "READ") for m in judged)
    match = re.search(r"senders delivered (\d+)% of ([\d,]+) messages", text)
    if match:  # nobody flagged: the pool's numbers are the hand count's
        assert int(match.group(2).replace(",", "")) == len(judged)
        assert int(match.group(1)) == round(100 * delivered / len(judged))


def test_no_private_copy_of_a_metric_is_left():
    """The statuses behind delivered / rated are named in metrics.py only."""
    package = Path(ct.__file__).parent
    for path in [
        package / "testsend" / "summary.py",
        package / "charts" / "sends.py",
        package / "widgets" / "_send_views.py",
    ]:
        code = path.read_text()
        assert '"DELIVERED", "READ"' not in code, path
        assert "FINAL_MESSAGE_STATUSES" not in code, path
