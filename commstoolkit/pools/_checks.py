"""Argument checks of the pools layer, run before any request (the API's rules, §1)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from ..errors import InvalidInputError
from ..models import SenderPool
from ._render import some_of

_ID_BODY = "[0-7][a-hjkmnpqrstv-z0-9]{25,34}"
SENDER_ID = re.compile("comms_sender_" + _ID_BODY)
POOL_ID = re.compile("comms_senderpool_" + _ID_BODY)
TAG_TEXT = re.compile(r"[a-zA-Z0-9._~-]+")
TAGS_MAX, TAG_KEY_MAX, TAG_VALUE_MAX = 10, 128, 256


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
    if pool is None:
        return None
    pool_id = pool.id if isinstance(pool, SenderPool) else pool
    if isinstance(pool_id, str) and POOL_ID.fullmatch(pool_id):
        return pool_id
    raise InvalidInputError(
        f"{field}: {pool_id!r} is not a sender pool id ('comms_senderpool_' followed by "
        "26-35 lowercase base32 characters)",
        field=field,
        allowed=POOL_ID.pattern,
    )


def checked_name(name: Any) -> str | None:
    """``name`` if it is None or a non-empty string."""
    if name is None or (isinstance(name, str) and name.strip()):
        return name
    raise InvalidInputError(f"name: expected a non-empty string, got {name!r}", field="name")


def checked_tags(tags: Any) -> dict[str, str]:
    """A copy of ``tags`` if the API accepts it: <= 10 pairs, key <= 128 and value <= 256
    characters from ``a-z A-Z 0-9 . _ ~ -``."""
    if not isinstance(tags, Mapping):
        raise InvalidInputError(
            f"tags: expected a dict of str -> str, got {type(tags).__name__}", field="tags"
        )
    if len(tags) > TAGS_MAX:
        raise InvalidInputError(
            f"tags: {len(tags)} pairs given; at most {TAGS_MAX} are allowed",
            field="tags",
            allowed=f"<= {TAGS_MAX} pairs",
        )
    for key, value in tags.items():
        _check_tag_text(key, TAG_KEY_MAX, "tag key")
        _check_tag_text(value, TAG_VALUE_MAX, f"value of tag {key!r}")
    return dict(tags)


def _check_tag_text(text: Any, limit: int, what: str) -> None:
    if isinstance(text, str) and len(text) <= limit and TAG_TEXT.fullmatch(text):
        return
    raise InvalidInputError(
        f"tags: {what} {text!r} is not allowed; use 1-{limit} characters from letters, "
        "digits and . _ ~ -",
        field="tags",
        allowed=f"^{TAG_TEXT.pattern}$, at most {limit} characters",
    )
