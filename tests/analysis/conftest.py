"""A sandbox account with a few days of traffic, for the loaders and the export."""

from __future__ import annotations

import pytest

from commstoolkit.sandbox import Sandbox
from tests.instant import instant_client

NUMBERS = ["+14155550100", "+442071838750", "+4915123456789", "+16135550123", "+33612345678"]
DAYS = 3


@pytest.fixture(scope="session")
def account(tmp_path_factory):
    """Two pools' traffic over three sandbox days, plus a send from one sender directly."""
    box = Sandbox(tmp_path_factory.mktemp("traffic") / "s.sqlite3", seed=5, senders=60)
    box.clock.instant = True
    client = instant_client(box)
    senders = [s for s in client.senders.list(status="ACTIVATED", channel="SMS")][:6]
    pools = {}
    for name, members in (("East", senders[:3]), ("West", senders[3:5])):
        op = client.wait(client.sender_pools.create(name=name, sender_ids=[s.id for s in members]))
        pools[name] = client.sender_pools.find_created(op).id
    start = box.clock.now().replace(microsecond=0)  # the API writes whole seconds
    for day in range(DAYS):
        for name, pool_id in pools.items():
            client.wait(
                client.messages.send(NUMBERS, text=f"{name} {day}", sender_pool_id=pool_id),
                kind="message",
            )
        client.wait(client.messages.send(NUMBERS[:2], text="direct", sender_id=senders[5].id))
        box.clock.advance(86400)
    end = box.clock.now().replace(microsecond=0)
    yield client, pools, start, end
    box.close()
