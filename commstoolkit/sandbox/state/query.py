"""A growing SQL WHERE clause with keyset (id order) and creation-time bounds, and the pages of
JSON texts SQLite writes for it."""

from __future__ import annotations

import math

from . import ids


class Where:
    """A growing SQL WHERE clause with its parameters."""

    def __init__(self) -> None:
        self.terms: list[str] = []
        self.params: list[object] = []

    def add(self, term: str, *params: object) -> Where:
        self.terms.append(term)
        self.params.extend(params)
        return self

    def keyset(
        self,
        key: str,
        after: str | None,
        *,
        created: str | None = None,
        prefix: str = "",
        start: float | None = None,
        end: float | None = None,
    ) -> Where:
        """Rows after ``after`` in ``key`` order and, when given, ``start <= created < end``.

        Ids embed their creation time, so the date window also bounds ``key``: the database
        walks only the matching stretch of the index, whatever the page.
        """
        lower = None
        if start is not None:
            first = math.ceil(start)
            self.add(f"{created} >= ?", first)
            lower = ids.time_floor(prefix, first * 1000)
        if end is not None:
            last = math.ceil(end)
            self.add(f"{created} < ?", last).add(f"{key} < ?", ids.time_floor(prefix, last * 1000))
        if after is not None and (lower is None or after >= lower):
            self.add(f"{key} > ?", after)
        elif lower is not None:
            self.add(f"{key} >= ?", lower)
        return self

    def sql(self) -> str:
        return " AND ".join(self.terms) or "1"


class JsonList(list):
    """A list of objects already written as JSON texts (by SQLite), embedded as they are
    when a JSON answer holds the list as one of its top-level values. ``last_id``: the id
    of its last object (the keyset cursor of the next page)."""

    def __init__(self, texts: list[str], last_id: str | None) -> None:
        super().__init__(texts)
        self.last_id = last_id
