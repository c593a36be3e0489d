"""Issue 11, item 4 — uncertainty: every delivery rate per sender or channel carries its 95%
Wilson interval (summary tables, ``sender_delivery`` error bars and hover, ``send_outcomes``
hover), and notebook 03's finding corrects for testing many senders at once
(Benjamini-Hochberg) and says "not enough messages to judge" where counts are too small.

The expected values are computed here by hand (the Wilson formula, the hypergeometric tail
and the BH step-up written again in the test), never through ``metrics``.
"""

from __future__ import annotations

import math
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from commstoolkit import charts, metrics
from commstoolkit.frames import messages_frame
from commstoolkit.testsend.summary import summarise

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "03_test_send.ipynb"
Z = 1.959963984540054


def _wilson(k: int, n: int) -> tuple[float, float]:
    p = k / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z / (1 + Z * Z / n) * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def test_wilson_interval_known_values():
    # Published values (Wilson 1927; Newcombe 1998, table I), to 4 decimals.
    assert metrics.wilson_interval(3, 5) == pytest.approx((0.2307, 0.8824), abs=1e-4)
    assert metrics.wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert metrics.wilson_interval(10, 10) == pytest.approx((0.7225, 1.0), abs=1e-4)
    assert metrics.wilson_interval(50, 100) == pytest.approx((0.4038, 0.5962), abs=1e-4)
    assert metrics.wilson_interval(81, 263) == pytest.approx((0.2553, 0.3662), abs=1e-4)
    assert all(math.isnan(x) for x in metrics.wilson_interval(0, 0))
    # another confidence level goes through the normal quantile
    low90, high90 = metrics.wilson_interval(50, 100, confidence=0.90)
    assert 0.4038 < low90 < 0.5 < high90 < 0.5962
    assert metrics.Rate("r", 3, 5).interval() == metrics.wilson_interval(3, 5)


def test_bh_correction_known_values():
    # by hand: sorted 0.005, 0.01, 0.03, 0.04 -> p*m/rank 0.02, 0.02, 0.04, 0.04
    adjusted = metrics.benjamini_hochberg([0.01, 0.04, 0.03, 0.005])
    assert adjusted == pytest.approx([0.02, 0.04, 0.04, 0.02])
    # the step-up keeps the adjusted values monotone and at most 1
    assert metrics.benjamini_hochberg([0.5, 0.9, 0.8]) == pytest.approx([0.9, 0.9, 0.9])
    assert metrics.benjamini_hochberg([]) == []
    assert metrics.benjamini_hochberg([0.7]) == [0.7]


def _frame(counts: dict[str, tuple[int, int]], channel: str = "SMS") -> pd.DataFrame:
    """A messages frame: ``{sender address: (delivered, undelivered)}``."""
    rows = []
    for address, (good, bad) in counts.items():
        for i, status in enumerate(["DELIVERED"] * good + ["UNDELIVERED"] * bad):
            rows.append((address, status, f"+1415{len(rows):07d}", i))
    frame = messages_frame([]).reindex(range(len(rows)))
    frame["sender_id"] = pd.Series(["id" + r[0] for r in rows], dtype="string")
    frame["sender_address"] = pd.Series([r[0] for r in rows], dtype="string")
    frame["to"] = pd.Series([r[2] for r in rows], dtype="string")
    frame["status"] = pd.Series([r[1] for r in rows], dtype=frame["status"].dtype)
    frame["channel"] = pd.Series([channel] * len(rows), dtype=frame["channel"].dtype)
    frame["fallback"] = pd.array([False] * len(rows), dtype="boolean")
    frame["latency_s"] = 4.0
    return frame


COUNTS = {"+15550001": (29, 31), "+15550002": (98, 2), "+15550003": (2, 0)}


