"""The embedded sandbox: a stateful emulator of the Communications API (design.md §5).

    from commstoolkit.sandbox import Sandbox
    sandbox = Sandbox(":memory:", speed=0)          # or a file shared between processes
    client = httpx.Client(transport=sandbox.transport(), base_url=sandbox.base_url,
                          auth=sandbox.credentials())
    client.get("/Senders", params={"status": "ACTIVATED"})
    sandbox.clock.advance(5)                         # running operations complete
    sandbox.faults.add("POST /SenderPools", status=503, times=1)

Messaging: ``POST /Messages`` routes every recipient over the pool's senders (RCS for capable
handsets, else SMS; RCS failures fall back to SMS; WhatsApp needs a WhatsApp sender), with
hidden per-sender delivery quality, all deterministic for the seed; statuses follow the clock
(``simulation.delivery`` and ``simulation.messages`` explain how). Magic recipients
(``simulation.delivery.MAGIC_TABLE``):
+15005550001 invalid (400, 21614), ...0002 unaddressable, ...0003 always fails, ...0004 always
undelivered, ...0005 never RCS-capable, ...0006 always RCS-capable (delivered, read), ...0007
RCS turned off (RCS fails 61337, SMS delivers).

History: ``Sandbox(..., traffic_days=30, daily_messages=2_000)`` seeds the account's production
traffic of the days before the clock's start, with planted faults (``simulation.history``,
``Sandbox.history_faults()``). Every answer carries a ``Date`` header with the sandbox clock's
time.

Defaults: credentials ``DEFAULT_ACCOUNT_SID`` / ``DEFAULT_AUTH_TOKEN``; account file
``default_db_path()``; seed 7 with 300 senders; the clock starts at 2025-06-02T09:00:00Z on
every (re)seed and runs in real time. Over HTTP: ``commstoolkit.sandbox.server``.

A seed never silently wipes the user's work: opening a file that holds pools made or changed,
or messages sent, with another seed or size raises ``ReseedRefusedError`` unless
``reset=True``; a ``db`` that cannot hold an account raises ``AccountFileError``. (``connect()``
turns these into the toolkit's ``SandboxStateError`` / ``ConfigurationError``.)

It speaks the wire format itself and imports neither the client nor the models. Its parts,
each importing only those below it: ``server`` (serve an account over HTTP) > ``core`` (the
``Sandbox``) > ``front`` (HTTP and in-process: dispatch, routes, request checks, faults) >
``events`` (Event Streams under ``/events/v1``: sinks, subscriptions, the sends' CloudEvents
and their delivery to webhooks) > ``simulation`` (pools, operations, messages, delivery, the
clock) > ``state`` (SQLite, seed, ids) > ``exceptions`` (the API's error envelope) |
``contract`` (the official schemas).
"""

from __future__ import annotations

from .core import Sandbox
from .front.dispatch import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
from .state.store import AccountFileError, Changes, ReseedRefusedError, default_db_path

__all__ = [
    "DEFAULT_ACCOUNT_SID",
    "DEFAULT_AUTH_TOKEN",
    "AccountFileError",
    "Changes",
    "ReseedRefusedError",
    "Sandbox",
    "default_db_path",
]
