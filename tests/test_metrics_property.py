"""Issue 11 (metrics): a property test over random sandbox test sends.

Seeds, pools, channels and recipients (ordinary numbers and the README's magic recipients)
are drawn at random; every number of ``summary()`` is then recomputed by hand from the raw
messages the API gives (each with its attempts), never through ``commstoolkit.metrics``.
"""

from __future__ import annotations

import math
from functools import cache
from typing import TYPE_CHECKING

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from instant import instant_client

import commstoolkit as ct
from commstoolkit.frames import NO_SENDER
from commstoolkit.models import Message
from commstoolkit.sandbox import Sandbox

if TYPE_CHECKING:
    from commstoolkit.testsend import TestSend

# +15005550001 (invalid) refuses the whole send before anything is sent: not drawn.
MAGIC = ["+15005550002", "+15005550003", "+15005550004", "+15005550005", "+15005550006"]
MAGIC += ["+15005550007"]
ORDINARY = [f"+1{area}555{n:04d}" for area in (212, 303, 415, 617) for n in range(100, 130)]
FINAL = ("DELIVERED", "READ", "UNDELIVERED", "FAILED", "CANCELED")
RATED = ("DELIVERED", "READ", "UNDELIVERED", "FAILED")
Z = 1.959963984540054


@cache
def _client(seed: int) -> ct.CommsClient:
    box = Sandbox(":memory:", seed=seed, senders=120)
    box.clock.instant = True
    return instant_client(box)


@cache
def _pools(seed: int) -> tuple[str, ...]:
    return tuple(ct.load_pools(_client(seed))["pool_id"])


# A random test send: the seed's account, any of its pools, a channel, and recipients drawn
# from ordinary numbers and the magic ones.
SENDS = {
    "seed": st.sampled_from([3, 7, 11]),
    "pool_pick": st.integers(min_value=0, max_value=1000),
    "channel": st.sampled_from(["PHONE", "PHONE", "WHATSAPP"]),
    "recipients": st.lists(st.sampled_from(ORDINARY + MAGIC), min_size=1, max_size=25, unique=True),
}


def send(
    seed: int, pool_pick: int, channel: str, recipients: list[str]
) -> tuple[TestSend, list[Message]]:
    """The drawn send, and its messages as the API gives them (each with its attempts)."""
    client = _client(seed)
    pools = _pools(seed)
    run = ct.test_send(
        client,
        pools[pool_pick % len(pools)],
        recipients,
        "property",
        channel=channel,
        allow_unroutable=True,
        progress=False,
    )
    listed = client.messages.list(tags={"ct_run": run.run_id})
    return run, [client.messages.get(m.id) for m in listed]


def _wilson(k: int, n: int) -> tuple[float, float]:
    p = k / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z / (1 + Z * Z / n) * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def _seconds(m: Message) -> float:
    return (m.updated_at - m.created_at).total_seconds()


def _quantiles(values: list[float]) -> list[float]:
    """p50, p90, p99 (linear interpolation, as numpy's default) and max, by hand."""
    if not values:
        return [math.nan] * 4
    ordered = sorted(values)
    out = []
    for q in (0.5, 0.9, 0.99):
        at = q * (len(ordered) - 1)
        low = math.floor(at)
        high = min(low + 1, len(ordered) - 1)
        out.append(ordered[low] + (ordered[high] - ordered[low]) * (at - low))
    return [*out, ordered[-1]]


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(**SENDS)
def test_every_number_of_the_summary_is_a_hand_count_of_the_raw_messages(
    seed, pool_pick, channel, recipients
):
    run, raw = send(seed, pool_pick, channel, recipients)
    summary = run.summary()

    statuses = [m.status for m in raw]
    delivered = sum(s in ("DELIVERED", "READ") for s in statuses)
    rated = sum(s in RATED for s in statuses)
    rcs_first = [m for m in raw if m.attempts and m.attempts[0].channel == "RCS"]
    fallbacks = [m for m in rcs_first if len(m.attempts) > 1 and m.attempts[-1].channel == "SMS"]
    assert summary.messages == len(raw) == len(recipients)
    assert summary.final == sum(s in FINAL for s in statuses)
    assert summary.delivered == delivered
    assert (summary.delivery.numerator, summary.delivery.denominator) == (delivered, rated)
    assert _same(summary.delivery_rate, delivered / rated if rated else math.nan)
    assert summary.fallbacks == len(fallbacks)
    assert summary.fallback.denominator == len(rcs_first)
    assert _same(summary.fallback_rate, len(fallbacks) / len(rcs_first) if rcs_first else math.nan)
    assert summary.unaddressable == sum(1 for m in raw if m.sender_id is None and not m.attempts)
    for status, count in summary.by_status.items():
        assert count == statuses.count(status)

    to_delivered = [
        _seconds(m)
        for m in raw
        if m.status in ("DELIVERED", "UNDELIVERED", "FAILED") and m.sender_id is not None
    ]
    to_read = [_seconds(m) for m in raw if m.status == "READ"]
    for got, want in zip(summary.time_to_delivered_s, _quantiles(to_delivered), strict=True):
        assert _same(got, want)
    for got, want in zip(summary.time_to_read_s, _quantiles(to_read), strict=True):
        assert _same(got, want)
    assert summary.to_delivered.excluded.get("READ", 0) == len(to_read)

    by_channel: dict[str, list[Message]] = {}
    for m in raw:
        by_channel.setdefault(m.channel if m.sender_id else NO_SENDER, []).append(m)
    table = summary.by_channel
    assert {str(c) for c in table.index} == set(by_channel)
    for label, mine in by_channel.items():
        row = table.loc[label]
        good = sum(m.status in ("DELIVERED", "READ") for m in mine)
        judged = sum(m.status in RATED for m in mine)
        assert (row["messages"], row["delivered"], row["rated"]) == (len(mine), good, judged)
        if judged:
            low, high = _wilson(good, judged)
            assert row["delivery_rate"] == pytest.approx(good / judged)
            assert (row["delivery_rate_low"], row["delivery_rate_high"]) == pytest.approx(
                (low, high)
            )
        else:
            assert pd.isna(row["delivery_rate"])
    by_sender = summary.by_sender.reset_index()
    for sender_id in {m.sender_id for m in raw if m.sender_id}:
        mine = [m for m in raw if m.sender_id == sender_id]
        row = by_sender[by_sender["sender_id"] == sender_id].iloc[0]
        assert row["messages"] == len(mine)
        assert row["delivered"] == sum(m.status in ("DELIVERED", "READ") for m in mine)
