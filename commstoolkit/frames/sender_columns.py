"""``SenderColumns``: senders held column by column, read a page of JSON at a time — the
bulk path of ``load_senders`` for large accounts (no ``Sender`` object per row)."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from itertools import chain
from typing import Any

from ..models import Sender, parse_timestamp

__all__ = ["SenderColumns"]


class SenderColumns:
    """Senders held column by column (one list per ``Sender`` field), without a ``Sender``
    per item: the bulk path of ``frames.load_senders`` for large accounts.

    ``add(objects)`` appends a page of Sender JSON objects, ``extend(senders)`` appends
    ``Sender`` objects. Every value is what ``Sender.from_api`` reads, and a page it cannot
    read raises what ``Sender.from_api`` raises (the page is then not added). ``tags`` maps
    each tag key to one value per row, None where the sender has no such tag.
    ``created_at`` / ``updated_at`` keep a timestamp in the API's own form as its text
    (checked: ``models.API_TIMESTAMP_FORMAT``, UTC, a real date and time), so that a frame can
    read the column at once; a timestamp in any other form is the datetime
    ``parse_timestamp`` reads.
    """

    __slots__ = (
        "address",
        "channel",
        "created_at",
        "display_name",
        "id",
        "status",
        "tags",
        "updated_at",
    )

    def __init__(self) -> None:
        self.id: list[str] = []
        self.display_name: list[str | None] = []
        self.address: list[str] = []
        self.channel: list[str] = []
        self.status: list[str] = []
        self.created_at: list[datetime | str] = []
        self.updated_at: list[datetime | str] = []
        self.tags: dict[str, list[str | None]] = {}

    def __len__(self) -> int:
        return len(self.id)

    def add(self, objects: Sequence[Mapping[str, Any]]) -> int:
        """Append a page of ``Sender`` JSON objects; returns how many it held."""
        try:
            page = _sender_page(objects)
        except (KeyError, TypeError, ValueError, AttributeError):
            page = None
        if page is None:
            # Something unusual (a timestamp in another form, a tag value that is not text,
            # a bad object): read each one as Sender.from_api does, errors included.
            return self.extend([Sender.from_api(data) for data in objects])
        fields, tags = page
        self._append(fields, tags)
        return len(fields[0])

    def extend(self, senders: Sequence[Sender]) -> int:
        """Append ``Sender`` objects; returns how many."""
        fields = (
            [s.id for s in senders],
            [s.display_name for s in senders],
            [s.address for s in senders],
            [s.channel for s in senders],
            [s.status for s in senders],
            [s.created_at for s in senders],
            [s.updated_at for s in senders],
        )
        self._append(fields, [s.tags for s in senders])
        return len(senders)

    @classmethod
    def merged(cls, parts: Sequence[SenderColumns], order: Sequence[int]) -> SenderColumns:
        """The rows of ``parts`` (one after the other) taken in ``order`` (positions in
        them): the concurrent listing's pieces, put back in the listing's order."""
        merged = cls()
        total = sum(map(len, parts))
        if isinstance(order, range) and order == range(total):

            def pick(values: list[Any]) -> list[Any]:
                return values  # already in order: one part after the other

        else:

            def pick(values: list[Any]) -> list[Any]:
                return [values[i] for i in order]

        fields = ("id", "display_name", "address", "channel", "status", "created_at", "updated_at")
        for name in fields:
            setattr(merged, name, pick(list(chain.from_iterable(getattr(p, name) for p in parts))))
        for key in sorted(set().union(*(part.tags for part in parts))):
            values = chain.from_iterable(part.tags.get(key) or [None] * len(part) for part in parts)
            merged.tags[key] = pick(list(values))
        return merged

    def _append(self, fields: tuple[list[Any], ...], tags: list[Mapping[str, str]]) -> None:
        before, added = len(self.id), len(fields[0])
        keys = set().union(*tags)
        for key in keys - self.tags.keys():
            self.tags[key] = [None] * before
        for key, values in self.tags.items():
            values.extend([t.get(key) for t in tags] if key in keys else [None] * added)
        columns: tuple[list[Any], ...] = (
            self.id,
            self.display_name,
            self.address,
            self.channel,
            self.status,
            self.created_at,
            self.updated_at,
        )
        for column, values in zip(columns, fields, strict=True):
            column.extend(values)


_NO_TAGS: Mapping[str, str] = {}


def _sender_page(
    objects: Sequence[Mapping[str, Any]],
) -> tuple[tuple[list[Any], ...], list[Mapping[str, str]]] | None:
    """A page of Sender JSON objects read field by field (one pass per field), or None when
    a tag map is not a dict of text values (``Sender.from_api`` converts those)."""
    tags = [data.get("tags") or _NO_TAGS for data in objects]
    if {t.__class__ for t in tags} - {dict}:
        return None
    try:  # every tag key and value is text: joining them all is the quickest check
        "".join(chain.from_iterable(tags))
        "".join(chain.from_iterable(t.values() for t in tags))
    except TypeError:
        return None
    fields = (
        [data["id"] for data in objects],
        [data.get("displayName") for data in objects],
        [data["address"] for data in objects],
        [data["channel"] for data in objects],
        [data["status"] for data in objects],
        _timestamps([data["createdAt"] for data in objects]),
        _timestamps([data["updatedAt"] for data in objects]),
    )
    return fields, tags


# Timestamps in the API's own form, one per line: a whole page of them checked at once.
_API_TIMESTAMPS = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ(?:\n\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)*", re.ASCII
)
# Python 3.11+ reads the "Z" itself; 3.10 needs the offset spelled out.
_from_api_form: Callable[[str], datetime] = (
    datetime.fromisoformat
    if sys.version_info >= (3, 11)
    else lambda text: datetime.fromisoformat(text[:19] + "+00:00")
)


def _timestamps(texts: list[Any]) -> list[Any]:
    """A page's timestamps for ``SenderColumns``: the texts themselves when every one is in
    the API's own form ("2024-04-05T06:20:00Z"; checked at once, and each read once to
    refuse a date such as month 13), else ``parse_timestamp`` of each."""
    try:
        joined = "\n".join(texts)
    except TypeError:
        joined = ""
    if texts and joined.count("\n") == len(texts) - 1 and _API_TIMESTAMPS.fullmatch(joined):
        try:
            for text in texts:
                _from_api_form(text)
        except ValueError:
            pass  # parse_timestamp raises it with its message
        else:
            return texts
    return [parse_timestamp(text) for text in texts]
