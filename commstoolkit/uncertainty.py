"""The uncertainty of a rate and the significance of a gap: the 95% Wilson interval, Fisher's
exact test (one- and two-sided) and the Benjamini-Hochberg correction for testing many groups
at once. Pure Python: scipy is not a dependency (a few lines each here). ``metrics``
re-exports them beside the definitions they qualify."""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = [
    "Z95",
    "benjamini_hochberg",
    "fisher_lower_p",
    "fisher_two_sided_p",
    "wilson_interval",
]

Z95 = 1.959963984540054  # the standard normal's 97.5% quantile


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of ``successes`` / ``trials`` (NaN, NaN for 0 trials)."""
    if trials <= 0:
        return (float("nan"), float("nan"))
    z = Z95 if confidence == 0.95 else _normal_quantile(0.5 + confidence / 2)
    p = successes / trials
    z2 = z * z
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / (1 + z2 / trials)
    return (max(0.0, centre - half), min(1.0, centre + half))


def _normal_quantile(q: float) -> float:
    """The standard normal quantile, by bisection on erf (precise enough for intervals)."""
    low, high = -10.0, 10.0
    for _ in range(100):
        mid = (low + high) / 2
        if 0.5 * (1 + math.erf(mid / math.sqrt(2))) < q:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def fisher_lower_p(delivered: int, messages: int, all_delivered: int, all_messages: int) -> float:
    """One-sided Fisher exact test: if a sender were no worse than the pool, the chance
    that its ``messages`` would hold this few (``delivered`` or fewer) of the pool's
    ``all_delivered`` deliveries among ``all_messages`` (hypergeometric lower tail)."""
    return _hypergeometric_lower_tail(delivered, messages, all_delivered, all_messages)


def fisher_two_sided_p(
    successes: int, trials: int, other_successes: int, other_trials: int
) -> float:
    """Two-sided Fisher exact test that two rates differ (``successes`` / ``trials``
    against ``other_successes`` / ``other_trials``): twice the smaller one-sided tail,
    at most 1 (the doubling rule)."""
    all_successes, all_trials = successes + other_successes, trials + other_trials
    if trials == 0 or other_trials == 0:
        return 1.0
    lower = fisher_lower_p(successes, trials, all_successes, all_trials)
    # The upper tail of the successes is the lower tail of the failures.
    upper = fisher_lower_p(trials - successes, trials, all_trials - all_successes, all_trials)
    return min(1.0, 2 * min(lower, upper))


def _hypergeometric_lower_tail(k: int, n: int, big_k: int, big_n: int) -> float:
    """P(X <= k) for X ~ Hypergeometric(population big_n, big_k successes, n draws).

    In floating point, from the log of one term (lgamma) and the ratio of neighbouring
    terms, summed from k away from the mode until the terms stop counting: exact binomial
    coefficients cost more than the whole health table at traffic's volumes (a window of a
    million messages is a number of 300,000 digits), and scipy is not a dependency. Within
    1e-12 of the exact sum (tests/test_metrics_item4.py checks it against math.comb)."""
    lowest, highest = max(0, n - (big_n - big_k)), min(n, big_k)
    if k < lowest:
        return 0.0
    if k >= highest:
        return 1.0

    def log_pmf(j: int) -> float:
        return _log_comb(big_k, j) + _log_comb(big_n - big_k, n - j) - _log_comb(big_n, n)

    mode = (n + 1) * (big_k + 1) // (big_n + 2)
    if k < mode:
        # Below the mode the terms fall as j falls: sum downward until they stop counting.
        term = math.exp(log_pmf(k))
        total, j = term, k
        while j > lowest and term > total * 1e-17:
            term *= j * (big_n - big_k - n + j) / ((big_k - j + 1) * (n - j + 1))
            total, j = total + term, j - 1
        return min(1.0, total)
    # At or above the mode: one minus the upper tail, summed upward from k + 1.
    j = k + 1
    term = math.exp(log_pmf(j))
    upper = term
    while j < highest and term > upper * 1e-17:
        term *= (big_k - j) * (n - j) / ((j + 1) * (big_n - big_k - n + j + 1))
        upper, j = upper + term, j + 1
    return max(0.0, 1.0 - upper)


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (same order as given): a finding over many
    senders at once keeps its false discovery rate at the level compared with."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [1.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, p_values[i] * m / rank)
        adjusted[i] = min(1.0, running)
    return adjusted
