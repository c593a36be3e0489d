"""``traffic_findings``: the planted faults are found, a clean history gives no false
alarm over several seeds, and the set of findings and every number they show are the hand
count (plain Python over the rows, Fisher from binomial coefficients, BH by definition)."""

from __future__ import annotations

import re
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest

from commstoolkit.analysis import traffic_findings
from commstoolkit.errors import InvalidInputError

from .test_health import _bh, _lower_tail
from .traffic import START, traffic

SENDERS = {f"s{i}": (f"pool_{i % 4}", "SMS" if i % 3 else "RCS", 0.94) for i in range(16)}
BAD_SENDER, DRIFTER, COUNTRY, HOUR = "s5", "s7", "GB", 14


def _planted(frame: pd.DataFrame) -> np.ndarray:
    """A sender 25 points below its pool all along, one that fell 35 points in the last 3
    days, and GB at 14:00 UTC at half its usual delivery."""
    p = np.where(frame["sender_id"] == BAD_SENDER, 0.69, 0.94)
    late = (frame["created_at"] >= START + pd.Timedelta(days=11)).to_numpy()
    p = np.where((frame["sender_id"] == DRIFTER).to_numpy() & late, 0.59, p)
    cell = (frame["to_country"] == COUNTRY).to_numpy() & (frame["created_at"].dt.hour == HOUR)
    return np.where(cell.to_numpy(), 0.47, p)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_planted_faults_are_found(seed):
    found = traffic_findings(traffic(SENDERS, 120_000, seed=seed, chance=_planted))
    drift = {f.subject["sender_id"] for f in found.of("drift")}
    below = {f.subject["sender_id"] for f in found.of("below_pool")}
    clusters = [f.subject for f in found.of("failure_cluster")]
    assert drift == {DRIFTER}
    # The drifter is below its pool over the whole window too: both are true.
    assert BAD_SENDER in below and below <= {BAD_SENDER, DRIFTER}
    assert clusters == [{"to_country": COUNTRY, "hour": HOUR}]
    assert [f.severity for f in found] == sorted(
        (f.severity for f in found), key=("high", "medium", "low").index
    )


@pytest.mark.parametrize("seed", [3, 4, 5, 6, 7])
def test_a_clean_history_raises_no_alarm(seed):
    found = traffic_findings(traffic(SENDERS, 120_000, seed=seed))
    assert list(found) == [], found.markdown()
    assert found.tested > 0
    assert found.markdown().startswith(f"No finding: {found.tested:,} comparisons made")


def _hand(frame: pd.DataFrame, recent_days: int, least: int, gap: float, alpha: float):
    """The significance findings counted by hand: {(kind, subject items): numbers}."""
    start, end = frame.attrs["window"]
    recent_from = end - pd.Timedelta(days=recent_days)
    rated = ("DELIVERED", "READ", "UNDELIVERED", "FAILED")
    records = frame.to_dict("records")
    rows = [r for r in records if start <= r["created_at"] < end and r["status"] in rated]
    # Drift's baseline reaches into the previous window (the frame holds it).
    loaded = [r for r in records if start - (end - start) <= r["created_at"] < end]
    history = [r for r in loaded if r["status"] in rated]
    good = lambda r: r["status"] in ("DELIVERED", "READ")  # noqa: E731
    tests = []  # (kind, subject, k, n, K, N, gap)
    drift: dict = defaultdict(lambda: [0, 0, 0, 0])
    for r in history:
        if pd.isna(r["sender_id"]):
            continue
        d = drift[r["sender_id"]]
        at = 2 if r["created_at"] >= recent_from else 0
        d[at] += good(r)
        d[at + 1] += 1
    for sender, (k0, n0, k1, n1) in sorted(drift.items()):
        if min(n0, n1) >= least:
            tests.append(
                ("drift", (("sender_id", sender),), k1, n1, k0 + k1, n0 + n1, k0 / n0 - k1 / n1)
            )
    pools: dict = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for r in rows:
        if pd.isna(r["sender_id"]) or pd.isna(r["pool_id"]):
            continue
        c = pools[r["pool_id"]][r["sender_id"]]
        c[0] += good(r)
        c[1] += 1
    for pool, senders in sorted(pools.items()):
        big_k = sum(c[0] for c in senders.values())
        big_n = sum(c[1] for c in senders.values())
        for sender, (k, n) in sorted(senders.items()):
            if min(n, big_n - n) >= least:
                rest = (big_k - k) / (big_n - n)
                subject = (("pool_id", pool), ("sender_id", sender))
                tests.append(("below_pool", subject, k, n, big_k, big_n, rest - k / n))
    big_k, big_n = sum(map(good, rows)), len(rows)
    cells: dict = defaultdict(lambda: [0, 0])
    for r in rows:
        country = "unknown" if pd.isna(r["to_country"]) else r["to_country"]
        for subject in (
            (("to_country", country),),
            (("to_country", country), ("hour", r["created_at"].hour)),
        ):
            cells[subject][0] += good(r)
            cells[subject][1] += 1
    for subject, (k, n) in sorted(cells.items()):
        if min(n, big_n - n) >= least:
            rest = (big_k - k) / (big_n - n)
            tests.append(("failure_cluster", subject, k, n, big_k, big_n, rest - k / n))
    ps = [_lower_tail(k, n, bk, bn) for _, _, k, n, bk, bn, _ in tests]
    adjusted = _bh(ps)
    flagged = {
        (kind, subject): (k, n, p, q)
        for (kind, subject, k, n, _, _, g), p, q in zip(tests, ps, adjusted, strict=True)
        if q < alpha and g >= gap
    }
    return flagged, len(tests)


