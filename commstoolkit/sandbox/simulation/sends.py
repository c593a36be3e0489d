"""What a send and a resolve ask for, as plain values (the front reads request bodies into
them; the simulation routes and delivers from them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Recipient:
    """One entry of ``to``: its addresses (one, or several connected), variables, profile."""

    addresses: tuple[tuple[str, str], ...]
    variables: dict[str, str] | None = None
    profile: dict[str, str] | None = None  # a ProfileRecipient: unaddressable here


@dataclass(frozen=True)
class SenderChoice:
    """``from``: kind "any" (omitted), "address", "sender" or "pool", and its channel controls."""

    kind: str = "any"
    value: str | None = None
    channel: str | None = None
    filter_in: tuple[str, ...] | None = None
    priority: dict[str, int] | None = None


@dataclass(frozen=True)
class SendRequest:
    """A checked ``POST /Messages`` body."""

    recipients: list[Recipient]
    content: dict[str, Any]
    sender: SenderChoice
    tags: dict[str, str]
    send_at: float | None


@dataclass(frozen=True)
class ResolveRequest:
    """A checked ``POST /Senders/Resolve`` body: ``sender`` is "any", "address" (one sender
    by address) or "credentials" (push credentials: nothing matches), ``pool_id`` limits it to
    a pool's members; ``sender`` carries the channel controls."""

    recipients: list[tuple[str, str]]
    sender: SenderChoice
    pool_id: str | None = None
