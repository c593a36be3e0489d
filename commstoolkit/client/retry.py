"""Retry policy: when to send a request again, and how long to wait first.

Three pure functions make the policy, and ``decide`` combines them for the client:

- ``should_retry(method, outcome, attempt, policy)``: 429 and 503 are refusals, safe to
  repeat for every method; 502/504 and errors after the request may have been sent only
  for idempotent calls (reads); connection errors before anything was sent always; 500 never
  (the API says so). A POST that may have reached the server is never re-sent.
- ``retry_after_seconds(headers)``: what the server asked for (seconds or an HTTP date).
- ``backoff_delay(attempt, policy, rng)``: exponential backoff with jitter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import httpx

from commstoolkit.client.responses import parse_retry_after, safe_url
from commstoolkit.errors import InvalidInputError

__all__ = [
    "GATEWAY_STATUSES",
    "IDEMPOTENT_METHODS",
    "REFUSED_STATUSES",
    "RetryDecision",
    "RetryPolicy",
    "backoff_delay",
    "decide",
    "request_sent",
    "retry_after_seconds",
    "should_retry",
]

DEFAULT_MAX_RETRIES = 3
DEFAULT_BACKOFF_INITIAL = 0.5
DEFAULT_BACKOFF_MAX = 8.0
DEFAULT_RETRY_AFTER_CAP = 60.0

# The server refused the request without acting on it: safe to repeat for any method.
REFUSED_STATUSES = frozenset({429, 503})
# A proxy in front of the API failed; the API may have acted, so only reads are repeated.
GATEWAY_STATUSES = frozenset({502, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The request surely never reached the server.
NOT_SENT_ERRORS: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)
# The request may have reached the server (and been applied) before the failure.
MAYBE_SENT_ERRORS: tuple[type[Exception], ...] = (
    httpx.ReadError,
    httpx.WriteError,
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.RemoteProtocolError,
)

Outcome = httpx.Response | Exception


class RandomSource(Protocol):
    """What ``backoff_delay`` needs from a random generator (``random.Random`` fits)."""

    def random(self) -> float: ...


@dataclass(frozen=True, slots=True)
class RetryDecision:
    """What the client decided after a failed attempt; given to ``RetryPolicy.on_retry``.

    ``attempt`` is the 1-based number of the attempt that failed, ``delay`` the seconds
    waited before the next one (0 when not retrying), ``status`` the HTTP status (None for a
    transport error), ``reason`` a readable explanation. ``url`` carries no credentials.
    """

    retry: bool
    attempt: int
    delay: float
    reason: str
    method: str
    url: str
    status: int | None = None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How the client retries: counts, backoff and the ``on_retry`` hook.

    ``max_retries`` extra attempts at most (0 disables retries); backoff doubles from
    ``backoff_initial`` up to ``backoff_max`` seconds, with jitter when ``jitter``;
    a server's ``Retry-After`` is honoured up to ``retry_after_cap`` seconds.
    ``on_retry(decision)`` is called before each retry's wait.
    """

    max_retries: int = DEFAULT_MAX_RETRIES
    backoff_initial: float = DEFAULT_BACKOFF_INITIAL
    backoff_max: float = DEFAULT_BACKOFF_MAX
    retry_after_cap: float = DEFAULT_RETRY_AFTER_CAP
    jitter: bool = True
    on_retry: Callable[[RetryDecision], None] | None = None

    def __post_init__(self) -> None:
        if isinstance(self.max_retries, bool) or not isinstance(self.max_retries, int):
            raise InvalidInputError(
                f"max_retries must be an int >= 0, got {self.max_retries!r}",
                field="max_retries",
                allowed=">= 0",
            )
        for name in ("max_retries", "backoff_initial", "backoff_max", "retry_after_cap"):
            if getattr(self, name) < 0:
                raise InvalidInputError(
                    f"{name} must be >= 0, got {getattr(self, name)!r}", field=name, allowed=">= 0"
                )
        if self.on_retry is not None and not callable(self.on_retry):
            raise InvalidInputError("on_retry must be callable", field="on_retry")


