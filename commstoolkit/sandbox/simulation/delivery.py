"""How the sandbox delivers: which sender reaches a recipient, and what happens to each attempt.

Everything is a deterministic function of the account's seed, the recipient's address and the
sender (a hash, no state), fixed when a send is accepted:

- **Handsets**: about 60% of phone numbers are RCS-capable, 10% look capable but have RCS
  turned off (their RCS attempt fails with 61337), the rest are not capable (straight to SMS).
- **Channels**: a PHONE recipient gets the pool's RCS senders first when its handset looks
  capable, else SMS; a WHATSAPP recipient needs a WHATSAPP sender. ``channels.filterIn``
  limits the channels (an empty list limits nothing) and ``channels.priority`` reorders them
  (lower first; channels it leaves out follow, in the default order). An RCS attempt
  that does not deliver falls back to the next channel (SMS) as a second attempt.
- **Senders**: within a channel the eligible senders share the traffic, each recipient always
  getting the same one (a hash of its address picks it).
- **Quality**: each sender has a hidden delivery rate (most 93-99.5%, about one in twenty
  40-60%, and every seeded pool holds at least one bad ACTIVATED SMS sender) and pace.
- **Timeline**: an attempt is SENT 0.5-1.5 s after it starts and final after a per-channel
  latency (SMS 2-6 s, RCS 1-3 s, WHATSAPP 1-4 s, times the sender's pace); a FAILED attempt
  is never SENT; about half of delivered RCS / WhatsApp messages are READ 5-60 s later. (With
  the clock's ``instant`` set the clock skips ahead past these times; they stay realistic.)

``MAGIC`` numbers behave the same whatever the seed (see ``MAGIC_TABLE``).
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

E164 = re.compile(r"\+[1-9]\d{6,14}\Z")
INVALID_NUMBER = 21614
MAGIC = {
    "+15005550001": "invalid",
    "+15005550002": "unaddressable",
    "+15005550003": "fails",
    "+15005550004": "undelivered",
    "+15005550005": "no_rcs",
    "+15005550006": "rcs",
    "+15005550007": "rcs_off",
}
MAGIC_TABLE = """\
| address        | behaviour |
|----------------|-----------|
| +15005550001   | invalid number: POST /Messages answers 400, code 21614, context `$.to[i].address` (nothing is sent) |
| +15005550002   | unaddressable: the message is created FAILED with no attempts; stats.unaddressable += 1 |
| +15005550003   | always fails: every attempt FAILED (error 30008 "Unknown error"), no fallback beyond the normal RCS->SMS one |
| +15005550004   | always undelivered: the final attempt UNDELIVERED (error 30003 "Unreachable destination handset") |
| +15005550005   | never RCS-capable: goes straight to SMS |
| +15005550006   | always RCS-capable: RCS, delivered, then READ |
| +15005550007   | RCS turned off: Resolve ranks RCS first, the RCS attempt fails (61337), SMS delivers |
"""  # noqa: E501
ERRORS = {
    61337: "Recipient does not have RCS enabled.",
    30003: "Unreachable destination handset",
    30007: "Message filtered by the carrier",
    30008: "Unknown error",
}
MESSAGING_CHANNELS = ("SMS", "RCS", "WHATSAPP")
DEFAULT_ORDER = {"RCS": 0, "SMS": 1, "WHATSAPP": 2, "EMAIL": 3, "PUSH": 4}
RECIPIENT_CHANNELS = {
    "PHONE": ("RCS", "SMS"),
    "WHATSAPP": ("WHATSAPP",),
    "EMAIL": ("EMAIL",),
    "PUSH": ("PUSH",),
}
RCS_CAPABLE, RCS_OFF = 0.60, 0.70  # cumulative shares of handsets
BAD_SHARE = 0.05
LATENCY = {"SMS": (2.0, 4.0), "RCS": (1.0, 2.0), "WHATSAPP": (1.0, 3.0)}  # base, spread
MAX_ATTEMPTS = 10


def units(seed: int, *parts: str, n: int = 1) -> list[float]:
    """``n`` deterministic uniforms in [0, 1) for (seed, parts)."""
    key = "|".join((str(seed), *parts)).encode()
    digest = hashlib.blake2b(key, digest_size=6 * n).digest()
    return [int.from_bytes(digest[6 * i : 6 * i + 6], "big") / 2.0**48 for i in range(n)]


@dataclass(frozen=True)
class Sender:
    """A sender as routing sees it, with its hidden quality and pace."""

    id: str
    address: str
    channel: str
    display_name: str | None
    quality: float = 0.97
    pace: float = 1.0


@functools.lru_cache(maxsize=1 << 15)
def _draw(seed: int, *parts: str) -> float:
    """``units(seed, *parts)[0]``, kept: a send draws each recipient's handset and sender
    again after the Resolve calls that came first (issue 11) drew them."""
    key = "|".join((str(seed), *parts)).encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=6).digest(), "big") / 2.0**48


@functools.lru_cache(maxsize=16_384)
def _quality_draws(seed: int, sender_id: str) -> tuple[float, ...]:
    """A sender's three quality draws, kept: every Resolve call (100 recipients) and every
    send reads them for each sender of its pool (a pool of 200: 1.2 ms a call, hashing)."""
    return tuple(units(seed, "quality", sender_id, n=3))


def badness(seed: int, sender_id: str) -> float:
    """A sender's draw in [0, 1); below ``BAD_SHARE`` it is a bad sender."""
    return _quality_draws(seed, sender_id)[0]


