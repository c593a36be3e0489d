"""A notebook's parameters: read from its cell tagged ``parameters`` (with Python's parser),
checked (an unknown name, a name that looks like a credential) and given on a command line
(``key=value``)."""

from __future__ import annotations

import ast
import copy
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..connect import ENV_API_SECRET, ENV_AUTH_TOKEN
from ..errors import InvalidInputError

if TYPE_CHECKING:
    from nbformat import NotebookNode

__all__ = [
    "INJECTED_COMMENT",
    "INJECTED_TAG",
    "PARAMETERS_TAG",
    "SECRET_NAME",
    "assignments",
    "check_not_secret",
    "check_parameters",
    "notebook_parameters",
    "parse_parameter",
    "without_injected",
]

PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"
INJECTED_COMMENT = "# Parameters injected for this run"
# Names that hold credentials: they come from the environment, never from a parameter
# (a parameter is written into the executed notebook and its report for anyone to read).
SECRET_NAME = re.compile(r"token|secret|password|passwd|api_?key|credential", re.IGNORECASE)


def parse_parameter(text: str) -> tuple[str, Any]:
    """``"key=value"`` -> ``(key, value)``: the value as a Python literal when it reads as
    one (``11``, ``True``, ``None``, ``['SMS', 'RCS']``), else the text itself.

    Raises ``InvalidInputError`` without ``=``, for a key that is not a Python name, and
    for a key that names a secret (credentials come from the environment).
    """
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key.isidentifier():
        raise InvalidInputError(
            f"parameter {text!r}: expected name=value, with a Python name before '='",
            field="parameter",
            allowed="name=value",
        )
    check_not_secret(key)
    try:
        value: Any = ast.literal_eval(raw.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        value = raw
    return key, value


def check_not_secret(name: str) -> None:
    """Refuse a parameter whose name says it holds a credential."""
    if SECRET_NAME.search(name):
        raise InvalidInputError(
            f"parameter {name!r} looks like a credential: parameters are written into the "
            f"executed notebook and its report. Set {ENV_AUTH_TOKEN} (or {ENV_API_SECRET}) "
            "in the environment instead",
            field="parameter",
        )


def notebook_parameters(notebook: NotebookNode) -> dict[str, str]:
    """The names the ``parameters`` cell assigns, each with its default's source text.

    papermill lists a notebook's parameters through its translator's ``inspect``; ours (the
    ``commstoolkit`` kernel's) answers with this, read by Python's parser: papermill's own
    reader drops every line whose comment holds ``=`` (``seed = None  # None = as seeded``).
    """
    cell = _parameters_cell(notebook)
    return {} if cell is None else assignments(cell.source)


def check_parameters(
    notebook: NotebookNode, parameters: Mapping[str, Any], *, strict: bool = True
) -> None:
    """Refuse secret-looking names and (with ``strict``) names the ``parameters`` cell does
    not assign: ``InvalidInputError`` listing the notebook's parameters."""
    for name in parameters:
        check_not_secret(name)
    known = notebook_parameters(notebook)
    unknown = sorted(set(parameters) - set(known))
    if strict and unknown:
        listed = ", ".join(known) or "none (no cell is tagged 'parameters')"
        raise InvalidInputError(
            f"unknown parameter {', '.join(map(repr, unknown))}; this notebook's parameters: "
            f"{listed}",
            field="parameters",
            allowed=tuple(known),
        )


def without_injected(notebook: NotebookNode) -> NotebookNode:
    """A copy without the cells an earlier run injected."""
    result = copy.deepcopy(notebook)
    result.cells = [c for c in result.cells if INJECTED_TAG not in _tags(c)]
    return result


def assignments(source: str) -> dict[str, str]:
    """The names a cell's code assigns at top level, each with its value's source text."""
    found: dict[str, str] = {}
    for node in ast.parse(source).body:
        targets: list[ast.expr]
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name):
                found[target.id] = ast.get_source_segment(source, value) or ""
    return found


def _parameters_cell(notebook: NotebookNode) -> Any:
    return next(
        (c for c in notebook.cells if c.cell_type == "code" and PARAMETERS_TAG in _tags(c)), None
    )


def _tags(cell: Any) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))
