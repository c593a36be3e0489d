"""The sandbox's own clock, kept in the database so every process sharing the file agrees.

``now = base + (real_now - real_base) * speed``. Each reseed starts the clock at ``EPOCH`` (so
the same seed gives the same data and ids); after that it runs at ``speed`` (1 = real time,
0 = frozen) and jumps forward with ``advance``. With ``instant`` set, the clock skips ahead
after each write to the moment what that write started is over (``skip_to``): operations and
messages are final at once, with the same realistic timestamps and latencies they would have
in real time.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import datetime, timezone

from ..state.store import Store

EPOCH = datetime(2025, 6, 2, 9, 0, tzinfo=timezone.utc)
# Sandbox time never passes the last second the API's date-times can write (9999-12-31).
MAX_SECONDS = datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc).timestamp()
MAX_SPEED = 1e6


def to_datetime(seconds: float) -> datetime:
    """Epoch seconds -> tz-aware UTC datetime."""
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def rfc3339(seconds: float) -> str:
    """Epoch seconds -> ``2024-04-05T06:20:00Z`` (whole seconds, UTC), as the API writes times."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(seconds // 1)))


class Clock:
    """Sandbox time: ``now()``, ``advance(seconds)``, ``speed`` and ``instant``."""

    def __init__(self, store: Store, real_time: Callable[[], float] = time.time) -> None:
        self._store = store
        self._real_time = real_time

    def __repr__(self) -> str:
        return f"Clock(now={rfc3339(self.seconds())!r}, speed={self.speed}, instant={self.instant})"

    def seconds(self) -> float:
        """Current sandbox time as epoch seconds."""
        with self._store.read():
            return self._current()

    def now(self) -> datetime:
        """Current sandbox time (tz-aware UTC)."""
        return to_datetime(self.seconds())

    def advance(self, seconds: float) -> datetime:
        """Move sandbox time forward by ``seconds`` (>= 0); returns the new time."""
        if not _number(seconds, 0, MAX_SECONDS):
            raise ValueError(f"advance: seconds must be a number >= 0, got {seconds!r}")
        with self._store.write():
            target = self._current() + seconds
            if target > MAX_SECONDS:
                raise ValueError(
                    f"advance: {seconds!r} seconds would take sandbox time past 9999-12-31"
                )
            self._rebase(target)
        return self.now()

    def skip_to(self, seconds: float) -> None:
        """With ``instant`` set, move sandbox time forward to ``seconds`` (never back)."""
        with self._store.write():
            if self.instant and seconds > self._current():
                self._rebase(seconds)

    @property
    def speed(self) -> float:
        """How fast sandbox time runs: 1.0 real time, 0 frozen, 60 a minute per second."""
        with self._store.read():
            return self._state()[2]

    @speed.setter
    def speed(self, value: float) -> None:
        if not _number(value, 0, MAX_SPEED):
            raise ValueError(f"speed must be a number from 0 to {MAX_SPEED:g}, got {value!r}")
        with self._store.write():
            self._rebase(self._current(), speed=float(value))

    @property
    def instant(self) -> bool:
        """When True, scheduled transitions are due at once (operations finish immediately)."""
        with self._store.read():
            return self._store.get("clock_instant") == "1"

    @instant.setter
    def instant(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise ValueError(f"instant must be True or False, got {value!r}")
        with self._store.write():
            self._store.set("clock_instant", int(value))

    def start(self) -> None:
        """Restart the clock at ``EPOCH`` (inside the caller's write transaction); speed is kept."""
        speed = float(self._store.get("clock_speed", "1.0") or 1.0)
        self._rebase(EPOCH.timestamp(), speed=speed)

    def to_wire(self) -> dict[str, object]:
        """The clock as the control endpoint shows it."""
        now = self.seconds()
        return {
            "now": rfc3339(now),
            "epochSeconds": round(now, 3),
            "speed": self.speed,
            "instant": self.instant,
        }

    def _state(self) -> tuple[float, float, float]:
        get = self._store.get
        return (
            float(get("clock_base", str(EPOCH.timestamp())) or 0),
            float(get("clock_real") or self._real_time()),
            float(get("clock_speed", "1.0") or 0),
        )

    def _current(self) -> float:
        base, real, speed = self._state()
        return min(base + (self._real_time() - real) * speed, MAX_SECONDS)

    def _rebase(self, seconds: float, speed: float | None = None) -> None:
        self._store.set("clock_base", repr(seconds))
        self._store.set("clock_real", repr(self._real_time()))
        if speed is not None:
            self._store.set("clock_speed", repr(speed))


def _number(value: object, low: float, high: float) -> bool:
    """Whether ``value`` is a real number (not a bool, not NaN) from ``low`` to ``high``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return False
    return low <= value <= high  # exact for ints of any size
