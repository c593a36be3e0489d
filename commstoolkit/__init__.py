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
    ConflictError,
    InvalidInputError,
    NotFoundError,
    OperationError,
    OperationTimeoutError,
    RateLimitError,
    SandboxStateError,
    ServerError,
    ServiceUnavailableError,
    TransportError,
    UnexpectedResponseError,
)
from .frames import load_messages, load_pool_members, load_pools, load_senders
from .models import Operation, Sender, SenderPool

if TYPE_CHECKING:
    from . import charts, pools, testsend  # noqa: F401  (submodules, also lazy)
    from .pools import (
        PoolApplyError,
        PoolDeletedError,
        PoolPlan,
        PoolPlanWarning,
        create_pool,
        delete_pool,
        plan_pool,
        pool_report,
        select_senders,
    )
    from .sandbox import Sandbox
    from .testsend import (
        DuplicateRecipientWarning,
        InvalidRecipientsError,
        SendIncompleteError,
        SendRefusedError,
        SendSummary,
        TestSend,
        test_send,
    )
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
    "ConflictError",
    "DuplicateRecipientWarning",
    "InvalidInputError",
    "InvalidRecipientsError",
    "NotFoundError",
    "Operation",
    "OperationError",
    "OperationTimeoutError",
    "PoolApplyError",
    "PoolBuilder",
    "PoolDeletedError",
    "PoolPlan",
    "PoolPlanWarning",
    "RateLimitError",
    "RetryPolicy",
    "Sandbox",
    "SandboxStateError",
    "SendIncompleteError",
    "SendRefusedError",
    "SendSummary",
    "Sender",
    "SenderPool",
    "ServerError",
    "ServiceUnavailableError",
    "TestSend",
    "TestSendPanel",
    "TransportError",
    "UnexpectedResponseError",
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
# pools and testsend (phonenumbers) are lazy too: together they were a third of what
# ``import commstoolkit`` adds to ``import pandas, httpx``.
_LAZY = {
    "PoolBuilder": (".widgets", "PoolBuilder"),
    "Sandbox": (".sandbox", "Sandbox"),
    "TestSendPanel": (".widgets", "TestSendPanel"),
    "charts": (".charts", None),
    "pools": (".pools", None),
    "testsend": (".testsend", None),
    **{
        name: (".pools", name)
        for name in (
            "PoolApplyError",
            "PoolDeletedError",
            "PoolPlan",
            "PoolPlanWarning",
            "create_pool",
            "delete_pool",
            "plan_pool",
            "pool_report",
            "select_senders",
        )
    },
    **{
        name: (".testsend", name)
        for name in (
            "DuplicateRecipientWarning",
            "InvalidRecipientsError",
            "SendIncompleteError",
            "SendRefusedError",
            "SendSummary",
            "TestSend",
            "test_send",
        )
    },
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
