"""HTTP client for the Twilio Communications API (Senders, SenderPools, Messages, Operations).

::

    from commstoolkit.client import CommsClient
    with CommsClient(account_sid=..., auth_token=...) as client:
        for sender in client.senders.list(channel="SMS"):
            ...
        op = client.wait(client.sender_pools.create(name="Support", sender_ids=ids))
        pool = client.sender_pools.find_created(op)
        sent = client.wait(client.messages.send(["+14155550100"], text="Hi",
                                                sender_pool_id=pool.id))
"""

from __future__ import annotations

from commstoolkit.client._client import DEFAULT_BASE_URL, PREVIEW_BASE_URL, CommsClient
from commstoolkit.client.pagination import Pager
from commstoolkit.client.retry import RetryDecision, RetryPolicy

__all__ = [
    "DEFAULT_BASE_URL",
    "PREVIEW_BASE_URL",
    "CommsClient",
    "Pager",
    "RetryDecision",
    "RetryPolicy",
]
