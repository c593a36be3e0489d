"""Route templates, matching, and the per-request context handlers receive."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import pagination
from . import validation as check
from .exceptions import invalid
from .wire import Request, Response, json_response

if TYPE_CHECKING:
    from .backend import Backend
    from .core import Sandbox


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

    sandbox: Sandbox
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

    def dates(self, start: str = "startDate", end: str = "endDate") -> dict[str, float | None]:
        """``startDate``/``endDate`` query parameters as epoch seconds."""
        first, last = self.query(start), self.query(end)
        window = {
            "start": None if first is None else check.date(first, start),
            "end": None if last is None else check.date(last, end),
        }
        if first is not None and last is not None and window["end"] <= window["start"]:  # type: ignore[operator]
            raise invalid(f"{end} must be after {start}", end)
        return window

    def listing(
        self,
        key: str,
        fetch: Callable[..., tuple[list[dict], bool]],
        filters: dict,
        token: object = None,
        size: object = None,
        where: str = "",
    ) -> Response:
        """A keyset-paginated list answer (paging from the query, or from the body if given)."""
        if not where:
            token, size = self.query("pageToken"), self.query("pageSize")
        if token is not None:
            token = check.string(token, f"{where}pageToken")
        limit = (
            pagination.DEFAULT_PAGE_SIZE
            if size is None
            else check.page_size(size, f"{where}pageSize", text=not where)
        )
        scope = pagination.scope(f"{self.route.name} {self.params}", filters)
        after = pagination.decode(token, scope, f"{where}pageToken")  # type: ignore[arg-type]
        items, more = fetch(**filters, after=after, limit=limit)
        return json_response(200, pagination.page(key, items, after, more, scope))
