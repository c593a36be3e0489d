"""``Sandbox``: the emulated account (store, clock, backend, faults) and its entry points."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .events.service import Events
from .front.dispatch import API_ROUTES, DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
from .front.faults import Faults
from .front.transport import SandboxTransport
from .simulation import history
from .simulation.backend import Backend
from .simulation.clock import EPOCH, Clock, rfc3339
from .simulation.messages import pick_bad_senders
from .state import seed as seeding
from .state.store import (
    POOL_CHANGE,
    SEND_CHANGE,
    AccountFileError,
    Changes,
    ReseedRefusedError,
    Store,
    default_db_path,
)

BASE_URL = "https://sandbox.comms.invalid/v1"


class Sandbox:
    """A faithful, stateful emulator of the Communications API (Senders, SenderPools, Messages).

    ``db``: a SQLite file shared by every process using it (default ``default_db_path()``), or
    ``":memory:"``; ``AccountFileError`` (a ``ValueError`` naming the file) when it is a
    folder, not a SQLite file, or cannot be made. A new file is seeded with ``seed`` (default
    7) and ``senders`` (default 300) senders; an existing one is used as is. When ``seed`` /
    ``senders`` are given and differ from what the file holds, it is reseeded only if that
    discards nothing of the user's: an account holding pools made or changed, or messages
    sent, since it was seeded raises ``ReseedRefusedError`` (saying what it holds) before
    anything is touched. ``reset=True`` reseeds in any case (with the file's own seed and size
    unless given); ``reseeded`` and ``discarded`` (a ``Changes``) then say what happened.

    ``traffic_days`` / ``daily_messages``: the production history the account is seeded
    with (``simulation.history``: about ``daily_messages`` messages a day, default 2,000, over
    the ``traffic_days`` days before the clock's start, with planted faults that
    ``history_faults()`` names). They are part of what a file was seeded with, like ``seed``
    and ``senders``: None keeps the file's own (a new file: ``default_history``, which is
    ``(0, 2000)``, no history, unless given); other values reseed under the same rules.
    Requests need HTTP basic auth with ``account_sid`` / ``auth_token`` (default
    ``DEFAULT_ACCOUNT_SID`` / ``DEFAULT_AUTH_TOKEN``). ``speed`` sets the clock speed (0
    freezes sandbox time; tests then move it with ``clock.advance``).

    ``events``: its Twilio Event Streams (``commstoolkit.sandbox.events``; over HTTP under
    ``/events/v1``): sinks, subscriptions, and the send's CloudEvents delivered to webhooks
    while a ``Deliverer`` runs (a server runs one; in process ``with
    sandbox.events.delivering(): ...``); ``events.emitted()`` reads what was emitted.

    Plug it into httpx with ``httpx.Client(transport=sandbox.transport(), base_url=
    sandbox.base_url, auth=...)``, or serve it over HTTP with ``commstoolkit.sandbox.server``.
    """

    base_url = BASE_URL

    def __init__(
        self,
        db: str | os.PathLike[str] | None = None,
        *,
        seed: int | None = None,
        senders: int | None = None,
        account_sid: str | None = None,
        auth_token: str | None = None,
        speed: float | None = None,
        reset: bool = False,
        traffic_days: int | None = None,
        daily_messages: int | None = None,
        default_history: tuple[int, int] = (0, history.DEFAULT_DAILY),
    ) -> None:
        seeding.check_size(seed, senders)
        history.check_history(traffic_days, daily_messages)
        history.check_history(*default_history)
        self._default_history = default_history
        if not isinstance(reset, bool):
            raise ValueError(f"reset must be True or False, got {reset!r}")
        self.db_path = _db_path(db)
        self.account_sid = account_sid or DEFAULT_ACCOUNT_SID
        self._auth_token = auth_token or DEFAULT_AUTH_TOKEN
        self.reseeded = False
        self.discarded = Changes()
        self.store = Store(self.db_path)
        try:
            self.clock = Clock(self.store)
            self.backend = Backend(self.store, self.clock)
            self.events = Events(self.store, self.clock, self.credentials)
            self.faults = Faults(self.store, [route.name for route in API_ROUTES])
            if self.store.get("changes_to_recover") == "1":
                with self.store.write():
                    self._recover_changes()
            with self.store.write():
                self._open_account(seed, senders, reset, speed, (traffic_days, daily_messages))
        except BaseException:
            self.store.close()
            raise

    def __repr__(self) -> str:
        return f"Sandbox(db={str(self.db_path)!r}, account_sid={self.account_sid!r})"

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def auth_token(self) -> str:
        """The auth token requests must present (never shown by ``repr``)."""
        return self._auth_token

    def credentials(self) -> tuple[str, str]:
        """(account SID, auth token) that requests must present with basic auth."""
        return self.account_sid, self._auth_token

    def transport(self) -> SandboxTransport:
        """An ``httpx.BaseTransport`` that serves requests in-process (any host accepted)."""
        return SandboxTransport(self)

    def reset(
        self,
        seed: int | None = None,
        senders: int | None = None,
        *,
        traffic_days: int | None = None,
        daily_messages: int | None = None,
    ) -> Changes:
        """Reseed the account (same seed, size and history unless given), discarding the
        user's work; clears faults, restarts the clock at its epoch (speed and instant kept).
        Returns what it discarded."""
        seeding.check_size(seed, senders)
        history.check_history(traffic_days, daily_messages)
        with self.store.write():
            discarded = self.store.changes()
            self._seed(*self._asked(seed, senders, (traffic_days, daily_messages)))
        return discarded

    def history_faults(self) -> dict[str, Any]:
        """What the seeded history holds and the faults planted in it (``{}``: no history).

        ``trafficDays``, ``dailyMessages``, ``messages`` (how many), ``start`` / ``end`` (the
        window, RFC 3339, end exclusive: the clock's start); ``degrading``: the sender whose
        delivery drops over the last days (``senderId``, ``senderPoolId``, ``pool``,
        ``since`` and as epoch seconds ``sinceSeconds``, ``normalRate``, ``degradedRate``);
        ``badHour``: the ``country`` (ISO 3166 region) and ``hourUtc`` where about half the
        messages are filtered (``deliveredShare``); ``deactivated``: a pool member
        deactivated in the first days (``senderId``, ``senderPoolId``, ``pool``,
        ``deactivatedAt``). A planted fault the
        account cannot hold (a pool without the senders it needs) is None.
        """
        with self.store.read():
            text = self.store.get("history")
        found: dict[str, Any] = json.loads(text) if text else {}
        return found

    def changes(self) -> Changes:
        """The user's own work since the account was seeded: pools made or changed, messages
        sent (what a reseed would discard); shared by every process using the file."""
        return self.store.changes()

    def state(self) -> dict[str, object]:
        """Counts of what the account holds, its seed, and the clock."""
        self.backend.settle()
        with self.store.read() as conn:

            def count(sql: str) -> int:
                n: int = conn.execute(f"SELECT COUNT(*) FROM {sql}").fetchone()[0]
                return n

            return {
                "seed": self.store.get_int("seed", 0),
                "senders": count("senders"),
                "activated": count("senders WHERE status = 'ACTIVATED'"),
                "deactivated": count("senders WHERE status = 'DEACTIVATED'"),
                "pools": count("pools"),
                "memberships": count("memberships"),
                "operations": count("operations"),
                "processing": count("operations WHERE status = 'PROCESSING'"),
                "messageOperations": count("message_operations"),
                "messages": count("messages"),
                "faults": count("faults"),
                "now": rfc3339(self.clock.seconds()),
                "changes": self.store.changes().to_wire(),
            }

    def close(self) -> None:
        """Stop delivering events (``events.keep_delivering``), close the database."""
        self.events.stop_delivering()
        self.store.close()

    def _asked(
        self,
        seed: int | None,
        senders: int | None,
        traffic: tuple[int | None, int | None] = (None, None),
    ) -> tuple[int, int, int, int]:
        """The seed, size, history days and messages a day asked for; what the account holds
        (a new one: the defaults) when None. No history days means no messages a day."""
        seeded = self.store.get("seeded") == "1"
        held_days, held_daily = self._held_history()
        days, daily = traffic
        if days is None:
            days = held_days if seeded else self._default_history[0]
        if daily is None:
            daily = held_daily if seeded and held_daily else self._default_history[1]
        return (
            self.store.get_int("seed", seeding.DEFAULT_SEED) if seed is None else seed,
            self.store.get_int("senders", seeding.DEFAULT_SENDERS) if senders is None else senders,
            days,
            daily if days else 0,
        )

    def _held_history(self) -> tuple[int, int]:
        """(traffic days, messages a day) the account was seeded with ((0, 0): none)."""
        days = self.store.get_int("traffic_days", 0)
        return days, self.store.get_int("daily_messages", 0) if days else 0

    def _open_account(
        self,
        seed: int | None,
        senders: int | None,
        reset: bool,
        speed: float | None,
        traffic: tuple[int | None, int | None],
    ) -> None:
        """Seed a new account, or reseed one as asked when that is allowed (inside the caller's
        write transaction; a refusal is raised before anything is written)."""
        fresh = self.store.get("seeded") != "1"
        held = (
            self.store.get_int("seed", -1),
            self.store.get_int("senders", -1),
            *self._held_history(),
        )
        asked = self._asked(seed, senders, traffic)
        reseed = not fresh and (reset or asked != held)
        discarded = self.store.changes() if reseed else Changes()
        if discarded and not reset:
            db = str(self.db_path)
            raise ReseedRefusedError(_refusal(db, discarded, held, asked), db=db, changes=discarded)
        if speed is not None:
            self.clock.speed = speed
        if fresh or reseed:
            self._seed(*asked)
        self.reseeded, self.discarded = reseed, discarded

    def _recover_changes(self) -> None:
        """Fill in the record of the user's changes of a file written before the sandbox kept
        one (best effort, from what the tables show): every send; pools whose operations or
        edits came after the seed (seeded ones predate the clock's epoch); seeded pools gone."""
        conn, epoch = self.store.conn, EPOCH.timestamp()
        conn.execute(
            f"INSERT OR IGNORE INTO changes SELECT '{SEND_CHANGE}', id, total "
            "FROM message_operations WHERE created_at >= ?",
            (epoch,),
        )
        for sql in (
            "SELECT DISTINCT pool_id FROM operations WHERE created_at >= ?",
            "SELECT id FROM pools WHERE updated_at > ?",
        ):
            for (pool_id,) in conn.execute(sql, (epoch,)).fetchall():
                self.store.record_change(POOL_CHANGE, pool_id)
        kept = conn.execute("SELECT COUNT(*) FROM pools WHERE created_at < ?", (epoch,))
        for n in range(len(seeding.POOLS) - kept.fetchone()[0]):
            self.store.record_change(POOL_CHANGE, f"seeded pool deleted #{n + 1}")
        self.store.set("changes_to_recover", 0)

    def _seed(self, seed: int, senders: int, traffic_days: int = 0, daily: int = 0) -> None:
        """Replace all account data by the seeded account and its history (inside a write
        transaction)."""
        self.store.wipe()
        for key in ("id_counter", "id_last_ms", "id_last_random"):
            self.store.set(key, 0)
        self.clock.start()
        self.events.start_at(self.clock.seconds())
        seeding.seed_account(self.store.conn, seed, senders, self.clock.seconds())
        bad = pick_bad_senders(self.store.conn, seed)
        self.store.set("bad_senders", bad)
        planted = history.seed_history(
            self.store.conn,
            seed,
            EPOCH.timestamp(),
            traffic_days,
            daily,
            frozenset(filter(None, bad.split(","))),
        )
        self.store.set("history", json.dumps(planted, separators=(",", ":")))
        for key, value in (
            ("seed", seed),
            ("senders", senders),
            ("traffic_days", traffic_days),
            ("daily_messages", daily if traffic_days else 0),
            ("seeded", 1),
        ):
            self.store.set(key, value)


def _db_path(db: object) -> Path | str:
    """``":memory:"`` or the account file's path (``default_db_path()`` for None or "")."""
    if db is None:
        return default_db_path()
    if not isinstance(db, (str, os.PathLike)) or not isinstance(os.fspath(db), str):
        raise AccountFileError(
            f"db must be a file path (str or os.PathLike) or ':memory:', got {db!r}"
        )
    text = os.fspath(db)
    if text == ":memory:":
        return text
    return Path(text).expanduser() if text else default_db_path()


def _refusal(db: str, changes: Changes, held: tuple[int, ...], asked: tuple[int, ...]) -> str:
    """The one sentence of a ``ReseedRefusedError``."""
    wanted = [f"seed {asked[0]}"] if asked[0] != held[0] else []
    wanted += [f"{asked[1]:,} senders"] if asked[1] != held[1] else []
    if asked[2:] != held[2:]:
        wanted.append(_history_words(asked[2], asked[3]))
    has = f"seed {held[0]}, {held[1]:,} senders"
    if held[2:] != asked[2:]:
        has += f", {_history_words(held[2], held[3])}"
    return (
        f"the sandbox file {db} holds your work since it was seeded ({changes}); reseeding it "
        f"with {' and '.join(wanted)} (it has {has}) would "
        "discard it: pass reset=True (command line: --reset) to discard it, or use another db"
    )


def _history_words(days: int, daily: int) -> str:
    """``"30 days of history (2,000 messages a day)"`` or ``"no history"``."""
    if not days:
        return "no history"
    return f"{days} day{'s' * (days != 1)} of history ({daily:,} messages a day)"
