"""The deterministic sandbox account: senders over all channels, three overlapping pools.

Everything comes from one ``random.Random(seed)``; times are relative to the clock's start, so
the same seed and size always give the same rows and ids. Addresses look real (US and UK long
codes, toll-free and short codes, RCS agent ids, WhatsApp numbers, e-mail addresses, push app
ids) but use fictional brands and ``example.com`` domains.
"""

from __future__ import annotations

import bisect
import itertools
import json
import random
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from . import ids

DEFAULT_SEED = 7
DEFAULT_SENDERS = 300
MAX_SEED = 2**63 - 1
MAX_SENDERS = 1_000_000
YEAR = 365 * 24 * 3600

CHANNEL_WEIGHTS = {"SMS": 45, "RCS": 15, "WHATSAPP": 15, "EMAIL": 15, "PUSH": 10}
TEAMS = {"support": 30, "marketing": 25, "ops": 15, "sales": 12, "billing": 8, "alerts": 10}
BRANDS = {"acme": 6, "acmeeats": 2, "acmetravel": 2}
BRAND_NAMES = {"acme": "Acme", "acmeeats": "Acme Eats", "acmetravel": "Acme Travel"}
AREA_CODES = {
    "us-east": ("212", "646", "617", "202", "305", "404", "215", "718"),
    "us-west": ("415", "510", "206", "213", "310", "503", "702", "408"),
    "us-central": ("312", "512", "214", "303", "612", "314", "713"),
}
UK_AREAS = ("20", "161", "121", "131", "113")
TOLL_FREE = ("800", "833", "844", "855", "866", "877", "888")
AGENT_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"
CAMPAIGNS = ("spring-sale", "black-friday", "loyalty", "winback", "back-to-school")
EMAIL_LOCALS = {
    "support": ("support", "help", "care"),
    "marketing": ("news", "offers", "hello", "deals"),
    "ops": ("ops", "noreply", "status"),
    "sales": ("sales", "quotes", "partners"),
    "billing": ("billing", "invoices", "receipts"),
    "alerts": ("alerts", "security", "notifications"),
}
PUSH_PRODUCTS = ("app", "driver", "merchant", "rewards", "wallet", "kiosk", "staff")
_compact_json = json.JSONEncoder(separators=(",", ":")).encode
POOLS = (
    ("Customer Support - NAMER", {"team": "support", "region": "namer"}),
    ("Marketing Promotions - UK", {"team": "marketing", "region": "uk", "tier": "1"}),
    ("Ops Alerts - Global", {"team": "ops", "severity": "high"}),
)


@dataclass
class SenderSpec:
    """One generated sender before it gets its time and id."""

    channel: str
    address: str
    display_name: str | None
    tags: dict[str, str]
    status: str = "ACTIVATED"


class Weighted:
    """A weighted choice, drawn with one ``random()`` call."""

    def __init__(self, weights: dict[str, int]) -> None:
        self.keys = list(weights)
        self.cumulative = list(itertools.accumulate(weights.values()))

    def pick(self, rng: random.Random) -> str:
        return self.keys[bisect.bisect(self.cumulative, rng.random() * self.cumulative[-1])]


