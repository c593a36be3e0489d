"""Request bodies checked against the official schemas (``commstoolkit.sandbox.contract``).

``check(operation, body)`` checks a whole body against the operation's request schema, and
``check_value(definition, value, path)`` one value against a ``$defs`` schema; both raise the
API's 400 (code 20400) with ``context`` the JSON path of the first problem, so a spec revision
is a refresh of the data, not code. What the sandbox checks beyond the schemas (E.164, the
1,600-character text limit, ids that must exist...) is the front's own rules, elsewhere.

A valid body is accepted by a compiled validator (fastjsonschema: the 10,000-recipient send
stays cheap); a refused one is explained by ``jsonschema``, the reference. Which problem is
"first" follows the schema as a reader would: a value's own type and shape before its
fields, the fields in the body's order; for a ``oneOf`` the branch the value most likely meant
(every required field present, then the most of its fields named; the first on a tie), and a
value matching more than one branch is refused as such (but for ``ANY_OF``).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import fastjsonschema

from .. import contract
from ..exceptions import invalid

if TYPE_CHECKING:  # jsonschema is imported when a body is refused, not with the sandbox
    from jsonschema import Draft202012Validator, FormatChecker
    from jsonschema.exceptions import ValidationError

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
DATE_TIME = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})\Z"
)
# The order in which a value's own problems are told: its type and shape before its fields.
ORDER = {
    name: rank
    for rank, name in enumerate(
        ("type", "enum", "const", "required", "minProperties", "maxProperties",
         "additionalProperties", "propertyNames", "minItems", "maxItems", "uniqueItems",
         "minLength", "maxLength", "pattern", "format", "minimum", "maximum")
    )
}  # fmt: skip


def is_date_time(value: object) -> bool:
    """RFC 3339 date-time (``2024-04-05T06:20:00Z``), as the API reads its dates."""
    if not isinstance(value, str):
        return True  # format applies to strings only
    match = DATE_TIME.match(value)
    if not match:
        return False
    day, clock, _, zone = match.groups()
    try:
        datetime.fromisoformat(f"{day}T{clock}{'+00:00' if zone in 'Zz' else zone}")
    except ValueError:
        return False
    return True


FORMATS: dict[str, Callable[[object], bool]] = {"date-time": is_date_time}
# The contract's README ("Spec quirks") notes that the branches of these oneOf overlap (every
# Resolve body naming senderAddresses matches both), and that an emulator should read the union
# as anyOf: the sandbox does, for these definitions only.
ANY_OF = ("ResolveSendersRequest",)


def _definitions(document: Mapping[str, Any]) -> dict[str, Any]:
    """The ``$defs`` of the contract, with the overlapping unions of ``ANY_OF`` read as anyOf."""
    definitions = dict(document["$defs"])
    for name in ANY_OF:
        union = {**definitions[name]}
        union["anyOf"] = union.pop("oneOf")
        definitions[name] = union
    return definitions


def _formats() -> FormatChecker:
    from jsonschema import FormatChecker

    checker = FormatChecker(formats=())
    for name, test in FORMATS.items():
        checker.checks(name)(test)
    return checker


class Schema:
    """One schema of the contract: a fast accept, a reference explanation."""

    def __init__(self, pointer: str) -> None:
        document = contract.schemas()
        self.definitions = _definitions(document)
        self.schema = {"$schema": document["$schema"], "$ref": pointer, "$defs": self.definitions}
        # Only whether it raises is read (a refusal is explained by ``reference``), so the
        # compiled checker skips building exception details: 2.5x faster on a 10,000-recipient
        # send, which raises and catches inside its oneOf branches for every recipient.
        self.accept = fastjsonschema.compile(
            self.schema, formats=FORMATS, use_default=False, detailed_exceptions=False
        )

    @functools.cached_property
    def reference(self) -> Draft202012Validator:
        from jsonschema import Draft202012Validator

        return Draft202012Validator(self.schema, format_checker=_formats())

    def problem(self, value: Any) -> tuple[list[str | int], str] | None:
        """(path below the value, message) of the first problem; None when valid."""
        try:
            self.accept(value)
            return None
        except fastjsonschema.JsonSchemaException:
            pass
        found = _first(self.reference.iter_errors(value), value, self.definitions)
        return None if found is None else (found[0], found[1])


@functools.cache
def _schema(pointer: str) -> Schema:
    return Schema(pointer)


def check(operation: str, body: object) -> None:
    """400 naming the first way ``body`` breaks the request schema of ``operation``
    (``"POST /Messages"``); nothing for an operation without a request body."""
    schema = contract.request_body(operation)
    if schema is not None:
        _raise(_schema(schema["$ref"]).problem(body), "$")


def check_value(definition: str, value: object, path: str) -> None:
    """400 naming the first way ``value`` (at JSON path ``path``) breaks ``$defs/definition``
    or, with a ``/properties/...`` suffix, a part of it."""
    _raise(_schema(f"#/$defs/{definition}").problem(value), path)


def _raise(found: tuple[list[str | int], str] | None, root: str) -> None:
    if found is not None:
        where, message = found
        context = root + "".join(_step(part) for part in where)
        raise invalid(message.replace("{path}", context), context)


def _step(part: str | int) -> str:
    if isinstance(part, int):
        return f"[{part}]"
    return f".{part}" if NAME.match(part) else f"[{json.dumps(part)}]"


def _resolve(schema: Any, definitions: Mapping[str, Any]) -> Any:
    while isinstance(schema, dict) and "$ref" in schema:
        schema = definitions[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _first(
    errors: Iterable[ValidationError], value: Any, definitions: Mapping[str, Any]
) -> tuple[list[str | int], str] | None:
    """The error a reader would fix first, as (path below ``value``, message)."""
    listed = list(errors)
    if not listed:
        return None

    def order(error: ValidationError) -> tuple[tuple[int, ...], int]:
        # A value's own problems (ORDER) before its fields', the fields in the body's order
        # (an unknown field in its place).
        where = list(error.relative_path)
        if error.validator == "additionalProperties":
            where += _extra(error)
        return _position(value, where), _rank(error)

    error = min(listed, key=order)
    path = list(error.relative_path)
    if error.validator in ("oneOf", "anyOf"):
        return _one_of(error, path, definitions)
    return path + _extra(error), _message(error)


def _position(value: Any, path: Iterable[str | int]) -> tuple[int, ...]:
    """Where ``path`` is in ``value``, in document order."""
    order: list[int] = []
    for part in path:
        if isinstance(value, dict):
            keys = list(value)
            order.append(keys.index(part) if part in value else len(keys))
            value = value.get(part)
        elif isinstance(value, list) and isinstance(part, int):
            order.append(part)
            value = value[part] if part < len(value) else None
        else:
            break
    return tuple(order)


def _parts(error: ValidationError) -> tuple[Any, Any, Mapping[str, Any]]:
    """(the value, the keyword's value, the schema holding it) of one error, typed."""
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    return error.instance, error.validator_value, schema


def _rank(error: ValidationError) -> int:
    return ORDER.get(str(error.validator), len(ORDER))


def _one_of(
    error: ValidationError, path: list[str | int], definitions: Mapping[str, Any]
) -> tuple[list[str | int], str]:
    if not error.context:  # every branch failed without a word, or more than one matched
        return path, "{path} matches more than one of the shapes it may take; remove a field"
    value, union, _ = _parts(error)
    branches = [_resolve(b, definitions) for b in union]
    failed: dict[int, list[ValidationError]] = {}
    for sub in error.context:
        failed.setdefault(int(sub.relative_schema_path[0]), []).append(sub)
    if len(failed) < len(branches):
        return path, "{path} matches more than one of the shapes it may take; remove a field"

    def score(i: int) -> tuple[int, int]:
        branch = branches[i]
        if not isinstance(value, dict) or not isinstance(branch, dict):
            return (0, 0)
        fields = branch.get("properties", {})
        complete = all(key in value for key in branch.get("required", ()))
        return (int(complete), sum(1 for key in value if key in fields))

    best = max(range(len(branches)), key=lambda i: (score(i), -i))
    found = _first(failed[best], value, definitions)
    assert found is not None  # the branch failed, so it has errors
    return path + found[0], found[1]


def _extra(error: ValidationError) -> list[str | int]:
    """For required and additionalProperties: the field concerned, below the object."""
    instance, expected, schema = _parts(error)
    if error.validator == "required" and isinstance(instance, dict):
        return [next(key for key in expected if key not in instance)]
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        known = schema.get("properties", {})
        patterns = schema.get("patternProperties", {})
        for key in instance:
            if key not in known and not any(re.search(p, key) for p in patterns):
                return [key]
    return []


def _message(error: ValidationError) -> str:
    """The message of one error; ``{path}`` stands for its JSON path."""
    kind = error.validator
    value, expected, schema = _parts(error)
    if kind == "type":
        if value is None:
            return "{path} must not be null (leave it out instead)"
        article = "an" if str(expected)[0] in "aeio" else "a"
        return f"{{path}} must be {article} {expected}"
    if kind == "enum":
        return f"{{path}} must be one of {', '.join(map(str, expected))} (got {value!r})"
    if kind == "required":
        return "{path} is required"
    if kind == "additionalProperties":
        allowed = ", ".join(schema.get("properties", {})) or "none"
        return f"{{path}} is an unknown field (allowed: {allowed})"
    if kind in ("minProperties", "minLength") and expected == 1:
        return "{path} must not be empty"
    if kind in ("minItems", "maxItems"):
        low, high = schema.get("minItems", 0), schema.get("maxItems")
        bound = f"{low} to {high}" if high is not None else f"at least {low}"
        return f"{{path}} must hold {bound} items (got {len(value)})"
    if kind in ("minimum", "maximum"):
        low, high = schema.get("minimum"), schema.get("maximum")
        return f"{{path}} must be from {low} to {high} (got {value!r})"
    if kind == "pattern":
        return f"{{path}} is not well-formed (got {str(value)[:40]!r})"
    if kind == "format":
        return f"{{path}} must be an RFC 3339 {expected} like 2024-04-05T06:20:00Z"
    if kind == "uniqueItems":
        return "{path} must not repeat an item"
    return "{path}: " + str(error.message)
