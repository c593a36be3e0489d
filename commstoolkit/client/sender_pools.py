"""``client.sender_pools``: pools, their members (``.members``) and operations (``.operations``).

Every write is asynchronous: create and add-members return an ``Operation`` to wait for
(``client.wait(op)``); update, delete and remove-member return ``Accepted``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from commstoolkit.client._http import HttpCore
from commstoolkit.client._resource import Resource
from commstoolkit.client.bodies import SenderPoolCreate, SenderPoolUpdate, member_refs, query_params
from commstoolkit.client.operations import Operations
from commstoolkit.client.pagination import Pager
from commstoolkit.client.senders import DateLike, sender_filters
from commstoolkit.errors import InvalidInputError, OperationError
from commstoolkit.models import Accepted, Operation, Sender, SenderPool
from commstoolkit.rules import (
    check_date_range,
    check_id,
    check_ids,
    check_optional_id,
    check_page_size,
    check_tags,
    check_text,
    operation_id_of,
)

__all__ = ["PoolMembers", "SenderPools"]

KIND = "sender_pool"
MEMBERS_MAX = 10_000


def _accepted_operation(data: Mapping) -> Operation:
    return Operation.from_accepted(data, KIND)


class SenderPools(Resource):
    """Sender pools: named groups of senders; a sender may sit in many pools."""

    def __init__(self, http: HttpCore) -> None:
        super().__init__(http)
        self.members = PoolMembers(http)
        self.operations = Operations(http, KIND)

    def create(
        self,
        name: str | None = None,
        sender_ids: Iterable[str] = (),
        tags: Mapping[str, str] | None = None,
    ) -> Operation:
        """Start creating a pool (up to 10,000 initial senders); returns its operation.

        The pool id is not known until the operation runs: ``client.wait(op)`` then
        ``client.sender_pools.find_created(op)``.
        """
        body = SenderPoolCreate(
            name=None if name is None else check_text(name, "name"),
            sender_ids=check_ids(
                sender_ids, "sender", "sender_ids", min_items=0, max_items=MEMBERS_MAX
            ),
            tags=None if tags is None else check_tags(tags),
        )
        return self._call(
            "POST", "/SenderPools", _accepted_operation, "operation", json_body=body.to_api()
        )

    def list(
        self,
        start_date: DateLike = None,
        end_date: DateLike = None,
        operation_id: str | None = None,
        page_size: int = 1000,
    ) -> Pager[SenderPool]:
        """Every pool, optionally by creation window, or the one a create operation made."""
        start_at, end_at = check_date_range(start_date, end_date)
        params = query_params(
            start_date=start_at,
            end_date=end_at,
            operation_id=check_optional_id(operation_id, "operation", "operation_id"),
        )
        return Pager(
            self._http,
            "GET",
            "/SenderPools",
            items="sender_pools",
            parse=SenderPool.from_api,
            page_size=check_page_size(page_size),
            params=params,
        )

    def get(self, id: str) -> SenderPool:
        """One pool by id; ``NotFoundError`` if it does not exist."""
        pool_id = check_id(id, "sender pool", "id")
        return self._call("GET", f"/SenderPools/{pool_id}", SenderPool.from_api, "sender pool")

    def update(
        self, id: str, name: str | None = None, tags: Mapping[str, str] | None = None
    ) -> Accepted:
        """Rename a pool and/or replace its whole tag map (``tags={}`` clears them)."""
        pool_id = check_id(id, "sender pool", "id")
        if name is None and tags is None:
            raise InvalidInputError(
                "update needs name or tags (or both)", field="name", allowed=("name", "tags")
            )
        body = SenderPoolUpdate(
            name=None if name is None else check_text(name, "name"),
            tags=None if tags is None else check_tags(tags),
        )
        return self._call(
            "PATCH",
            f"/SenderPools/{pool_id}",
            Accepted.from_api,
            "acceptance",
            json_body=body.to_api(),
        )

    def delete(self, id: str) -> Accepted:
        """Delete a pool and its memberships (the senders themselves stay)."""
        pool_id = check_id(id, "sender pool", "id")
        return self._call("DELETE", f"/SenderPools/{pool_id}", Accepted.from_api, "acceptance")

    def find_created(self, operation: Operation | str) -> SenderPool:
        """The pool a create operation made (``GET /SenderPools?operationId=``).

        Raises ``OperationError`` when no pool is found yet (wait for the operation first).
        """
        operation_id = operation_id_of(operation)
        for pool in self.list(operation_id=operation_id, page_size=1):
            return pool
        raise OperationError(
            f"no sender pool found for operation {operation_id}; if it is still running, "
            "call client.wait(operation) first",
            operation=operation if isinstance(operation, Operation) else None,
        )


class PoolMembers(Resource):
    """The senders of a pool: ``client.sender_pools.members``."""

    def list(
        self,
        pool_id: str,
        channel: str | None = None,
        status: str | None = None,
        start_date: DateLike = None,
        end_date: DateLike = None,
        page_size: int = 1000,
    ) -> Pager[Sender]:
        """Every sender in the pool, with the same filters as ``client.senders.list``."""
        pool_id = check_id(pool_id, "sender pool", "pool_id")
        return Pager(
            self._http,
            "GET",
            f"/SenderPools/{pool_id}/Senders",
            items="senders",
            parse=Sender.from_api,
            page_size=check_page_size(page_size),
            params=sender_filters(channel, status, start_date, end_date),
        )

    def add(self, pool_id: str, sender_ids: Iterable[str]) -> Operation:
        """Start adding 1-10,000 senders to the pool; returns the operation to wait for.

        Adding a sender already in the pool is harmless.
        """
        pool_id = check_id(pool_id, "sender pool", "pool_id")
        ids = check_ids(sender_ids, "sender", "sender_ids", min_items=1, max_items=MEMBERS_MAX)
        return self._call(
            "POST",
            f"/SenderPools/{pool_id}/Senders",
            _accepted_operation,
            "operation",
            json_body=member_refs(ids),
        )

    def remove(self, pool_id: str, sender_id: str) -> Accepted:
        """Remove one sender from the pool (the API removes one per call)."""
        pool_id = check_id(pool_id, "sender pool", "pool_id")
        sender_id = check_id(sender_id, "sender", "sender_id")
        return self._call(
            "DELETE", f"/SenderPools/{pool_id}/Senders/{sender_id}", Accepted.from_api, "acceptance"
        )
