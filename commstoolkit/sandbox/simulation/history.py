"""Production traffic history of the seeded account: the messages of the days before the clock.

``seed_history`` fills ``message_operations``, ``messages`` and ``attempts`` with what the
account sent in the ``traffic_days`` days before the clock's start (``clock.EPOCH``), about
``daily_messages`` a day. It is part of the seed (never the user's changes, so a reseed
refusal ignores it) and a function of the seed, the size and those two numbers only: the same
arguments give the same rows and ids. Vectorised with numpy, stored with ``executemany``
(a million messages in well under a minute).

How it is made (the choices, since the API leaves them open):

- **Sources**: the three seeded pools carry most of it (Customer Support - NAMER 50%, Marketing
  Promotions - UK 22%, Ops Alerts - Global 20%; a pool without SMS, RCS or WhatsApp members
  carries none), and up to three single SMS senders outside the pools 8% (no ``senderPoolId``
  in their ``from``). Sources that cannot send are left out and the shares renormalised.
- **Recipients**: valid E.164 mobile numbers (``phonenumbers``' example number of the region,
  varied in its last four digits, each checked valid): NAMER -> US 85% / CA 15%, UK -> GB,
  Global -> US, GB, DE, FR, IN, BR, AU, MX, ES; single senders -> US / CA. Some recipients get
  many messages. About 12% of a pool's messages go to WhatsApp recipients when the pool has
  WhatsApp senders.
- **Time**: hour slots of the window weighted by the recipient country's local hour of day
  (few at night, most from 9:00 to 20:00) and local weekday (Saturday about half a weekday,
  Sunday less); within a slot uniform, ending two minutes before the hour so that everything
  is final before the clock starts. A message is created (and starts) at its own moment.
- **Operations**: one message operation per source and UTC hour holding that hour's
  messages, created at its first message (its messages are created over the hour, as a
  dispatcher spreads a batch), COMPLETED, with its stats settled. Tags: the UK pool's carry
  ``campaign`` (one of ``seed.CAMPAIGNS``, changing every day), the others ``team`` and
  ``type``.
- **Delivery**, as ``delivery`` does for live sends: handsets by ``delivery.handset`` (RCS
  first for capable ones when the pool has RCS senders; RCS turned off fails with 61337; an
  RCS attempt not delivered falls back to SMS), the sender of a channel sticky per
  recipient, each attempt delivered at its sender's hidden quality (``delivery.traits``) with
  the same error codes, latencies and pace, about half of delivered RCS / WhatsApp messages
  READ 5-60 s later. A DEACTIVATED sender carries traffic only before it was deactivated (its
  ``updatedAt``), a sender only after it was created; their recipients go to the others.
- **Planted faults** (``Sandbox.history_faults()``, stored in the meta table under
  ``history``): ``degrading``, one ACTIVATED SMS sender of a pool (the NAMER one when it
  can; preferably a sender no other pool holds), of normal quality, delivering 55-65% of its
  attempts over the last three days (half the window when it is shorter); ``badHour``, one
  country with volume (US or GB) at one busy UTC hour, where half of the messages are
  filtered by the carrier (30007) on every attempt, so delivery there is about half;
  ``deactivated``, one DEACTIVATED member of a pool that carried traffic in the first days
  of the window (when the seed deactivated none then, the ``updatedAt`` of a member it
  deactivated at another time moves into them; only a seed with no DEACTIVATED SMS pool
  member gets an ACTIVATED one deactivated).
"""

from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..state import ids
from ..state.seed import CAMPAIGNS, POOLS
from . import delivery
from .clock import rfc3339
from .message_wire import STATUS_COUNTS

DAY = 86_400
HOUR = 3_600
MARGIN = 120.0  # seconds before the end of each hour slot: every message is final by then
DEFAULT_DAILY = 2_000
MAX_TRAFFIC_DAYS = 365
MAX_DAILY_MESSAGES = 1_000_000
MAX_MESSAGES = 10_000_000
DEGRADE_DAYS = 3.0
WHATSAPP_SHARE = 0.12
BLOCKED_SHARE = 0.5
SINGLE_SHARE = 0.08
SINGLE_SENDERS = 3
RECIPIENTS_PER_COUNTRY = 4_000

