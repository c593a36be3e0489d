"""Message content: its shapes as the spec defines them, checked by a small schema walker, and
the Liquid variables (``{{ name | default: 'x' }}``) filled in for ``GET /Messages/{id}``.

The shapes below restate the spec's ``MessageContentTextWithMedia``, ``MessageContentTemplate``
and ``MessageContentChannelModules`` (RCS modules included, exactly: a body matching two
``oneOf`` branches is refused as the spec's schema would). The walker knows the JSON Schema
keywords these shapes use and nothing more.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from . import validation as check
from .exceptions import ApiError, ErrorItem, invalid

MAX_TEXT = 1600
TEXT_TOO_LONG = 21617

Schema = dict[str, Any]


def _obj(required: tuple[str, ...] = (), closed: bool = False, **properties: Schema) -> Schema:
    schema: Schema = {"type": "object", "properties": properties, "required": required}
    if closed:
        schema["additionalProperties"] = False
    return schema


TEXT: Schema = {"type": "string", "minLength": 1}
STRING: Schema = {"type": "string"}
DATE_TIME: Schema = {"type": "string", "format": "date-time"}
MEDIA_INPUT: Schema = {"type": "array", "items": _obj(("url",), url=TEXT)}
TEXT_WITH_MEDIA: Schema = {**_obj(closed=True, text=TEXT, media=MEDIA_INPUT), "minProperties": 1}
TEMPLATE = _obj(("contentId",), contentId={"type": "string", "pattern": r"HX[a-zA-Z0-9]{26,34}\Z"})

CONTENT_INFO = _obj(
    ("fileUrl",), fileUrl=STRING, thumbnailUrl=STRING, forceRefresh={"type": "boolean"}
)
LAT_LNG = _obj(
    ("latitude", "longitude"),
    latitude={"type": "number", "minimum": -90, "maximum": 90},
    longitude={"type": "number", "minimum": -180, "maximum": 180},
)
ACTIONS = {
    "dialAction": _obj(("phoneNumber",), phoneNumber=STRING),
    "openUrlAction": _obj(
        ("url",),
        url=STRING,
        application={"type": "string", "enum": ["BROWSER", "WEBVIEW"]},
        webviewViewMode={"type": "string", "enum": ["FULL", "HALF", "TALL"]},
    ),
    "viewLocationAction": {
        **_obj(closed=True, latLong=LAT_LNG, label=STRING, query=STRING),
        "minProperties": 1,
    },
    "createCalendarEventAction": _obj(
        ("startTime", "endTime", "title", "description"),
        startTime=DATE_TIME,
        endTime=DATE_TIME,
        title=TEXT,
        description=TEXT,
    ),
    "shareLocationAction": _obj(closed=True),
}


def _action(name: str, shape: Schema) -> Schema:
    """A suggested action: text, postbackData and the action ``name`` (all required)."""
    branch = _obj(("text", "postbackData", name), text=TEXT, postbackData=TEXT)
    branch["properties"][name] = shape
    return branch


ACTION = _obj(
    ("action",),
    action={
        "type": "object",
        "oneOf": [_action(name, shape) for name, shape in ACTIONS.items()],
    },
)
REPLY = _obj(("reply",), reply=_obj(("text", "postbackData"), text=TEXT, postbackData=TEXT))
SUGGESTION: Schema = {"oneOf": [ACTION, REPLY]}
SUGGESTIONS: Schema = {"type": "array", "maxItems": 11, "items": SUGGESTION}
CARD: Schema = {
    **_obj(
        closed=True,
        title=TEXT,
        description=TEXT,
        media=_obj(
            ("contentInfo",),
            contentInfo=CONTENT_INFO,
            height={"type": "string", "enum": ["TALL", "MEDIUM", "SHORT"]},
        ),
        suggestions={"type": "array", "maxItems": 4, "items": SUGGESTION},
    ),
    "minProperties": 1,
}
RICH_CARD: Schema = {
    "type": "object",
    "oneOf": [
        _obj(
            ("carouselCard",),
            carouselCard=_obj(
                ("cardContents",),
                cardWidth={"type": "string", "enum": ["SMALL", "MEDIUM"]},
                cardContents={"type": "array", "minItems": 2, "maxItems": 10, "items": CARD},
            ),
        ),
        _obj(
            ("standaloneCard",),
            standaloneCard=_obj(
                ("cardContent",),
                cardOrientation={"type": "string", "enum": ["HORIZONTAL", "VERTICAL"]},
                thumbnailImageAlignment={"type": "string", "enum": ["LEFT", "RIGHT"]},
                cardContent=CARD,
            ),
        ),
    ],
}
RCS: Schema = {
    "type": "object",
    "oneOf": [
        _obj(("text",), text=TEXT, suggestions=SUGGESTIONS),
        _obj(("contentInfo",), contentInfo=CONTENT_INFO, suggestions=SUGGESTIONS),
        _obj(("richCard",), richCard=RICH_CARD, suggestions=SUGGESTIONS),
    ],
}
MODULES = _obj(
    ("modules",),
    modules={
        "type": "array",
        "minItems": 1,
        "maxItems": 4,
        "items": {
            "type": "object",
            "oneOf": [_obj(("sms",), sms=TEXT_WITH_MEDIA), _obj(("rcs",), rcs=RCS)],
        },
    },
)
CONTENT: Schema = {"type": "object", "oneOf": [TEXT_WITH_MEDIA, TEMPLATE, MODULES]}

TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "boolean": (bool,),
    "number": (int, float),
    "integer": (int,),
}


def problems(value: Any, schema: Schema, path: str) -> list[tuple[str, str]]:
    """(JSON path, message) of the first way ``value`` breaks ``schema`` (empty when valid)."""
    kind = schema.get("type")
    if kind and (
        not isinstance(value, TYPES[kind]) or (kind != "boolean" and isinstance(value, bool))
    ):
        return [(path, f"{path} must be {'an' if kind[0] in 'aeio' else 'a'} {kind}")]
    if "enum" in schema and value not in schema["enum"]:
        return [(path, f"{path} must be one of {', '.join(schema['enum'])} (got {value!r})")]
    found = _scalar(value, schema, path) if not isinstance(value, dict | list) else []
    if isinstance(value, dict):
        found = _object(value, schema, path)
    elif isinstance(value, list):
        found = _array(value, schema, path)
    if found or "oneOf" not in schema:
        return found
    results = [problems(value, branch, path) for branch in schema["oneOf"]]
    matched = sum(1 for r in results if not r)
    if matched == 1:
        return []
    if matched > 1:
        return [(path, f"{path} matches more than one of the shapes it may take; remove a field")]
    return _closest(value, schema["oneOf"], results)


def _closest(
    value: Any, branches: list[Schema], results: list[list[tuple[str, str]]]
) -> list[tuple[str, str]]:
    """The problems of the branch the value most likely meant: the one naming most of its
    fields, with every required field present (the first on a tie)."""

    def score(branch: Schema) -> tuple[int, int]:
        if not isinstance(value, dict):
            return (0, 0)
        fields = branch.get("properties", {})
        complete = all(key in value for key in branch.get("required", ()))
        return (int(complete), sum(1 for key in value if key in fields))

    best = max(range(len(branches)), key=lambda i: (score(branches[i]), -i))
    return results[best]


def _scalar(value: Any, schema: Schema, path: str) -> list[tuple[str, str]]:
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            return [(path, f"{path} must not be empty")]
        if "pattern" in schema and not re.match(schema["pattern"], value):
            return [(path, f"{path} is not well-formed (got {value[:40]!r})")]
        if schema.get("format") == "date-time":
            try:
                check.date(value, path)
            except ApiError as err:
                return [(path, err.items[0].message)]
    elif isinstance(value, int | float) and not isinstance(value, bool):
        low, high = schema.get("minimum"), schema.get("maximum")
        if (low is not None and value < low) or (high is not None and value > high):
            return [(path, f"{path} must be from {low} to {high} (got {value!r})")]
    return []


def _object(value: dict, schema: Schema, path: str) -> list[tuple[str, str]]:
    properties = schema.get("properties", {})
    for key in schema.get("required", ()):
        if key not in value:
            return [(f"{path}.{key}", f"{path}.{key} is required")]
    if len(value) < schema.get("minProperties", 0):
        return [(path, f"{path} must not be empty")]
    for key, item in value.items():
        if key in properties:
            found = problems(item, properties[key], f"{path}.{key}")
            if found:
                return found
        elif schema.get("additionalProperties") is False:
            allowed = ", ".join(properties) or "none"
            return [(f"{path}.{key}", f"{path} has an unknown field {key!r} (allowed: {allowed})")]
    return []


def _array(value: list, schema: Schema, path: str) -> list[tuple[str, str]]:
    low, high = schema.get("minItems", 0), schema.get("maxItems")
    if len(value) < low or (high is not None and len(value) > high):
        bound = f"{low} to {high}" if high is not None else f"at least {low}"
        return [(path, f"{path} must hold {bound} items (got {len(value)})")]
    for i, item in enumerate(value):
        found = problems(item, schema.get("items", {}), f"{path}[{i}]")
        if found:
            return found
    return []


def check_content(value: Any, path: str = "$.content") -> dict[str, Any]:
    """The content of a send, as the spec allows it; 400 naming the first problem.

    Text (top level or in an ``sms`` module) over 1,600 characters is error 21617.
    """
    if isinstance(value, dict):
        texts = [(f"{path}.text", value.get("text"))]
        modules = value.get("modules")
        for i, module in enumerate(modules if isinstance(modules, list) else ()):
            sms = module.get("sms") if isinstance(module, dict) else None
            if isinstance(sms, dict):
                texts.append((f"{path}.modules[{i}].sms.text", sms.get("text")))
        for where, text in texts:
            if isinstance(text, str) and len(text) > MAX_TEXT:
                raise ApiError(
                    400,
                    [
                        ErrorItem(
                            TEXT_TOO_LONG,
                            f"The message body exceeds the {MAX_TEXT} character limit "
                            f"({len(text)} characters).",
                            where,
                        )
                    ],
                )
    found = problems(value, CONTENT, path)
    if found:
        where, message = found[0]
        raise invalid(message, where)
    content: dict[str, Any] = value  # problems() found it an object of the CONTENT shape
    return content


LIQUID = re.compile(
    r"\{\{\s*([A-Za-z_][\w.]*)\s*(?:\|\s*default:\s*(?:'([^']*)'|\"([^\"]*)\")\s*)?\}\}"
)
RENDERED_KEYS = ("text", "title", "description")


def render(text: str, variables: Mapping[str, str]) -> str:
    """``text`` with ``{{ name }}`` and ``{{ name | default: 'x' }}`` filled from ``variables``
    (an unknown name without a default becomes empty, as in Liquid)."""

    def fill(match: re.Match[str]) -> str:
        name, single, double = match.groups()
        value = variables.get(name)
        if value:
            return value
        return single if single is not None else (double or "")

    return LIQUID.sub(fill, text)


def resolve(content: Any, variables: Mapping[str, str] | None) -> Any:
    """The content as a message shows it: variables filled into its texts, titles and
    descriptions (templates and media untouched)."""
    if isinstance(content, dict):
        return {
            key: render(item, variables or {})
            if key in RENDERED_KEYS and isinstance(item, str)
            else resolve(item, variables)
            for key, item in content.items()
        }
    if isinstance(content, list):
        return [resolve(item, variables) for item in content]
    return content
