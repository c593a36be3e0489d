"""Sending a planned test send chunk by chunk, so that each recipient gets one message.

The API has no idempotency key, so exactly-once rests on the journal and on tags: every
POST carries ``ct_run:<run id>`` and ``ct_chunk:<k>``, its ``sending`` event is durable
before the request leaves, and a send whose outcome is unknown (no answer, a 5xx, an
unreadable 2xx) is looked up by those tags before anything is sent again; only the
recipients with no message are re-sent.
"""

from __future__ import annotations

import contextlib
import gc
import re
import secrets
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ..errors import (
    APIError,
    CommsError,
    ServerError,
    TransportError,
    UnexpectedResponseError,
)
from ..frames import RUN_TAG
from .journal import ChunkState, Journal, RunState, apply_event

if TYPE_CHECKING:
    from ..client import CommsClient

__all__ = [
    "CHUNK_SIZE",
    "CHUNK_TAG",
    "Runner",
    "SendStopped",
    "gc_paused",
    "new_run_id",
    "plan_run",
]

CHUNK_SIZE = 10_000  # the API's limit of recipients per POST /Messages
CHUNK_TAG = "ct_chunk"
SENDS_PER_CHUNK = 3  # POSTs per chunk and run before giving up on an unanswered chunk
# Live only: seconds to wait before looking a doubtful send up a second time, in case
# its messages are still being created when first listed.
SETTLE_SECONDS = 5.0
_TO_INDEX = re.compile(r"\$\.to\[(\d+)\]")


_GC_LOCK = threading.Lock()
_gc_pauses = [0, False]  # [blocks in progress, whether the collector was on before the first]


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No automatic garbage collection while the block builds many objects at once.

    A 10,000-recipient send makes a few hundred thousand small objects (numbers, request
    and answer bodies, messages) that all stay alive; each full collection the collector
    starts meanwhile walks every object of the process (90 ms each in the benchmark,
    2-3 per send, more in a notebook holding much). Reference counting still frees what
    is dropped, and the collector comes back after the block (as it was: blocks may nest
    or overlap in threads, and one turned off by the caller stays off), as Mercurial's
    ``util.nogc`` does; the blocks never wait for the API to finish a send.
    """
    with _GC_LOCK:
        if _gc_pauses[0] == 0:
            _gc_pauses[1] = gc.isenabled()
            gc.disable()
        _gc_pauses[0] += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _gc_pauses[0] -= 1
            if _gc_pauses[0] == 0 and _gc_pauses[1]:
                gc.enable()


class SendStopped(Exception):
    """Internal: sending stopped at ``chunk``; ``reason`` says why (raised from the error)."""

    def __init__(self, chunk: int, reason: CommsError | str) -> None:
        super().__init__(str(reason))
        self.chunk = chunk
        self.reason = str(reason)


def new_run_id() -> str:
    """A fresh run id, sortable by time and usable as a tag value: ``ts-<UTC>-<random>``."""
    return f"ts-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def plan_run(
    client: CommsClient,
    *,
    run_id: str,
    pool_id: str,
    recipients: Sequence[str],
    channel: str,
    channels: list[str] | None,
    text: str,
    chunk_size: int = CHUNK_SIZE,
) -> RunState:
    """The run's state before anything is sent: recipients cut into chunks of ``chunk_size``."""
    chunks = [
        ChunkState(index=k, recipients=list(part), remaining=list(part))
        for k, part in enumerate(
            (recipients[i : i + chunk_size] for i in range(0, len(recipients), chunk_size)),
            start=1,
        )
    ]
    return RunState(
        run_id=run_id,
        pool_id=pool_id,
        channel=channel,
        channels=channels,
        text=text,
        base_url=client.base_url,
        live=client.live,
        chunks=chunks,
    )


class Runner:
    """Brings every chunk of a run to "sent", journaling each step before it happens."""

    def __init__(self, client: CommsClient, journal: Journal, state: RunState) -> None:
        self.client = client
        self.journal = journal
        self.state = state

    def run(self) -> None:
        """Send what is left; raises ``SendStopped`` when a chunk cannot be finished now."""
        for chunk in self.state.chunks:
            self._finish(chunk)
        if not self.state.completed:
            self._record("completed", None, operations=self.state.operations)

    def _finish(self, chunk: ChunkState) -> None:
        sends = 0
        while not chunk.done:
            if chunk.in_flight is not None:
                self._reconcile(chunk)
            elif sends < SENDS_PER_CHUNK:
                sends += 1
                self._send(chunk)
            else:
                raise SendStopped(
                    chunk.index,
                    f"chunk {chunk.index}: {SENDS_PER_CHUNK} sends got no answer; "
                    f"{len(chunk.remaining):,} recipients still have no message",
                )

    def _send(self, chunk: ChunkState) -> None:
        recipients = list(chunk.remaining)
        self._record("sending", chunk, recipients=recipients)
        try:
            with gc_paused():
                operation = self.client.messages.send(
                    [(number, self.state.channel) for number in recipients],
                    text=self.state.text,
                    sender_pool_id=self.state.pool_id,
                    channels=self.state.channels,
                    tags={RUN_TAG: self.state.run_id, CHUNK_TAG: str(chunk.index)},
                )
        except (TransportError, ServerError, UnexpectedResponseError) as exc:
            if isinstance(exc, TransportError) and exc.request_sent is False:
                self._record("refused", chunk, error=str(exc))
                raise SendStopped(chunk.index, exc) from exc
            self._record("unknown", chunk, error=str(exc))  # looked up before any re-send
            return
        except APIError as exc:  # 4xx, or 429/503 after retries: the API did not take it
            culprit = _recipient_at(exc.context, recipients)
            self._record("refused", chunk, error=str(exc), recipient=culprit)
            reason = f"{exc} — recipient {culprit}" if culprit else exc
            raise SendStopped(chunk.index, reason) from exc
        self._record("sent", chunk, operation_id=operation.id)

    def _reconcile(self, chunk: ChunkState) -> None:
        try:
            found = self._lookup(chunk)
            if self.client.live and len(found) < len(chunk.in_flight or ()):
                time.sleep(SETTLE_SECONDS)
                found = self._lookup(chunk)
        except CommsError as exc:
            raise SendStopped(chunk.index, exc) from exc
        missing = [n for n in chunk.remaining if n not in found]
        self._record(
            "reconciled",
            chunk,
            found=sorted(found),
            operations=sorted({op for op in found.values() if op}),
            missing=missing,
        )

    def _lookup(self, chunk: ChunkState) -> dict[str, str | None]:
        """Recipient -> operation id of every message this chunk already has (by its tags)."""
        tags = {RUN_TAG: self.state.run_id, CHUNK_TAG: str(chunk.index)}
        wanted = set(chunk.recipients)
        return {
            message.to_address: message.operation_id
            for message in self.client.messages.list(tags=tags)
            if message.to_address in wanted
        }

    def _record(self, event: str, chunk: ChunkState | None, **fields: Any) -> None:
        where = {} if chunk is None else {"chunk": chunk.index}
        apply_event(self.state, self.journal.append(event, **where, **fields))


def _recipient_at(context: str | None, recipients: Sequence[str]) -> str | None:
    """The recipient a validation error points at (``$.to[3].address``), if any."""
    match = _TO_INDEX.match(context or "")
    index = int(match.group(1)) if match else -1
    return recipients[index] if 0 <= index < len(recipients) else None