# (pool name, share, recipient countries, tags, text)
POOL_TRAFFIC: dict[str, tuple[float, dict[str, float], dict[str, str], str]] = {
    POOLS[0][0]: (
        0.50,
        {"US": 0.85, "CA": 0.15},
        {"team": "support", "type": "notification"},
        "Your support ticket has been updated. Reply HELP for help.",
    ),
    POOLS[1][0]: (
        0.22,
        {"GB": 1.0},
        {"team": "marketing"},
        "Offers just for you this week. Reply STOP to opt out.",
    ),
    POOLS[2][0]: (
        0.20,
        {"US": 0.30, "GB": 0.15, "DE": 0.12, "FR": 0.10, "IN": 0.10, "BR": 0.08,
         "AU": 0.05, "MX": 0.05, "ES": 0.05},
        {"team": "ops", "type": "alert"},
        "Service notice: scheduled maintenance tonight.",
    ),
}  # fmt: skip
SINGLE_TRAFFIC = ({"US": 0.9, "CA": 0.1}, {"type": "otp"}, "Your verification code is 482913.")
UTC_OFFSET = {
    "US": -5, "CA": -5, "GB": 0, "DE": 1, "FR": 1, "ES": 1, "IN": 5, "BR": -3, "AU": 10, "MX": -6,
}  # fmt: skip
# Relative volume per local hour (0-23) and per local weekday (Monday first).
DIURNAL = np.array([
    0.12, 0.08, 0.06, 0.05, 0.06, 0.10, 0.22, 0.45, 0.75, 0.95, 1.00, 1.00,
    0.98, 0.97, 0.96, 0.95, 0.92, 0.88, 0.80, 0.70, 0.55, 0.40, 0.28, 0.18,
])  # fmt: skip
WEEKDAY = np.array([1.0, 1.0, 1.0, 1.0, 0.95, 0.55, 0.45])
BUSY_HOURS = {"US": range(15, 22), "GB": range(9, 17)}
CHANNELS = ("SMS", "RCS", "WHATSAPP")
STATUS_INDEX = {name.upper(): i for i, name in enumerate(STATUS_COUNTS)}
DELIVERED, UNDELIVERED, FAILED = "DELIVERED", "UNDELIVERED", "FAILED"
OUTCOMES = (DELIVERED, UNDELIVERED, FAILED)
LATENCY = np.array([delivery.LATENCY[c] for c in CHANNELS])  # base, spread per channel index
_ALPHABET = np.frombuffer(ids.ALPHABET.encode(), dtype=np.uint8)
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_compact = json.JSONEncoder(separators=(",", ":")).encode


def check_history(traffic_days: object, daily_messages: object) -> None:
    """ValueError naming ``traffic_days`` or ``daily_messages`` unless each is None or an
    integer in its range, and the history stays within ``MAX_MESSAGES``."""
    for name, value, high in (
        ("traffic_days", traffic_days, MAX_TRAFFIC_DAYS),
        ("daily_messages", daily_messages, MAX_DAILY_MESSAGES),
    ):
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= high
        ):
            raise ValueError(f"{name} must be an integer from 0 to {high:,}, got {value!r}")
    days, daily = traffic_days or 0, daily_messages or 0
    if isinstance(days, int) and isinstance(daily, int) and days * daily > MAX_MESSAGES:
        raise ValueError(
            f"traffic_days x daily_messages must be at most {MAX_MESSAGES:,} messages, "
            f"got {days} x {daily:,}"
        )


@dataclass
class Member:
    """A sender that can carry history: when it could send, and how well."""

    id: str
    channel: str
    status: str
    created_at: float
    active_until: float
    quality: float
    pace: float


@dataclass
class Source:
    """One stream of traffic: a pool (or a single sender), its share, countries and senders."""

    name: str
    pool_id: str | None
    share: float
    countries: dict[str, float]
    tags: dict[str, str]
    text: str
    by_channel: dict[str, list[Member]] = field(default_factory=dict)
    campaign: bool = False


