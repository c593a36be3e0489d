"""``traffic_health``: every number recomputed here from the raw rows, in plain Python
(counting dictionaries, the Wilson formula, the hypergeometric tail from binomial
coefficients, the Benjamini-Hochberg step-up), never through ``commstoolkit.metrics``."""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest

from commstoolkit.analysis import HEALTH_COLUMNS, traffic_health
from commstoolkit.errors import InvalidInputError

from .traffic import START, traffic

Z = 1.959963984540054
SENDERS = {
    "s1": ("pool_a", "SMS", 0.95),
    "s2": ("pool_a", "RCS", 0.85),
    "s3": ("pool_b", "SMS", 0.70),
    "s4": ("pool_b", "WHATSAPP", 0.90),
    "s5": ("pool_c", "SMS", 0.97),
}


def _wilson(k: int, n: int) -> tuple[float, float]:
    if n == 0:
        return (math.nan, math.nan)
    p = k / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z / (1 + Z * Z / n) * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def _lower_tail(k: int, n: int, big_k: int, big_n: int) -> float:
    failed = big_n - big_k
    ways = sum(
        math.comb(big_k, j) * math.comb(failed, n - j) for j in range(max(0, n - failed), k + 1)
    )
    return ways / math.comb(big_n, n)


def _two_sided(k1: int, n1: int, k2: int, n2: int) -> float:
    lower = _lower_tail(k1, n1, k1 + k2, n1 + n2)
    upper = _lower_tail(n1 - k1, n1, n1 + n2 - k1 - k2, n1 + n2)
    return min(1.0, 2 * min(lower, upper))


def _bh(ps: list[float]) -> list[float]:
    m = len(ps)
    out = []
    for p in ps:
        # the definition: min over every p' >= p of p' * m / rank(p')
        ranked = sorted(ps)
        out.append(min(1.0, min(q * m / (ranked.index(q) + ranked.count(q)) for q in ps if q >= p)))
    return out


def _messy(seed: int) -> pd.DataFrame:
    """Traffic with the awkward rows too: no sender, no pool, no country, in flight."""
    frame = traffic(SENDERS, 3000, seed=seed, days=6)
    rng = np.random.default_rng(seed)
    n = len(frame)
    nosender = rng.uniform(size=n) < 0.03
    frame.loc[nosender, ["sender_id", "sender_address", "channel"]] = pd.NA
    frame.loc[nosender, "status"] = "FAILED"
    frame.loc[rng.uniform(size=n) < 0.05, "pool_id"] = pd.NA
    frame.loc[rng.uniform(size=n) < 0.05, "to_country"] = pd.NA
    frame.loc[rng.uniform(size=n) < 0.04, "status"] = "QUEUED"
    frame.loc[rng.uniform(size=n) < 0.02, "status"] = "CANCELED"
    return frame


def _key(row: dict, by: str):
    if by == "sender":
        return "no sender" if pd.isna(row["sender_id"]) else row["sender_id"]
    if by == "pool":
        return "no pool" if pd.isna(row["pool_id"]) else row["pool_id"]
    if by == "channel":
        return "no sender" if pd.isna(row["channel"]) else row["channel"]
    if by == "country":
        return "unknown" if pd.isna(row["to_country"]) else row["to_country"]
    if by == "day":
        return row["created_at"].floor("D")
    return row["created_at"].hour


def _by_hand(frame: pd.DataFrame, by: str) -> tuple[dict, dict]:
    start, end = frame.attrs["window"]
    now: dict = defaultdict(lambda: defaultdict(int))
    then: dict = defaultdict(lambda: defaultdict(int))
    times: dict = defaultdict(list)
    for row in frame.to_dict("records"):
        created = row["created_at"]
        current = start <= created < end
        if current:
            bucket = now[_key(row, by)]
        elif start - (end - start) <= created < start:
            bucket = then[_key(row, by)]
        else:
            continue
        status = row["status"]
        bucket["messages"] += 1
        rated = status in ("DELIVERED", "READ", "UNDELIVERED", "FAILED")
        good = status in ("DELIVERED", "READ")
        bucket["rated"] += rated
        bucket["delivered"] += good
        bucket["errors"] += status in ("UNDELIVERED", "FAILED")
        reads = row["channel"] in ("RCS", "WHATSAPP")
        bucket["read_eligible"] += good and reads
        bucket["read"] += status == "READ" and reads
        has_sender = not pd.isna(row["sender_id"])
        if (
            current
            and has_sender
            and status
            in (
                "DELIVERED",
                "UNDELIVERED",
                "FAILED",
            )
        ):
            times[_key(row, by)].append(row["latency_s"])
    for key, values in times.items():
        now[key]["times"] = values
    return now, then


