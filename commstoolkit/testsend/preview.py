"""Dry runs: which sender and channel each recipient would get (``POST /Senders/Resolve``).

A send resolves first too (a read), so a dry run and its send fail the same way: the API's
refusal of a recipient (context ``$.recipientAddresses[i]``) becomes an
``InvalidRecipientsError`` naming the number, and an unknown pool (Resolve answers 400, code
20404, at ``$.senderPoolId``) the ``NotFoundError`` of ``GET /SenderPools/{id}``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..client.concurrency import resolve_concurrency, run_concurrently
from ..errors import BadRequestError
from ..frames import MESSAGE_DTYPES
from ..models import Route
from .recipients import InvalidRecipientsError

if TYPE_CHECKING:
    from ..client import CommsClient

__all__ = ["RESOLVE_BATCH", "ROUTE_COLUMNS", "resolve_routes", "routes_frame", "unroutable"]

RESOLVE_BATCH = 100  # the API's limit of recipients per Resolve call

STRING = pd.StringDtype()
ROUTE_DTYPES: dict[str, Any] = {
    "to": STRING,
    "to_channel": MESSAGE_DTYPES["to_channel"],  # the channels typed as in the messages frame
    "rank": "Int64",
    "priority": "Int64",
    "sender_id": STRING,
    "sender_address": STRING,
    "display_name": STRING,
    "channel": MESSAGE_DTYPES["channel"],
}
ROUTE_COLUMNS = tuple(ROUTE_DTYPES)
_RECIPIENT_AT = re.compile(r"\$\.recipientAddresses\[(\d+)\]")


def resolve_routes(
    client: CommsClient,
    pool_id: str,
    recipients: Sequence[str],
    channel: str,
    channels: Sequence[str] | None,
    concurrency: int | None = None,
) -> pd.DataFrame:
    """The ranked routes of every recipient, asking Resolve 100 recipients at a time.

    The first batch goes alone (its answer tells the round trip); the others go side by
    side as the loaders' pages do (``concurrency``: None adapts — up to
    ``DEFAULT_CONCURRENCY`` over a network, one at a time in process or on loopback — and
    a number forces it), within the client's 429 throttle. Resolve is a read, so the
    batches are independent; their answers are taken in the recipients' order, and the
    first refused batch in that order raises, as one after the other would.
    """
    batches = [
        recipients[start : start + RESOLVE_BATCH]
        for start in range(0, len(recipients), RESOLVE_BATCH)
    ]
    ask = partial(_resolve_batch, client, pool_id, channel, channels)
    answers = [ask(batches[0])] if batches else []
    workers = resolve_concurrency(concurrency, client.sandbox is not None, client.round_trip())
    answers.extend(run_concurrently([partial(ask, batch) for batch in batches[1:]], workers))
    routes: dict[str, list[Route]] = defaultdict(list)
    for answer in answers:
        for route in answer:
            routes[route.to_address].append(route)
    return routes_frame(recipients, channel, routes)


def _resolve_batch(
    client: CommsClient,
    pool_id: str,
    channel: str,
    channels: Sequence[str] | None,
    batch: Sequence[str],
) -> list[Route]:
    """One Resolve call; a refusal raised as the error a send would give."""
    try:
        return client.senders.resolve(
            [(number, channel) for number in batch], sender_pool_id=pool_id, channels=channels
        )
    except BadRequestError as err:
        _raise_typed(client, pool_id, batch, err)
        raise


def unroutable(routes: pd.DataFrame) -> list[str]:
    """The recipients of a routes frame that no sender of the pool can reach, in order."""
    return list(routes.loc[routes["sender_id"].isna(), "to"])


def _raise_typed(
    client: CommsClient, pool_id: str, batch: Sequence[str], err: BadRequestError
) -> None:
    """Raise the error a send would give for a refused Resolve; return if there is none."""
    invalid = []
    for detail in err.errors:
        match = _RECIPIENT_AT.match(detail.context or "")
        index = int(match.group(1)) if match else -1
        if 0 <= index < len(batch):
            code = f", code {detail.code}" if detail.code is not None else ""
            invalid.append((batch[index], f"{detail.message.rstrip('.')}{code}"))
    if invalid:
        listed = "; ".join(f"{number} ({reason})" for number, reason in invalid)
        one = len(invalid) == 1
        raise InvalidRecipientsError(
            f"to: {len(invalid):,} recipient{'' if one else 's'} refused by the API, nothing "
            f"was sent: {listed}",
            invalid=invalid,
        ) from err
    if any(detail.context == "$.senderPoolId" for detail in err.errors):
        client.sender_pools.get(pool_id)  # a missing pool: the NotFoundError a send gives


def routes_frame(
    recipients: Sequence[str], channel: str, routes: dict[str, list[Route]]
) -> pd.DataFrame:
    """One row per (recipient, route), best first (``rank`` 1 is what a send would use).

    A recipient no sender of the pool can reach keeps one row with NA sender and rank:
    it would be unaddressable. Columns: ``to, to_channel, rank, priority, sender_id,
    sender_address, display_name, channel``.
    """
    rows: dict[str, list[Any]] = {column: [] for column in ROUTE_COLUMNS}
    for number in recipients:
        ranked = sorted(routes.get(number, ()), key=lambda route: route.priority)
        for rank, route in enumerate(ranked or [None], start=1):
            rows["to"].append(number)
            rows["to_channel"].append(channel)
            rows["rank"].append(rank if route else None)
            rows["priority"].append(route.priority if route else None)
            rows["sender_id"].append(route.sender_id if route else None)
            rows["sender_address"].append(route.sender_address if route else None)
            rows["display_name"].append(route.display_name if route else None)
            rows["channel"].append(route.sender_channel if route else None)
    return pd.DataFrame({name: pd.Series(rows[name], dtype=ROUTE_DTYPES[name]) for name in rows})