def seed_history(
    conn: sqlite3.Connection,
    seed: int,
    epoch: float,
    traffic_days: int,
    daily_messages: int,
    bad: frozenset[str],
) -> dict[str, Any]:
    """Insert the history (inside the caller's write transaction); returns what was planted
    (stored by the caller, shown by ``Sandbox.history_faults()``); ``{}`` for none."""
    total = traffic_days * daily_messages
    if total <= 0:
        return {}
    rng = np.random.default_rng([seed % 2**63, 13, traffic_days, daily_messages])
    start = epoch - traffic_days * DAY
    sources = _sources(conn, seed, bad, start, epoch)
    if not sources:
        return {}
    planted: dict[str, Any] = {
        "trafficDays": traffic_days,
        "dailyMessages": daily_messages,
        "start": rfc3339(start),
        "end": rfc3339(epoch),
    }
    planted["deactivated"] = _plant_deactivated(
        conn, rng, sources, start, traffic_days, (seed, bad)
    )
    planted["degrading"] = _plant_degrading(rng, sources, epoch, traffic_days)
    country = "US" if rng.random() < 0.5 else "GB"
    hour = int(rng.choice(list(BUSY_HOURS[country])))
    planted["badHour"] = {"country": country, "hourUtc": hour, "deliveredShare": BLOCKED_SHARE}
    traffic = _Traffic(rng, seed, start, traffic_days, planted, sources)
    shares = np.array([s.share for s in sources])
    for index, count in enumerate(rng.multinomial(total, shares / shares.sum())):
        if count:
            traffic.add(index, int(count))
    planted["messages"] = traffic.store(conn)
    return planted


def _sources(
    conn: sqlite3.Connection, seed: int, bad: frozenset[str], start: float, epoch: float
) -> list[Source]:
    """The seeded pools (by name) and single senders that can carry history."""
    rows = conn.execute(
        "SELECT p.id AS pool_id, p.name, s.id, s.channel, s.status, s.created_at, s.updated_at "
        "FROM pools p JOIN memberships m ON m.pool_id = p.id JOIN senders s ON s.id = m.sender_id "
        "ORDER BY p.name, s.id"
    ).fetchall()
    sources: dict[str, Source] = {}
    for row in rows:
        if row["name"] not in POOL_TRAFFIC or row["channel"] not in CHANNELS:
            continue
        share, countries, tags, text = POOL_TRAFFIC[row["name"]]
        source = sources.setdefault(
            row["name"],
            Source(row["name"], row["pool_id"], share, countries, tags, text,
                   campaign=row["name"] == POOLS[1][0]),
        )  # fmt: skip
        member = _member(seed, bad, row)
        if member.created_at < epoch and member.active_until > start:
            source.by_channel.setdefault(member.channel, []).append(member)
    found = [sources[name] for name in POOL_TRAFFIC if name in sources]
    singles = conn.execute(
        "SELECT NULL AS pool_id, NULL AS name, s.id, s.channel, s.status, s.created_at, "
        "s.updated_at FROM senders s WHERE s.channel = 'SMS' AND s.status = 'ACTIVATED' "
        "AND s.created_at < ? AND s.id NOT IN (SELECT sender_id FROM memberships) "
        "ORDER BY s.id",
        (start,),
    ).fetchall()
    countries, tags, text = SINGLE_TRAFFIC
    for row in singles[:SINGLE_SENDERS]:
        member = _member(seed, bad, row)
        share = SINGLE_SHARE / min(SINGLE_SENDERS, len(singles))
        single = Source(f"sender {row['id']}", None, share, countries, tags, text)
        single.by_channel["SMS"] = [member]
        found.append(single)
    return [s for s in found if s.by_channel]


def _member(seed: int, bad: frozenset[str], row: sqlite3.Row) -> Member:
    quality, pace = delivery.traits(seed, row["id"], bad)
    until = float(row["updated_at"]) if row["status"] == "DEACTIVATED" else math.inf
    return Member(
        row["id"], row["channel"], row["status"], float(row["created_at"]), until, quality, pace
    )


