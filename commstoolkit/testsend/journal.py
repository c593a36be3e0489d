"""The journal of a test send: JSON lines, append-only, each line flushed and fsynced.

One event per line, ``{"event": ..., "at": <UTC time>, ...}``, in this order:
``planned`` (run id, pool, text, target base URL and the chunks of recipients), then per
chunk ``sending`` (written *before* the POST, with the recipients in it) followed by
``sent`` (operation id), ``refused`` (the API said no: nothing was sent) or ``unknown``
(no answer: the request may have been applied); ``reconciled`` records what a look-up
by tag found after an unknown outcome; ``resumed`` marks each resume and ``completed``
the end of sending. The journal holds no credentials.

``replay`` folds the events back into the state of each chunk, so a run can continue
after a crash at any line.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from ..errors import InvalidInputError

try:  # POSIX: one process at a time works on a journal.
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["ChunkState", "Journal", "RunState", "apply_event", "default_journal_dir", "replay"]

VERSION = 1


def default_journal_dir() -> Path:
    """Where live test sends keep their journal when none is given.

    ``$COMMSTOOLKIT_JOURNAL_DIR``, else ``$XDG_DATA_HOME`` (or ``~/.local/share``)
    ``/commstoolkit/test-sends``.
    """
    explicit = os.environ.get("COMMSTOOLKIT_JOURNAL_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "commstoolkit" / "test-sends"


class Journal:
    """An append-only event log in a file (``path``) or, with ``path=None``, in memory.

    ``Journal.create(path)`` starts a new one (refusing a file that already holds
    events); ``Journal.open(path)`` continues one. While open, the file is locked so that
    two processes never work on the same run.
    """

    def __init__(self, path: str | os.PathLike[str] | None, *, _new: bool) -> None:
        self.path = None if path is None else Path(path)
        self._memory: list[dict[str, Any]] = []
        self._file: IO[str] | None = None
        if self.path is not None:
            self._file = self._open_file(self.path, new=_new)

    @classmethod
    def create(cls, path: str | os.PathLike[str] | None) -> Journal:
        """A new, empty journal (in memory when ``path`` is None)."""
        return cls(path, _new=True)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Journal:
        """An existing journal file, to continue its run."""
        if not Path(path).is_file():
            raise InvalidInputError(f"journal: no journal file at {path}", field="journal")
        return cls(path, _new=False)

    def append(self, event: str, **fields: Any) -> dict[str, Any]:
        """Write one event and make it durable (flush + fsync) before returning."""
        record = {"event": event, "at": _now(), **fields}
        if self._file is None:
            self._memory.append(json.loads(json.dumps(record)))
            return record
        self._file.write(json.dumps(record, separators=(",", ":")) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())
        return record

    def events(self) -> list[dict[str, Any]]:
        """Every event so far, oldest first (a line torn by a crash is skipped)."""
        if self.path is None:
            return list(self._memory)
        events = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                events.append(json.loads(line))
            except ValueError:
                continue
        return events

    def close(self) -> None:
        """Release the file (and its lock)."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def __repr__(self) -> str:
        return f"Journal({str(self.path) if self.path else 'in memory'})"

    @staticmethod
    def _open_file(path: Path, *, new: bool) -> IO[str]:
        if new and path.exists() and path.stat().st_size > 0:
            raise InvalidInputError(
                f"journal: {path} already holds a test send; continue it with "
                "TestSend.resume(client, journal) or give a new file",
                field="journal",
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a+", encoding="utf-8")
        if fcntl is not None:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                raise InvalidInputError(
                    f"journal: {path} is in use by another process (a test send or a resume "
                    "is running); wait for it to finish",
                    field="journal",
                ) from None
        handle.seek(0, os.SEEK_END)
        if handle.tell() > 0:  # end a line torn by a crash, so the next event stands alone
            handle.seek(handle.tell() - 1)
            if handle.read(1) != "\n":
                handle.write("\n")
        return handle


@dataclass
class ChunkState:
    """Where one chunk stands: recipients still to send, operations, a send in doubt."""

    index: int
    recipients: list[str]
    remaining: list[str]
    operations: list[str] = field(default_factory=list)
    in_flight: list[str] | None = None  # sent but no answer recorded: reconcile first
    refused: str | None = None  # the last send's refusal, if any

    @property
    def done(self) -> bool:
        """Nothing left to send and nothing in doubt."""
        return not self.remaining and self.in_flight is None


@dataclass
class RunState:
    """A run as its journal tells it: the plan, the chunks, whether sending completed."""

    run_id: str
    pool_id: str
    channel: str
    channels: list[str] | None
    text: str
    base_url: str
    live: bool
    chunks: list[ChunkState]
    completed: bool = False

    @property
    def recipients(self) -> list[str]:
        """Every recipient of the run, in order."""
        return [number for chunk in self.chunks for number in chunk.recipients]

    @property
    def operations(self) -> list[str]:
        """Every message operation id the run made, in order, without repeats."""
        return list(dict.fromkeys(op for chunk in self.chunks for op in chunk.operations))

    def plan_event(self) -> dict[str, Any]:
        """The fields of the ``planned`` event."""
        return {
            "version": VERSION,
            "run_id": self.run_id,
            "pool_id": self.pool_id,
            "channel": self.channel,
            "channels": self.channels,
            "text": self.text,
            "base_url": self.base_url,
            "live": self.live,
            "chunks": [chunk.recipients for chunk in self.chunks],
        }


def replay(events: Sequence[Mapping[str, Any]]) -> RunState:
    """Fold journal events into a ``RunState``; ``InvalidInputError`` if there is no plan."""
    if not events or events[0].get("event") != "planned":
        raise InvalidInputError(
            "journal: it does not start with a planned test send", field="journal"
        )
    plan = events[0]
    if plan.get("version") != VERSION:
        raise InvalidInputError(
            f"journal: version {plan.get('version')!r} is not supported (expected {VERSION})",
            field="journal",
        )
    state = RunState(
        run_id=plan["run_id"],
        pool_id=plan["pool_id"],
        channel=plan["channel"],
        channels=plan["channels"],
        text=plan["text"],
        base_url=plan["base_url"],
        live=plan["live"],
        chunks=[
            ChunkState(index=k, recipients=list(numbers), remaining=list(numbers))
            for k, numbers in enumerate(plan["chunks"], start=1)
        ],
    )
    for event in events[1:]:
        apply_event(state, event)
    return state


def apply_event(state: RunState, event: Mapping[str, Any]) -> None:
    """Update ``state`` with one journal event (the same rule live and on replay)."""
    kind = event.get("event")
    if kind == "completed":
        state.completed = True
        return
    if "chunk" not in event:
        return
    chunk = state.chunks[event["chunk"] - 1]
    if kind == "sending":
        chunk.in_flight = list(event["recipients"])
        chunk.refused = None
    elif kind == "sent":
        sent = set(chunk.in_flight or ())
        chunk.remaining = [n for n in chunk.remaining if n not in sent]
        chunk.operations.append(event["operation_id"])
        chunk.in_flight = None
    elif kind == "refused":
        chunk.in_flight = None
        chunk.refused = event.get("error")
    elif kind == "reconciled":
        found = set(event["found"])
        chunk.remaining = [n for n in chunk.remaining if n not in found]
        chunk.operations.extend(op for op in event["operations"] if op not in chunk.operations)
        chunk.in_flight = None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
