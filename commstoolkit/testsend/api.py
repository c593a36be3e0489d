"""``test_send``: check everything, journal the plan, send, track (``TestSend.resume``, in
``result``, finishes an interrupted one)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ..client.concurrency import check_concurrency
from ..events import EventReceiver
from ..models import MESSAGE_ADDRESS_CHANNELS, SenderPool
from ..rules import TEXT_MAX as TEXT_MAX  # the widgets' character counter
from ..rules import check_choice
from . import sending
from .guards import check_guards, check_routable
from .inputs import (
    check_events,
    check_flag,
    check_journal,
    check_progress,
    check_timeout,
    checked_channels,
    checked_pool_id,
    checked_text,
)
from .journal import Journal, default_journal_dir
from .preview import resolve_routes, unroutable
from .recipients import normalise_numbers
from .result import TestSend, send_and_track

if TYPE_CHECKING:
    from ..client import CommsClient

__all__ = ["test_send"]


def test_send(
    client: CommsClient,
    pool: SenderPool | str,
    to: str | Iterable[str],
    text: str,
    channel: str = "PHONE",
    channels: Iterable[str] | None = None,
    *,
    dry_run: bool = False,
    confirm: bool = False,
    max_recipients: int | None = None,
    allow: str | Iterable[str] | None = None,
    allow_unroutable: bool = False,
    journal: str | os.PathLike[str] | None = None,
    wait: bool = True,
    timeout: float = 300.0,
    progress: bool | None = None,
    events: EventReceiver | None = None,
    concurrency: int | None = None,
) -> TestSend:
    """Send ``text`` to each recipient through ``pool``, once, and track it to the end.

    ``to``: phone numbers with their country code (a list, or text separated by commas,
    semicolons or line breaks), normalised to E.164; every invalid number is listed in one
    ``InvalidRecipientsError`` and duplicates are dropped with a warning, before anything
    is sent. ``channel``: the recipients' channel, PHONE (RCS or SMS) or WHATSAPP;
    ``channels``: limit the pool's senders to these channels (SMS, RCS, WHATSAPP).

    Everything after ``channels`` is keyword-only: the safety flags ``dry_run`` and
    ``confirm`` are never read from a position.

    ``dry_run=True`` sends nothing: ``.routes`` shows the ranked senders per recipient.
    Against the live API (``client.live``) a send is refused (``SendRefusedError``, every
    reason named, before any request) unless every recipient is on the allow-list
    (``allow``, else ``COMMSTOOLKIT_TEST_RECIPIENTS``) and, above 5 recipients,
    ``confirm=True``; ``max_recipients`` is a hard limit in every mode, dry runs included.
    The sandbox needs no allow-list and no confirmation.

    A send resolves its routes first, as a dry run does (a read; nothing is sent), and is
    refused (``SendRefusedError``, ``.unroutable``) when some recipients have no sender of
    the pool that can reach them — their messages would only FAIL, with no sender and no
    error code — unless ``allow_unroutable=True``. A dry run and its send raise the same
    errors: ``InvalidRecipientsError`` naming each number the API refuses, ``NotFoundError``
    for an unknown pool.

    Each send gets a run id, tagged on its messages (``ct_run:<run id>``); more than
    10,000 recipients are sent in several requests. Every step goes to ``journal`` (a
    JSON-lines file; by default in memory for the sandbox and under
    ``default_journal_dir()`` when live) so that ``TestSend.resume(client, journal)``
    can finish after a crash. ``wait`` polls the operations for up to ``timeout`` seconds
    (a warning if they are still running) and loads the messages; ``progress`` draws a
    bar per operation (True), none (False) or, by default (None), only for an operation
    the first poll finds still running and for a long load of messages, as the loaders do.

    ``events``: an ``EventReceiver`` subscribed to the account's events
    (``ct.events.subscribe``). The send is announced to it before anything is sent, so a
    ``ct.LiveSendView(receiver)`` on screen (or ``TestSendPanel(events=receiver)``) follows
    this run and its chart moves as the events arrive; once tracked, the send waits (up to
    ``timeout``, at most 60 s) until the receiver has the event of each message's status
    (a warning otherwise); ``.events`` / ``.event_frame()`` give them.

    ``concurrency``: how many Resolve calls (100 recipients each) may be in flight at once;
    None (the default) sends them side by side over a network and one at a time in
    process or on loopback, as the loaders do; 1 is one at a time.

    Python's automatic garbage collection is paused while the send builds its many objects
    (``sending.gc_paused``: numbers, routes, the send request, the messages), never while
    it waits for the API, and is back as it was after each step.

    Raises ``SendIncompleteError`` (with the partial ``.test_send``) when the API refuses
    a request or gives no answer several times.
    """
    pool_id = checked_pool_id(pool)
    channel = check_choice(channel, MESSAGE_ADDRESS_CHANNELS, "channel")
    sender_channels = checked_channels(channels)
    text = checked_text(text)
    check_timeout(timeout)
    check_journal(journal)
    check_progress(progress)
    check_flag(allow_unroutable, "allow_unroutable")
    if concurrency is not None:
        check_concurrency(concurrency)
    check_events(events)
    with sending.gc_paused():
        recipients = normalise_numbers(to)
    if dry_run:
        check_guards(recipients, live=client.live, max_recipients=max_recipients, dry_run=True)
        with sending.gc_paused():
            routes = resolve_routes(
                client, pool_id, recipients, channel, sender_channels, concurrency
            )
        return TestSend(
            client,
            run_id=None,
            pool_id=pool_id,
            recipients=recipients,
            channel=channel,
            operation_ids=[],
            journal=None,
            routes=routes,
        )
    check_guards(
        recipients, live=client.live, allow=allow, max_recipients=max_recipients, confirm=confirm
    )
    # A read before any send: a missing pool is a NotFoundError, as in a dry run.
    with sending.gc_paused():
        routes = resolve_routes(client, pool_id, recipients, channel, sender_channels, concurrency)
    check_routable(
        unroutable(routes),
        channel=channel,
        channels=sender_channels,
        allow_unroutable=allow_unroutable,
    )
    run_id = sending.new_run_id()
    log = Journal.create(_journal_path(journal, client.live, run_id))
    state = sending.plan_run(
        client,
        run_id=run_id,
        pool_id=pool_id,
        recipients=recipients,
        channel=channel,
        channels=sender_channels,
        text=text,
        chunk_size=sending.CHUNK_SIZE,
    )
    log.append("planned", **state.plan_event())
    return send_and_track(
        client, log, state, wait=wait, timeout=timeout, progress=progress, events=events
    )


test_send.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def _journal_path(journal: str | os.PathLike[str] | None, live: bool, run_id: str) -> Path | None:
    if journal is not None:
        return Path(journal)
    return default_journal_dir() / f"{run_id}.jsonl" if live else None
