"""The embedded sandbox: a stateful emulator of the Communications API (design.md §5).

    from commstoolkit.sandbox import Sandbox
    sandbox = Sandbox(":memory:")
    client = httpx.Client(transport=sandbox.transport(), base_url=sandbox.base_url,
                          auth=sandbox.credentials())

It speaks the wire format itself and imports neither the client nor the models.
"""

from __future__ import annotations

from .core import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, Sandbox
from .store import default_db_path

__all__ = ["DEFAULT_ACCOUNT_SID", "DEFAULT_AUTH_TOKEN", "Sandbox", "default_db_path"]
