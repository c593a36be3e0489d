"""The significance tests and the read rate of ``commstoolkit.metrics`` that traffic health
uses, against their definitions written again here (binomial coefficients, counting)."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from commstoolkit import metrics

from .test_health import _lower_tail, _two_sided


def test_the_fisher_tail_is_the_sum_of_binomial_coefficients():
    rnd = random.Random(7)
    for _ in range(3000):
        big_n = rnd.randint(1, 300)
        big_k = rnd.randint(0, big_n)
        n = rnd.randint(0, big_n)
        k = rnd.randint(0, min(n, big_k))
        exact = _lower_tail(k, n, big_k, big_n)
        assert metrics.fisher_lower_p(k, n, big_k, big_n) == pytest.approx(
            exact, rel=1e-10, abs=1e-300
        ), (k, n, big_k, big_n)


def test_the_fisher_tail_at_traffic_volumes_is_fast_and_sensible():
    # A sender 5 points below a million-message pool: vanishingly unlikely by chance;
    # the same rate as the pool: about even.
    assert metrics.fisher_lower_p(90_000, 100_000, 950_000, 1_000_000) < 1e-300
    assert 0.4 < metrics.fisher_lower_p(95_000, 100_000, 950_000, 1_000_000) < 0.6
    assert metrics.fisher_lower_p(0, 10, 0, 1_000_000) == 1.0


def test_the_two_sided_test_doubles_the_smaller_tail():
    rnd = random.Random(8)
    for _ in range(500):
        n1, n2 = rnd.randint(1, 150), rnd.randint(1, 150)
        k1, k2 = rnd.randint(0, n1), rnd.randint(0, n2)
        assert metrics.fisher_two_sided_p(k1, n1, k2, n2) == pytest.approx(
            _two_sided(k1, n1, k2, n2), rel=1e-10, abs=1e-300
        )
    assert metrics.fisher_two_sided_p(50, 100, 50, 100) == 1.0
    assert metrics.fisher_two_sided_p(3, 0, 4, 10) == 1.0  # nothing to compare


def test_the_read_rate_counts_reads_where_the_channel_reports_them():
    frame = pd.DataFrame(
        {
            "status": ["READ", "DELIVERED", "DELIVERED", "READ", "FAILED", "DELIVERED"],
            "channel": ["RCS", "RCS", "SMS", "WHATSAPP", "RCS", "WHATSAPP"],
            "sender_id": ["a", "a", "b", "c", "a", "c"],
        }
    )
    rate = metrics.read_rate(frame)
    # delivered on RCS / WhatsApp: rows 0, 1, 3, 5; read: 0 and 3
    assert (rate.numerator, rate.denominator) == (2, 4)
    assert rate.excluded == {"no_read_receipts": 1, "not_delivered": 1}
