"""PoolBuilder's control values -> arguments of ``select_senders`` and ``plan_pool`` (pure).

Each function turns what an analyst typed or toggled into keyword arguments, or raises
``InvalidInputError`` with a sentence saying what to fix. No widget is imported here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

import pandas as pd

from ..errors import InvalidInputError
from ..frames import TAG_PREFIX
from ..models import SENDER_CHANNELS, SENDER_STATUSES

__all__ = [
    "EXISTING_POOL",
    "KEEP_MEMBERS",
    "NEW_POOL",
    "REPLACE_MEMBERS",
    "filter_arguments",
    "format_tags",
    "parse_tags",
    "planned_senders",
    "tag_options",
    "target_arguments",
]

NEW_POOL = "new"
EXISTING_POOL = "existing"
KEEP_MEMBERS = "keep"
REPLACE_MEMBERS = "replace"


def filter_arguments(
    *,
    channels: Sequence[str] = SENDER_CHANNELS,
    statuses: Sequence[str] = ("ACTIVATED",),
    search: str = "",
    tag_key: str | None = None,
    tag_values: Sequence[str] = (),
    created_from: date | None = None,
    created_to: date | None = None,
) -> dict[str, Any]:
    """The ``select_senders`` keyword arguments for these control values.

    Only the filters that narrow the selection are returned (``{}`` selects everything):
    every channel (or every status) switched on is no filter, and no channel switched on
    matches nothing; a tag key without values is no filter; ``created_to`` is inclusive
    (it becomes ``created_before`` the next day).
    """
    found: dict[str, Any] = {}
    if set(channels) != set(SENDER_CHANNELS):
        found["channels"] = [c for c in SENDER_CHANNELS if c in channels]
    if set(statuses) != set(SENDER_STATUSES):
        found["statuses"] = [s for s in SENDER_STATUSES if s in statuses]
    if search.strip():
        found["search"] = search.strip()
    if tag_key and tag_values:
        found["tags"] = {tag_key: list(tag_values)}
    if created_from is not None:
        found["created_after"] = created_from
    if created_to is not None:
        found["created_before"] = created_to + timedelta(days=1)
    return found


def tag_options(senders: pd.DataFrame) -> dict[str, list[str]]:
    """Tag key -> its sorted distinct values, from the ``tags.<key>`` columns of a senders frame."""
    return {
        column.removeprefix(TAG_PREFIX): sorted(senders[column].dropna().astype(str).unique())
        for column in sorted(senders.columns)
        if column.startswith(TAG_PREFIX)
    }


def parse_tags(text: str) -> dict[str, str] | None:
    """``"team=ops, region=uk"`` -> ``{"team": "ops", "region": "uk"}``; blank text -> None.

    Pairs are separated by commas; spaces around keys and values are ignored. Raises
    ``InvalidInputError`` for a pair without ``=``, an empty key or value, or a key given
    twice. The API's own limits (10 pairs, lengths, characters) are checked by ``plan_pool``.
    """
    tags: dict[str, str] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        key, equals, value = (s.strip() for s in part.partition("="))
        if not equals:
            problem = "is not key=value"
        elif not key:
            problem = "has no key before '='"
        elif not value:
            problem = "has no value after '='"
        elif key in tags:
            problem = "repeats a key given earlier"
        else:
            tags[key] = value
            continue
        raise InvalidInputError(
            f"Tags: {part!r} {problem}; write tags as key=value pairs separated by commas, "
            "for example: team=ops, region=uk.",
            field="tags",
        )
    return tags or None


def format_tags(tags: dict[str, str]) -> str:
    """``{"team": "ops", "region": "uk"}`` -> ``"team=ops, region=uk"``, as ``parse_tags`` reads."""
    return ", ".join(f"{key}={value}" for key, value in tags.items())


def target_arguments(mode: str, name: str, tags_text: str, pool_id: str | None) -> dict[str, Any]:
    """The ``plan_pool`` keyword arguments ``name``, ``pool_id`` and ``tags`` of the target.

    ``mode`` is ``"new"`` (``name`` required) or ``"existing"`` (``pool_id`` required; a
    blank name or tags text keeps the pool's own). Raises ``InvalidInputError`` with a
    sentence saying what is missing, or what is wrong with the tags text.
    """
    tags = parse_tags(tags_text)
    name = name.strip()
    if mode == NEW_POOL:
        if not name:
            raise InvalidInputError(
                "Name the new pool first: type a name in the Name box.", field="name"
            )
        return {"name": name, "pool_id": None, "tags": tags}
    if mode != EXISTING_POOL:
        raise InvalidInputError(
            f"target must be {NEW_POOL!r} or {EXISTING_POOL!r}, got {mode!r}",
            field="target",
            allowed=(NEW_POOL, EXISTING_POOL),
        )
    if pool_id is None:
        raise InvalidInputError(
            "Choose the pool to change in the Pool list first.", field="pool_id"
        )
    return {"name": name or None, "pool_id": pool_id, "tags": tags}


def planned_senders(
    selected_ids: Iterable[str], members: Iterable[str] | None, members_mode: str
) -> list[str]:
    """The sender ids the pool should hold: the selection, plus the current members to keep.

    ``members_mode="keep"`` keeps every current member and adds the selection;
    ``"replace"`` (or no ``members``: a new pool) plans exactly the selection.
    """
    selected = list(selected_ids)
    if members is None or members_mode == REPLACE_MEMBERS:
        return selected
    return list(dict.fromkeys([*members, *selected]))
