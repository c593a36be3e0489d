"""``Pager``: iterate every item of a list endpoint; callers never see a cursor.

The API answers ``{"<items>": [...], "pagination": {"next": ..., "self": ...}}``. ``next``
is an opaque token (sent back as ``pageToken``) or, from some servers, a full URL to GET;
``null`` ends the listing. ``POST /Senders/Search`` takes its paging in the body instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar

from commstoolkit.client._http import HttpCore
from commstoolkit.client._resource import parse_payload
from commstoolkit.client.bodies import paging
from commstoolkit.errors import UnexpectedResponseError
from commstoolkit.models import read_page

__all__ = ["Pager"]

T = TypeVar("T")
R = TypeVar("R")


class Pager(Generic[T]):
    """All items of a listing, fetched page by page as you iterate.

    ``for item in pager`` yields every item; ``pager.pages()`` yields one list per HTTP page;
    ``pager.read_pages(read)`` yields each page read at once by ``read``.
    Nothing is requested until iteration starts, and each iteration starts from the first page.
    """

    def __init__(
        self,
        http: HttpCore,
        method: str,
        path: str,
        *,
        items: str,
        parse: Callable[[Mapping[str, Any]], T],
        page_size: int,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> None:
        self._http = http
        self._method = method
        self._path = path
        self._items = items
        self._parse = parse
        self._page_size = page_size
        self._params = dict(params or {})
        self._body = None if body is None else dict(body)

    def __iter__(self) -> Iterator[T]:
        for page in self.pages():
            yield from page

    def pages(self) -> Iterator[list[T]]:
        """Yield the items one HTTP page at a time (a list per page)."""
        parse = self._parse
        return self.read_pages(lambda objects: [parse(data) for data in objects])

    def read_pages(self, read: Callable[[list[Any]], R]) -> Iterator[R]:
        """Yield ``read(objects)`` for each HTTP page, ``objects`` being its items as decoded
        JSON: a whole-page reader (the frames' ``SenderColumns.add``) need not build an
        object per item. What ``read`` cannot read is an ``UnexpectedResponseError``, as in
        ``pages()``."""
        return self._walk(read, None)

    def first_page(self, read: Callable[[list[Any]], R]) -> tuple[R, str | None]:
        """The first page read by ``read``, and the cursor of the next (None: the last)."""
        return self._fetch(None, read)

    def read_pages_from(self, read: Callable[[list[Any]], R], cursor: str) -> Iterator[R]:
        """As ``read_pages``, from the page ``cursor`` points to (a ``first_page`` answer's)."""
        return self._walk(read, cursor)

    def _walk(self, read: Callable[[list[Any]], R], cursor: str | None) -> Iterator[R]:
        seen: set[str] = set() if cursor is None else {cursor}
        while True:
            found, next_cursor = self._fetch(cursor, read)
            yield found
            if next_cursor is None:
                return
            if next_cursor in seen:
                raise self._unexpected(
                    "the server returned a pagination cursor it had already returned; "
                    "stopping to avoid an endless listing"
                )
            seen.add(next_cursor)
            cursor = next_cursor

    def _fetch(self, cursor: str | None, read: Callable[[list[Any]], R]) -> tuple[R, str | None]:
        if cursor is not None and _is_url(cursor):
            data = self._fetch_url(cursor)
        elif self._body is not None:
            # A listing only reads, so a POST that carries its paging is safe to repeat.
            body = {**self._body, **paging(self._page_size, cursor)}
            data = self._http.request_json(
                self._method, self._path, json_body=body, idempotent=True
            )
        else:
            params = {**self._params, **paging(self._page_size, cursor)}
            data = self._http.request_json(self._method, self._path, params=params)
        return parse_payload(
            lambda d: read_page(d, self._items, read),
            data,
            f"page of {self._items}",
            self._method,
            f"{self._http.base_url}{self._path}",
        )

    def _fetch_url(self, url: str) -> Any:
        if not self._http.same_origin(url):
            raise self._unexpected(
                "pagination.next points to another host; not following it with your credentials"
            )
        if self._body is not None:
            raise self._unexpected(
                "pagination.next is a URL, but this listing pages in the request body"
            )
        return self._http.request_json("GET", url)

    def _unexpected(self, message: str) -> UnexpectedResponseError:
        url = f"{self._http.base_url}{self._path}"
        return UnexpectedResponseError(message, method=self._method, url=url)

    def __repr__(self) -> str:
        return f"Pager({self._method} {self._path}, items={self._items!r})"


def _is_url(cursor: str) -> bool:
    return cursor.startswith(("https://", "http://"))