class Unique:
    """Addresses unique within a channel: draw again on a collision, and where the space is
    small, number the address (``support2@...``) instead."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.next_number: dict[str, int] = {}

    def __call__(
        self, make: Callable[[], str], vary: Callable[[str, int], str] | None = None
    ) -> str:
        for _ in range(6):
            value = make()
            if value not in self.seen:
                break
        else:
            if vary is None:
                while value in self.seen:
                    value = make()
            else:
                base, n = value, self.next_number.get(value, 2)
                while vary(base, n) in self.seen:
                    n += 1
                self.next_number[base] = n + 1
                value = vary(base, n)
        self.seen.add(value)
        return value


def check_size(seed: object, senders: object) -> None:
    """ValueError naming ``seed`` or ``senders`` unless each is None or an integer from 0 to
    ``MAX_SEED`` / ``MAX_SENDERS`` (seeding a billion senders would hold the account for
    hours)."""
    for name, value, high in (("seed", seed, MAX_SEED), ("senders", senders, MAX_SENDERS)):
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= high
        ):
            raise ValueError(f"{name} must be an integer from 0 to {high:,}, got {value!r}")


def _digits(rng: random.Random, n: int) -> str:
    return f"{rng.randrange(10**n):0{n}d}"


def _local_number(rng: random.Random, region: str) -> str:
    """A long code: US (area code of the region) or UK (mobile or geographic)."""
    if region != "uk":
        return f"+1{rng.choice(AREA_CODES[region])}{rng.randint(2, 9)}{_digits(rng, 6)}"
    if rng.random() < 0.6:
        return f"+447{rng.randint(4, 9)}{_digits(rng, 8)}"
    area = rng.choice(UK_AREAS)
    return f"+44{area}{rng.randint(2, 8)}{_digits(rng, 9 - len(area))}"


def _pretty_number(number: str) -> str:
    if number.startswith("+1"):
        return f"({number[2:5]}) {number[5:8]}-{number[8:]}"
    return f"+44 {number[3:7]} {number[7:]}"


class Generator:
    """Builds ``SenderSpec``s, keeping addresses unique per channel."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.unique = {channel: Unique() for channel in CHANNEL_WEIGHTS}
        self.long_codes: list[tuple[str, str]] = []
        self.channels, self.teams, self.brands = map(Weighted, (CHANNEL_WEIGHTS, TEAMS, BRANDS))

    def sender(self) -> SenderSpec:
        rng = self.rng
        channel = self.channels.pick(rng)
        team, brand = self.teams.pick(rng), self.brands.pick(rng)
        spec: SenderSpec = getattr(self, channel.lower())(team, brand)
        spec.tags = {"team": team, **spec.tags}
        if team == "marketing" and rng.random() < 0.4:
            spec.tags["campaign"] = rng.choice(CAMPAIGNS)
        if rng.random() < 0.05:
            spec.tags["env"] = "staging"
        if rng.random() < 0.1:
            spec.status = "DEACTIVATED"
        return spec

    def sms(self, team: str, brand: str) -> SenderSpec:
        rng, unique, label = self.rng, self.unique["SMS"], f"{BRAND_NAMES[brand]} {team.title()}"
        kind = rng.random()
        if kind < 0.08:
            number = unique(lambda: str(rng.randint(20000, 999999)))
            tags = {"region": "us-national", "numberType": "shortcode"}
            return SenderSpec("SMS", number, f"{label} short code", tags)
        if kind < 0.18:
            number = unique(lambda: f"+1{rng.choice(TOLL_FREE)}{_digits(rng, 7)}")
            tags = {"region": "us-national", "numberType": "tollfree"}
        else:
            region = "uk" if kind < 0.30 else rng.choice(list(AREA_CODES))
            number = unique(lambda: _local_number(rng, region))
            self.long_codes.append((number, region))
            tags = {"region": region, "numberType": "local"}
        name = rng.choices([_pretty_number(number), label, None], weights=[4, 5, 1])[0]
        return SenderSpec("SMS", number, name, tags)

    def rcs(self, team: str, brand: str) -> SenderSpec:
        rng = self.rng
        address = self.unique["RCS"](
            lambda: f"{brand}_{team}_{''.join(rng.choices(AGENT_CHARS, k=5))}_agent"
        )
        region = rng.choice(("us-national", "us-national", "uk"))
        return SenderSpec(
            "RCS", address, f"{BRAND_NAMES[brand]} {team.title()}", {"region": region}
        )

    def whatsapp(self, team: str, brand: str) -> SenderSpec:
        """Often the same number as an SMS long code, as WhatsApp senders usually are."""
        rng, unique = self.rng, self.unique["WHATSAPP"]
        number, region = "", rng.choice(("us-east", "us-west", "us-central", "uk"))
        if self.long_codes and rng.random() < 0.35:
            candidate, candidate_region = rng.choice(self.long_codes)
            if candidate not in unique.seen:
                unique.seen.add(candidate)
                number, region = candidate, candidate_region
        number = number or unique(lambda: _local_number(rng, region))
        name = rng.choice([f"{BRAND_NAMES[brand]} {team.title()}", BRAND_NAMES[brand]])
        return SenderSpec("WHATSAPP", number, name, {"region": region})

    def email(self, team: str, brand: str) -> SenderSpec:
        rng = self.rng

        def make() -> str:
            local = rng.choice(EMAIL_LOCALS[team])
            if rng.random() < 0.4:
                local += rng.choice(("-us", "-uk", "-eu", ".team"))
            domain = rng.choice((f"{brand}.example.com", f"mail.{brand}.example.com"))
            return f"{local}@{domain}"

        address = self.unique["EMAIL"](make, lambda base, n: base.replace("@", f"{n}@", 1))
        name = rng.choice([f"{BRAND_NAMES[brand]} {team.title()}", BRAND_NAMES[brand], None])
        return SenderSpec("EMAIL", address, name, {"region": "global"})

    def push(self, team: str, brand: str) -> SenderSpec:
        rng = self.rng

        def make() -> str:
            platform = rng.choice(("", "", "_ios", "_android"))
            return f"{brand}_{rng.choice(PUSH_PRODUCTS)}{platform}_app"

        address = self.unique["PUSH"](make, lambda base, n: f"{base[: -len('_app')]}{n}_app")
        return SenderSpec("PUSH", address, address, {"region": "global"})