def _plant_deactivated(
    conn: sqlite3.Connection,
    rng: np.random.Generator,
    sources: list[Source],
    start: float,
    days: int,
    traits: tuple[int, frozenset[str]],
) -> dict[str, Any] | None:
    """A DEACTIVATED pool member carrying traffic over the first days of the window: one the
    seed deactivated in those days; else one the seed deactivated at another time, whose
    deactivation moves into them; else an ACTIVATED member of normal quality deactivated
    then (its pool keeping more than three always-active SMS senders)."""
    first_days = start + max(1.0, days / 3) * DAY
    pooled = {s.pool_id: s for s in sources if s.pool_id}
    for source in pooled.values():
        for member in source.by_channel.get("SMS", []):
            if start + DAY <= member.active_until <= first_days and member.created_at < start:
                return _deactivated(source, member)
    rows = [
        (pool_id, sender_id, status)
        for pool_id, sender_id, status in conn.execute(
            "SELECT m.pool_id, s.id, s.status FROM memberships m "
            "JOIN senders s ON s.id = m.sender_id WHERE s.channel = 'SMS' AND s.created_at < ? "
            "ORDER BY m.pool_id, s.id",
            (start,),
        )
        if pool_id in pooled
    ]
    seeded = [(p, s) for p, s, status in rows if status == "DEACTIVATED"]
    activated = []
    for pool_id, sender_id, status in rows:
        stable = [
            m
            for m in pooled[pool_id].by_channel.get("SMS", [])
            if m.created_at < start and m.active_until == math.inf
        ]
        normal = any(m.id == sender_id and m.quality > 0.9 for m in stable)
        if status == "ACTIVATED" and normal and len(stable) > 3:
            activated.append((pool_id, sender_id))
    candidates = seeded or activated
    if not candidates:
        return None
    pool_id, sender_id = candidates[int(rng.integers(len(candidates)))]
    deactivated_at = int(start + min(max(1.0, days / 3), days * 0.5) * DAY)
    conn.execute(
        "UPDATE senders SET status = 'DEACTIVATED', updated_at = ? WHERE id = ?",
        (deactivated_at, sender_id),
    )
    row = conn.execute(
        "SELECT id, channel, status, created_at, updated_at FROM senders WHERE id = ?",
        (sender_id,),
    ).fetchone()
    # Every pool holding it carries traffic through it until then.
    for holder in {p for p, s, _ in rows if s == sender_id}:
        sms = pooled[holder].by_channel.setdefault("SMS", [])
        sms[:] = sorted(
            [*(m for m in sms if m.id != sender_id), _member(*traits, row)], key=lambda m: m.id
        )
    member = next(m for m in pooled[pool_id].by_channel["SMS"] if m.id == sender_id)
    return _deactivated(pooled[pool_id], member)


def _deactivated(source: Source, member: Member) -> dict[str, Any]:
    return {
        "senderId": member.id,
        "senderPoolId": source.pool_id,
        "pool": source.name,
        "deactivatedAt": rfc3339(member.active_until),
    }


def _plant_degrading(
    rng: np.random.Generator, sources: list[Source], epoch: float, days: int
) -> dict[str, Any] | None:
    """An ACTIVATED SMS sender of normal quality that degrades over the last days."""
    for source in (s for s in sources if s.pool_id):
        normal = [
            m
            for m in source.by_channel.get("SMS", [])
            if m.status == "ACTIVATED" and m.quality >= 0.93 and m.active_until == math.inf
        ]
        if len(normal) < 2:
            continue
        # Preferably one no other pool holds: its traffic is all this pool's.
        elsewhere = {m.id for other in sources if other is not source
                     for members in other.by_channel.values() for m in members}  # fmt: skip
        normal = [m for m in normal if m.id not in elsewhere] or normal
        member = normal[int(rng.integers(len(normal)))]
        since = epoch - min(DEGRADE_DAYS, days / 2) * DAY
        low = round(0.55 + 0.10 * float(rng.random()), 3)
        return {
            "senderId": member.id,
            "senderPoolId": source.pool_id,
            "pool": source.name,
            "since": rfc3339(since),
            "sinceSeconds": since,
            "normalRate": round(member.quality, 3),
            "degradedRate": low,
        }
    return None


_NUMBERS: dict[str, tuple[list[str], list[int]]] = {}