def traits(seed: int, sender_id: str, bad: frozenset[str] | set[str]) -> tuple[float, float]:
    """(delivery rate, latency factor) of a sender: hidden, fixed by the seed; ``bad`` are
    senders made bad on purpose."""
    u, v, w = _quality_draws(seed, sender_id)
    if sender_id in bad or u < BAD_SHARE:
        return 0.40 + 0.20 * v, 1.3 + 0.5 * w
    return 0.93 + 0.065 * v, 0.8 + 0.4 * w


def handset(seed: int, address: str) -> str:
    """ "rcs" (capable), "rcs_off" (looks capable, RCS turned off) or "sms" (not capable)."""
    magic = MAGIC.get(address)
    if magic == "no_rcs":
        return "sms"
    if magic == "rcs_off":
        return "rcs_off"
    if magic in ("rcs", "fails", "undelivered"):
        return "rcs"
    u = _draw(seed, "rcs", address)
    return "rcs" if u < RCS_CAPABLE else "rcs_off" if u < RCS_OFF else "sms"


@dataclass
class Attempt:
    """One planned attempt: its sender, recipient, timeline and outcome."""

    sender: Sender
    to_address: str
    to_channel: str
    attempted_at: float
    sent_at: float
    final_at: float
    status: str
    read_at: float | None = None
    error_code: int | None = None


@dataclass
class Plan:
    """What will happen to one message: its attempts and its own timeline."""

    to_address: str
    to_channel: str
    start_at: float
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def sender(self) -> Sender | None:
        return self.attempts[-1].sender if self.attempts else None

    def timeline(self) -> tuple[float, float, str, float | None]:
        """(sent_at, final_at, final status, read_at) of the message as a whole."""
        if not self.attempts:
            return self.start_at, self.start_at, "FAILED", None
        last = self.attempts[-1]
        sent = [a.sent_at for a in self.attempts if a.sent_at < a.final_at]
        return (min(sent) if sent else last.final_at), last.final_at, last.status, last.read_at


class Router:
    """Routes recipients over the eligible senders of one send (or one Resolve)."""

    def __init__(
        self,
        seed: int,
        senders: Sequence[Sender],
        *,
        filter_in: Sequence[str] | None = None,
        priority: dict[str, int] | None = None,
    ) -> None:
        self.seed = seed
        allowed = set(filter_in) if filter_in else None
        self.by_channel: dict[str, list[Sender]] = {}
        for sender in sorted(senders, key=lambda s: s.id):
            if allowed is None or sender.channel in allowed:
                self.by_channel.setdefault(sender.channel, []).append(sender)
        given = priority or {}
        self.rank = {
            channel: (0, given[channel]) if channel in given else (1, DEFAULT_ORDER[channel])
            for channel in DEFAULT_ORDER
        }

    def channels(self, address: str, to_channel: str) -> list[str]:
        """The sender channels that would try this recipient, in order (empty: unreachable)."""
        if MAGIC.get(address) == "unaddressable":
            return []
        found = [c for c in RECIPIENT_CHANNELS[to_channel] if self.by_channel.get(c)]
        if to_channel == "PHONE" and handset(self.seed, address) == "sms":
            found = [c for c in found if c != "RCS"]
        return sorted(found, key=lambda c: self.rank[c])

    def pick(self, channel: str, address: str) -> Sender:
        """The sender of ``channel`` this recipient always gets (sticky)."""
        candidates = self.by_channel[channel]
        u = _draw(self.seed, "pick", channel, address)
        return candidates[int(u * len(candidates))]

    def routes(self, address: str, to_channel: str) -> list[Sender]:
        """The senders that would try this recipient, best first (what Resolve shows)."""
        return [self.pick(c, address) for c in self.channels(address, to_channel)]

    def plan(self, addresses: Sequence[tuple[str, str]], start: float) -> Plan:
        """The attempts for one recipient (one or several connected addresses)."""
        plan = Plan(addresses[0][0], addresses[0][1], start)
        at = start
        for address, to_channel in addresses:
            for channel in self.channels(address, to_channel):
                attempt = self._attempt(self.pick(channel, address), address, to_channel, at)
                plan.attempts.append(attempt)
                plan.to_address, plan.to_channel = address, to_channel
                at = attempt.final_at
                if attempt.status == "DELIVERED" or channel != "RCS":
                    break  # only an RCS attempt falls back to the next channel
            if (plan.attempts and plan.attempts[-1].status == "DELIVERED") or len(
                plan.attempts
            ) >= MAX_ATTEMPTS:
                break
        return plan

    def _attempt(self, sender: Sender, address: str, to_channel: str, at: float) -> Attempt:
        u = units(self.seed, "attempt", address, sender.id, n=6)
        status, error = self._outcome(sender, address, u[0], u[1])
        if status == "FAILED":
            sent = final = at + (0.3 + 0.7 * u[2])
        else:
            base, spread = LATENCY[sender.channel]
            sent = at + (0.5 + u[2])
            final = sent + sender.pace * (base + spread * u[3])
        read = None
        magic = MAGIC.get(address)
        if status == "DELIVERED" and sender.channel != "SMS" and (magic == "rcs" or u[4] < 0.5):
            read = final + (5 + 55 * u[5])
        return Attempt(sender, address, to_channel, at, sent, final, status, read, error)

    def _outcome(self, sender: Sender, address: str, u: float, v: float) -> tuple[str, int | None]:
        magic = MAGIC.get(address)
        if magic == "fails":
            return "FAILED", 30008
        if magic == "undelivered":
            return "UNDELIVERED", 30003
        if sender.channel == "RCS" and handset(self.seed, address) == "rcs_off":
            return "FAILED", 61337
        if magic in ("rcs", "rcs_off") or u < sender.quality:
            return "DELIVERED", None
        if v < 0.55:
            return "UNDELIVERED", 30003
        return ("UNDELIVERED", 30007) if v < 0.85 else ("FAILED", 30008)