@pytest.mark.parametrize("seed", [0, 1])
def test_the_findings_are_the_hand_count(seed):
    # Small enough for exact binomial coefficients; strong faults, loose thresholds, so
    # that some comparisons land near the line.
    frame = traffic(SENDERS, 6000, seed=seed, chance=_planted)
    found = traffic_findings(frame, min_messages=20, min_gap=0.08, recent="3D")
    flagged, family = _hand(frame, 3, least=20, gap=0.08, alpha=0.05)
    assert found.tested == family
    got = {}
    for f in found:
        if f.kind in ("drift", "below_pool", "failure_cluster"):
            got[(f.kind, tuple(f.subject.items()))] = f
    assert set(got) == set(flagged)
    for key, (k, n, p, q) in flagged.items():
        finding = got[key]
        assert finding.evidence["p"] == pytest.approx(p, rel=1e-9, abs=1e-300)
        assert finding.evidence["p_adjusted"] == pytest.approx(q, rel=1e-9, abs=1e-300)
        assert f"for {family:,} comparisons" in finding.text
        # The group's own rate, as the sentence shows it, is the hand count.
        shown = re.findall(r"(\d+\.\d)% \(([\d,]+) of ([\d,]+);", finding.text)
        pairs = [(int(a.replace(",", "")), int(b.replace(",", ""))) for _, a, b in shown]
        assert (k, n) in pairs, finding.text
        for rate, a, b in shown:
            assert float(rate) == pytest.approx(
                100 * int(a.replace(",", "")) / int(b.replace(",", "")), abs=0.051
            )


def _members(frame: pd.DataFrame) -> pd.DataFrame:
    seen = frame.drop_duplicates("sender_id").dropna(subset=["sender_id"])
    members = pd.DataFrame(
        {
            "pool_id": seen["pool_id"].to_numpy(),
            "pool_name": seen["pool_name"].to_numpy(),
            "sender_id": seen["sender_id"].to_numpy(),
            "address": seen["sender_address"].to_numpy(),
            "channel": seen["channel"].astype(str).to_numpy(),
            "status": "ACTIVATED",
        }
    )
    return members


def test_deactivated_idle_and_lopsided_pools():
    senders = {
        "a1": ("pool_a", "SMS", 0.95),
        "b1": ("pool_b", "SMS", 0.95),
        "b2": ("pool_b", "SMS", 0.95),
    }
    frame = traffic(senders, 6000, seed=2)
    # pool_b's traffic goes through b1 almost alone.
    b2 = frame.index[frame["sender_id"] == "b2"]
    frame.loc[b2[: int(len(b2) * 0.9)], ["sender_id", "sender_address"]] = (
        "b1",
        frame.loc[frame["sender_id"] == "b1", "sender_address"].iloc[0],
    )
    members = _members(frame)
    members.loc[members["sender_id"] == "a1", "status"] = "DEACTIVATED"
    idle = {
        "pool_id": "pool_a",
        "pool_name": "Pool a",
        "sender_id": "a9",
        "address": "+18005550199",
        "channel": "SMS",
        "status": "ACTIVATED",
    }
    members = pd.concat([members, pd.DataFrame([idle])], ignore_index=True)
    found = traffic_findings(frame, members)

    start, end = frame.attrs["window"]
    window = frame[(frame["created_at"] >= start) & (frame["created_at"] < end)]
    (off,) = found.of("deactivated_with_traffic")
    assert off.subject == {"sender_id": "a1"} and off.severity == "high"
    assert off.evidence["messages"] == int((window["sender_id"] == "a1").sum())
    assert f"carried {off.evidence['messages']:,} messages" in off.text
    (quiet,) = found.of("idle_members")
    assert quiet.subject == {"pool_id": "pool_a"} and quiet.evidence["idle"] == ["a9"]
    assert "1 of its 2 members carried no traffic" in quiet.text
    # pool_b leans on b1 (90% of b2's share moved to it); pool_a carried everything
    # through a1 while its other member idled: both lean on one sender.
    leans = {f.subject["pool_id"]: f for f in found.of("leans_on_one")}
    assert set(leans) == {"pool_a", "pool_b"}
    in_b = window[window["pool_id"] == "pool_b"]
    carried = int((in_b["sender_id"] == "b1").sum())
    lean = leans["pool_b"]
    assert lean.subject == {"pool_id": "pool_b", "sender_id": "b1"} and lean.severity == "low"
    assert lean.evidence == {"carried": carried, "messages": len(in_b), "members": 2}
    assert f"{carried / len(in_b):.0%} ({carried:,} of {len(in_b):,})" in lean.text
    assert leans["pool_a"].severity == "medium"  # all of it
    assert "its other 1 member carried 0" in leans["pool_a"].text
    # Without the members, the member-based kinds are not looked for.
    kinds = {f.kind for f in traffic_findings(frame)}
    assert not kinds & {"deactivated_with_traffic", "idle_members"}


def test_recent_must_leave_a_baseline():
    frame = traffic(SENDERS, 100)
    # The frame holds 14 days (the window and the one before): 14 days leave no baseline.
    with pytest.raises(InvalidInputError, match="recent='14D': must be shorter than the traffic"):
        traffic_findings(frame, recent="14D")
    # Without the previous window, the window alone is the limit.
    start, end = frame.attrs["window"]
    alone = frame[frame["created_at"] >= start]
    alone.attrs = frame.attrs
    with pytest.raises(InvalidInputError, match="compare=True"):
        traffic_findings(alone, recent="7D")
    assert traffic_findings(alone, recent="6D").window == (start, end)  # accepted
