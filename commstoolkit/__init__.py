"""commstoolkit — Twilio Communications API Sender Pools, in a notebook.

Load every sender and pool of an account into pandas DataFrames, assemble pools,
run guarded test sends and chart them. Without credentials everything runs
against the embedded sandbox::

    import commstoolkit as ct
    client = ct.connect()
    senders = ct.load_senders(client)

Heavy modules (the sandbox, plotly, ipywidgets, nbformat) load on first use, so
``import commstoolkit`` stays fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .client import CommsClient, RetryPolicy
from .connect import connect
from .errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    CommsConnectionError,
    CommsError,
    CommsTimeoutError,
    ConfigurationError,
    InvalidInputError,
    NotFoundError,
    OperationError,
    OperationTimeoutError,
    RateLimitError,
    ServerError,
    ServiceUnavailableError,
)
from .frames import load_messages, load_pool_members, load_pools, load_senders
from .models import Operation, Sender, SenderPool
from .pools import (
    PoolApplyError,
    PoolPlan,
    PoolPlanWarning,
    create_pool,
    delete_pool,
    plan_pool,
    pool_report,
    select_senders,
)
from .testsend import (
    DuplicateRecipientWarning,
    InvalidRecipientsError,
    SendIncompleteError,
    SendRefusedError,
    SendSummary,
    TestSend,
    test_send,
)

if TYPE_CHECKING:
    from . import charts
    from .sandbox import Sandbox
    from .widgets import PoolBuilder, TestSendPanel

__version__ = "0.1.0"

__all__ = [
    "APIError",
    "AuthenticationError",
    "BadRequestError",
    "CommsClient",
    "CommsConnectionError",
    "CommsError",
    "CommsTimeoutError",
    "ConfigurationError",
    "DuplicateRecipientWarning",
    "InvalidInputError",
    "InvalidRecipientsError",
    "NotFoundError",
    "Operation",
    "OperationError",
    "OperationTimeoutError",
    "PoolApplyError",
    "PoolBuilder",
    "PoolPlan",
    "PoolPlanWarning",
    "RateLimitError",
    "RetryPolicy",
    "Sandbox",
    "SendIncompleteError",
    "SendRefusedError",
    "SendSummary",
    "Sender",
    "SenderPool",
    "ServerError",
    "ServiceUnavailableError",
    "TestSend",
    "TestSendPanel",
    "charts",
    "connect",
    "create_pool",
    "delete_pool",
    "load_messages",
    "load_pool_members",
    "load_pools",
    "load_senders",
    "plan_pool",
    "pool_report",
    "select_senders",
    "test_send",
]

# name -> (module, attribute or None for the module itself); resolved on first access (PEP 562).
_LAZY = {
    "PoolBuilder": (".widgets", "PoolBuilder"),
    "Sandbox": (".sandbox", "Sandbox"),
    "TestSendPanel": (".widgets", "TestSendPanel"),
    "charts": (".charts", None),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attribute = _LAZY[name]
        value = import_module(module, __name__)
        if attribute is not None:
            value = getattr(value, attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'commstoolkit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
