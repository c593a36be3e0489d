"""Message content: the sandbox's own rule (text over 1,600 characters is error 21617, which
no schema says), then the shapes of the official schema (``SendMessagesRequest``'s
``content``: text with media, a template, or channel modules; a body matching two ``oneOf``
branches is refused, as the schema says)."""

from __future__ import annotations

from typing import Any

from ..exceptions import ApiError, ErrorItem
from . import schema

CONTENT = "SendMessagesRequest/properties/content"
MAX_TEXT = 1600
TEXT_TOO_LONG = 21617


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
    schema.check_value(CONTENT, value, path)
    content: dict[str, Any] = value  # the schema found it an object
    return content
