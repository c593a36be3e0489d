"""The argument checks of ``test_send`` and ``TestSend.resume``, run before any request
(the API's own rules are in ``commstoolkit.rules``)."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from typing import Any

from ..errors import InvalidInputError
from ..events import EventReceiver
from ..models import MESSAGE_CHANNELS
from ..rules import check_choice, check_message_text, pool_id_of

__all__ = [
    "check_events",
    "check_flag",
    "check_journal",
    "check_progress",
    "check_timeout",
    "checked_channels",
    "checked_pool_id",
    "checked_text",
]


def check_events(events: Any) -> None:
    """``events``: an ``EventReceiver`` or None."""
    if events is not None and not isinstance(events, EventReceiver):
        raise InvalidInputError(
            f"events must be a ct.EventReceiver (or None), got {type(events).__name__}",
            field="events",
            allowed="EventReceiver or None",
        )


def checked_pool_id(pool: Any) -> str:
    """The pool's id, from a ``SenderPool`` or an id."""
    return pool_id_of(pool, "pool")


def checked_channels(channels: Iterable[str] | None) -> list[str] | None:
    """The sender channels to keep (each of SMS, RCS, WHATSAPP at most once), or None."""
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


def checked_text(text: Any) -> str:
    """The message text, if the API takes it."""
    return check_message_text(text, "text")


def check_journal(journal: Any) -> None:
    """A journal is a file path or None."""
    if journal is not None and not isinstance(journal, (str, os.PathLike)):
        raise InvalidInputError(
            f"journal: expected a file path (str or pathlib.Path) or None, got {journal!r}",
            field="journal",
            allowed="a file path or None",
        )


def check_flag(value: Any, field: str) -> None:
    """A flag is True or False, nothing truthy."""
    if not isinstance(value, bool):
        raise InvalidInputError(
            f"{field}: expected True or False, got {value!r}", field=field, allowed=(True, False)
        )


def check_progress(progress: Any) -> None:
    """``progress`` is True, False or None (automatic)."""
    if progress is not None and not isinstance(progress, bool):
        raise InvalidInputError(
            f"progress: expected True, False or None (automatic), got {progress!r}",
            field="progress",
            allowed=(True, False, None),
        )


def check_timeout(timeout: Any) -> None:
    """``timeout`` is a finite number of seconds above 0."""
    number = isinstance(timeout, (int, float)) and not isinstance(timeout, bool)
    if not (number and 0 < timeout < math.inf):
        raise InvalidInputError(
            f"timeout: expected a finite number of seconds > 0, got {timeout!r}",
            field="timeout",
            allowed="> 0",
        )