def _numbers(country: str, count: int) -> list[str]:
    """The first ``count`` (at most ``RECIPIENTS_PER_COUNTRY``) valid E.164 mobile numbers of
    a country: its example number varied in its last four digits (in a fixed scattered
    order), each checked with ``phonenumbers`` (once per process: the list only grows)."""
    import phonenumbers
    from phonenumbers import PhoneNumberFormat, PhoneNumberType

    found, tried = _NUMBERS.setdefault(country, ([], [0]))
    example = phonenumbers.example_number_for_type(country, PhoneNumberType.MOBILE)
    if example is None:
        return []
    head = phonenumbers.format_number(example, PhoneNumberFormat.E164)[:-4]
    count = min(count, RECIPIENTS_PER_COUNTRY)
    while len(found) < count and tried[0] < 10_000:
        candidate = f"{head}{(tried[0] * 7_919 + 1_234) % 10_000:04d}"
        tried[0] += 1
        parsed = phonenumbers.parse(candidate)
        if (
            candidate not in delivery.MAGIC
            and phonenumbers.is_valid_number(parsed)
            and phonenumbers.region_code_for_number(parsed) == country
        ):
            found.append(candidate)
    return found[:count]


def _slot_weights(country: str, start: float, n_slots: int) -> np.ndarray:
    """Probability of each hour slot of the window for recipients in ``country``."""
    local = start + np.arange(n_slots) * HOUR + UTC_OFFSET[country] * HOUR
    hour = ((local // HOUR) % 24).astype(int)
    weekday = ((local // DAY + 3) % 7).astype(int)  # 1970-01-01 was a Thursday
    weights = DIURNAL[hour] * WEEKDAY[weekday]
    return np.asarray(weights / weights.sum())


class _Traffic:
    """The messages of every source, drawn as numpy columns, then stored."""

    def __init__(
        self,
        rng: np.random.Generator,
        seed: int,
        start: float,
        days: int,
        planted: dict[str, Any],
        sources: list[Source],
    ) -> None:
        self.rng, self.seed, self.start = rng, seed, start
        self.n_slots = days * 24
        self.planted = planted
        self.sources = sources
        self.parts: list[dict[str, np.ndarray]] = []
        self.senders: list[str] = []
        self.sender_index: dict[str, int] = {}
        quality, pace = [], []
        for source in sources:
            for members in source.by_channel.values():
                for m in members:
                    if m.id not in self.sender_index:
                        self.sender_index[m.id] = len(self.senders)
                        self.senders.append(m.id)
                        quality.append(m.quality)
                        pace.append(m.pace)
        self.quality, self.pace = np.array(quality), np.array(pace)
        self.addresses: list[str] = []
        self.countries: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        # Messages each country is expected to get (how many recipients it needs).
        total = days * int(planted["dailyMessages"])
        share = sum(s.share for s in sources)
        self.expected: dict[str, int] = {}
        for source in sources:
            weight = sum(source.countries.values())
            for country, part in source.countries.items():
                expected = int(total * source.share / share * part / weight)
                self.expected[country] = self.expected.get(country, 0) + expected

    def _recipients(self, country: str, wanted: int) -> tuple[np.ndarray, ...]:
        """(address index, handset, sticky key) of the recipients of ``country``: enough for
        ``wanted`` messages (a recipient gets several; the same recipients whatever source
        asks). Handsets: 0 RCS-capable, 1 RCS turned off, 2 SMS only (``delivery.handset``);
        the sticky key picks a recipient's sender."""
        if country not in self.countries:
            numbers = _numbers(country, max(20, self.expected[country] // 3))
            first = len(self.addresses)
            self.addresses.extend(numbers)
            kinds = {"rcs": 0, "rcs_off": 1, "sms": 2}
            handset = np.array([kinds[delivery.handset(self.seed, a)] for a in numbers])
            sticky = self.rng.integers(0, 2**31, size=len(numbers))
            self.countries[country] = (first + np.arange(len(numbers)), handset, sticky)
        index, handset, sticky = self.countries[country]
        keep = max(1, min(len(index), max(20, wanted // 3)))
        return index[:keep], handset[:keep], sticky[:keep]

    def add(self, source_index: int, count: int) -> None:
        """Draw ``count`` messages of one source: time, recipient, route, outcome."""
        source = self.sources[source_index]
        names = list(source.countries)
        shares = np.array([source.countries[c] for c in names])
        per_country = self.rng.multinomial(count, shares / shares.sum())
        for country, n in zip(names, per_country, strict=True):
            if n:
                self._add_country(source_index, country, int(n))

    def _add_country(self, source_index: int, country: str, n: int) -> None:
        rng, source = self.rng, self.sources[source_index]
        slot = rng.choice(self.n_slots, size=n, p=_slot_weights(country, self.start, self.n_slots))
        ms = np.floor((self.start + slot * HOUR + rng.random(n) * (HOUR - MARGIN)) * 1000)
        ms = ms.astype(np.int64)
        t = ms / 1000.0
        recipients, handsets, keys = self._recipients(country, n)
        # A few recipients get many messages: a skewed pick of the country's recipients.
        pick = np.minimum((rng.random(n) ** 2 * len(recipients)).astype(np.int64),
                          len(recipients) - 1)  # fmt: skip
        address, handset, sticky = recipients[pick], handsets[pick], keys[pick]
        has = {c: bool(source.by_channel.get(c)) for c in CHANNELS}
        if not (has["SMS"] or has["RCS"]):
            whatsapp = np.ones(n, dtype=bool)
        elif has["WHATSAPP"] and source.pool_id:
            whatsapp = rng.random(n) < WHATSAPP_SHARE
        else:
            whatsapp = np.zeros(n, dtype=bool)
        first = np.where(whatsapp, 2, np.where(has["RCS"] & (handset != 2), 1, 0))
        if not has["SMS"]:
            first = np.where(first == 0, 1, first)  # a pool without SMS tries RCS anyway
        bad_hour = self.planted["badHour"]
        blocked = np.zeros(n, dtype=bool)
        if country == bad_hour["country"]:
            in_hour = (ms // (HOUR * 1000)) % 24 == bad_hour["hourUtc"]
            blocked = in_hour & (rng.random(n) < BLOCKED_SHARE)
        s1 = self._pick(source, first, sticky, t)
        a1 = self._attempt(first, s1, t, handset, blocked)
        fallback = (first == 1) & (a1["status"] != 0) & has["SMS"]
        sms = np.zeros(n, dtype=np.int64)
        s2 = self._pick(source, sms, sticky, t)
        a2 = self._attempt(sms, s2, a1["final"], handset, blocked)
        self.parts.append({
            "source": np.full(n, source_index), "slot": slot, "ms": ms, "address": address,
            "to_whatsapp": whatsapp, "fallback": fallback,
            **{f"a1_{k}": v for k, v in a1.items()}, **{f"a2_{k}": v for k, v in a2.items()},
        })  # fmt: skip

    def _pick(
        self, source: Source, channel: np.ndarray, sticky: np.ndarray, t: np.ndarray
    ) -> np.ndarray:
        """The sender (index) of each message's attempt on ``channel``: sticky per recipient;
        a sender not active at that moment hands its recipients to the always-active ones."""
        picked = np.full(len(t), -1, dtype=np.int64)
        for c, name in enumerate(CHANNELS):
            members = source.by_channel.get(name)
            mask = channel == c
            if not members or not mask.any():
                continue
            every = np.array([self.sender_index[m.id] for m in members])
            since = np.array([m.created_at for m in members])
            until = np.array([m.active_until for m in members])
            stable = [
                m for m in members if m.created_at < self.start and m.active_until == math.inf
            ] or members
            always = np.array([self.sender_index[m.id] for m in stable])
            key, at = sticky[mask], t[mask]
            choice = key % len(members)
            active = (since[choice] <= at) & (at < until[choice])
            picked[mask] = np.where(active, every[choice], always[(key // 7) % len(always)])
        return picked

    def _attempt(
        self,
        channel: np.ndarray,
        sender: np.ndarray,
        at: np.ndarray,
        handset: np.ndarray,
        blocked: np.ndarray,
    ) -> dict[str, np.ndarray]:
        """One attempt per message: status (an index of ``OUTCOMES``), error code (0: none),
        the channel and sender, attempted / sent / final / read times (read NaN: never)."""
        n = len(at)
        safe = np.maximum(sender, 0)
        quality = self.quality[safe]
        degrading = self.planted.get("degrading")
        if degrading:
            late = (sender == self.sender_index[degrading["senderId"]]) & (
                at >= degrading["sinceSeconds"]
            )
            quality = np.where(late, degrading["degradedRate"], quality)
        u = self.rng.random((6, n))
        delivered = (u[0] < quality) & ~blocked
        status = np.where(delivered, 0, np.where(u[1] < 0.85, 1, 2))
        error = np.where(u[1] < 0.55, 30003, np.where(u[1] < 0.85, 30007, 30008))
        error = np.where(delivered, 0, error)
        status, error = np.where(blocked, 1, status), np.where(blocked, 30007, error)
        rcs_off = (channel == 1) & (handset == 1)
        status, error = np.where(rcs_off, 2, status), np.where(rcs_off, 61337, error)
        failed = status == 2
        base, spread = LATENCY[channel, 0], LATENCY[channel, 1]
        sent = np.where(failed, at + 0.3 + 0.7 * u[2], at + 0.5 + u[2])
        final = np.where(failed, sent, sent + self.pace[safe] * (base + spread * u[3]))
        readable = (status == 0) & (channel != 0) & (u[4] < 0.5)
        read = np.where(readable, final + 5 + 55 * u[5], np.nan)
        return {"channel": channel, "sender": sender, "status": status, "error": error,
                "at": at, "sent": sent, "final": final, "read": read}  # fmt: skip

    def store(self, conn: sqlite3.Connection) -> int:
        """Insert the operations, messages and attempts drawn; returns how many messages."""
        if not self.parts:
            return 0
        col = {k: np.concatenate([p[k] for p in self.parts]) for k in self.parts[0]}
        n = len(col["ms"])
        message_ids = _encode_ids(ids.MESSAGE, col["ms"], self.rng)
        order = np.argsort(message_ids, kind="stable")
        col = {k: v[order] for k, v in col.items()}
        message_ids = message_ids[order]
        fb = col["fallback"]
        last = {k: np.where(fb, col[f"a2_{k}"], col[f"a1_{k}"])
                for k in ("channel", "sender", "status", "final", "read")}  # fmt: skip
        first_sent = np.where(col["a1_sent"] < col["a1_final"], col["a1_sent"], np.inf)
        second_sent = np.where(fb & (col["a2_sent"] < col["a2_final"]), col["a2_sent"], np.inf)
        sent = np.minimum(first_sent, second_sent)
        sent = np.where(np.isinf(sent), last["final"], sent)
        # Operations: one per source and hour slot, created at its first message.
        key = col["source"] * self.n_slots + col["slot"]
        op_keys, op_of = np.unique(key, return_inverse=True)
        n_ops = len(op_keys)
        op_ms = np.full(n_ops, np.iinfo(np.int64).max)
        np.minimum.at(op_ms, op_of, col["ms"])
        op_ids = _encode_ids(ids.OPERATION, op_ms, self.rng)
        read_or_final = np.where(np.isnan(last["read"]), last["final"], last["read"])
        op_final = np.zeros(n_ops)
        np.maximum.at(op_final, op_of, last["final"])
        op_change = np.zeros(n_ops)
        np.maximum.at(op_change, op_of, read_or_final)
        n_attempts = 1 + fb.astype(np.int64)
        outcome = np.array([STATUS_INDEX[s] for s in OUTCOMES])[last["status"]]
        outcome = np.where(np.isnan(last["read"]), outcome, STATUS_INDEX["READ"])
        width = len(STATUS_COUNTS)
        counts = np.bincount(op_of * width + outcome, minlength=n_ops * width)
        counts = counts.reshape(n_ops, width)
        totals = np.bincount(op_of, minlength=n_ops)
        attempts_per_op = np.bincount(op_of, weights=n_attempts, minlength=n_ops)
        self._store_operations(
            conn, op_keys, op_ids, op_ms, op_final, op_change, counts, totals, attempts_per_op
        )
        senders = np.array([*self.senders, ""], dtype=object)
        addresses = np.array(self.addresses, dtype=object)
        to_address = addresses[col["address"]]
        to_channel = np.where(col["to_whatsapp"], "WHATSAPP", "PHONE").astype(object)
        operation = op_ids[op_of]
        created = col["ms"] // 1000
        statuses = np.array(OUTCOMES, dtype=object)
        channels = np.array(CHANNELS, dtype=object)
        conn.executemany(
            "INSERT INTO messages VALUES (?, ?, ?, ?, NULL, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            zip(
                message_ids.tolist(), operation.tolist(), to_address.tolist(),
                to_channel.tolist(), senders[last["sender"]].tolist(),
                channels[last["channel"]].tolist(), n_attempts.tolist(), created.tolist(),
                (col["ms"] / 1000.0).tolist(), sent.tolist(), last["final"].tolist(),
                statuses[last["status"]].tolist(), _nullable(last["read"]), strict=True,
            ),
        )  # fmt: skip
        for n_attempt, mask in ((1, np.ones(n, dtype=bool)), (2, fb)):
            a = f"a{n_attempt}_"
            count = int(mask.sum())
            sids = _hex_sids(self.rng, count)
            conn.executemany(
                f"INSERT INTO attempts VALUES (?, {n_attempt}, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                zip(
                    message_ids[mask].tolist(), operation[mask].tolist(),
                    senders[col[a + "sender"][mask]].tolist(), to_address[mask].tolist(),
                    to_channel[mask].tolist(), col[a + "at"][mask].tolist(),
                    col[a + "sent"][mask].tolist(), col[a + "final"][mask].tolist(),
                    statuses[col[a + "status"][mask]].tolist(), _nullable(col[a + "read"][mask]),
                    _nullable(np.where(col[a + "error"][mask] == 0, np.nan,
                                       col[a + "error"][mask]), integer=True),
                    sids, strict=True,
                ),
            )  # fmt: skip
        return n

    def _store_operations(
        self,
        conn: sqlite3.Connection,
        keys: np.ndarray,
        op_ids: np.ndarray,
        op_ms: np.ndarray,
        final: np.ndarray,
        change: np.ndarray,
        counts: np.ndarray,
        totals: np.ndarray,
        attempts: np.ndarray,
    ) -> None:
        rows = []
        for i, key in enumerate(keys.tolist()):
            source = self.sources[key // self.n_slots]
            day = (key % self.n_slots) // 24
            tags = dict(source.tags)
            if source.campaign:
                tags["campaign"] = CAMPAIGNS[(day + self.seed) % len(CAMPAIGNS)]
            total = int(totals[i])
            stats = {"total": total, "recipients": total, "attempts": int(attempts[i]),
                     "unaddressable": 0,
                     **dict(zip(STATUS_COUNTS, counts[i].tolist(), strict=True))}  # fmt: skip
            start = int(op_ms[i]) / 1000.0
            rows.append((
                str(op_ids[i]), int(op_ms[i]) // 1000, start, float(final[i]),
                float(change[i]), total, source.pool_id, _compact(tags),
                _compact({"text": source.text}), _compact(stats),
            ))  # fmt: skip
        conn.executemany(
            "INSERT INTO message_operations VALUES (?, ?, ?, ?, ?, NULL, ?, 0, ?, ?, ?, ?)", rows
        )


def _encode_ids(prefix: str, ms: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Ids like ``ids.make_id`` for each millisecond, with random parts from ``rng``, as a
    numpy array of str (sorting it sorts by time, as the ids do)."""
    n = len(ms)
    digits = np.empty((n, ids.TIME_CHARS + ids.RANDOM_CHARS), dtype=np.uint8)
    shifts = 5 * np.arange(ids.TIME_CHARS - 1, -1, -1, dtype=np.int64)
    digits[:, : ids.TIME_CHARS] = (ms[:, None] >> shifts[None, :]) & 31
    digits[:, ids.TIME_CHARS :] = rng.integers(0, 32, size=(n, ids.RANDOM_CHARS))
    body = _ALPHABET[digits].view(f"S{ids.TIME_CHARS + ids.RANDOM_CHARS}").ravel()
    return np.char.add(prefix, body.astype(str))


def _hex_sids(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` SM SIDs (``SM`` + 32 hex digits)."""
    body = _HEX[rng.integers(0, 16, size=(n, 32))].view("S32").ravel().astype(str)
    sids: list[str] = np.char.add("SM", body).tolist()
    return sids


def _nullable(values: np.ndarray, integer: bool = False) -> list[Any]:
    """A column as Python values, NaN as None (NULL)."""
    out = values.astype(object)
    out[np.isnan(values)] = None
    if integer:
        keep = ~np.isnan(values)
        out[keep] = values[keep].astype(np.int64).astype(object)
    column: list[Any] = out.tolist()
    return column
