"""Fault rules (after LocalStack's chaos rules): make chosen routes fail, slow down or hang up.

A rule matches a route name as the spec writes it without the version prefix
(``"POST /SenderPools"``, ``"GET /SenderPools/{senderPoolId}/Senders"``), a glob of them
(``"GET *"``), or ``"*"`` for every API route (control endpoints are never faulted). Rules are
kept in the database, so a server process and a notebook sharing the file share them. For each
API request the rules are tried in the order they were added; the first that fires decides:

- ``status``: answer this error status (with ``Retry-After`` for 429/503) without processing;
- ``drop="before"``: hang up without processing; ``drop="after"``: process, then hang up;
- ``latency``: wait this many seconds before answering;
- ``malformed``: process, then send a truncated JSON body.

Whether a rule with ``probability < 1`` fires is drawn from ``Random(f"{seed}:{rule}:{n}")``,
so the same seed and request sequence always give the same faults. ``times`` limits how often
a rule fires.
"""

from __future__ import annotations

import fnmatch
import json
import math
import random
import sqlite3
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from ..state.store import Store

DROPS = (None, "before", "after")
DEFAULT_RETRY_AFTER = {429: 1.0, 503: 1.0}
MAX_RETRY_AFTER = 86_400.0  # a day
MAX_LATENCY = 3_600.0  # an hour
MAX_TIMES = 1_000_000_000


@dataclass(frozen=True)
class FaultRule:
    """One fault rule; ``remaining`` is None for unlimited, ``fired`` counts its firings."""

    id: int
    route: str
    status: int | None = None
    retry_after: float | None = None
    probability: float = 1.0
    times: int | None = None
    latency: float = 0.0
    drop: str | None = None
    malformed: bool = False
    remaining: int | None = None
    fired: int = 0

    def to_wire(self) -> dict[str, object]:
        """The camelCase form the control endpoint shows."""
        data = asdict(self)
        data["retryAfter"] = data.pop("retry_after")
        return data


def _number(name: str, value: object, low: float, high: float) -> float:
    """``value`` as a float if it is a finite number from ``low`` to ``high``, else ValueError."""
    if (
        not isinstance(value, (int, float))
        or isinstance(value, bool)
        or (isinstance(value, float) and not math.isfinite(value))
        or not low <= value <= high  # exact for ints of any size
    ):
        raise ValueError(f"{name} must be a number from {low:g} to {high:g}, got {value!r}")
    return float(value)


class Faults:
    """The fault rules of one sandbox account: ``add``, ``remove``, ``clear``, ``list``."""

    def __init__(self, store: Store, routes: Iterable[str]) -> None:
        self._store = store
        self._routes = tuple(routes)

    def add(
        self,
        route: str = "*",
        *,
        status: int | None = None,
        retry_after: float | None = None,
        probability: float = 1.0,
        times: int | None = None,
        latency: float = 0.0,
        drop: str | None = None,
        malformed: bool = False,
    ) -> int:
        """Add a rule; returns its id. Raises ValueError naming a bad argument (numbers must
        be finite: ``retry_after`` up to a day, ``latency`` up to an hour)."""
        if not isinstance(route, str) or not any(
            fnmatch.fnmatchcase(known, route) for known in self._routes
        ):
            raise ValueError(
                f"route {route!r} matches no API route; known: {', '.join(self._routes)}"
            )
        if status is not None and (not isinstance(status, int) or not 400 <= status <= 599):
            raise ValueError(f"status must be an HTTP error status 400-599, got {status!r}")
        if times is not None and (
            not isinstance(times, int) or isinstance(times, bool) or not 1 <= times <= MAX_TIMES
        ):
            raise ValueError(
                f"times must be an integer from 1 to {MAX_TIMES:,} or None, got {times!r}"
            )
        if drop not in DROPS:
            raise ValueError(f"drop must be None, 'before' or 'after', got {drop!r}")
        if not isinstance(malformed, bool):
            raise ValueError(f"malformed must be True or False, got {malformed!r}")
        if retry_after is None and status is not None:
            retry_after = DEFAULT_RETRY_AFTER.get(status)
        rule = {
            "route": route,
            "status": status,
            "retry_after": None
            if retry_after is None
            else _number("retry_after", retry_after, 0, MAX_RETRY_AFTER),
            "probability": _number("probability", probability, 0, 1),
            "times": times,
            "latency": _number("latency", latency, 0, MAX_LATENCY),
            "drop": drop,
            "malformed": malformed,
        }
        if not (status or drop or malformed or rule["latency"]):
            raise ValueError("a fault rule needs status, drop, malformed or latency")
        with self._store.write() as conn:
            cursor = conn.execute(
                "INSERT INTO faults (rule, remaining, evaluated, fired) VALUES (?, ?, 0, 0)",
                (json.dumps(rule), times),
            )
        return int(cursor.lastrowid or 0)

    def remove(self, rule_id: int) -> None:
        """Remove one rule; KeyError when there is none with this id."""
        with self._store.write() as conn:
            if not conn.execute("DELETE FROM faults WHERE id = ?", (rule_id,)).rowcount:
                raise KeyError(f"no fault rule {rule_id!r}")

    def clear(self) -> None:
        """Remove every rule."""
        with self._store.write() as conn:
            conn.execute("DELETE FROM faults")

    def list(self) -> list[FaultRule]:
        """The rules in the order they are tried."""
        with self._store.read() as conn:
            rows = conn.execute("SELECT * FROM faults ORDER BY id").fetchall()
        return [self._rule(row) for row in rows]

    def pick(self, route: str) -> FaultRule | None:
        """The rule that fires for this request to ``route``, if any (counts the attempt)."""
        with self._store.lock:
            with self._store.read() as conn:
                if not conn.execute("SELECT 1 FROM faults LIMIT 1").fetchone():
                    return None
            with self._store.write() as conn:
                seed = self._store.get("seed", "0")
                rows = conn.execute("SELECT * FROM faults ORDER BY id").fetchall()
                for row in rows:
                    rule = self._rule(row)
                    if not fnmatch.fnmatchcase(route, rule.route) or rule.remaining == 0:
                        continue
                    draw = random.Random(f"{seed}:{rule.id}:{row['evaluated']}").random()
                    conn.execute(
                        "UPDATE faults SET evaluated = evaluated + 1 WHERE id = ?", (rule.id,)
                    )
                    if draw < rule.probability:
                        conn.execute(
                            "UPDATE faults SET fired = fired + 1, remaining = remaining - 1 "
                            "WHERE id = ?",
                            (rule.id,),
                        )
                        return rule
        return None

    @staticmethod
    def _rule(row: sqlite3.Row) -> FaultRule:
        settings = json.loads(row["rule"])
        return FaultRule(id=row["id"], remaining=row["remaining"], fired=row["fired"], **settings)
