"""``Sandbox``: the emulated account (store, clock, backend, faults) and its entry points."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from . import seed as seeding
from .backend import Backend
from .clock import Clock, rfc3339
from .dispatch import API_ROUTES
from .faults import Faults
from .messages import pick_bad_senders
from .store import Store, default_db_path

if TYPE_CHECKING:
    from .transport import SandboxTransport

DEFAULT_ACCOUNT_SID = "AC00000000000000000000000000000000"
DEFAULT_AUTH_TOKEN = "sandbox-auth-token"
BASE_URL = "https://sandbox.comms.invalid/v1"


class Sandbox:
    """A faithful, stateful emulator of the Communications API (Senders, SenderPools, Messages).

    ``db``: a SQLite file shared by every process using it (default ``default_db_path()``), or
    ``":memory:"``. A new file is seeded with ``seed`` (default 7) and ``senders`` (default 300)
    senders; an existing one is used as is, unless ``seed``/``senders`` are given and differ
    from what it holds, which reseeds it. Requests need HTTP basic auth with ``account_sid`` /
    ``auth_token`` (default ``DEFAULT_ACCOUNT_SID`` / ``DEFAULT_AUTH_TOKEN``). ``speed`` sets
    the clock speed (0 freezes sandbox time; tests then move it with ``clock.advance``).

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
    ) -> None:
        seeding.check_size(seed, senders)
        self.db_path = ":memory:" if str(db) == ":memory:" else Path(db or default_db_path())
        self.account_sid = account_sid or DEFAULT_ACCOUNT_SID
        self._auth_token = auth_token or DEFAULT_AUTH_TOKEN
        self.store = Store(self.db_path)
        self.clock = Clock(self.store)
        self.backend = Backend(self.store, self.clock)
        self.faults = Faults(self.store, [route.name for route in API_ROUTES])
        if speed is not None:
            self.clock.speed = speed
        self._ensure_seeded(seed, senders)

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
        from .transport import SandboxTransport

        return SandboxTransport(self)

    def reset(self, seed: int | None = None, senders: int | None = None) -> None:
        """Reseed the account (same seed and size unless given); clears faults, restarts the
        clock at its epoch (speed and instant kept)."""
        seeding.check_size(seed, senders)
        with self.store.write():
            seed = self.store.get_int("seed", seeding.DEFAULT_SEED) if seed is None else seed
            senders = (
                self.store.get_int("senders", seeding.DEFAULT_SENDERS)
                if senders is None
                else senders
            )
            self._seed(seed, senders)

    def state(self) -> dict[str, object]:
        """Counts of what the account holds, its seed, and the clock."""
        self.backend.settle()
        with self.store.read() as conn:

            def count(sql: str) -> int:
                return conn.execute(f"SELECT COUNT(*) FROM {sql}").fetchone()[0]

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
            }

    def close(self) -> None:
        """Close the database connection."""
        self.store.close()

    def _ensure_seeded(self, seed: int | None, senders: int | None) -> None:
        with self.store.write():
            if self.store.get("seeded") != "1":
                self._seed(
                    seeding.DEFAULT_SEED if seed is None else seed,
                    seeding.DEFAULT_SENDERS if senders is None else senders,
                )
            elif (seed is not None and seed != self.store.get_int("seed", -1)) or (
                senders is not None and senders != self.store.get_int("senders", -1)
            ):
                self.reset(seed, senders)

    def _seed(self, seed: int, senders: int) -> None:
        """Replace all account data by the seeded account (inside a write transaction)."""
        self.store.wipe()
        for key in ("id_counter", "id_last_ms", "id_last_random"):
            self.store.set(key, 0)
        self.clock.start()
        seeding.seed_account(self.store.conn, seed, senders, self.clock.seconds())
        self.store.set("bad_senders", pick_bad_senders(self.store.conn, seed))
        for key, value in (("seed", seed), ("senders", senders), ("seeded", 1)):
            self.store.set(key, value)
