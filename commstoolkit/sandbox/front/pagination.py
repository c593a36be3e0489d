"""Opaque page tokens for keyset pagination.

A token is base64url JSON of the last id served (``after``) and a hash of the listing and its
filters (``scope``), so a token only works with the request that produced it. ``pageSize`` is
not part of the scope: a client may change it between pages.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping

from ..exceptions import invalid
from ..state.query import JsonList

DEFAULT_PAGE_SIZE = 50


def scope(listing: str, filters: Mapping[str, object]) -> str:
    """A short hash naming a listing (route + path ids) and its filters."""
    text = json.dumps([listing, filters], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def encode(after: str | None, scope_hash: str) -> str:
    """The token of the page that starts after ``after`` (None: the first page)."""
    raw = json.dumps({"after": after, "scope": scope_hash}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str | None, scope_hash: str, context: str = "pageToken") -> str | None:
    """The ``after`` key of a token made for this scope; 400 for anything else."""
    if token is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        after = data["after"]
        if data["scope"] != scope_hash or not (after is None or isinstance(after, str)):
            raise ValueError
    except (binascii.Error, ValueError, TypeError, KeyError):
        raise invalid(
            f"{context} is not a token of this listing with these filters; start again without it",
            context,
        ) from None
    return after


def page(key: str, items: list[dict], after: str | None, more: bool, scope_hash: str) -> dict:
    """The list answer: ``{key: items, "pagination": {"next", "self"}}``."""
    last_id = items.last_id if isinstance(items, JsonList) else items[-1]["id"] if items else None
    next_token = encode(last_id, scope_hash) if more and items else None
    return {key: items, "pagination": {"next": next_token, "self": encode(after, scope_hash)}}
