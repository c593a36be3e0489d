"""What every resource shares: the HTTP core and reading answers into models."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from commstoolkit.client._http import HttpCore
from commstoolkit.errors import UnexpectedResponseError

T = TypeVar("T")

# What a malformed answer raises inside a model's from_api.
PARSE_ERRORS = (KeyError, TypeError, ValueError, AttributeError)


def parse_payload(parse: Callable[[Any], T], data: Any, what: str, method: str, url: str) -> T:
    """``parse(data)``, or UnexpectedResponseError naming what could not be read."""
    try:
        return parse(data)
    except PARSE_ERRORS as exc:
        raise UnexpectedResponseError(
            f"unreadable {what} in the answer: {type(exc).__name__}: {exc}",
            method=method,
            url=url,
        ) from None


class Resource:
    """Base of ``client.<resource>``: sends through the shared ``HttpCore``."""

    def __init__(self, http: HttpCore) -> None:
        self._http = http

    def _call(
        self,
        method: str,
        path: str,
        parse: Callable[[Any], T],
        what: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        form: dict[str, Any] | None = None,
        idempotent: bool | None = None,
    ) -> T:
        data = self._http.request_json(
            method, path, params=params, json_body=json_body, form=form, idempotent=idempotent
        )
        return parse_payload(parse, data, what, method, f"{self._http.base_url}{path}")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._http.base_url}>"
