"""Argument checks of the pools layer, run before any request (the API's rules, §1)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from ..errors import InvalidInputError
from ..models import SenderPool
from ..rules import ID_PATTERNS, check_tags, pool_id_of
from ._render import some_of

SENDER_ID = ID_PATTERNS["sender"]


def checked_sender_ids(senders: pd.DataFrame | Iterable[str]) -> list[str]:
    """The sender ids of a frame (``sender_id`` column) or an iterable, all well formed."""
    if isinstance(senders, pd.DataFrame):
        if "sender_id" not in senders.columns:
            raise InvalidInputError(
                "senders: the frame has no 'sender_id' column; pass a senders frame "
                "(load_senders / select_senders) or a list of sender ids",
                field="senders",
            )
        ids: list[Any] = senders["sender_id"].tolist()
    elif isinstance(senders, str):
        ids = [senders]
    elif isinstance(senders, Iterable):
        ids = list(senders)
    else:
        raise InvalidInputError(
            f"senders: expected a senders frame or a list of sender ids, got "
            f"{type(senders).__name__}",
            field="senders",
        )
    bad = [i for i in ids if not (isinstance(i, str) and SENDER_ID.fullmatch(i))]
    if bad:
        raise InvalidInputError(
            f"senders: {len(bad):,} malformed sender id{'s' if len(bad) > 1 else ''}: "
            f"{some_of(map(repr, bad))} (a sender id is 'comms_sender_' followed by 26-35 "
            "lowercase base32 characters)",
            field="senders",
            allowed=SENDER_ID.pattern,
        )
    return ids


def checked_pool_id(pool: str | SenderPool | None, field: str = "pool_id") -> str | None:
    """The id of ``pool`` (an id or a ``SenderPool``), well formed; None passes through."""
    return None if pool is None else pool_id_of(pool, field)


def checked_name(name: Any) -> str | None:
    """``name`` if it is None or a non-empty string."""
    if name is None or (isinstance(name, str) and name.strip()):
        return name
    raise InvalidInputError(f"name: expected a non-empty string, got {name!r}", field="name")


def checked_tags(tags: Any) -> dict[str, str]:
    """A copy of ``tags`` if the API accepts it (see ``rules.check_tags``)."""
    return check_tags(tags)


def checked_reasons(reasons: Any) -> dict[str, str] | None:
    """A copy of ``reasons`` (sender id -> a non-empty sentence); None passes through."""
    if reasons is None:
        return None
    if not isinstance(reasons, Mapping):
        raise InvalidInputError(
            f"reasons: expected a mapping of sender id to reason, got {type(reasons).__name__}",
            field="reasons",
        )
    bad = [
        repr(key)
        for key, value in reasons.items()
        if not (isinstance(key, str) and SENDER_ID.fullmatch(key))
        or not (isinstance(value, str) and value.strip())
    ]
    if bad:
        raise InvalidInputError(
            f"reasons: {len(bad):,} entr{'ies are' if len(bad) > 1 else 'y is'} not a sender "
            f"id with a non-empty reason: {some_of(bad)}",
            field="reasons",
        )
    return {str(key): str(value) for key, value in reasons.items()}
