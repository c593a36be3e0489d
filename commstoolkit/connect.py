"""``connect()``: the one place where the client and the embedded sandbox meet.

With credentials (arguments or environment) it returns a client for Twilio's
Communications API; without any it returns a client wired in-process to the
embedded sandbox, so every notebook runs with no account at all. It says in one
line which it chose (and, for a local ``commstoolkit sandbox serve``, that it is one).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import TextIO

import httpx

from .client import DEFAULT_BASE_URL, CommsClient
from .client._http import _is_loopback
from .errors import ConfigurationError, InvalidInputError, SandboxStateError

__all__ = ["connect", "mask"]

ENV_ACCOUNT_SID = "TWILIO_ACCOUNT_SID"
ENV_AUTH_TOKEN = "TWILIO_AUTH_TOKEN"
ENV_API_KEY = "TWILIO_API_KEY"
ENV_API_SECRET = "TWILIO_API_SECRET"
ENV_BASE_URL = "COMMSTOOLKIT_BASE_URL"
ENV_EVENTS_BASE_URL = "COMMSTOOLKIT_EVENTS_BASE_URL"
# (traffic days, messages a day) of the default sandbox's history when its file is new.
DEFAULT_HISTORY = (7, 2_000)


def connect(
    account_sid: str | None = None,
    auth_token: str | None = None,
    api_key: str | None = None,
    api_secret: str | None = None,
    base_url: str | None = None,
    sandbox: bool | None = None,
    *,
    events_base_url: str | None = None,
    db: str | os.PathLike[str] | None = None,
    seed: int | None = None,
    senders: int | None = None,
    reset: bool = False,
    traffic_days: int | None = None,
    daily_messages: int | None = None,
    quiet: bool = False,
    env: Mapping[str, str] | None = None,
    out: TextIO | None = None,
) -> CommsClient:
    """Return a client: live when credentials are given or found, else the sandbox.

    Credentials come from the arguments, else from ``TWILIO_ACCOUNT_SID`` +
    ``TWILIO_AUTH_TOKEN`` or ``TWILIO_API_KEY`` + ``TWILIO_API_SECRET`` (+ account
    SID). ``base_url`` (or ``COMMSTOOLKIT_BASE_URL``) points the client elsewhere,
    for example at a sandbox server (``commstoolkit sandbox serve``) or ``/preview``.
    ``events_base_url`` (or ``COMMSTOOLKIT_EVENTS_BASE_URL``) is Twilio Event Streams'
    (``client.event_streams``); by default ``https://events.twilio.com/v1`` for Twilio and
    ``/events/v1`` on the same host for any other base URL (a sandbox serves it there, as the
    embedded one does).

    ``sandbox=True`` forces the embedded sandbox (``db`` picks its SQLite file;
    default: the shared per-user file, see ``commstoolkit.sandbox.default_db_path``;
    ``seed`` and ``senders`` choose the seeded account). A file seeded differently is
    reseeded only when that loses nothing: one holding the user's own work (pools made or
    changed, messages sent) raises ``SandboxStateError`` saying what it holds, and is left
    as it was; ``reset=True`` reseeds it anyway (its own seed and size unless given) and the
    line says what was discarded. ``traffic_days`` / ``daily_messages``: the production
    history the sandbox is seeded with (``Sandbox``; part of what a file was seeded with,
    like ``seed``): the default sandbox (no ``db``, ``seed`` or ``senders`` given) starts
    with ``DEFAULT_HISTORY`` (7 days of about 2,000 messages) when its file is new; any
    other new sandbox has none unless asked. A ``db`` that is a folder, not a SQLite file,
    or cannot be made raises ``ConfigurationError``; a bad ``seed`` / ``senders`` / ``db``
    type (or history size) raises ``InvalidInputError`` naming it.
    ``sandbox=False`` insists on credentials and raises ``ConfigurationError``
    without them. Prints one line saying which it chose unless ``quiet``.

    A live client whose base URL is a loopback host (``localhost``, ``127.0.0.1``, ``::1``)
    may be a local ``commstoolkit sandbox serve``: unless ``quiet``, connect sends it one
    cheap read (``CommsClient.identify_server``; never to any other host, so Twilio is never
    probed) and, when the answer carries the sandbox's ``X-Commstoolkit-Sandbox`` header,
    says it is a commstoolkit sandbox server at that URL. Such a client stays ``live``: the
    test-send guards (allow-list, confirm) stay on unless the user drops them explicitly
    (``client.live = False``); ``client.server_is_sandbox`` keeps saying what the server's
    last answer was.
    """
    environ = os.environ if env is None else env
    sid = account_sid or environ.get(ENV_ACCOUNT_SID)
    token = auth_token or environ.get(ENV_AUTH_TOKEN)
    key = api_key or environ.get(ENV_API_KEY)
    secret = api_secret or environ.get(ENV_API_SECRET)
    url = base_url or environ.get(ENV_BASE_URL)
    events_url = events_base_url or environ.get(ENV_EVENTS_BASE_URL) or None
    has_credentials = bool((sid and token) or (key and secret))

    sandbox_forced = sandbox is True
    if sandbox is None:
        sandbox = not has_credentials
    if sandbox:
        client = _sandbox_client(db, seed, senders, reset, (traffic_days, daily_messages))
        _say(
            out, quiet, _sandbox_line(client, forced=has_credentials or sandbox_forced, reset=reset)
        )
        return client
    if not has_credentials:
        raise ConfigurationError(
            "sandbox=False needs credentials: pass account_sid + auth_token, or api_key + "
            f"api_secret (+ account_sid), or set {ENV_ACCOUNT_SID} + {ENV_AUTH_TOKEN} "
            f"(or {ENV_API_KEY} + {ENV_API_SECRET})"
        )
    if key and secret and not (account_sid and auth_token):
        client = CommsClient(
            account_sid=sid,
            api_key=key,
            api_secret=secret,
            base_url=url or DEFAULT_BASE_URL,
            events_base_url=events_url,
        )
        who = f"API key {mask(key)}"
    else:
        client = CommsClient(
            account_sid=sid,
            auth_token=token,
            base_url=url or DEFAULT_BASE_URL,
            events_base_url=events_url,
        )
        who = f"account {mask(sid)}"
    if not quiet:
        _say(out, quiet, _live_line(client, who))
    return client


def mask(identifier: str | None) -> str:
    """Shorten an identifier for display: ``AC12…cdef``. Never used on secrets."""
    if not identifier:
        return "?"
    return identifier if len(identifier) <= 10 else f"{identifier[:4]}…{identifier[-4:]}"


def _sandbox_client(
    db: str | os.PathLike[str] | None,
    seed: int | None,
    senders: int | None,
    reset: bool,
    traffic: tuple[int | None, int | None] = (None, None),
) -> CommsClient:
    from .sandbox import AccountFileError, ReseedRefusedError, Sandbox
    from .sandbox.simulation.history import DEFAULT_DAILY, check_history
    from .sandbox.state.seed import MAX_SEED, MAX_SENDERS, check_size

    if db is not None and not isinstance(db, (str, os.PathLike)):
        raise InvalidInputError(
            f"db must be a file path (str or os.PathLike) or ':memory:', got {db!r}",
            field="db",
            allowed="a file path or ':memory:'",
        )
    for name, value, high in (("seed", seed, MAX_SEED), ("senders", senders, MAX_SENDERS)):
        try:
            check_size(**{"seed": None, "senders": None, name: value})
        except ValueError as exc:
            raise InvalidInputError(str(exc), field=name, allowed=(0, high)) from None
    for name, value in zip(("traffic_days", "daily_messages"), traffic, strict=True):
        try:
            check_history(**{"traffic_days": None, "daily_messages": None, name: value})
        except ValueError as exc:
            raise InvalidInputError(str(exc), field=name) from None
    try:
        check_history(*traffic)
    except ValueError as exc:
        raise InvalidInputError(str(exc), field="daily_messages") from None
    if not isinstance(reset, bool):
        raise InvalidInputError(
            f"reset must be True or False, got {reset!r}", field="reset", allowed=(True, False)
        )
    default = db is None and seed is None and senders is None
    try:
        backend = Sandbox(
            db,
            seed=seed,
            senders=senders,
            reset=reset,
            traffic_days=traffic[0],
            daily_messages=traffic[1],
            default_history=DEFAULT_HISTORY if default else (0, DEFAULT_DAILY),
        )
    except ReseedRefusedError as exc:
        raise SandboxStateError(str(exc), db=exc.db, changes=str(exc.changes)) from None
    except AccountFileError as exc:
        where = " (from COMMSTOOLKIT_SANDBOX_DB)" if db is None and _env_db() else ""
        raise ConfigurationError(f"{exc}{where}") from None
    client = CommsClient(
        account_sid=backend.account_sid,
        auth_token=backend.auth_token,
        base_url=backend.base_url,
        transport=backend.transport(),
        live=False,
    )
    client.sandbox = backend
    return client


def _env_db() -> str | None:
    return os.environ.get("COMMSTOOLKIT_SANDBOX_DB") or None


def _sandbox_line(client: CommsClient, *, forced: bool, reset: bool) -> str:
    backend = client.sandbox
    where = f"the embedded emulator (db {backend.db_path})"
    if forced:
        line = f"commstoolkit: sandbox — {where}, as asked (sandbox=True)."
    else:
        line = (
            f"commstoolkit: sandbox — no Twilio credentials found, using {where}; "
            f"set {ENV_ACCOUNT_SID} + {ENV_AUTH_TOKEN} to go live."
        )
    if backend.reseeded:
        seed, size = backend.store.get_int("seed"), backend.store.get_int("senders")
        how = "Reset as asked (reset=True): reseeded" if reset else "Reseeded"
        line += f" {how} with seed {seed} and {size:,} senders"
        days = backend.store.get_int("traffic_days")
        if days:
            line += f" ({days} day{'s' * (days != 1)} of traffic history)"
        if backend.discarded:
            line += f", discarding {backend.discarded}."
        else:
            line += " (it held no changes of yours)."
    return line


def _live_line(client: CommsClient, who: str) -> str:
    """The live line; for a loopback base URL, what answers there (see ``connect``)."""
    if client.identify_server() is True:
        return (
            f"commstoolkit: sandbox server — {client.base_url} is a commstoolkit sandbox server, "
            f"not Twilio; as {who}, with the live-send guards kept (client.live = False drops "
            "them)."
        )
    line = f"commstoolkit: live — {client.base_url} as {who}."
    if client.server_is_sandbox is None and _is_loopback(httpx.URL(client.base_url).host):
        line = line[:-1] + " (nothing answered there: is the server running?)."
    return line


def _say(out: TextIO | None, quiet: bool, line: str) -> None:
    if not quiet:
        print(line, file=out or sys.stdout)