def seed_account(conn: sqlite3.Connection, seed: int, n_senders: int, now: float) -> None:
    """Insert the seeded account (senders, pools, memberships, their create operations)."""
    rng = random.Random(seed)
    generator = Generator(rng)
    specs = [generator.sender() for _ in range(n_senders)]
    times = sorted(int(now - rng.random() * 2 * YEAR) for _ in specs)
    rows = []
    for spec, created in zip(specs, times, strict=True):
        ms = created * 1000 + rng.randrange(1000)
        changed = spec.status == "DEACTIVATED" or rng.random() < 0.5
        updated = created + int(rng.random() * (now - created)) if changed else created
        sender_id = ids.make_id(ids.SENDER, ms, rng.getrandbits(ids.RANDOM_BITS))
        tags = _compact_json(spec.tags)
        rows.append(
            (
                sender_id,
                spec.display_name,
                spec.address,
                spec.channel,
                spec.status,
                tags,
                created,
                updated,
            )
        )
    conn.executemany("INSERT INTO senders VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    members = _pool_members(rng, specs, [row[0] for row in rows], 40 + n_senders // 100)
    _seed_pools(conn, rng, members, now)


def _pool_members(
    rng: random.Random, specs: list[SenderSpec], sender_ids: list[str], cap: int
) -> list[list[str]]:
    """Members of the three seeded pools; the third shares some senders with the first."""

    def matches(teams: tuple[str, ...], channels: tuple[str, ...], region: str) -> list[str]:
        return [
            sender_id
            for spec, sender_id in zip(specs, sender_ids, strict=True)
            if spec.tags["team"] in teams
            and spec.channel in channels
            and spec.tags["region"].startswith(region)
        ]

    def sample(found: list[str]) -> list[str]:
        return rng.sample(found, min(cap, len(found)))

    support = sample(matches(("support",), ("SMS", "RCS", "WHATSAPP"), "us"))
    marketing = sample(matches(("marketing",), ("SMS", "RCS", "WHATSAPP", "EMAIL"), "uk"))
    ops = sample(matches(("ops", "alerts"), tuple(CHANNEL_WEIGHTS), ""))
    shared = rng.sample(support, len(support) // 5)
    return [sorted(support), sorted(marketing), sorted(set(ops) | set(shared))]


def _seed_pools(
    conn: sqlite3.Connection, rng: random.Random, members: list[list[str]], now: float
) -> None:
    """The three pools, their memberships, and the COMPLETED operations that created them."""
    times = sorted(int(now - rng.uniform(30 * 24 * 3600, YEAR)) for _ in POOLS)
    for (name, tags), created, pool_members in zip(POOLS, times, members, strict=True):
        ms = created * 1000 + rng.randrange(1000)
        pool_id = ids.make_id(ids.POOL, ms, rng.getrandbits(ids.RANDOM_BITS))
        op_id = ids.make_id(ids.OPERATION, ms, rng.getrandbits(ids.RANDOM_BITS))
        updated = rng.randint(created, int(now))
        conn.execute(
            "INSERT INTO pools VALUES (?, ?, ?, ?, ?, ?)",
            (pool_id, name, json.dumps(tags), op_id, created, updated),
        )
        conn.executemany(
            "INSERT INTO memberships VALUES (?, ?)", [(pool_id, s) for s in pool_members]
        )
        n = len(pool_members)
        conn.execute(
            "INSERT INTO operations VALUES (?, 'sender_pool', 'create', ?, 'COMPLETED', ?, ?, 0, "
            "'{}', ?, ?, ?, ?)",
            (op_id, pool_id, n, n, created, created, created, created),
        )
