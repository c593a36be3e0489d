"""Guarded test sends through a sender pool: check, send once, track, chart (design.md §6).

::

    import commstoolkit as ct
    run = ct.test_send(client, pool, ["+14155550100", "+14155550101"], "Hello from the pool")
    run.messages        # one row per recipient: sender, channel, fallback, status, latency
    run.summary()       # by channel, by sender, by status; delivery and fallback rates
    ct.TestSend.resume(client, "send.jsonl")   # after a crash: never sends anyone twice

Modules, top down (each imports only those below it; ``.importlinter`` keeps the order):
``api`` (``test_send``), ``result`` (``TestSend``, its resume, sending and tracking a run),
then ``sending`` (chunks, exactly-once), ``preview`` (dry runs), ``guards`` (live-mode
allow-list, confirm, cap), ``summary`` (``SendSummary``), then ``journal`` (JSON-lines log
and its replay), ``recipients`` (E.164 normalisation), ``inputs`` (argument checks).
"""

from __future__ import annotations

from .api import test_send
from .guards import ALLOW_ENV, CONFIRM_ABOVE, SendRefusedError
from .journal import Journal, default_journal_dir
from .recipients import DuplicateRecipientWarning, InvalidRecipientsError
from .result import SendIncompleteError, TestSend
from .sending import CHUNK_SIZE, CHUNK_TAG
from .summary import SendSummary

__all__ = [
    "ALLOW_ENV",
    "CHUNK_SIZE",
    "CHUNK_TAG",
    "CONFIRM_ABOVE",
    "DuplicateRecipientWarning",
    "InvalidRecipientsError",
    "Journal",
    "SendIncompleteError",
    "SendRefusedError",
    "SendSummary",
    "TestSend",
    "default_journal_dir",
    "test_send",
]
