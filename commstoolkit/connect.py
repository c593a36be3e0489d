"""``connect()``: the one place where the client and the embedded sandbox meet.

With credentials (arguments or environment) it returns a client for Twilio's
Communications API; without any it returns a client wired in-process to the
embedded sandbox, so every notebook runs with no account at all. It says in one
line which it chose.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import TextIO

from .client import DEFAULT_BASE_URL, CommsClient
from .errors import ConfigurationError

__all__ = ["connect", "mask"]

ENV_ACCOUNT_SID = "TWILIO_ACCOUNT_SID"
ENV_AUTH_TOKEN = "TWILIO_AUTH_TOKEN"
ENV_API_KEY = "TWILIO_API_KEY"
ENV_API_SECRET = "TWILIO_API_SECRET"
ENV_BASE_URL = "COMMSTOOLKIT_BASE_URL"


def connect(
    account_sid: str | None = None,
    auth_token: str | None = None,
    api_key: str | None = None,
    api_secret: str | None = None,
    base_url: str | None = None,
    sandbox: bool | None = None,
    *,
    db: str | os.PathLike[str] | None = None,
    seed: int | None = None,
    senders: int | None = None,
    quiet: bool = False,
    env: Mapping[str, str] | None = None,
    out: TextIO | None = None,
) -> CommsClient:
    """Return a client: live when credentials are given or found, else the sandbox.

    Credentials come from the arguments, else from ``TWILIO_ACCOUNT_SID`` +
    ``TWILIO_AUTH_TOKEN`` or ``TWILIO_API_KEY`` + ``TWILIO_API_SECRET`` (+ account
    SID). ``base_url`` (or ``COMMSTOOLKIT_BASE_URL``) points the client elsewhere,
    for example at a sandbox server (``commstoolkit sandbox serve``) or ``/preview``.

    ``sandbox=True`` forces the embedded sandbox (``db`` picks its SQLite file;
    default: the shared per-user file, see ``commstoolkit.sandbox.default_db_path``;
    ``seed`` and ``senders`` choose the seeded account, reseeding the file if it
    was seeded differently);
    ``sandbox=False`` insists on credentials and raises ``ConfigurationError``
    without them. Prints one line saying which it chose unless ``quiet``.
    """
    environ = os.environ if env is None else env
    sid = account_sid or environ.get(ENV_ACCOUNT_SID)
    token = auth_token or environ.get(ENV_AUTH_TOKEN)
    key = api_key or environ.get(ENV_API_KEY)
    secret = api_secret or environ.get(ENV_API_SECRET)
    url = base_url or environ.get(ENV_BASE_URL)
    has_credentials = bool((sid and token) or (key and secret))

    sandbox_forced = sandbox is True
    if sandbox is None:
        sandbox = not has_credentials
    if sandbox:
        client = _sandbox_client(db, seed, senders)
        _say(out, quiet, _sandbox_line(client, forced=has_credentials or sandbox_forced))
        return client
    if not has_credentials:
        raise ConfigurationError(
            "sandbox=False needs credentials: pass account_sid + auth_token, or api_key + "
            f"api_secret (+ account_sid), or set {ENV_ACCOUNT_SID} + {ENV_AUTH_TOKEN} "
            f"(or {ENV_API_KEY} + {ENV_API_SECRET})"
        )
    if key and secret and not (account_sid and auth_token):
        client = CommsClient(
            account_sid=sid, api_key=key, api_secret=secret, base_url=url or DEFAULT_BASE_URL
        )
        who = f"API key {mask(key)}"
    else:
        client = CommsClient(account_sid=sid, auth_token=token, base_url=url or DEFAULT_BASE_URL)
        who = f"account {mask(sid)}"
    _say(out, quiet, f"commstoolkit: live — {client.base_url} as {who}.")
    return client


def mask(identifier: str | None) -> str:
    """Shorten an identifier for display: ``AC12…cdef``. Never used on secrets."""
    if not identifier:
        return "?"
    return identifier if len(identifier) <= 10 else f"{identifier[:4]}…{identifier[-4:]}"


def _sandbox_client(
    db: str | os.PathLike[str] | None, seed: int | None, senders: int | None
) -> CommsClient:
    from .sandbox import Sandbox

    backend = Sandbox(db, seed=seed, senders=senders)
    client = CommsClient(
        account_sid=backend.account_sid,
        auth_token=backend.auth_token,
        base_url=backend.base_url,
        transport=backend.transport(),
        live=False,
    )
    client.sandbox = backend
    return client


def _sandbox_line(client: CommsClient, *, forced: bool) -> str:
    where = f"the embedded emulator (db {client.sandbox.db_path})"
    if forced:
        return f"commstoolkit: sandbox — {where}, as asked (sandbox=True)."
    return (
        f"commstoolkit: sandbox — no Twilio credentials found, using {where}; "
        f"set {ENV_ACCOUNT_SID} + {ENV_AUTH_TOKEN} to go live."
    )


def _say(out: TextIO | None, quiet: bool, line: str) -> None:
    if not quiet:
        print(line, file=out or sys.stdout)
