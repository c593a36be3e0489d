"""Concurrent reads within a server's limits: a bounded thread pool and an AIMD throttle.

``run_concurrently(tasks, concurrency)`` runs independent reads (each a sequential page walk
of one partition of a listing) on at most ``concurrency`` threads, sharing the client's
``httpx.Client`` (which is thread-safe), and yields their results in the order the tasks
were given, whatever order they finish in.

While the tasks run, every request they send passes a ``Throttle``: at most ``limit``
requests in flight, the limit adapting like TCP's congestion window (AIMD): it starts at
``INITIAL_LIMIT`` and doubles each window of answers up to ``concurrency`` until the first
429 (slow start); from then on it grows by one per window of answered requests (additive
increase) and halves on a 429 (multiplicative decrease, once per window: the
refusals of one burst count once); above the in-flight count the 429s came at it grows
``PROBING`` times slower, so a server's fixed limit is met rarely, not every few windows.
A refused request waits what ``Retry-After`` asks (``HttpCore``'s retry loop) outside the
throttle, and a refusal met while other requests were in flight does not use up the
request's retries (up to ``MAX_REFUSALS``): adapting to a rate limit is expected, not a
failure. A lone request refused counts as without a throttle.

A loader's default (``resolve_concurrency``) is ``DEFAULT_CONCURRENCY`` only where there
is a round trip to hide: not for the embedded sandbox (in this process), nor for a server
whose requests take less than ``FAST_ROUND_TRIP`` (loopback), where threads only add work.

Threads, not asyncio: the client is synchronous (design.md: "Sync is enough"), and the
standard library's ``ThreadPoolExecutor`` bounds the workers; the throttle is our own
because neither httpx nor the standard library adapts a concurrency limit to 429s.
"""

from __future__ import annotations

import contextvars
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from itertools import islice
from typing import TypeVar

from commstoolkit.errors import InvalidInputError

__all__ = [
    "DEFAULT_CONCURRENCY",
    "FAST_ROUND_TRIP",
    "MAX_CONCURRENCY",
    "MAX_REFUSALS",
    "Throttle",
    "check_concurrency",
    "current_throttle",
    "resolve_concurrency",
    "run_concurrently",
    "worth_hiding",
]

T = TypeVar("T")

# Within the "4-8": enough to hide a 100 ms round trip behind ~8 requests in flight,
# few enough to stay a polite client (the throttle halves it at the first 429).
DEFAULT_CONCURRENCY = 8
MAX_CONCURRENCY = 64
# 429s one request may meet under a throttle before the retry policy counts them.
MAX_REFUSALS = 50
# The throttle's first limit (it grows from there to the concurrency asked for).
INITIAL_LIMIT = 4
# Above the limit the last 429 came at, the limit grows this many times slower.
PROBING = 8
# Answers within this (seconds) leave no round trip to hide: the default loads one page after
# the other (a real network's round trip is 50-150 ms; loopback's a few).
FAST_ROUND_TRIP = 0.05

_THROTTLE: contextvars.ContextVar[Throttle | None] = contextvars.ContextVar(
    "commstoolkit_throttle", default=None
)


def resolve_concurrency(value: object, in_process: bool, round_trip: float | None) -> int:
    """``concurrency=`` of a loader: None is ``DEFAULT_CONCURRENCY`` when there is a round
    trip to hide, and 1 for a server answering in this process (the embedded sandbox) or
    one whose answers came within ``FAST_ROUND_TRIP`` (loopback: threads would only add
    work); else ``check_concurrency(value)``."""
    if value is None:
        return DEFAULT_CONCURRENCY if not in_process and worth_hiding(round_trip) else 1
    return check_concurrency(value)


def worth_hiding(round_trip: float | None) -> bool:
    """Whether requests that take ``round_trip`` seconds (None: not known yet) are worth
    sending side by side."""
    return round_trip is None or round_trip >= FAST_ROUND_TRIP


