"""The sandbox over real HTTP: ``run_server`` (a server in a thread, for tests and notebooks),
``serve`` (uvicorn, until interrupted), ``make_asgi_app``, and ``serve_command``.

``commstoolkit sandbox serve [--host] [--port] [--db] [--seed] [--senders] [--traffic-days]
[--daily-messages] [--latency [ROUTE=]DUR] [--jitter DUR] [--max-in-flight N]`` serves an account
through ``serve_command``. Credentials are ``TWILIO_ACCOUNT_SID`` / ``TWILIO_AUTH_TOKEN`` when
set, else the sandbox's default pair. The HTTP front itself is ``front/server.py``.
"""

from __future__ import annotations

import os

from .core import Sandbox
from .front.pacing import Pacing, parse_duration, parse_latency
from .front.server import RunningServer, make_asgi_app, run_server, serve

__all__ = [
    "Pacing",
    "RunningServer",
    "make_asgi_app",
    "parse_duration",
    "parse_latency",
    "run_server",
    "serve",
    "serve_command",
]


def serve_command(
    host: str = "127.0.0.1",
    port: int = 8787,
    db: str | None = None,
    seed: int | None = None,
    senders: int | None = None,
    traffic_days: int | None = None,
    daily_messages: int | None = None,
    pacing: Pacing | None = None,
) -> int:
    """``commstoolkit sandbox serve``: open (or seed) the account and serve it; exit status.
    ``traffic_days`` / ``daily_messages``: its history (``Sandbox``; None: the file's own);
    ``pacing``: a round trip and a rate limit for its answers (``front.pacing``)."""
    sandbox = Sandbox(
        db,
        seed=seed,
        senders=senders,
        traffic_days=traffic_days,
        daily_messages=daily_messages,
        account_sid=os.environ.get("TWILIO_ACCOUNT_SID") or None,
        auth_token=os.environ.get("TWILIO_AUTH_TOKEN") or None,
    )
    try:
        serve(sandbox, host, port, pacing=pacing)
    finally:
        sandbox.close()
    return 0
