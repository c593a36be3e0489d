"""A client wired in-process to a sandbox that never sleeps between polls.

The test files that drive sends on a sandbox whose clock they control (``instant`` or
frozen) all need the same client: one place for it.
"""

from __future__ import annotations

import commstoolkit as ct
from commstoolkit.sandbox import Sandbox


def instant_client(box: Sandbox) -> ct.CommsClient:
    """A sandbox-mode client on ``box``'s in-process transport; waits take no real time."""
    client = ct.CommsClient(
        account_sid=box.account_sid,
        auth_token=box.auth_token,
        base_url=box.base_url,
        transport=box.transport(),
        sleep=lambda seconds: None,
        live=False,
    )
    client.sandbox = box  # type: ignore[attr-defined]
    return client