def should_retry(
    method: str,
    outcome: Outcome,
    attempt: int,
    policy: RetryPolicy,
    *,
    idempotent: bool | None = None,
) -> bool:
    """Whether to send the request again after ``attempt`` (1-based) ended with ``outcome``.

    ``idempotent`` defaults to "method is GET/HEAD/OPTIONS"; pass True for reads sent as POST.
    """
    return attempt <= policy.max_retries and _retryable(method, outcome, idempotent)


def _retryable(method: str, outcome: Outcome, idempotent: bool | None) -> bool:
    if idempotent is None:
        idempotent = method.upper() in IDEMPOTENT_METHODS
    if isinstance(outcome, httpx.Response):
        status = outcome.status_code
        return status in REFUSED_STATUSES or (idempotent and status in GATEWAY_STATUSES)
    if isinstance(outcome, NOT_SENT_ERRORS):
        return True
    return idempotent and isinstance(outcome, MAYBE_SENT_ERRORS)


def retry_after_seconds(
    headers: Mapping[str, str] | httpx.Headers, *, now: datetime | None = None
) -> float | None:
    """Seconds the ``Retry-After`` header asks for (delta-seconds or HTTP date), or None."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    return parse_retry_after(value, now=now)


def backoff_delay(attempt: int, policy: RetryPolicy, rng: RandomSource) -> float:
    """Exponential backoff for retry number ``attempt`` (1-based), capped at ``backoff_max``.

    With jitter the delay is drawn from [half, full] of the exponential value, so retries
    from many clients spread out but never collapse to zero.
    """
    delay: float = min(policy.backoff_max, policy.backoff_initial * 2 ** (attempt - 1))
    if policy.jitter:
        delay *= 0.5 + 0.5 * rng.random()
    return delay


def request_sent(error: Exception) -> bool | None:
    """Whether the server may have received a request that failed with ``error``."""
    if isinstance(error, NOT_SENT_ERRORS):
        return False
    if isinstance(error, MAYBE_SENT_ERRORS):
        return True
    return None


def decide(
    request: httpx.Request,
    outcome: Outcome,
    attempt: int,
    policy: RetryPolicy,
    rng: RandomSource,
    *,
    idempotent: bool | None = None,
) -> RetryDecision:
    """Combine the three functions above into one ``RetryDecision`` for a failed attempt."""
    method = request.method
    retry = should_retry(method, outcome, attempt, policy, idempotent=idempotent)
    status = outcome.status_code if isinstance(outcome, httpx.Response) else None
    server_delay = None
    if isinstance(outcome, httpx.Response) and status in REFUSED_STATUSES:
        server_delay = retry_after_seconds(outcome.headers)
    if not retry:
        delay = 0.0
    elif server_delay is not None:
        delay = min(server_delay, policy.retry_after_cap)
    else:
        delay = backoff_delay(attempt, policy, rng)
    return RetryDecision(
        retry=retry,
        attempt=attempt,
        delay=delay,
        reason=_reason(method, outcome, attempt, policy, retry, server_delay, idempotent),
        method=method,
        url=safe_url(request.url),
        status=status,
    )


def _reason(
    method: str,
    outcome: Outcome,
    attempt: int,
    policy: RetryPolicy,
    retry: bool,
    server_delay: float | None,
    idempotent: bool | None,
) -> str:
    if isinstance(outcome, httpx.Response):
        what = f"{outcome.status_code} {outcome.reason_phrase}".rstrip()
        if server_delay is not None:
            what += f" (Retry-After {server_delay:g}s, cap {policy.retry_after_cap:g}s)"
    else:
        sent = request_sent(outcome)
        where = "" if sent is None else " after sending" if sent else " before sending"
        what = type(outcome).__name__ + where
    if retry:
        return f"{what}: retry {attempt}/{policy.max_retries}"
    if _retryable(method, outcome, idempotent):
        return f"{what}: giving up after {attempt} attempts"
    if isinstance(outcome, Exception) and request_sent(outcome):
        return f"{what}: not retried, {method} is not idempotent (the server may have applied it)"
    return f"{what}: not retried"
