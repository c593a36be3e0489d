"""Operations of either kind: ``client.sender_pools.operations`` and ``client.messages.operations``.

The one place that knows where each kind of operation lives; ``client.wait`` polls through it
(the 202's ``operationLocation`` is not trusted: the spec's add-members example points at a
path it never defines).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from commstoolkit.client._http import HttpCore
from commstoolkit.client._resource import Resource
from commstoolkit.client.bodies import query_params
from commstoolkit.client.pagination import Pager
from commstoolkit.client.senders import DateLike
from commstoolkit.models import MESSAGE_OPERATION_STATUSES, POOL_OPERATION_STATUSES, Operation
from commstoolkit.rules import (
    check_date_range,
    check_optional_choice,
    check_page_size,
    operation_id_of,
)

__all__ = ["OPERATION_COLLECTIONS", "Operations"]

# kind -> (collection path, the statuses it can be listed by)
OPERATION_COLLECTIONS = {
    "sender_pool": ("/SenderPools/Operations", POOL_OPERATION_STATUSES),
    "message": ("/Messages/Operations", MESSAGE_OPERATION_STATUSES),
}


class Operations(Resource):
    """The operations of one kind (``"sender_pool"`` or ``"message"``): ``list``, ``get``."""

    def __init__(self, http: HttpCore, kind: str) -> None:
        super().__init__(http)
        self.kind = kind
        self._path, self._statuses = OPERATION_COLLECTIONS[kind]

    def list(
        self,
        status: str | None = None,
        start_date: DateLike = None,
        end_date: DateLike = None,
        page_size: int = 1000,
    ) -> Pager[Operation]:
        """Every operation of this kind, optionally by status and creation window."""
        start_at, end_at = check_date_range(start_date, end_date)
        params = query_params(
            status=check_optional_choice(status, self._statuses, "status"),
            start_date=start_at,
            end_date=end_at,
        )
        return Pager(
            self._http,
            "GET",
            self._path,
            items="operations",
            parse=self._parse,
            page_size=check_page_size(page_size),
            params=params,
        )

    def get(self, id: Operation | str) -> Operation:
        """The current state of an operation (an ``Operation`` or its id): status, stats."""
        operation_id = operation_id_of(id, "id")
        return self._call("GET", f"{self._path}/{operation_id}", self._parse, "operation")

    def _parse(self, data: Mapping[str, Any]) -> Operation:
        return Operation.from_api(data, self.kind)
