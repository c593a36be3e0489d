"""The Liquid variables of a message's content (``{{ name | default: 'x' }}``), filled in for
``GET /Messages/{id}`` from the recipient's ``variables``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

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
