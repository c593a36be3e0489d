"""Communications API events (CloudEvents 1.0) as rows: read from a webhook's batch or from the
files a sink's data ends in, one frame with a row per event.

``events_frame`` columns (``COLUMNS``, dtypes ``DTYPES``): ``id``, ``type`` (the full
CloudEvents type), ``status`` (``QUEUED`` ... ``READ`` for message events, ``PROCESSING`` /
``COMPLETED`` / ``SCHEDULED`` for operation events, else None), ``time`` (UTC, to the
millisecond), ``message_id``, ``operation_id``, ``attempt`` (Int64; 0 for a message no sender
could reach), ``error_code`` (Int64), ``sender`` / ``sender_channel`` (the attempt's
``from``), ``recipient`` / ``recipient_channel`` (its ``to``), ``tags`` (a dict). Rows are
ordered by time, then message, attempt and stage, so each message's events read in the order
they happened. Events without a time or id are refused by the readers (``InvalidInputError``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InvalidInputError

COMMS = "com.twilio.comms-api."
COLUMNS = (
    "id", "type", "status", "time", "message_id", "operation_id", "attempt", "error_code",
    "sender", "sender_channel", "recipient", "recipient_channel", "tags",
)  # fmt: skip
# The frames' conventions (frames.schema): text as pandas strings, times UTC in nanoseconds.
STRING = pd.StringDtype()
DTYPES: dict[str, Any] = {
    **{name: STRING for name in COLUMNS if name not in ("time", "attempt", "error_code", "tags")},
    "time": pd.DatetimeTZDtype("ns", "UTC"),
    "attempt": "Int64",
    "error_code": "Int64",
    "tags": object,
}
STAGE = {"QUEUED": 0, "SENT": 1, "DELIVERED": 2, "UNDELIVERED": 2, "FAILED": 2, "READ": 3}
SUFFIXES = (".json", ".jsonl", ".ndjson")


def normalised(event: object, where: str) -> dict[str, Any]:
    """One CloudEvent as a dict, its ``data`` decoded when it came as a JSON string."""
    if not isinstance(event, dict) or not isinstance(event.get("id"), str):
        raise InvalidInputError(
            f"{where}: not a CloudEvent (an object with a string id)", field="events"
        )
    if not isinstance(event.get("type"), str) or not isinstance(event.get("time"), str):
        raise InvalidInputError(
            f"{where}: the CloudEvent {event['id']} has no type or time", field="events"
        )
    data = event.get("data")
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            raise InvalidInputError(
                f"{where}: the data of {event['id']} is not JSON", field="events"
            ) from None
        event = {**event, "data": data}
    return event


def parse_batch(body: bytes | str, where: str = "the request body") -> list[dict[str, Any]]:
    """The events of one webhook POST: a JSON array of CloudEvents (one object is accepted)."""
    try:
        decoded = json.loads(body)
    except ValueError:
        raise InvalidInputError(f"{where} is not JSON", field="events") from None
    items = decoded if isinstance(decoded, list) else [decoded]
    return [normalised(item, f"{where}[{n}]") for n, item in enumerate(items)]


def status_of(event_type: str) -> str | None:
    """``QUEUED`` ... for a Comms message or operation event type; None for any other."""
    if not event_type.startswith(COMMS):
        return None
    return event_type.rsplit(".", 1)[1].upper().replace("-", "_")


def _address(value: object) -> tuple[str | None, str | None]:
    if isinstance(value, dict):
        return value.get("address"), value.get("channel")
    return None, None


def _row(event: dict[str, Any]) -> dict[str, Any]:
    given = event.get("data")
    data: dict[str, Any] = given if isinstance(given, dict) else {}
    sender, sender_channel = _address(data.get("from"))
    recipient, recipient_channel = _address(data.get("to"))
    return {
        "id": event["id"],
        "type": event["type"],
        "status": status_of(event["type"]),
        "time": event["time"],
        "message_id": data.get("message_id"),
        "operation_id": data.get("operation_id"),
        "attempt": data.get("attempt"),
        "error_code": data.get("error_code"),
        "sender": sender,
        "sender_channel": sender_channel,
        "recipient": recipient,
        "recipient_channel": recipient_channel,
        "tags": data.get("tags") if isinstance(data.get("tags"), dict) else {},
    }


def tagged(
    events: Iterable[dict[str, Any]], tags: Mapping[str, str] | None
) -> list[dict[str, Any]]:
    """The message events whose ``data.tags`` include ``tags`` and the other events of their
    operations (all of ``events`` when ``tags`` is None), in the order given."""
    every = list(events)
    if tags is None:
        return every
    wanted = dict(tags).items()

    def data(event: dict[str, Any]) -> dict[str, Any]:
        found = event.get("data")
        return found if isinstance(found, dict) else {}

    def mine(event: dict[str, Any]) -> bool:
        found = data(event).get("tags")
        return isinstance(found, dict) and wanted <= found.items()

    operations = {data(e).get("operation_id") for e in every if mine(e)}
    return [
        e
        for e in every
        if data(e).get("operation_id") in operations
        and (data(e).get("message_id") is None or mine(e))
    ]


def events_frame(events: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """One row per event (``COLUMNS``), in the order things happened (see the module)."""
    rows = [_row(e) for e in events]
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame["time"] = pd.to_datetime(frame["time"], utc=True, format="ISO8601")
    for column in ("attempt", "error_code"):
        frame[column] = pd.array(frame[column].tolist(), dtype="Int64")
    frame = frame.astype(DTYPES)
    order = frame.assign(
        _stage=frame["status"].map(STAGE).fillna(-1),
        _message=frame["message_id"].fillna(""),
        _attempt=frame["attempt"].fillna(-1),
    ).sort_values(["time", "_message", "_attempt", "_stage"], kind="stable")
    return frame.loc[order.index].reset_index(drop=True)


def read_file(path: Path) -> list[dict[str, Any]]:
    """The events of one file: a JSON array (or object), or JSON lines (each an event or an
    array of events, as a webhook's batches saved one a line)."""
    text = path.read_text(encoding="utf-8")
    stripped = text.lstrip()
    if stripped.startswith("["):
        return parse_batch(text, str(path))
    events: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            events += parse_batch(line, f"{path}:{number}")
    return events


def _files(paths: Sequence[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in SUFFIXES)
        elif path.is_file():
            found.append(path)
        else:
            raise InvalidInputError(f"path_or_paths: {path} does not exist", field="path_or_paths")
    return found


def load_events(
    path_or_paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
) -> pd.DataFrame:
    """Events from files a sink's data ends in: JSON lines or JSON arrays of CloudEvents, or
    folders of them (``*.json``, ``*.jsonl``, ``*.ndjson``, searched recursively, e.g. a
    Kinesis stream delivered to storage). Each event once (by id, the first copy kept), as
    ``events_frame``. ``InvalidInputError`` names a path that does not exist or a file that
    holds something else."""
    if isinstance(path_or_paths, (str, os.PathLike)):
        paths = [Path(path_or_paths)]
    else:
        paths = [Path(p) for p in path_or_paths]
    if not paths:
        raise InvalidInputError(
            "path_or_paths: give at least one file or folder", field="path_or_paths"
        )
    seen: dict[str, dict[str, Any]] = {}
    for file in _files(paths):
        for event in read_file(file):
            seen.setdefault(event["id"], event)
    return events_frame(seen.values())
