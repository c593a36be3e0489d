"""``test_send`` and resuming: check everything, journal the plan, send, track."""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidInputError, OperationTimeoutError
from ..models import MESSAGE_ADDRESS_CHANNELS, MESSAGE_CHANNELS, SenderPool
from ..rules import TEXT_MAX as TEXT_MAX  # the widgets' character counter
from ..rules import check_choice, check_message_text, pool_id_of
from . import sending
from .guards import check_guards, check_routable
from .journal import Journal, RunState, default_journal_dir, replay
from .preview import resolve_routes, unroutable
from .recipients import normalise_numbers
from .result import SendIncompleteError, TestSend

if TYPE_CHECKING:
    from ..client import CommsClient

__all__ = ["resume_run", "test_send"]


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

    Raises ``SendIncompleteError`` (with the partial ``.test_send``) when the API refuses
    a request or gives no answer several times.
    """
    pool_id = _pool_id(pool)
    channel = check_choice(channel, MESSAGE_ADDRESS_CHANNELS, "channel")
    sender_channels = _channels(channels)
    text = _text(text)
    _check_timeout(timeout)
    _check_journal(journal)
    _check_progress(progress)
    _check_flag(allow_unroutable, "allow_unroutable")
    recipients = normalise_numbers(to)
    if dry_run:
        check_guards(recipients, live=client.live, max_recipients=max_recipients, dry_run=True)
        routes = resolve_routes(client, pool_id, recipients, channel, sender_channels)
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
    routes = resolve_routes(client, pool_id, recipients, channel, sender_channels)
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
    return _send_and_track(client, log, state, wait=wait, timeout=timeout, progress=progress)


test_send.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def resume_run(
    client: CommsClient,
    journal: Journal | str | os.PathLike[str],
    *,
    wait: bool,
    timeout: float,
    progress: bool | None = None,
) -> TestSend:
    """See ``TestSend.resume``."""
    _check_timeout(timeout)
    _check_progress(progress)
    if isinstance(journal, Journal):
        log = journal if journal.path is None else Journal.open(journal.path)
    else:
        log = Journal.open(journal)
    state = replay(log.events())
    _check_target(client, state)
    if not state.completed:
        log.append("resumed")
    return _send_and_track(client, log, state, wait=wait, timeout=timeout, progress=progress)


def _send_and_track(
    client: CommsClient,
    log: Journal,
    state: RunState,
    *,
    wait: bool,
    timeout: float,
    progress: bool | None,
) -> TestSend:
    try:
        sending.Runner(client, log, state).run()
    except sending.SendStopped as stop:
        partial = TestSend._from_state(client, state, log)
        cause = stop.__cause__  # the API or transport error, if one stopped it
        sent = sum(len(c.recipients) - len(c.remaining) for c in state.chunks)
        raise SendIncompleteError(
            f"test send {state.run_id} stopped at chunk {stop.chunk} of {len(state.chunks)}: "
            f"{stop.reason}. {sent:,} of {len(state.recipients):,} recipients have a message; "
            "fix the cause, then call TestSend.resume(client, journal) to send the rest "
            "(never twice)",
            test_send=partial,
            cause=cause,
            chunk=stop.chunk,
        ) from cause
    finally:
        log.close()
    result = TestSend._from_state(client, state, log)
    if wait:
        try:
            result.wait(progress=progress, timeout=timeout)
        except OperationTimeoutError:
            warnings.warn(
                f"test send {state.run_id} is still running after {timeout:g}s; "
                "call .wait() again to keep tracking it",
                stacklevel=3,
            )
    return result


def _check_target(client: CommsClient, state: RunState) -> None:
    if state.base_url != client.base_url or state.live != client.live:
        mode = "live" if state.live else "sandbox"
        raise InvalidInputError(
            f"client: this journal's run {state.run_id} was sent to {state.base_url} ({mode}); "
            "resume it with a client for the same API",
            field="client",
            allowed=state.base_url,
        )


def _journal_path(journal: str | os.PathLike[str] | None, live: bool, run_id: str) -> Path | None:
    if journal is not None:
        return Path(journal)
    return default_journal_dir() / f"{run_id}.jsonl" if live else None


def _pool_id(pool: Any) -> str:
    return pool_id_of(pool, "pool")


def _channels(channels: Iterable[str] | None) -> list[str] | None:
    if channels is None:
        return None
    values = [channels] if isinstance(channels, str) else list(channels)
    chosen = [check_choice(value, MESSAGE_CHANNELS, "channels") for value in values]
    if not chosen or len(set(chosen)) != len(chosen):
        raise InvalidInputError(
            f"channels: give each of {', '.join(MESSAGE_CHANNELS)} at most once, and at least one",
            field="channels",
            allowed=MESSAGE_CHANNELS,
        )
    return chosen


def _text(text: Any) -> str:
    return check_message_text(text, "text")


def _check_journal(journal: Any) -> None:
    if journal is not None and not isinstance(journal, (str, os.PathLike)):
        raise InvalidInputError(
            f"journal: expected a file path (str or pathlib.Path) or None, got {journal!r}",
            field="journal",
            allowed="a file path or None",
        )


def _check_flag(value: Any, field: str) -> None:
    if not isinstance(value, bool):
        raise InvalidInputError(
            f"{field}: expected True or False, got {value!r}", field=field, allowed=(True, False)
        )


def _check_progress(progress: Any) -> None:
    if progress is not None and not isinstance(progress, bool):
        raise InvalidInputError(
            f"progress: expected True, False or None (automatic), got {progress!r}",
            field="progress",
            allowed=(True, False, None),
        )


def _check_timeout(timeout: Any) -> None:
    number = isinstance(timeout, (int, float)) and not isinstance(timeout, bool)
    if not (number and 0 < timeout < math.inf):
        raise InvalidInputError(
            f"timeout: expected a finite number of seconds > 0, got {timeout!r}",
            field="timeout",
            allowed="> 0",
        )
