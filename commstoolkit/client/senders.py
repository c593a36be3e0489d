"""``client.senders``: list, fetch, search and resolve senders (all reads)."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from commstoolkit.client._resource import Resource
from commstoolkit.client.bodies import ResolveRequest, SenderSearch, query_params
from commstoolkit.client.pagination import Pager
from commstoolkit.models import SENDER_CHANNELS, SENDER_STATUSES, Route, Sender
from commstoolkit.rules import (
    check_choice,
    check_choices,
    check_date_range,
    check_id,
    check_optional_choice,
    check_optional_id,
    check_page_size,
    check_priority,
    check_recipients,
    check_text,
)

__all__ = ["Senders", "sender_filters"]

# int and float: Unix seconds (rules.unix_seconds).
DateLike = date | str | int | float | None


def sender_filters(
    channel: str | None, status: str | None, start_date: DateLike, end_date: DateLike
) -> dict[str, Any]:
    """Checked query parameters shared by ``GET /Senders`` and a pool's member listing."""
    start_at, end_at = check_date_range(start_date, end_date)
    return query_params(
        channel=check_optional_choice(channel, SENDER_CHANNELS, "channel"),
        status=check_optional_choice(status, SENDER_STATUSES, "status"),
        start_date=start_at,
        end_date=end_at,
    )


class Senders(Resource):
    """The account's senders (read-only: Twilio creates them from your inventory)."""

    def list(
        self,
        channel: str | None = None,
        status: str | None = None,
        start_date: DateLike = None,
        end_date: DateLike = None,
        page_size: int = 1000,
    ) -> Pager[Sender]:
        """Every sender, optionally filtered by channel, status and creation window.

        ``channel``: one of SMS, RCS, EMAIL, WHATSAPP, PUSH; ``status``: ACTIVATED or
        DEACTIVATED (any letter case); dates are aware datetimes, dates, RFC 3339 text or
        Unix seconds (an int or a float). Iterate the result for ``Sender`` objects, or call
        ``.pages()``.
        """
        return Pager(
            self._http,
            "GET",
            "/Senders",
            items="senders",
            parse=Sender.from_api,
            page_size=check_page_size(page_size),
            params=sender_filters(channel, status, start_date, end_date),
        )

    def get(self, id: str) -> Sender:
        """One sender by id; ``NotFoundError`` if it does not exist."""
        sender_id = check_id(id, "sender", "id")
        return self._call("GET", f"/Senders/{sender_id}", Sender.from_api, "sender")

    def search(
        self, address: str, channel: str, status: str | None = None, page_size: int = 1000
    ) -> Pager[Sender]:
        """Senders with this exact address on this channel (``POST /Senders/Search``)."""
        search = SenderSearch(
            address=check_text(address, "address"),
            channel=check_choice(channel, SENDER_CHANNELS, "channel"),
            status=check_optional_choice(status, SENDER_STATUSES, "status"),
        )
        return Pager(
            self._http,
            "POST",
            "/Senders/Search",
            items="senders",
            parse=Sender.from_api,
            page_size=check_page_size(page_size),
            body=search.to_api(),
        )

    def resolve(
        self,
        recipients: Any,
        sender_pool_id: str | None = None,
        channels: Iterable[str] | None = None,
        *,
        priority: Mapping[str, int] | None = None,
    ) -> builtins.list[Route]:  # builtins: the method list() shadows the type here
        """Which senders would reach these recipients, best first; nothing is sent.

        ``recipients``: up to 100 addresses (text: "@" means EMAIL, else PHONE), or
        ``(address, channel)`` pairs / ``Recipient`` objects with channel EMAIL, PHONE,
        WHATSAPP or PUSH. ``sender_pool_id`` limits the answer to a pool's senders;
        ``channels`` to these sender channels; ``priority`` maps a channel to its rank
        (lower wins). Returns ``Route`` objects (the API ranks the top 10).
        """
        request = ResolveRequest(
            recipients=check_recipients(recipients),
            sender_pool_id=check_optional_id(sender_pool_id, "sender pool", "sender_pool_id"),
            channels=None
            if channels is None
            else check_choices(channels, SENDER_CHANNELS, "channels"),
            priority=None if priority is None else check_priority(priority, SENDER_CHANNELS),
        )
        return self._call(
            "POST",
            "/Senders/Resolve",
            lambda data: [Route.from_api(item) for item in data["results"]],
            "resolve results",
            json_body=request.to_api(),
            idempotent=True,
        )
