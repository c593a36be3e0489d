"""A sender below its pool only because its messages went where failures concentrate (a
country's bad hour) is told, not removed; a sender bad everywhere is removed all the same.
On synthetic traffic, so the test controls every count."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from commstoolkit.analysis import traffic_findings
from commstoolkit.doctor.evidence import traffic_doctor_findings
from tests.analysis.test_health import _lower_tail
from tests.analysis.traffic import traffic

SENDERS = {
    **{f"comms_sender_{i:026d}": ("pool_a", "SMS", 0.96) for i in range(6)},
    "comms_sender_unlucky00000000000000": ("pool_a", "SMS", 0.96),
    "comms_sender_bad000000000000000000": ("pool_a", "SMS", 0.96),
}
UNLUCKY, BAD = "comms_sender_unlucky00000000000000", "comms_sender_bad000000000000000000"


def _frame() -> pd.DataFrame:
    frame = traffic(SENDERS, 24_000, days=14, seed=3, countries=("US", "CA"))
    rng = np.random.default_rng(5)
    # Most of the unlucky sender's messages go to GB at 15:00 UTC, where half fail.
    unlucky = np.flatnonzero(
        (frame["sender_id"] == UNLUCKY).to_numpy() & (rng.random(len(frame)) < 0.6)
    )
    frame.loc[unlucky, "to_country"] = "GB"
    frame.loc[unlucky, "created_at"] = frame.loc[unlucky, "created_at"].dt.floor(
        "D"
    ) + pd.Timedelta(hours=15, minutes=10)
    cell = (frame["to_country"] == "GB") & (frame["created_at"].dt.hour == 15)
    chance = np.where(cell, 0.3, np.where(frame["sender_id"] == BAD, 0.5, 0.96))
    ok = rng.random(len(frame)) < chance
    frame["status"] = pd.array(
        np.where(ok, "DELIVERED", "UNDELIVERED"), dtype=frame["status"].dtype
    )
    return frame


def test_a_shortfall_the_bad_hour_explains_is_told_and_a_bad_sender_removed():
    frame = _frame()
    members = pd.DataFrame(
        {
            "pool_id": "pool_a",
            "pool_name": "Pool a",
            "sender_id": list(SENDERS),
            "address": [f"+1800{i:07d}" for i in range(len(SENDERS))],
            "channel": "SMS",
            "status": "ACTIVATED",
        }
    )
    found = traffic_findings(frame, members=members)
    assert {"to_country": "GB", "hour": 15} in [f.subject for f in found.of("failure_cluster")]
    below = {f.subject["sender_id"] for f in found.of("below_pool")}
    assert {UNLUCKY, BAD} <= below, found.markdown()
    doctor = traffic_doctor_findings(
        found, "pool_a", members, alpha=0.05, min_gap=0.10, min_messages=30
    )
    by_sender = {f.subject["sender_id"]: f for f in doctor if f.kind == "below_pool"}
    unlucky, bad = by_sender[UNLUCKY], by_sender[BAD]
    assert bad.changes and bad.changes[0].action == "remove"
    assert not unlucky.changes and unlucky.severity == "low"
    assert "the cluster explains the gap" in unlucky.text
    # The comparison without the cluster's messages, recomputed from the frame.
    start, end = frame.attrs["window"]
    now = frame[(frame["created_at"] >= start) & (frame["created_at"] < end)]
    now = now[~((now["to_country"] == "GB") & (now["created_at"].dt.hour == 15))]
    mine, rest = now[now["sender_id"] == UNLUCKY], now[now["sender_id"] != UNLUCKY]
    k, n = int((mine["status"] == "DELIVERED").sum()), len(mine)
    k_rest, n_rest = int((rest["status"] == "DELIVERED").sum()), len(rest)
    outside = unlucky.evidence["outside_clusters"]
    assert (outside["rate"]["delivered"], outside["rate"]["rated"]) == (k, n)
    assert (outside["compared_with"]["delivered"], outside["compared_with"]["rated"]) == (
        k_rest,
        n_rest,
    )
    exact = _lower_tail(k, n, k + k_rest, n + n_rest)
    assert outside["p"] == pytest.approx(exact, rel=1e-9, abs=1e-300)
    # Without the cluster it is not below the rest (which holds the bad sender); with it,
    # far below.
    assert k / n >= k_rest / n_rest
    assert unlucky.evidence["rate"]["rate"] < unlucky.evidence["compared_with"]["rate"] - 0.2