def test_every_delivery_rate_per_sender_or_channel_carries_its_wilson_interval():
    frame = _frame(COUNTS)
    summary = summarise(frame)
    by_sender = summary.by_sender.reset_index().set_index("sender_address")
    for address, (good, bad) in COUNTS.items():
        low, high = _wilson(good, good + bad)
        assert by_sender.loc[address, "delivery_rate_low"] == pytest.approx(low)
        assert by_sender.loc[address, "delivery_rate_high"] == pytest.approx(high)
    good = sum(g for g, _ in COUNTS.values())
    total = sum(g + b for g, b in COUNTS.values())
    low, high = _wilson(good, total)
    assert summary.by_channel.loc["SMS", "delivery_rate_low"] == pytest.approx(low)
    assert f"95% CI {low:.1%}–{high:.1%}" in str(summary)
    # sender_delivery: error bars from the rate down to low and up to high, and the hover
    bars = charts.sender_delivery(frame).data[0]
    for label, rate, minus, plus in zip(
        bars.y, bars.x, bars.error_x.arrayminus, bars.error_x.array, strict=True
    ):
        good, bad = COUNTS[label]
        low, high = _wilson(good, good + bad)
        assert (rate - minus, rate + plus) == pytest.approx((low, high))
    assert "95% CI" in bars.hovertemplate
    # send_outcomes: the channel's rate and interval in the hover text
    outcomes = charts.send_outcomes(frame)
    low, high = _wilson(good := sum(g for g, _ in COUNTS.values()), total)
    said = {text for trace in outcomes.data for text in trace.customdata[:, 2] if text}
    assert said == {
        f"delivery rate {good / total:.0%} of {total} rated (95% CI {low:.0%}–{high:.0%})"
    }


@pytest.fixture(scope="module")
def finding():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    source = next(c.source for c in notebook.cells if c.get("id") == "finding")
    assert "benjamini_hochberg" in source
    namespace: dict[str, object] = {"MAGIC": []}
    exec(source.rsplit("\nMarkdown(", 1)[0], namespace)
    return namespace["finding"]


def _lower_tail(k: int, n: int, good: int, total: int) -> float:
    bad = total - good
    return sum(
        math.comb(good, i) * math.comb(bad, n - i) for i in range(max(0, n - bad), k + 1)
    ) / math.comb(total, n)


def _bh(p: list[float]) -> list[float]:
    m = len(p)
    out = []
    for i, value in enumerate(p):  # min over ranks at or above this one, by hand
        rank = sorted(p).index(value) + 1 + sorted(p).count(value) - 1
        out.append(min(1.0, min(q * m / r for r, q in enumerate(sorted(p), 1) if r >= rank)))
        del i
    return out


def test_bh_correction_in_the_notebook_finding(finding):
    # ten senders; two a little worse: judged with BH over all ten at once
    counts = {f"+155500{n:02d}": (58, 2) for n in range(8)}
    counts["+15550090"] = (40, 20)
    counts["+15550091"] = (48, 12)
    frame = _frame(counts)
    good = sum(g for g, _ in counts.values())
    total = sum(g + b for g, b in counts.values())
    p = [_lower_tail(g, g + b, good, total) for g, b in counts.values()]
    adjusted = _bh(p)
    expected = []
    for (address, (g, b)), q in zip(counts.items(), adjusted, strict=True):
        rest = (good - g) / (total - g - b)
        if q < 0.01 and g / (g + b) <= rest - 0.10:
            expected.append(address)
    text = finding(frame, "P", alpha=0.01)
    flagged = [a for a in counts if f"**{a}**" in text]
    assert flagged == expected
    # Bonferroni alone (alpha / 10) would have missed one of them here, BH does not
    bonferroni = [a for a, q in zip(counts, p, strict=True) if q < 0.01 / len(counts)]
    assert len(expected) == 2 and len(bonferroni) < len(expected)


def test_the_finding_says_not_enough_messages_to_judge(finding):
    # a sender with 2 messages could not be told from the rest even with none delivered
    text = finding(_frame(COUNTS), "P")
    assert "**+15550001**" in text  # 29 of 60 is judged, and flagged
    assert "Not enough messages to judge 1 of the 3 senders (2 messages or fewer each)" in text
    few = finding(_frame({f"+155500{n:02d}": (1, 1) for n in range(10)}), "P")
    assert few.startswith("No sender stands out in **P**")
    assert "Not enough messages to judge 10 of the 10 senders" in few