@pytest.mark.parametrize("by", ["sender", "pool", "channel", "country", "day", "hour"])
@pytest.mark.parametrize("seed", [1, 2])
def test_every_number_is_the_hand_count(by, seed):
    frame = _messy(seed)
    health = traffic_health(frame, by)
    now, then = _by_hand(frame, by)
    key = {"sender": "sender_id", "pool": "pool_id", "country": "to_country"}.get(by, by)
    assert list(health.columns[-len(HEALTH_COLUMNS) :]) == list(HEALTH_COLUMNS)
    got = {row[key]: row for row in health.to_dict("records")}
    assert set(got) == set(now)
    compared = sorted(k for k in now if now[k]["rated"] and then.get(k, {}).get("rated"))
    raw = [
        _two_sided(now[k]["delivered"], now[k]["rated"], then[k]["delivered"], then[k]["rated"])
        for k in compared
    ]
    adjusted = dict(zip(compared, _bh(raw), strict=True))
    for k, want in now.items():
        row = got[k]
        for column in ("messages", "rated", "delivered", "errors", "read_eligible", "read"):
            assert row[column] == want[column], (k, column)
        for name, num, den in (
            ("delivery", "delivered", "rated"),
            ("error", "errors", "rated"),
            ("read", "read", "read_eligible"),
        ):
            if want[den]:
                assert row[f"{name}_rate"] == pytest.approx(want[num] / want[den])
                assert (row[f"{name}_low"], row[f"{name}_high"]) == pytest.approx(
                    _wilson(want[num], want[den])
                )
            else:
                assert math.isnan(row[f"{name}_rate"]) and math.isnan(row[f"{name}_low"])
        times = want.get("times", [])
        assert row["ttd_n"] == len(times)
        if times:
            assert row["ttd_p50_s"] == pytest.approx(float(np.quantile(times, 0.5)))
            assert row["ttd_p90_s"] == pytest.approx(float(np.quantile(times, 0.9)))
        before = then.get(k, {})
        assert row["prev_rated"] == before.get("rated", 0)
        assert row["prev_delivered"] == before.get("delivered", 0)
        if k in adjusted:
            change = (
                want["delivered"] / want["rated"] - before["delivered"] / before["rated"]
            ) * 100
            assert row["change_pts"] == pytest.approx(change)
            assert row["change_p"] == pytest.approx(adjusted[k], rel=1e-9, abs=1e-300)
            assert row["change_significant"] == (adjusted[k] < 0.05)
        else:
            assert math.isnan(row["change_p"]) and not row["change_significant"]
    # Most messages first.
    assert list(health["messages"]) == sorted(health["messages"], reverse=True)


def test_a_sender_that_got_worse_is_flagged_and_a_steady_one_is_not():
    def chance(frame):
        late = (frame["created_at"] >= START + pd.Timedelta(days=7)).to_numpy()
        steady = np.where(frame["sender_id"] == "s1", 0.95, 0.9)
        return np.where((frame["sender_id"] == "s2") & late, 0.6, steady)

    frame = traffic({"s1": ("p", "SMS", 0), "s2": ("p", "SMS", 0)}, 20000, chance=chance)
    health = traffic_health(frame, "sender").set_index("sender_id")
    assert health.at["s2", "change_significant"]
    assert health.at["s2", "change_pts"] == pytest.approx(-30, abs=3)
    assert not health.at["s1", "change_significant"]
    assert health.attrs["window"] == frame.attrs["window"]
    start, end = frame.attrs["window"]
    assert health.attrs["previous"] == (start - (end - start), start)


def test_without_the_previous_window_the_change_is_unknown_not_zero():
    frame = traffic(SENDERS, 2000, days=4, window_days=4)
    health = traffic_health(frame, "pool")
    assert (health["prev_rated"] == 0).all()
    assert health["change_pts"].isna().all() and health["change_p"].isna().all()
    assert not health["change_significant"].any()


def test_idle_members_show_with_zeros():
    frame = traffic(SENDERS, 2000)
    members = pd.DataFrame(
        {
            "pool_id": ["pool_a", "pool_a", "pool_z"],
            "pool_name": ["Pool a", "Pool a", "Quiet pool"],
            "sender_id": ["s1", "s9", "s8"],
            "address": ["+18000000000", "+18005550009", "+18005550008"],
            "channel": pd.Categorical(["SMS", "RCS", "SMS"]),
            "status": pd.Categorical(["ACTIVATED", "ACTIVATED", "DEACTIVATED"]),
        }
    )
    by_sender = traffic_health(frame, "sender", members=members).set_index("sender_id")
    assert by_sender.at["s9", "messages"] == 0 and by_sender.at["s9", "sender_address"] == (
        "+18005550009"
    )
    assert math.isnan(by_sender.at["s9", "delivery_rate"])
    assert by_sender.at["s1", "messages"] > 0
    by_pool = traffic_health(frame, "pool", members=members).set_index("pool_id")
    assert by_pool.at["pool_z", "messages"] == 0 and by_pool.at["pool_z", "pool_name"] == (
        "Quiet pool"
    )
    # Idle rows come last (fewest messages).
    assert list(by_pool.index)[-1] == "pool_z"


def test_an_unknown_grouping_names_the_allowed_ones():
    with pytest.raises(InvalidInputError, match=r"by='week'.*'sender', 'pool', 'channel'") as e:
        traffic_health(traffic(SENDERS, 10), "week")
    assert e.value.field == "by" and "hour" in e.value.allowed
