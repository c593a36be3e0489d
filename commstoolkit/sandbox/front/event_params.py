"""Event Streams requests read and checked against the official contract (``events_openapi``).

Classic Twilio REST: form-encoded bodies (``application/x-www-form-urlencoded``) and query
strings with PascalCase names. Each parameter the operation declares is read as its schema's
type (an integer, ``true``/``false``, an array from a repeated name, else text) and checked
against that schema (``jsonschema``); a required one that is missing, a value of the wrong
type or outside the schema's bounds is a 400 with code 20001 naming the parameter, before
anything is stored. Parameters the contract does not declare are ignored, as Twilio does. A
path parameter that does not match its pattern (a malformed sid) is a 404, as for any unknown
resource. ``PAGE`` holds the classic paging: ``PageSize`` 1-1000 (default 50), ``Page``
from 0 and ``PageToken`` (``PA`` + the paging key of the previous page's last item).
"""

from __future__ import annotations

import functools
import re
from typing import Any
from urllib.parse import parse_qsl

from .. import contract
from ..events.streams import refused
from ..exceptions import not_found

FORM_TYPE = "application/x-www-form-urlencoded"
INTEGER = re.compile(r"-?\d{1,18}\Z")
DEFAULT_PAGE_SIZE = 50
TOKEN = re.compile(r"PA(\d{1,18})\Z")


@functools.cache
def _operation(method: str, template: str) -> dict[str, Any]:
    """The contract's operation object of ``METHOD /v1/Template``."""
    operation: dict[str, Any] = contract.events_openapi()["paths"]["/v1" + template][method.lower()]
    return operation


def _resolved(schema: dict[str, Any]) -> dict[str, Any]:
    """A schema with a top-level ``$ref`` into ``components`` followed."""
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        found: dict[str, Any] = contract.events_openapi()["components"]["schemas"][
            ref.rsplit("/", 1)[1]
        ]
        return found
    return schema


@functools.cache
def _validator(method: str, template: str, where: str, name: str) -> Any:
    """A jsonschema validator for one declared parameter (refs resolve in the document)."""
    from jsonschema import Draft7Validator

    schema = _declared(method, template, where)[name]
    return Draft7Validator({**schema, "components": contract.events_openapi()["components"]})


def _declared(method: str, template: str, where: str) -> dict[str, dict[str, Any]]:
    """The parameters ``where`` (``body``, ``query``, ``path``) the operation declares."""
    operation = _operation(method, template)
    if where == "body":
        body = operation.get("requestBody", {}).get("content", {}).get(FORM_TYPE, {})
        properties: dict[str, dict[str, Any]] = body.get("schema", {}).get("properties", {})
        return properties
    return {p["name"]: p["schema"] for p in operation.get("parameters", ()) if p["in"] == where}


def _required(method: str, template: str) -> list[str]:
    body = _operation(method, template).get("requestBody", {}).get("content", {})
    names: list[str] = body.get(FORM_TYPE, {}).get("schema", {}).get("required", [])
    return names


def _read(values: list[str], schema: dict[str, Any], name: str) -> object:
    """A parameter's text(s) as its schema's type (400 naming it when they cannot be)."""
    kind = _resolved(schema).get("type")
    if kind == "array":
        return values
    if len(values) > 1:
        raise refused(f"{name} may be given only once", name)
    text = values[0]
    if kind == "integer":
        if not INTEGER.match(text.strip()):
            raise refused(f"{name} must be an integer, got {text!r}", name)
        return int(text)
    if kind == "boolean":
        if text.lower() not in ("true", "false"):
            raise refused(f"{name} must be true or false, got {text!r}", name)
        return text.lower() == "true"
    return text


def _checked(
    method: str, template: str, where: str, pairs: list[tuple[str, str]]
) -> dict[str, object]:
    declared = _declared(method, template, where)
    given: dict[str, list[str]] = {}
    for key, value in pairs:
        if key in declared:
            given.setdefault(key, []).append(value)
    found: dict[str, object] = {}
    for name, texts in given.items():
        typed = _read(texts, declared[name], name)
        problem = next(iter(_validator(method, template, where, name).iter_errors(typed)), None)
        if problem is not None:
            raise refused(f"Invalid {name}: {problem.message}", name)
        found[name] = typed
    return found


def body(method: str, template: str, headers: dict[str, str], raw: bytes) -> dict[str, object]:
    """The form body's declared parameters, typed and checked; required ones present."""
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if raw.strip() and content_type != FORM_TYPE:
        raise refused(
            f"Event Streams take form-encoded parameters ({FORM_TYPE}), not "
            f"{content_type or 'an untyped body'}"
        )
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise refused("The request body is not UTF-8 text") from None
    found = _checked(method, template, "body", pairs)
    for name in _required(method, template):
        if name not in found:
            raise refused(f"Missing required parameter {name} in the post body", name)
    return found


def query(method: str, template: str, pairs: list[tuple[str, str]]) -> dict[str, object]:
    """The query's declared parameters, typed and checked."""
    return _checked(method, template, "query", pairs)


def path(method: str, template: str, params: dict[str, str], shown: str) -> None:
    """404 when a path parameter does not match its schema (e.g. a malformed sid)."""
    for name, value in params.items():
        problem = next(iter(_validator(method, template, "path", name).iter_errors(value)), None)
        if problem is not None:
            raise not_found(f"The requested resource {shown} was not found")


def paging(found: dict[str, object]) -> tuple[int, int, int | None]:
    """(page size, page number, the key after which the page starts, or None) of a listing."""
    size = found.get("PageSize", DEFAULT_PAGE_SIZE)
    page = found.get("Page", 0)
    token = found.get("PageToken")
    after = None
    if token is not None:
        match = TOKEN.match(str(token))
        if match is None:
            raise refused(
                f"Invalid PageToken {token!r}: use the next_page_url of a listing", "PageToken"
            )
        after = int(match.group(1))
    assert isinstance(size, int) and isinstance(page, int)
    return size, page, after
