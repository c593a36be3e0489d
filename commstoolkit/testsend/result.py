"""``TestSend``: one test send — its run id, operations, messages, attempts and summary."""

from __future__ import annotations

import html
import time
import warnings
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import CommsError, InvalidInputError, OperationTimeoutError
from ..events import EventReceiver
from ..events.records import status_of, tagged
from ..frames import RUN_TAG, attempts_frame, fetch_messages, messages_frame
from ..models import Message, Operation
from . import sending
from .inputs import check_events, check_progress, check_timeout
from .journal import Journal, RunState, replay
from .summary import SendSummary, summarise

if TYPE_CHECKING:
    import os

    from ..client import CommsClient

__all__ = ["SendIncompleteError", "TestSend", "send_and_track"]

_SHOWN_ROUTES = 20
# The longest a send waits for its last events once the API says it is over (seconds).
MAX_EVENTS_WAIT = 60.0


class TestSend:
    """A test send through a pool, made by ``ct.test_send`` (or resumed from its journal).

    - ``run_id``: the id tagged on every message (``ct_run:<run_id>``; None for a dry run);
    - ``pool_id``, ``recipients`` (E.164), ``channel`` (PHONE or WHATSAPP), ``dry_run``;
    - ``routes``: for a dry run, the frame of ranked routes per recipient (else None);
    - ``operations``: the message operations, as last fetched; ``done``: all final;
    - ``wait(progress=True, timeout=300)``: poll the operations to the end, then load the
      messages; ``messages`` / ``attempts``: the frames (see ``frames.messages_frame``);
    - ``summary()``: counts by channel, sender and status, delivery and fallback rates,
      time to delivered and time to read (``SendSummary``, every number from ``metrics``);
    - ``refresh()``: load the operations and the run's messages again. A DELIVERED RCS or
      WhatsApp message may become READ after the operation is COMPLETED (5-60 s later in
      the sandbox): ``messages``, ``attempts`` and ``summary()`` keep the last load until
      ``refresh()`` (or ``wait()``) loads again;
    - ``journal``: where the steps were recorded; ``TestSend.resume(client, journal)``
      finishes a send interrupted at any step, never sending a recipient twice;
    - ``events``: the ``EventReceiver`` given to ``test_send(..., events=)`` (else None);
      ``event_frame()``: its events of this send (its messages' and their operations').
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        client: CommsClient,
        *,
        run_id: str | None,
        pool_id: str,
        recipients: list[str],
        channel: str,
        operation_ids: list[str],
        journal: Journal | None,
        routes: pd.DataFrame | None = None,
    ) -> None:
        self._client = client
        self.run_id = run_id
        self.pool_id = pool_id
        self.recipients = recipients
        self.channel = channel
        self.routes = routes
        self._journal = journal
        self._operations = {i: Operation(id=i, kind="message") for i in operation_ids}
        self._messages: list[Message] | None = None
        # message id -> its updated_at when a load saw it DELIVERED: its delivered moment,
        # which the API no longer gives once it is READ (frames: seen_delivered_s).
        self._seen_delivered: dict[str, datetime] = {}
        self.events: EventReceiver | None = None

    @classmethod
    def _from_state(cls, client: CommsClient, state: RunState, journal: Journal) -> TestSend:
        return cls(
            client,
            run_id=state.run_id,
            pool_id=state.pool_id,
            recipients=state.recipients,
            channel=state.channel,
            operation_ids=state.operations,
            journal=journal,
        )

    @classmethod
    def resume(
        cls,
        client: CommsClient,
        journal: Journal | str | os.PathLike[str],
        *,
        wait: bool = True,
        timeout: float = 300.0,
        progress: bool | None = None,
        events: EventReceiver | None = None,
    ) -> TestSend:
        """Finish the test send recorded in ``journal`` (a path or a ``Journal``).

        Chunks already sent are only tracked; a chunk whose send had no recorded answer is
        looked up by its tags and only its recipients without a message are sent;
        ``wait``, ``timeout``, ``progress`` and ``events`` as for ``test_send`` (a live view
        on ``events`` follows the resumed run; the events of messages sent before the
        interruption are there only if this receiver got them: the same receiver, or one
        that reads back the file it persisted them to, ``persist_to=``). Refuses
        (``InvalidInputError``) a journal made against another base URL or mode.
        Raises ``SendIncompleteError`` when sending still cannot finish.
        """
        check_timeout(timeout)
        check_progress(progress)
        check_events(events)
        if isinstance(journal, Journal):
            log = journal if journal.path is None else Journal.open(journal.path)
        else:
            log = Journal.open(journal)
        state = replay(log.events())
        _check_target(client, state)
        if not state.completed:
            log.append("resumed")
        return send_and_track(
            client, log, state, wait=wait, timeout=timeout, progress=progress, events=events
        )

    @property
    def dry_run(self) -> bool:
        """True for a dry run (nothing was sent)."""
        return self.routes is not None

    @property
    def journal(self) -> Journal | None:
        """The journal of this send (its ``.path`` is None when kept in memory)."""
        return self._journal

    @property
    def operations(self) -> list[Operation]:
        """The message operations of this send, in order, as last fetched."""
        return list(self._operations.values())

    @property
    def done(self) -> bool:
        """True when every operation is COMPLETED or CANCELED (always True for a dry run)."""
        return all(op.done for op in self._operations.values())

    def wait(
        self, progress: bool | None = True, timeout: float = 300.0, poll_interval: float = 0.5
    ) -> TestSend:
        """Poll every operation until it ends (a tqdm bar each with ``progress``; None: only
        for one the first poll finds still running), then load the messages. Raises
        ``OperationTimeoutError`` after ``timeout`` seconds in all; the send keeps going on
        the server — call ``wait()`` again."""
        deadline = time.monotonic() + timeout
        for operation_id, current in self._operations.items():
            if current.done:
                continue
            remaining = max(deadline - time.monotonic(), 0.001)
            try:
                self._operations[operation_id] = self._client.wait(
                    current, timeout=remaining, poll_interval=poll_interval, progress=progress
                )
            except OperationTimeoutError as exc:
                if exc.operation is not None:
                    self._operations[operation_id] = exc.operation
                raise
        self.refresh(progress=progress)
        return self

    def refresh(self, *, progress: bool | None = None) -> TestSend:
        """Fetch the operations' state and the run's messages again (attempts up to
        1,000), so ``messages``, ``attempts`` and ``summary()`` show what changed since the
        last load: READs that came after ``wait()`` above all. ``progress`` as for
        ``load_messages`` (None: a bar only for a long load)."""
        for operation_id in self._operations:
            self._operations[operation_id] = self._client.messages.operations.get(operation_id)
        if self.run_id is None:
            self._messages = []
        else:
            with sending.gc_paused():
                self._messages = fetch_messages(self._client, run_id=self.run_id, progress=progress)
            for message in self._messages:
                if message.status == "DELIVERED":
                    self._seen_delivered[message.id] = message.updated_at
        return self

    def event_frame(self) -> pd.DataFrame:
        """The events ``events`` received of this send (``EventReceiver.frame``: its messages,
        tagged with its run id, and their operations); ``InvalidInputError`` without one."""
        if self.events is None or self.run_id is None:
            raise InvalidInputError(
                "event_frame: this send was made without events= (an EventReceiver)",
                field="events",
            )
        return self.events.frame(tags={RUN_TAG: self.run_id})

    def wait_for_events(self, timeout: float = 30.0) -> TestSend:
        """Wait until ``events`` has an event of each message's status as last loaded
        (``refresh()`` first for later READs); a warning after ``timeout`` seconds says how
        many are missing (a sink that is failing, say)."""
        if self.events is None or self.dry_run:
            return self
        statuses = dict(zip(self.messages["message_id"], self.messages["status"], strict=True))
        run_id = self.run_id or ""
        try:
            self.events.wait_for(
                until=lambda events: not _missing(events, run_id, statuses), timeout=timeout
            )
        except TimeoutError:
            missing = _missing(self.events.events(), run_id, statuses)
            warnings.warn(
                f"test send {self.run_id}: after {timeout:g}s the receiver still lacks the "
                f"{len(missing)} event(s) of the status of message(s) such as {missing[0]}; "
                "is the subscription active (ct.events.subscribe)? (A resumed send's "
                "earlier events reach only the receiver that was listening then.)",
                stacklevel=2,
            )
        return self

    @property
    def messages(self) -> pd.DataFrame:
        """One row per message (``frames.messages_frame``); loaded on first use, and again
        on each use while the send is still running; after that as last loaded (call
        ``refresh()`` for READs that came later). A READ message a load saw DELIVERED keeps
        that moment in ``seen_delivered_s``, so its time to delivered is known."""
        return messages_frame(self._loaded(), self._seen_delivered)

    @property
    def attempts(self) -> pd.DataFrame:
        """One row per delivery attempt (``frames.attempts_frame``); empty above 1,000
        messages, where attempts are not loaded."""
        return attempts_frame(self._loaded())

    def summary(self) -> SendSummary:
        """By channel, by sender, by status; delivery and fallback rates; time to delivered
        and to read (of the messages as last loaded: ``refresh()`` first for late READs)."""
        return summarise(self.messages)

    def _loaded(self) -> list[Message]:
        if self._messages is None or not self.done:
            self.refresh()
        return self._messages or []

    def __repr__(self) -> str:
        what = "dry run" if self.dry_run else f"run {self.run_id}"
        statuses = ", ".join(op.status or "accepted" for op in self.operations) or "none"
        return (
            f"TestSend({what}, pool {self.pool_id}, {len(self.recipients):,} recipients, "
            f"{self.mode}, operations: {statuses})"
        )

    @property
    def mode(self) -> str:
        """ "live" or "sandbox"."""
        return "live" if self._client.live else "sandbox"

    def _repr_html_(self) -> str:
        run = html.escape(self.run_id or "")
        title = "Dry run" if self.dry_run else f"Test send <code>{run}</code>"
        pool = html.escape(self.pool_id)
        parts = [
            "<div class='commstoolkit-test-send'>",
            f"<p><strong>{title}</strong> · {self.mode} · pool <code>{pool}</code> · "
            f"{len(self.recipients):,} recipients ({html.escape(self.channel)})</p>",
        ]
        if self.routes is not None:
            table = self.routes.head(_SHOWN_ROUTES).to_html(index=False, na_rep="—", border=0)
            parts.append(f"<p>Nothing was sent. Routes (rank 1 is used):</p>{table}")
        else:
            parts.append(_operations_html(self.operations))
            if self._messages is not None:
                parts.append(
                    summarise(messages_frame(self._messages, self._seen_delivered))._repr_html_()
                )
            if self._journal is not None and self._journal.path is not None:
                parts.append(f"<p>Journal: <code>{html.escape(str(self._journal.path))}</code></p>")
        parts.append("</div>")
        return "".join(parts)


class SendIncompleteError(CommsError):
    """A test send stopped before every recipient had a message.

    ``test_send``: the ``TestSend`` so far (its ``operations`` were sent); ``cause``: the
    error that stopped it (or None); ``chunk``: the chunk that could not be finished.
    Fix the cause, then ``TestSend.resume(client, err.test_send.journal)``.
    """

    def __init__(
        self, message: str, *, test_send: TestSend, cause: BaseException | None, chunk: int
    ) -> None:
        super().__init__(message)
        self.test_send = test_send
        self.cause = cause
        self.chunk = chunk


def _check_target(client: CommsClient, state: RunState) -> None:
    if state.base_url != client.base_url or state.live != client.live:
        mode = "live" if state.live else "sandbox"
        raise InvalidInputError(
            f"client: this journal's run {state.run_id} was sent to {state.base_url} ({mode}); "
            "resume it with a client for the same API",
            field="client",
            allowed=state.base_url,
        )


def send_and_track(
    client: CommsClient,
    log: Journal,
    state: RunState,
    *,
    wait: bool,
    timeout: float,
    progress: bool | None,
    events: EventReceiver | None = None,
) -> TestSend:
    """Send what ``state`` still has to send (journalled in ``log``), then track it: the
    ``TestSend`` of the run, waited for up to ``timeout`` seconds with ``wait``. Raises
    ``SendIncompleteError`` (with the partial send) when sending stops. With ``events``
    the run is announced to the receiver before anything is sent (a live view follows it)
    and, once the send is over, waited for until the receiver has each message's status."""
    if events is not None:
        events.announce_send(state.run_id, len(state.recipients))
    try:
        sending.Runner(client, log, state).run()
    except sending.SendStopped as stop:
        partial = TestSend._from_state(client, state, log)
        partial.events = events
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
    if events is not None:
        result.events = events
        if wait and result.done:
            result.wait_for_events(timeout=min(timeout, MAX_EVENTS_WAIT))
    return result


def _missing(events: list[dict[str, Any]], run_id: str, statuses: dict[str, Any]) -> list[str]:
    """The messages whose status (as the API last reported it) has no event yet."""
    seen = {
        (event["data"]["message_id"], status_of(event["type"]))
        for event in tagged(events, {RUN_TAG: run_id})
        if isinstance(event.get("data"), dict) and event["data"].get("message_id") is not None
    }
    return [m for m, status in statuses.items() if (m, str(status)) not in seen]


def _operations_html(operations: list[Operation]) -> str:
    if not operations:
        return "<p>No operation yet.</p>"
    rows = "".join(
        f"<tr><td><code>{html.escape(op.id)}</code></td><td>{op.status or 'accepted'}</td>"
        f"<td>{_stats(op)}</td></tr>"
        for op in operations
    )
    return f"<table><tr><th>operation</th><th>status</th><th>stats</th></tr>{rows}</table>"


def _stats(operation: Operation) -> str:
    shown: dict[str, Any] = {k: v for k, v in operation.stats.items() if v}
    return html.escape(", ".join(f"{k} {v:,}" for k, v in shown.items()))
