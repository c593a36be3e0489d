"""Input checks for query parameters and JSON bodies; each failure is a 400 naming its place.

``context`` is a JSON path into the body (``$.senders[3].senderId``) or, for query parameters,
the parameter name (``pageSize``), as comms-api.md §11 asks.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TypeVar

from ..exceptions import ApiError, ErrorItem, code_for, invalid
from ..state import ids

SENDER_CHANNELS = ("SMS", "RCS", "EMAIL", "WHATSAPP", "PUSH")
SENDER_STATUSES = ("ACTIVATED", "DEACTIVATED")
POOL_OPERATION_STATUSES = ("PROCESSING", "COMPLETED", "CANCELED")
MAX_TAGS = 10
MAX_TAG_KEY = 128
MAX_TAG_VALUE = 256
MAX_ERRORS = 20
TAG_PATTERN = re.compile(r"[a-zA-Z0-9._~-]+\Z")
SURROGATE = re.compile("[\ud800-\udfff]")
# The escape of a surrogate in JSON text (``\ud800``-``\udfff``, any case of its hex digits).
SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
DATE_PATTERN = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})\Z"
)
T = TypeVar("T")
ID_KINDS = {
    ids.SENDER: "sender",
    ids.POOL: "sender pool",
    ids.OPERATION: "operation",
    ids.MESSAGE: "message",
    ids.PROFILE: "profile",
    ids.MEMORY_STORE: "memory store",
    ids.SESSION: "session",
}


class Collector:
    """Gathers several 400 errors so one answer lists them all (up to ``MAX_ERRORS``)."""

    def __init__(self) -> None:
        self.items: list[ErrorItem] = []

    def add(self, message: str, context: str, code: int | None = None) -> None:
        """Record one error (code 20400 unless another is given, e.g. 21614)."""
        if len(self.items) < MAX_ERRORS:
            self.items.append(ErrorItem(code or code_for(400), message, context))

    def check(self) -> None:
        """Raise the collected errors, if any."""
        if self.items:
            raise ApiError(400, self.items)


def _type_name(value: object) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), "null" if value is None else "a number"
    )


def optional(check: Callable[..., T], value: object, *args: object) -> T | None:
    """``check(value, *args)``, or None when the value is absent (None)."""
    return None if value is None else check(value, *args)


def identifier(value: object, prefix: str, context: str) -> str:
    """A well-formed id of the given prefix (``comms_sender_`` ...), else 400."""
    if not ids.is_valid(value, prefix):
        shown = repr(value) if isinstance(value, str) else _type_name(value)
        raise invalid(
            f"{context} must be a {ID_KINDS[prefix]} id like {prefix}01h9krwprkeee8fzqspvwy6nq8 "
            f"(got {shown})",
            context,
        )
    return value  # type: ignore[return-value]


def choice(value: object, allowed: tuple[str, ...], context: str) -> str:
    """One of ``allowed`` (case-sensitive, as the API's enums are UPPERCASE), else 400."""
    if value not in allowed:
        raise invalid(f"{context} must be one of {', '.join(allowed)} (got {value!r})", context)
    return value


def string(value: object, context: str) -> str:
    """A JSON string, else 400."""
    if not isinstance(value, str):
        raise invalid(f"{context} must be a string, not {_type_name(value)}", context)
    return value


def page_size(value: object, context: str, *, text: bool = False) -> int:
    """A page size 1..1000: a JSON integer, or (``text``) its digits in a query string."""
    if text and isinstance(value, str) and re.fullmatch(r"[+-]?\d{1,9}", value.strip()):
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 1000:
        raise invalid(f"{context} must be an integer from 1 to 1000 (got {value!r})", context)
    return value


def date(value: str, context: str) -> float:
    """An RFC 3339 date-time (``2024-04-05T06:20:00Z``) -> epoch seconds, else 400."""
    # An unencoded "+00:00" in a query string arrives as " 00:00"; read it as meant.
    text = re.sub(r" (\d{2}:\d{2})\Z", r"+\1", value)
    match = DATE_PATTERN.match(text)
    try:
        if not match:
            raise ValueError(text)
        day, clock, fraction, zone = match.groups()
        zone = "+00:00" if zone in ("Z", "z") else zone
        stamp = datetime.fromisoformat(f"{day}T{clock}{zone}")
        return stamp.astimezone(timezone.utc).timestamp() + float(fraction or 0)
    except (ValueError, OverflowError):  # OverflowError: before year 1 or after 9999 in UTC
        raise invalid(
            f"{context} must be an RFC 3339 date-time like 2024-04-05T06:20:00Z (got {value!r})",
            context,
        ) from None


def tags(value: object, context: str) -> dict[str, str]:
    """A tag map: at most 10 pairs, key <= 128 and value <= 256 chars of ``[a-zA-Z0-9._~-]``."""
    if not isinstance(value, dict):
        raise invalid(f"{context} must be an object, not {_type_name(value)}", context)
    errors = Collector()
    if len(value) > MAX_TAGS:
        errors.add(f"{context} may hold at most {MAX_TAGS} tags (got {len(value)})", context)
    for key, tag in value.items():
        where = f"{context}.{key}" if TAG_PATTERN.match(key) else f"{context}[{json.dumps(key)}]"
        if len(key) > MAX_TAG_KEY or not TAG_PATTERN.match(key):
            errors.add(
                f"tag keys must be 1-{MAX_TAG_KEY} characters of a-z A-Z 0-9 . _ ~ - "
                f"(got {key[:40]!r})",
                where,
            )
        elif not isinstance(tag, str):
            errors.add(f"{where} must be a string, not {_type_name(tag)}", where)
        elif len(tag) > MAX_TAG_VALUE or not TAG_PATTERN.match(tag):
            errors.add(
                f"tag values must be 1-{MAX_TAG_VALUE} characters of a-z A-Z 0-9 . _ ~ - "
                f"(got {tag[:40]!r})",
                where,
            )
    errors.check()
    return value


def _not_json_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is out of range")
    return value


def json_body(body: bytes) -> object:
    """The parsed JSON body, else 400 (empty body, bad UTF-8 or bad JSON).

    Strict JSON: NaN, Infinity, numbers too large for a double and integers of more than
    4,300 digits (Python's limit) are refused too, as a 400, never stored.
    """
    if not body.strip():
        raise invalid("the request body must be JSON; it is empty", "$")
    try:
        value = json.loads(body, parse_constant=_not_json_constant, parse_float=_finite_float)
        where = None if _no_surrogate(body) else _unpaired_surrogate(value, "$")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = (
            f" at line {exc.lineno} column {exc.colno}"
            if isinstance(exc, json.JSONDecodeError)
            else ""
        )
        raise invalid(f"the request body is not valid JSON{where}", "$") from None
    except ValueError as exc:  # a constant or a number refused above, or too many digits
        reason = str(exc).split(":")[0]
        raise invalid(f"the request body is not valid JSON: {reason}", "$") from None
    except RecursionError:
        raise invalid("the request body nests arrays or objects too deeply", "$") from None
    if where is not None:
        raise invalid(
            f"{where} holds an unpaired UTF-16 surrogate (\\ud800-\\udfff), which is no text",
            where,
        )
    return value


def _no_surrogate(body: bytes) -> bool:
    """Whether ``body`` surely decodes to no surrogate, read from its bytes (the walk below
    costs 60 ms on a 10,000-recipient send): ASCII without NUL bytes is UTF-8 to ``json``
    and decodes to itself, so a surrogate could only come from a ``\\udXXX`` escape."""
    return body.isascii() and b"\x00" not in body and SURROGATE_ESCAPE.search(body) is None


def _unpaired_surrogate(value: object, path: str) -> str | None:
    """The JSON path of the first string (or key) holding an unpaired surrogate, if any.

    ``json`` joins an escaped pair into one character, so any surrogate left is unpaired;
    it could be neither stored (UTF-8) nor sent back.
    """
    if isinstance(value, str):
        return path if not value.isascii() and SURROGATE.search(value) else None
    if isinstance(value, list):
        items: list[tuple[str, object]] = [(f"{path}[{i}]", v) for i, v in enumerate(value)]
    elif isinstance(value, dict):
        items = []
        for key, item in value.items():
            where = f"{path}.{key}" if NAME_PATTERN.match(key) else f"{path}[{json.dumps(key)}]"
            if SURROGATE.search(key):
                return where
            items.append((where, item))
    else:
        return None
    for where, item in items:
        found = _unpaired_surrogate(item, where)
        if found is not None:
            return found
    return None


def json_object(body: bytes, *, nulls: bool = False) -> dict[str, object]:
    """The JSON body, which must be an object.

    A top-level ``null`` is refused unless ``nulls``: no request body of the API allows one
    for any of its fields (``"pageToken": null`` is not the field left out), so it is a 400
    naming the field, as the contract's schemas say.
    """
    value = json_body(body)
    if not isinstance(value, dict):
        raise invalid(f"the request body must be a JSON object, not {_type_name(value)}", "$")
    if not nulls:
        errors = Collector()
        for key, item in value.items():
            if item is None:
                errors.add(f"$.{key} must not be null (leave it out instead)", f"$.{key}")
        errors.check()
    return value


def sender_refs(items: object, context: str, *, min_items: int, max_items: int) -> list[str]:
    """A list of ``{"senderId": ...}`` objects -> the ids; every bad item is reported."""
    if not isinstance(items, list):
        raise invalid(f"{context} must be an array, not {_type_name(items)}", context)
    if not min_items <= len(items) <= max_items:
        raise invalid(
            f"{context} must hold {min_items} to {max_items} senders (got {len(items)})", context
        )
    errors, found = Collector(), []
    for i, item in enumerate(items):
        where = f"{context}[{i}]"
        if not isinstance(item, dict):
            errors.add(f'{where} must be an object like {{"senderId": ...}}', where)
        elif "senderId" not in item:
            errors.add(f"{where}.senderId is required", f"{where}.senderId")
        elif not ids.is_valid(item["senderId"], ids.SENDER):
            errors.add(
                f"{where}.senderId is not a sender id (got {item['senderId']!r})",
                f"{where}.senderId",
            )
        else:
            found.append(item["senderId"])
    errors.check()
    return found
