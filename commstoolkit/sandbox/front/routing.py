"""Route templates, matching, and the per-request context handlers receive."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ..events.service import Events
from ..exceptions import invalid
from ..simulation.backend import Backend
from ..simulation.clock import Clock
from ..state.store import Changes, Store
from . import pagination
from . import validation as check
from .faults import Faults
from .wire import Request, Response, json_response


class Account(Protocol):
    """What the front needs of an emulated account (``commstoolkit.sandbox.Sandbox`` is one):
    its parts, its credentials, and the control operations of ``/_sandbox/``."""

    account_sid: str
    db_path: Path | str
    store: Store
    clock: Clock
    backend: Backend
    faults: Faults
    events: Events

    def credentials(self) -> tuple[str, str]: ...

    def reset(self, seed: int | None = None, senders: int | None = None) -> Changes: ...

    def state(self) -> dict[str, object]: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Route:
    """``METHOD /Template/{param}`` and its handler; ``name`` is what fault rules match."""

    method: str
    template: str
    handler: Callable[[Call], Response]
    pattern: re.Pattern[str] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.template)
        object.__setattr__(self, "pattern", re.compile(regex + r"\Z"))

    @property
    def name(self) -> str:
        return f"{self.method} {self.template}"


def match(routes: list[Route], method: str, path: str) -> tuple[Route | None, dict, list[str]]:
    """(route, path params, allowed methods). The first template matching the path decides;
    a None route with methods means 405, with none 404."""
    for route in routes:
        found = route.pattern.match(path)
        if found:
            same = [r for r in routes if r.template == route.template]
            allowed = [r.method for r in same]
            chosen = next((r for r in same if r.method == method), None)
            return chosen, found.groupdict(), allowed
    return None, {}, []


@dataclass
class Call:
    """What a handler needs: the sandbox, the request, path params, the API version."""

    sandbox: Account
    request: Request
    route: Route
    params: dict[str, str]
    version: str | None = None

    @property
    def backend(self) -> Backend:
        return self.sandbox.backend

    @property
    def base(self) -> str:
        """``scheme://host/version`` of this request, for Location URLs."""
        return f"{self.request.scheme}://{self.request.host}/{self.version}"

    def query(self, name: str) -> str | None:
        """One query parameter; 400 when given more than once."""
        values = [v for k, v in self.request.query if k == name]
        if len(values) > 1:
            raise invalid(f"{name} may be given only once", name)
        return values[0] if values else None

    def path_id(self, name: str, prefix: str) -> str:
        """A path parameter that must be a well-formed id."""
        return check.identifier(self.params[name], prefix, name)

    def dates(self) -> dict[str, float | None]:
        """The ``startDate``/``endDate`` query parameters as epoch seconds (``start``, ``end``)."""
        first, last = self.query("startDate"), self.query("endDate")
        start = check.optional(check.date, first, "startDate")
        end = check.optional(check.date, last, "endDate")
        if start is not None and end is not None and end <= start:
            raise invalid("endDate must be after startDate", "endDate")
        return {"start": start, "end": end}

    def listing(
        self,
        key: str,
        fetch: Callable[..., tuple[list[dict], bool]],
        filters: Mapping[str, object],
        body: dict[str, object] | None = None,
    ) -> Response:
        """A keyset-paginated list answer ``{key: [...], pagination}``.

        ``pageToken``/``pageSize`` come from the query, or from ``body`` when given (Search).
        """
        token: object
        size: object
        if body is None:
            token, size, where = self.query("pageToken"), self.query("pageSize"), ""
        else:
            token, size, where = body.get("pageToken"), body.get("pageSize"), "$."
        if token is not None:
            token = check.string(token, f"{where}pageToken")
        limit = pagination.DEFAULT_PAGE_SIZE
        if size is not None:
            limit = check.page_size(size, f"{where}pageSize", text=body is None)
        scope = pagination.scope(f"{self.route.name} {self.params}", filters)
        after = pagination.decode(token, scope, f"{where}pageToken")
        items, more = fetch(**filters, after=after, limit=limit)
        return json_response(200, pagination.page(key, items, after, more, scope))
