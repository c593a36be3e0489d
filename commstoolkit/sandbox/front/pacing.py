"""Pacing of the HTTP server: a network's round trip and a rate limit, for realistic timings.

On loopback a page costs a few milliseconds; against Twilio every request costs a round trip
of 50-150 ms first. ``Pacing`` makes the sandbox's server answer like that:

- ``latency``: seconds added to every API answer, plus up to ``jitter`` seconds drawn
  uniformly (a seeded ``random.Random``, so runs repeat); ``routes`` overrides the latency
  for paths starting with a prefix (``{"/v1/Messages": 0.15}``; the longest prefix wins);
- ``max_in_flight``: beyond this many API requests in flight, answer 429 (``errors[]``
  body, ``Retry-After: retry_after`` seconds) at once, as a rate-limited API does.

Control endpoints (``/_sandbox``) are never paced. The in-process transport is not paced
either: pacing is the network's, and only the HTTP server has one
(``commstoolkit sandbox serve --latency 100ms --jitter 10ms --max-in-flight 4``).
"""

from __future__ import annotations

import math
import random
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["InFlight", "Pacing", "describe", "parse_duration", "parse_latency"]

_DURATION = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s)\s*\Z", re.IGNORECASE)
MAX_PACING = 60.0


def parse_duration(text: str, name: str = "duration") -> float:
    """``"100ms"`` -> 0.1, ``"1.5s"`` -> 1.5 (seconds, 0 to 60); ValueError naming ``name``."""
    match = _DURATION.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"{name}: {text!r} is not a duration such as '100ms' or '0.25s'")
    value = float(match.group(1)) / (1000 if match.group(2).lower() == "ms" else 1)
    if value > MAX_PACING:
        raise ValueError(f"{name}: {text!r} is longer than {MAX_PACING:g}s")
    return value


def parse_latency(text: str) -> tuple[str | None, float]:
    """``"100ms"`` -> (None, 0.1); ``"/v1/Messages=150ms"`` -> ("/v1/Messages", 0.15)."""
    route, sep, duration = text.rpartition("=")
    if not sep:
        return None, parse_duration(text, "--latency")
    if not route.startswith("/"):
        raise ValueError(f"--latency: {text!r}: a route is a path such as /v1/Messages")
    return route.rstrip("/") or "/", parse_duration(duration, "--latency")


@dataclass(frozen=True)
class Pacing:
    """How the server paces API answers (see the module); the default paces nothing."""

    latency: float = 0.0
    jitter: float = 0.0
    routes: Mapping[str, float] = field(default_factory=dict)
    max_in_flight: int | None = None
    retry_after: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("latency", "jitter", "retry_after"):
            _check_seconds(name, getattr(self, name))
        for route, seconds in self.routes.items():
            if not isinstance(route, str) or not route.startswith("/"):
                raise ValueError(f"routes: {route!r} is not a path such as /v1/Messages")
            _check_seconds(f"routes[{route!r}]", seconds)
        limit = self.max_in_flight
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
            raise ValueError(f"max_in_flight must be a whole number >= 1, got {limit!r}")
        if limit is not None and limit < 1:
            raise ValueError(f"max_in_flight must be a whole number >= 1, got {limit!r}")

    @property
    def active(self) -> bool:
        """Whether it paces anything at all."""
        return bool(self.latency or self.jitter or self.routes or self.max_in_flight)

    def delay(self, path: str, rng: random.Random) -> float:
        """Seconds to hold the answer to ``path``."""
        base = self.latency
        best = -1
        for prefix, seconds in self.routes.items():
            if (path == prefix or path.startswith(prefix.rstrip("/") + "/")) and len(prefix) > best:
                base, best = seconds, len(prefix)
        return base + (rng.uniform(0, self.jitter) if self.jitter else 0.0)


def _check_seconds(name: str, value: object) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not 0 <= value <= MAX_PACING
    ):
        raise ValueError(f"{name} must be a number of seconds from 0 to {MAX_PACING:g}")


class InFlight:
    """Counts API requests in flight; ``enter()`` is False when the limit is reached."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.count = 0
        self.peak = 0
        self.refused = 0
        self._lock = threading.Lock()

    def enter(self) -> bool:
        with self._lock:
            if self.limit is not None and self.count >= self.limit:
                self.refused += 1
                return False
            self.count += 1
            self.peak = max(self.peak, self.count)
            return True

    def leave(self) -> None:
        with self._lock:
            self.count -= 1


def describe(pacing: Pacing) -> str:
    """One line for the server's banner: ``latency 100 ms + up to 10 ms, ...``."""
    parts = [f"latency {pacing.latency * 1000:g} ms"]
    if pacing.jitter:
        parts[0] += f" + up to {pacing.jitter * 1000:g} ms"
    parts += [f"{route} {seconds * 1000:g} ms" for route, seconds in pacing.routes.items()]
    if pacing.max_in_flight:
        parts.append(
            f"429 (Retry-After {pacing.retry_after:g}s) beyond {pacing.max_in_flight} in flight"
        )
    return ", ".join(parts)
