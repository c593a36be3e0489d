"""Pool files: sender pools declared in YAML, read into ``PoolSpec`` s (and written back).

::

    # pools.yaml
    pools:
      - name: us-east-messaging
        tags: {team: growth}
        members:
          select:                      # every ACTIVATED SMS and RCS sender tagged region=us-east
            channels: [SMS, RCS]
            statuses: ACTIVATED
            tags: {region: us-east}
          exclude: [comms_sender_01h..., comms_sender_01h...]   # ... minus these two
      - name: ops-alerts               # a rename: keep the id, change the name
        id: comms_senderpool_01h...
        members:
          include: [comms_sender_01h..., comms_sender_01h...]

Why YAML read this way: the file is read with PyYAML's *safe* loader (``SafeLoader``: plain
data only, never a Python object), subclassed so that every mapping and list remembers where
it starts (the ``start_mark`` of its node, which PyYAML's composer records anyway). A
mistake is then reported as one ``InvalidInputError`` with ``file:line:column``, the field
(``pools[1].members.select[0].channels``) and what is wrong, before any request: unknown keys
(naming the allowed ones), unknown channels or statuses (naming the allowed values), wrong
types, bad tags, malformed ids, a key given twice (plain YAML keeps the last silently) and
two pools with one name. What needs the account (an id that is not a sender of it, a
selector matching nothing) is checked by ``pool_file_plan`` with one read, still before
any write.

``pool_file_text`` writes the account's pools as explicit ids (what ``commstoolkit pools
export`` writes), sorted, so that exporting twice gives the same file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, NoReturn

import pandas as pd
import yaml

from ..errors import InvalidInputError
from ..frames import senders_frame
from ..models import SENDER_CHANNELS, SENDER_STATUSES, SenderPool
from ..rules import ID_PATTERNS, ID_PREFIXES, check_tags
from ._marked_yaml import (
    MarkedList,
    MarkedLoader,
    MarkedMap,
    Problem,
    kind_of,
    mapping,
    sequence,
    syntax_error,
)
from .selection import select_senders

__all__ = [
    "FILE_KEYS",
    "MEMBER_KEYS",
    "POOL_KEYS",
    "SELECTOR_KEYS",
    "Location",
    "PoolSpec",
    "SenderSelector",
    "load_pool_file",
    "pool_file_text",
]

FILE_KEYS = ("pools", "version")
POOL_KEYS = ("name", "id", "tags", "members")
MEMBER_KEYS = ("include", "select", "exclude")
SELECTOR_KEYS = ("channels", "statuses", "tags", "search", "created_after", "created_before")
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Location:
    """A place in a pool file: ``str()`` reads ``pools.yaml:12:7`` (line and column from 1)."""

    path: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"

    def error(self, field: str, message: str, allowed: Any = None) -> InvalidInputError:
        """The one-line error of a bad file: ``file:line:col: field: message``."""
        return InvalidInputError(f"{self}: {field}: {message}", field=field, allowed=allowed)


# Where a spec built in code (not read from a file) reports its errors.
_UNKNOWN_PLACE = Location("<pools>", 1, 1)


@dataclass(frozen=True)
class SenderSelector:
    """One ``select:`` entry of a pool: ``select_senders`` filters, combined with AND."""

    channels: tuple[str, ...] | None = None
    statuses: tuple[str, ...] | None = None
    tags: Mapping[str, tuple[str, ...]] | None = None
    search: str | None = None
    created_after: date | datetime | str | None = None
    created_before: date | datetime | str | None = None
    field: str = dataclasses.field(default="select", compare=False)
    where: Location | None = dataclasses.field(default=None, compare=False)
    locations: Mapping[str, Location] = dataclasses.field(
        default_factory=dict, compare=False, repr=False
    )

    def select(self, senders: pd.DataFrame) -> pd.DataFrame:
        """The rows of ``senders`` (a ``load_senders`` frame) this selector matches."""
        return select_senders(
            senders,
            channels=self.channels,
            statuses=self.statuses,
            search=self.search,
            tags=None if self.tags is None else {k: list(v) for k, v in self.tags.items()},
            created_after=self.created_after,
            created_before=self.created_before,
        )

    def describe(self) -> str:
        """The filters in one line: ``channels SMS, RCS; statuses ACTIVATED; tag region=x``."""
        parts = []
        for label, values in (("channels", self.channels), ("statuses", self.statuses)):
            if values is not None:
                parts.append(f"{label} {', '.join(values) or '(none)'}")
        for key, tag_values in (self.tags or {}).items():
            parts.append(f"tag {key}={'|'.join(tag_values)}")
        if self.search is not None:
            parts.append(f"search {self.search!r}")
        for label, when in (("created after", self.created_after), ("before", self.created_before)):
            if when is not None:
                parts.append(f"{label} {when}")
        return "; ".join(parts)


@dataclass(frozen=True)
class PoolSpec:
    """One pool of a pool file, as declared.

    ``name`` (None: an existing pool, by ``id``, whose name the file leaves as it is);
    ``id``: the pool this entry manages (None: the pool of that name, created if none);
    ``tags``: the pool's tags (None: left as they are; ``{}``: none); ``include``: explicit
    sender ids; ``select``: selectors whose matches join the pool; ``exclude``: ids kept
    out whatever selected them. ``where`` is where the entry starts in the file,
    ``locations`` where each of its fields does (``name``, ``include[3]``, ...).
    """

    name: str | None
    id: str | None
    tags: Mapping[str, str] | None
    include: tuple[str, ...]
    select: tuple[SenderSelector, ...]
    exclude: tuple[str, ...]
    field: str = dataclasses.field(default="pools[0]", compare=False)
    where: Location | None = dataclasses.field(default=None, compare=False)
    locations: Mapping[str, Location] = dataclasses.field(
        default_factory=dict, compare=False, repr=False
    )

    def error(self, part: str, message: str, allowed: Any = None) -> InvalidInputError:
        """A located error about ``part`` of this entry (``name``, ``id``, ``include[2]``...)."""
        where = self.locations.get(part) or self.where or _UNKNOWN_PLACE
        return where.error(f"{self.field}.{part}", message, allowed)

    def sender_ids(self, senders: pd.DataFrame) -> list[str]:
        """The ids the pool holds: ``include``, then each selector's matches in the order of
        ``senders`` (the account's ``load_senders`` frame), minus ``exclude``.

        Raises a located ``InvalidInputError`` for an included or excluded id that is not a
        sender of the account, and for a selector that matches no sender (or names a tag key
        no sender carries).
        """
        known = set(senders["sender_id"].tolist())
        for part, ids in (("include", self.include), ("exclude", self.exclude)):
            for index, sender_id in enumerate(ids):
                if sender_id not in known:
                    raise self.error(
                        f"members.{part}[{index}]",
                        f"{sender_id} is not a sender of this account "
                        f"({len(known):,} senders); ct.load_senders(client) lists them",
                    )
        chosen = list(self.include)
        for selector in self.select:
            try:
                matched = selector.select(senders)["sender_id"].tolist()
            except InvalidInputError as err:
                where = selector.locations.get(err.field) or selector.where or self.where
                raise (where or _UNKNOWN_PLACE).error(
                    f"{selector.field}.{err.field}", _after_field(err), err.allowed
                ) from err
            if not matched:
                where = selector.where or self.where or _UNKNOWN_PLACE
                raise where.error(
                    selector.field,
                    f"matches no sender of the account ({selector.describe()}); "
                    "loosen it, or remove it",
                )
            chosen += matched
        excluded = set(self.exclude)
        return [i for i in dict.fromkeys(chosen) if i not in excluded]


def load_pool_file(path: str | Path) -> list[PoolSpec]:
    """Read a pool file (YAML) into one ``PoolSpec`` per pool, in file order; no request.

    Raises ``InvalidInputError`` (one line: ``file:line:column: field: what is wrong``,
    ``.field`` set to the field's path) for YAML that does not parse, an unknown key (naming
    the allowed keys), a wrong type, an unknown channel or status (naming the allowed
    values), tags the API refuses, a malformed id, an empty selector, a key given twice,
    two pools with one name or one id. ``OSError`` when the file cannot be read.
    """
    path = Path(path)
    data = path.read_bytes()
    name = str(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InvalidInputError(
            f"{name}: the file is not UTF-8 text (byte {err.start}); save it as UTF-8",
            field="file",
        ) from None
    loader = MarkedLoader(text)
    loader.name = name  # marks (and so every Location) name the file
    try:
        document = loader.get_single_data()
    except Problem as problem:
        raise problem.located(name) from None
    except yaml.MarkedYAMLError as err:
        raise syntax_error(name, err) from None
    except yaml.YAMLError as err:
        raise InvalidInputError(f"{name}: YAML syntax error: {err}", field="file") from None
    finally:
        loader.dispose()
    try:
        return _specs(document)
    except Problem as problem:
        raise problem.located(name) from None


def pool_file_text(pools: Iterable[SenderPool], members: Mapping[str, Iterable[str]]) -> str:
    """The YAML of ``pools`` with their ``members`` (pool id -> sender ids) as explicit ids.

    Pools sorted by name then id, members by id, keys in the file's order: the same
    account gives the same text, and reading it back plans no change.
    """
    entries = []
    for pool in sorted(pools, key=lambda p: (p.name is None, p.name or "", p.id)):
        entry: dict[str, Any] = {}
        if pool.name is not None:
            entry["name"] = pool.name
        entry["id"] = pool.id
        entry["tags"] = dict(sorted(pool.tags.items()))
        entry["members"] = {"include": sorted(members.get(pool.id, ()))}
        entries.append(entry)
    body = yaml.safe_dump(
        {"version": FORMAT_VERSION, "pools": entries},
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=100,
    )
    header = (
        "# Sender pools as code: `commstoolkit pools plan -f FILE` shows what would change,\n"
        "# `commstoolkit pools apply -f FILE` applies it.\n"
    )
    return header + body


# -- from YAML data to specs ----------------------------------------------------------------


def _specs(document: Any) -> list[PoolSpec]:
    if document is None:
        raise Problem(None, "pools", "the file is empty; it needs a `pools:` list")
    top = mapping(document, None, "file", FILE_KEYS)
    version = top.get("version", FORMAT_VERSION)
    if isinstance(version, bool) or version != FORMAT_VERSION:
        raise Problem(
            top.value_marks["version"],
            "version",
            f"{top['version']!r} is not a version this commstoolkit reads",
            (FORMAT_VERSION,),
        )
    if "pools" not in top:
        raise Problem(top.mark, "pools", "missing: the file needs a `pools:` list")
    entries = sequence(top["pools"], top.value_marks["pools"], "pools")
    specs = [
        _spec(entry, entries.item_marks[index], f"pools[{index}]")
        for index, entry in enumerate(entries)
    ]
    _check_unique(specs)
    return specs


def _spec(value: Any, mark: Any, field: str) -> PoolSpec:
    entry = mapping(value, mark, field, POOL_KEYS)
    locations = {key: _location(entry.value_marks[key]) for key in entry}
    name = entry.get("name")
    if name is not None and not (isinstance(name, str) and name.strip()):
        _wrong(entry, "name", field, "a non-empty name")
    if ("name" in entry and name is None) or ("name" not in entry and "id" not in entry):
        raise Problem(
            entry.value_marks.get("name", entry.mark),
            f"{field}.name",
            "missing: every pool needs a name (or the id of an existing pool)",
        )
    pool_id = entry.get("id")
    if "id" in entry:
        _check_id(pool_id, "sender pool", entry.value_marks["id"], f"{field}.id")
    tags = None
    if "tags" in entry:
        tags = _tags(entry["tags"], entry.value_marks["tags"], f"{field}.tags")
    if "members" not in entry:
        raise Problem(
            entry.mark,
            f"{field}.members",
            "missing: say which senders the pool holds (include, select, exclude); "
            "`members: {include: []}` declares an empty pool",
            MEMBER_KEYS,
        )
    members = mapping(
        entry["members"], entry.value_marks["members"], f"{field}.members", MEMBER_KEYS
    )
    if "include" not in members and "select" not in members:
        raise Problem(
            members.mark,
            f"{field}.members",
            "needs `include` (sender ids) and/or `select` (selectors); `exclude` alone "
            "selects nothing",
            MEMBER_KEYS,
        )
    ids: dict[str, tuple[str, ...]] = {}
    for part in ("include", "exclude"):
        ids[part] = ()
        if part in members:
            found = sequence(members[part], members.value_marks[part], f"{field}.members.{part}")
            for index, sender_id in enumerate(found):
                mark = found.item_marks[index]
                _check_id(sender_id, "sender", mark, f"{field}.members.{part}[{index}]")
                locations[f"members.{part}[{index}]"] = _location(mark)
            ids[part] = tuple(found)
    return PoolSpec(
        name=name,
        id=pool_id,
        tags=tags,
        include=ids["include"],
        select=_selectors(members, f"{field}.members"),
        exclude=ids["exclude"],
        field=field,
        where=_location(mark),
        locations=locations,
    )


def _selectors(members: MarkedMap, field: str) -> tuple[SenderSelector, ...]:
    if "select" not in members:
        return ()
    value, mark = members["select"], members.value_marks["select"]
    if isinstance(value, MarkedMap):  # one selector written without the list
        return (_selector(value, mark, f"{field}.select"),)
    found = sequence(value, mark, f"{field}.select")
    return tuple(
        _selector(item, found.item_marks[index], f"{field}.select[{index}]")
        for index, item in enumerate(found)
    )


def _selector(value: Any, mark: Any, field: str) -> SenderSelector:
    entry = mapping(value, mark, field, SELECTOR_KEYS)
    if not entry:
        raise Problem(
            mark,
            field,
            "an empty selector would select every sender of the account; give at least one filter",
            SELECTOR_KEYS,
        )
    channels = _choices(entry, "channels", SENDER_CHANNELS, field)
    statuses = _choices(entry, "statuses", SENDER_STATUSES, field)
    search = entry.get("search")
    if "search" in entry and not isinstance(search, str):
        _wrong(entry, "search", field, "text to look for in the address or display name")
    tags = None
    if "tags" in entry:
        tags = _tag_filter(entry["tags"], entry.value_marks["tags"], f"{field}.tags")
    dates: dict[str, Any] = {}
    for key in ("created_after", "created_before"):
        if key in entry:
            when = entry[key]
            if isinstance(when, bool) or not isinstance(when, (str, date, int, float)):
                _wrong(entry, key, field, "a date such as 2024-05-01 or 2024-05-01T12:00:00Z")
            dates[key] = when
    if dates:
        try:  # the very check select_senders makes, on an empty senders frame
            select_senders(senders_frame([]), **dates)
        except InvalidInputError as err:
            raise Problem(
                entry.value_marks[err.field], f"{field}.{err.field}", _after_field(err)
            ) from None
    return SenderSelector(
        channels=channels,
        statuses=statuses,
        tags=tags,
        search=search,
        field=field,
        where=_location(mark),
        locations={key: _location(entry.value_marks[key]) for key in entry},
        **dates,
    )


def _choices(
    entry: MarkedMap, key: str, allowed: tuple[str, ...], field: str
) -> tuple[str, ...] | None:
    if key not in entry:
        return None
    value, mark = entry[key], entry.value_marks[key]
    values = list(value) if isinstance(value, MarkedList) else [value]
    marks = value.item_marks if isinstance(value, MarkedList) else [mark]
    for item, item_mark in zip(values, marks, strict=True):
        if not isinstance(item, str) or item.upper() not in allowed:
            raise Problem(
                item_mark,
                f"{field}.{key}",
                f"{item!r} is not one of {', '.join(allowed)}",
                allowed,
            )
    return tuple(dict.fromkeys(v.upper() for v in values))


def _tags(value: Any, mark: Any, field: str) -> dict[str, str]:
    tags = mapping(value, mark, field, None)
    for key, tag in tags.items():
        if not isinstance(tag, str):
            raise Problem(
                tags.value_marks[key],
                f"{field}.{key}",
                f"{tag!r} is not text; quote it: {key}: '{tag}'"
                if _scalar(tag)
                else "expected text",
            )
        try:  # the API's rule for one pair, so the error points at the pair
            check_tags({key: tag}, field)
        except InvalidInputError as err:
            bad_key = not _tag_part_ok(key)
            raise Problem(
                tags.key_marks[key] if bad_key else tags.value_marks[key],
                f"{field}.{key}",
                f"{'the key' if bad_key else 'the value'} {_after_field(err)}",
                err.allowed,
            ) from None
    try:
        return check_tags(dict(tags), field)  # what only the whole set can break (how many)
    except InvalidInputError as err:
        raise Problem(tags.mark, field, _after_field(err), err.allowed) from None


def _tag_part_ok(key: Any) -> bool:
    try:
        check_tags({key: "x"})
    except InvalidInputError:
        return False
    return True


def _after_field(err: InvalidInputError) -> str:
    """The message of ``err`` without the field name it starts with (the file's path of the
    field replaces it)."""
    text = str(err)
    head, sep, rest = text.partition(": ")
    return rest if sep and " " not in head.strip("'[]") else text


def _tag_filter(value: Any, mark: Any, field: str) -> dict[str, tuple[str, ...]]:
    tags = mapping(value, mark, field, None)
    filters = {}
    for key, wanted in tags.items():
        values = list(wanted) if isinstance(wanted, MarkedList) else [wanted]
        if not isinstance(key, str) or not values or not all(isinstance(v, str) for v in values):
            raise Problem(
                tags.value_marks[key],
                f"{field}.{key}",
                f"expected a tag value or a list of them, as text (quote numbers), got {wanted!r}",
            )
        filters[key] = tuple(values)
    return filters


def _check_unique(specs: Sequence[PoolSpec]) -> None:
    """Two entries may not manage one pool: one id twice, or one name twice unless each of
    those entries names its own existing pool by id (the account may hold namesakes)."""
    seen_ids: dict[str, PoolSpec] = {}
    seen_names: dict[str, PoolSpec] = {}
    for spec in specs:
        if spec.id is not None:
            if spec.id in seen_ids:
                first = seen_ids[spec.id]
                raise _located_problem(
                    spec, "id", f"{spec.id} is already managed by {first.field} ({_at(first)})"
                )
            seen_ids[spec.id] = spec
        if spec.name is not None:
            first_named = seen_names.get(spec.name)
            if first_named is not None and (first_named.id is None or spec.id is None):
                raise _located_problem(
                    spec,
                    "name",
                    f"two pools named {spec.name!r} (the first at {_at(first_named)}); "
                    "give each pool its own name",
                )
            seen_names.setdefault(spec.name, spec)


def _located_problem(spec: PoolSpec, part: str, message: str) -> Problem:
    where = spec.locations.get(part) or spec.where
    mark = _Mark(where.line - 1, where.column - 1) if where else None
    return Problem(mark, f"{spec.field}.{part}", message)


@dataclass(frozen=True)
class _Mark:
    line: int
    column: int


def _at(spec: PoolSpec) -> str:
    where = spec.locations.get("name") or spec.where
    return f"line {where.line}" if where else spec.field


def _wrong(entry: MarkedMap, key: str, field: str, expected: str) -> NoReturn:
    raise Problem(
        entry.value_marks[key], f"{field}.{key}", f"expected {expected}, got {kind_of(entry[key])}"
    )


def _check_id(value: Any, kind: str, mark: Any, field: str) -> None:
    pattern = ID_PATTERNS[kind]
    if not (isinstance(value, str) and pattern.fullmatch(value)):
        raise Problem(
            mark,
            field,
            f"{value!r} is not a {kind} id ({ID_PREFIXES[kind]} followed by 26-35 "
            "lowercase base32 characters)",
            pattern.pattern,
        )


def _scalar(value: Any) -> bool:
    return isinstance(value, (int, float, bool, date))


def _location(mark: Any) -> Location:
    return Location(str(getattr(mark, "name", "") or "<pools>"), mark.line + 1, mark.column + 1)
