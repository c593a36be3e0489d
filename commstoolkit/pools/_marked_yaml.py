"""YAML read with the place of every mapping and list, for one-line errors with line:column.

PyYAML's ``SafeLoader`` (plain data only, never a Python object) builds each mapping as a
``MarkedMap`` and each list as a ``MarkedList``: a ``dict`` / ``list`` that also keeps the
``start_mark`` of its node and of each key, value and item (the composer records the marks
anyway; the plain loader drops them). A key given twice is refused (plain YAML keeps the
last one silently). ``Problem`` is a mistake found at a mark; the caller adds the file name.
"""

from __future__ import annotations

from typing import Any

import yaml

from ..errors import InvalidInputError

__all__ = [
    "MarkedList",
    "MarkedLoader",
    "MarkedMap",
    "Problem",
    "kind_of",
    "mapping",
    "sequence",
    "syntax_error",
]


class Problem(Exception):
    """A mistake found while reading, before the file's name is attached."""

    def __init__(self, mark: Any, field: str, message: str, allowed: Any = None) -> None:
        super().__init__(message)
        self.mark, self.field, self.message, self.allowed = mark, field, message, allowed

    def located(self, path: str) -> InvalidInputError:
        line, column = (self.mark.line + 1, self.mark.column + 1) if self.mark else (1, 1)
        return InvalidInputError(
            f"{path}:{line}:{column}: {self.field}: {self.message}",
            field=self.field,
            allowed=self.allowed,
        )


class MarkedMap(dict[Any, Any]):
    """A YAML mapping, with where it starts and where each key and value is; ``repeated``:
    (key, mark, mark of its first occurrence) of each key written twice (``mapping`` refuses
    them, where the field's path is known)."""

    mark: Any = None

    def __init__(self) -> None:
        super().__init__()
        self.key_marks: dict[Any, Any] = {}
        self.value_marks: dict[Any, Any] = {}
        self.repeated: list[tuple[Any, Any, Any]] = []


class MarkedList(list[Any]):
    """A YAML list, with where it starts and where each item is."""

    mark: Any = None

    def __init__(self) -> None:
        super().__init__()
        self.item_marks: list[Any] = []


class MarkedLoader(yaml.SafeLoader):
    """PyYAML's safe loader whose mappings and lists remember their marks (and refuse a key
    given twice, which plain YAML loading resolves silently by keeping the last)."""


def _construct_map(loader: yaml.SafeLoader, node: yaml.MappingNode) -> MarkedMap:
    own = sum(1 for key_node, _ in node.value if key_node.tag != "tag:yaml.org,2002:merge")
    loader.flatten_mapping(node)  # YAML merge keys (<<) as the safe loader reads them
    merged = len(node.value) - own  # flatten puts the merged pairs first; own keys win
    result = MarkedMap()
    result.mark = node.start_mark
    own_keys: set[Any] = set()
    for index, (key_node, value_node) in enumerate(node.value):
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, (MarkedMap, MarkedList)):
            raise Problem(key_node.start_mark, "key", "a key must be a word, not a mapping or list")
        if index >= merged:
            if key in own_keys:
                result.repeated.append((key, key_node.start_mark, result.key_marks[key]))
            own_keys.add(key)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_marks[key] = key_node.start_mark
        result.value_marks[key] = value_node.start_mark
    return result


def _construct_seq(loader: yaml.SafeLoader, node: yaml.SequenceNode) -> MarkedList:
    result = MarkedList()
    result.mark = node.start_mark
    for item in node.value:
        result.append(loader.construct_object(item, deep=True))
        result.item_marks.append(item.start_mark)
    return result


MarkedLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
MarkedLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


def syntax_error(path: str, err: yaml.MarkedYAMLError) -> InvalidInputError:
    """The one line of a YAML syntax error: where it was found, what, and what was open."""
    mark = err.problem_mark or err.context_mark
    what = err.problem or err.context or "unreadable YAML"
    if err.context and err.problem:
        opened = err.context_mark
        shown = opened is not None and (mark is None or opened.line != mark.line)
        at = f" at line {opened.line + 1}" if opened is not None and shown else ""
        what += f" ({err.context}{at})"
    where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else path
    return InvalidInputError(f"{where}: YAML syntax error: {what}", field="file")


def kind_of(value: Any) -> str:
    """What ``value`` is, for a message: "a mapping", "a list", "nothing", "int 3"."""
    if isinstance(value, MarkedMap):
        return "a mapping"
    if isinstance(value, MarkedList):
        return "a list"
    if value is None:
        return "nothing"
    return f"{type(value).__name__} {value!r}"


def mapping(value: Any, mark: Any, field: str, allowed: tuple[str, ...] | None) -> MarkedMap:
    """``value`` if it is a mapping whose keys are all ``allowed`` (None: any key)."""
    if not isinstance(value, MarkedMap):
        raise Problem(
            getattr(value, "mark", None) or mark,
            field,
            f"expected a mapping (key: value lines), got {kind_of(value)}",
        )
    for key, key_mark, first in value.repeated:
        raise Problem(
            key_mark,
            f"{field}.{key}" if field != "file" else str(key),
            f"given twice (first on line {first.line + 1}); keep one",
        )
    if allowed is not None:
        for key in value:
            if key not in allowed:
                raise Problem(
                    value.key_marks[key],
                    f"{field}.{key}" if field != "file" else str(key),
                    f"unknown key {key!r}; allowed keys: {', '.join(allowed)}",
                    allowed,
                )
    return value


def sequence(value: Any, mark: Any, field: str) -> MarkedList:
    """``value`` if it is a list."""
    if not isinstance(value, MarkedList):
        raise Problem(
            getattr(value, "mark", None) or mark, field, f"expected a list, got {kind_of(value)}"
        )
    return value
