"""Sandbox accounts with traffic: a few days of sends, for the loaders and the export; two
days of seeded history with its events, for the event columns (in pandas, DuckDB, Spark)."""

from __future__ import annotations

import json

import pytest

import commstoolkit as ct
from commstoolkit.sandbox import Sandbox
from tests.instant import instant_client

NUMBERS = ["+14155550100", "+442071838750", "+4915123456789", "+16135550123", "+33612345678"]
DAYS = 3
RCS_OFF = "+15005550007"  # the RCS attempt fails (61337), SMS delivers


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


@pytest.fixture(scope="session")
def event_history(tmp_path_factory):
    """(traffic, members, the events frame, the raw events, the RCS sender whose every
    attempt fell back, the event files' folder, the window exported as a Parquet dataset):
    two days of seeded history plus a send whose RCS attempts all fail."""
    box = Sandbox(":memory:", seed=3, speed=0, traffic_days=2, daily_messages=150)
    box.clock.instant = True
    client = instant_client(box)
    senders = ct.load_senders(client, status="ACTIVATED")
    # An RCS sender the history never used: in no seeded pool, and not sent from directly.
    used = set(ct.load_pool_members(client)["sender_id"])
    used |= set(ct.load_traffic(client, "2025-05-31", progress=False)["sender_id"].dropna())
    rcs = senders.loc[
        (senders["channel"] == "RCS") & ~senders["sender_id"].isin(used), "sender_id"
    ].iloc[0]
    sms = senders.loc[senders["channel"] == "SMS", "sender_id"].iloc[-1]
    with pytest.warns(ct.PoolPlanWarning, match="no activated sender for WHATSAPP"):
        pool = ct.create_pool(client, "falls back", [rcs, sms])
    ct.test_send(client, pool, [RCS_OFF], "fallback")
    folder = tmp_path_factory.mktemp("stream")
    box.events.write_history(folder)
    raw = [json.loads(line) for path in sorted(folder.glob("*.jsonl"))
           for line in path.read_text().splitlines()]  # fmt: skip
    traffic = ct.load_traffic(client, "2025-05-31", progress=False)
    members = ct.load_pool_members(client)
    exported = tmp_path_factory.mktemp("dataset") / "traffic"
    ct.export_traffic(client, *traffic.attrs["window"], exported, progress=False)
    yield traffic, members, ct.load_events(folder), raw, rcs, folder, ct.open_traffic(exported)
    box.close()