def check_concurrency(value: object) -> int:
    """``value`` if it is a whole number from 1 to ``MAX_CONCURRENCY``, else
    ``InvalidInputError`` naming the field."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CONCURRENCY:
        raise InvalidInputError(
            f"concurrency must be a whole number from 1 to {MAX_CONCURRENCY} (1: one request "
            f"at a time), got {value!r}",
            field="concurrency",
            allowed=f"1..{MAX_CONCURRENCY}",
        )
    return value


class Throttle:
    """At most ``limit`` requests in flight; AIMD between 1 and ``ceiling`` (see the module).

    ``in_flight`` and ``peak`` (the most ever in flight) and ``refusals`` (429s seen) say
    what happened, for tests and benchmarks.
    """

    def __init__(self, ceiling: int) -> None:
        self.ceiling = check_concurrency(ceiling)
        # Start at a modest limit and grow: a burst of ``ceiling`` requests against a server
        # that takes fewer would meet a burst of 429s, each one a Retry-After to wait.
        self.limit = float(min(ceiling, INITIAL_LIMIT))
        # Fewer in flight than the last 429s came at: grown to quickly, passed slowly.
        self.learned = float(ceiling)
        self.in_flight = 0
        self.peak = 0
        self.refusals = 0
        self._epoch = 0
        self._condition = threading.Condition()

    @contextmanager
    def slot(self) -> Iterator[Callable[[int | None], bool]]:
        """Hold one request slot while the request is in flight; the block gets a function
        to report the answer's status (None: no answer), which says whether a 429 came
        while other requests were in flight too: our own concurrency may have caused it, so
        it does not use up the request's retries (a lone request refused is a refusal like
        any other)."""
        with self._condition:
            while self.in_flight >= max(1, int(self.limit)):
                self._condition.wait()
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            epoch = self._epoch
            # How many were in flight with it: a 429 says the server takes fewer.
            position = self.in_flight

        def report(status: int | None) -> bool:
            with self._condition:
                if status == 429:
                    self.refusals += 1
                    if epoch == self._epoch:  # one decrease per burst
                        self._epoch += 1
                        self.learned = float(self.ceiling)
                        self.limit = max(1.0, self.limit / 2)
                    if epoch + 1 == self._epoch and position > 1:  # that burst, crowded
                        self.learned = min(self.learned, position - 1.0)
                    return position > 1
                if status is not None and status < 400:
                    self.limit = min(float(self.ceiling), self.limit + self._step())
                return False

        try:
            yield report
        finally:
            with self._condition:
                self.in_flight -= 1
                self._condition.notify_all()

    def _step(self) -> float:
        """How much an answer grows the limit: until the first 429, one per answer (it
        doubles each window, TCP's slow start); then one per window of answers (additive
        increase), and above the limit the last 429 came at, one per PROBING windows."""
        if not self.refusals:
            return 1.0
        if self.limit < self.learned:
            return 1 / self.limit
        return 1 / (PROBING * self.limit)

    def __repr__(self) -> str:
        return f"Throttle(limit={self.limit:.2f}, ceiling={self.ceiling}, peak={self.peak})"


def current_throttle() -> Throttle | None:
    """The throttle the requests of this thread pass (None outside ``run_concurrently``)."""
    return _THROTTLE.get()


def run_concurrently(
    tasks: Sequence[Callable[[], T]],
    concurrency: int,
    *,
    throttle: Throttle | None = None,
    ahead: int | None = None,
) -> Iterator[T]:
    """Run ``tasks`` on up to ``concurrency`` threads; yield their results in task order.

    At most ``ahead`` tasks (default ``4 * concurrency``) are started beyond the one whose
    result is awaited, so results waiting their turn stay few (constant memory for a long
    list of tasks). With ``concurrency=1`` the tasks run one after the other in this
    thread, each only when its result is wanted (today's sequential behaviour). A task's
    exception is raised when its result is reached; leaving the iteration cancels what has
    not started.
    """
    check_concurrency(concurrency)
    gate = throttle or Throttle(concurrency)
    if concurrency == 1 or len(tasks) <= 1:
        for task in tasks:
            yield _throttled(gate, task)
        return
    executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="commstoolkit")
    window = max(concurrency, ahead if ahead is not None else 4 * concurrency)
    futures: deque[Future[T]] = deque()
    pending = iter(tasks)
    try:
        for task in islice(pending, window):
            futures.append(executor.submit(_throttled, gate, task))
        while futures:
            result = futures.popleft().result()
            for task in islice(pending, 1):
                futures.append(executor.submit(_throttled, gate, task))
            yield result
    finally:
        for future in futures:
            future.cancel()
        executor.shutdown(wait=True)


def _throttled(gate: Throttle, task: Callable[[], T]) -> T:
    token = _THROTTLE.set(gate)
    try:
        return task()
    finally:
        _THROTTLE.reset(token)
