"""commstoolkit — Twilio Communications API Sender Pools, in a notebook.

Load every sender and pool of an account into pandas DataFrames, assemble pools,
run guarded test sends and chart them. Without credentials everything runs
against the embedded sandbox::

    import commstoolkit as ct
    client = ct.connect()
    senders = ct.load_senders(client)

Heavy modules (the sandbox, plotly, ipywidgets, nbformat) load on first use, so
``import commstoolkit`` stays fast.

Each public name is written once: the eager ones in the imports below, the lazy ones in the
``__all__`` of their subpackage (every name of ``pools``, ``testsend``, ``doctor`` and
``widgets`` is public here too). ``__all__`` is computed from both. The ``TYPE_CHECKING``
block repeats the lazy names for type checkers and IDEs, which cannot follow ``__getattr__``;
tests/test_public_api.py checks that it, the lazy map and ``__all__`` agree.
"""

from __future__ import annotations

import ast
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

# The eager names (``X as X`` re-exports each for type checkers; ``__all__`` is computed).
from .client import CommsClient as CommsClient
from .client import RetryPolicy as RetryPolicy
from .connect import connect as connect
from .errors import APIError as APIError
from .errors import AuthenticationError as AuthenticationError
from .errors import BadRequestError as BadRequestError
from .errors import CommsConnectionError as CommsConnectionError
from .errors import CommsError as CommsError
from .errors import CommsTimeoutError as CommsTimeoutError
from .errors import ConfigurationError as ConfigurationError
from .errors import ConflictError as ConflictError
from .errors import InvalidInputError as InvalidInputError
from .errors import NotFoundError as NotFoundError
from .errors import OperationError as OperationError
from .errors import OperationTimeoutError as OperationTimeoutError
from .errors import RateLimitError as RateLimitError
from .errors import SandboxStateError as SandboxStateError
from .errors import ServerError as ServerError
from .errors import ServiceUnavailableError as ServiceUnavailableError
from .errors import TransportConnectionError as TransportConnectionError
from .errors import TransportError as TransportError
from .errors import TransportTimeoutError as TransportTimeoutError
from .errors import UnexpectedResponseError as UnexpectedResponseError
from .frames import clear_cache as clear_cache
from .frames import load_messages as load_messages
from .frames import load_pool_members as load_pool_members
from .frames import load_pools as load_pools
from .frames import load_senders as load_senders
from .models import Accepted as Accepted
from .models import Attempt as Attempt
from .models import Message as Message
from .models import Operation as Operation
from .models import Sender as Sender
from .models import SenderPool as SenderPool

# Lazy subpackages: every name of their ``__all__`` is public here, loaded on first use.
# pools and testsend (phonenumbers) are lazy too: together they were a third of what
# ``import commstoolkit`` adds to ``import pandas, httpx``; widgets load ipywidgets.
_LAZY_PACKAGES = ("analysis", "doctor", "events", "pools", "testsend", "widgets")
# Lazy subpackages reachable as modules; charts, analysis and events are public as such
# (``ct.charts.inventory``, ``ct.analysis.BY``, ``ct.events.subscribe``).
_LAZY_MODULES = ("analysis", "charts", "events", "pools", "testsend")
_PUBLIC_MODULES = ("analysis", "charts", "events")
# The sandbox stands beside the stack: only ``Sandbox`` itself is public here.
_LAZY_ONE = {"Sandbox": "sandbox"}

if TYPE_CHECKING:
    from . import analysis as analysis
    from . import charts as charts
    from . import events as events
    from . import pools as pools
    from . import testsend as testsend
    from .analysis import ExportResult as ExportResult
    from .analysis import Finding as Finding
    from .analysis import Findings as Findings
    from .analysis import TrafficDataset as TrafficDataset
    from .analysis import attempts_sql as attempts_sql
    from .analysis import error_codes as error_codes
    from .analysis import export_traffic as export_traffic
    from .analysis import findings_from_tallies as findings_from_tallies
    from .analysis import findings_sql as findings_sql
    from .analysis import health_events_sql as health_events_sql
    from .analysis import health_from_counts as health_from_counts
    from .analysis import health_sql as health_sql
    from .analysis import load_traffic as load_traffic
    from .analysis import open_traffic as open_traffic
    from .analysis import read_traffic as read_traffic
    from .analysis import traffic_findings as traffic_findings
    from .analysis import traffic_health as traffic_health
    from .doctor import Diagnosis as Diagnosis
    from .doctor import DoctorFinding as DoctorFinding
    from .doctor import ProposedChange as ProposedChange
    from .doctor import diagnose as diagnose
    from .events import EventReceiver as EventReceiver
    from .events import SinkTestError as SinkTestError
    from .events import SubscriptionChange as SubscriptionChange
    from .events import load_events as load_events
    from .pools import MAX_SENDERS_PER_REQUEST as MAX_SENDERS_PER_REQUEST
    from .pools import PoolApplyError as PoolApplyError
    from .pools import PoolDeletedError as PoolDeletedError
    from .pools import PoolFilePlan as PoolFilePlan
    from .pools import PoolPlan as PoolPlan
    from .pools import PoolPlanWarning as PoolPlanWarning
    from .pools import PoolSpec as PoolSpec
    from .pools import SenderSelector as SenderSelector
    from .pools import create_pool as create_pool
    from .pools import delete_pool as delete_pool
    from .pools import export_pool_file as export_pool_file
    from .pools import load_pool_file as load_pool_file
    from .pools import plan_pool as plan_pool
    from .pools import plan_pool_file as plan_pool_file
    from .pools import pool_report as pool_report
    from .pools import select_senders as select_senders
    from .sandbox import Sandbox as Sandbox
    from .testsend import ALLOW_ENV as ALLOW_ENV
    from .testsend import CHUNK_SIZE as CHUNK_SIZE
    from .testsend import CHUNK_TAG as CHUNK_TAG
    from .testsend import CONFIRM_ABOVE as CONFIRM_ABOVE
    from .testsend import DuplicateRecipientWarning as DuplicateRecipientWarning
    from .testsend import InvalidRecipientsError as InvalidRecipientsError
    from .testsend import Journal as Journal
    from .testsend import SendIncompleteError as SendIncompleteError
    from .testsend import SendRefusedError as SendRefusedError
    from .testsend import SendSummary as SendSummary
    from .testsend import TestSend as TestSend
    from .testsend import default_journal_dir as default_journal_dir
    from .testsend import test_send as test_send
    from .widgets import DoctorPanel as DoctorPanel
    from .widgets import LiveSendView as LiveSendView
    from .widgets import PoolBuilder as PoolBuilder
    from .widgets import TestSendPanel as TestSendPanel

__version__ = "0.1.0"


def _declared_all(package: str) -> list[str]:
    """The ``__all__`` a subpackage declares, read from its source without importing it."""
    source = (Path(__file__).parent / package / "__init__.py").read_text(encoding="utf-8")
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return list(ast.literal_eval(node.value))
    raise ImportError(f"commstoolkit.{package} declares no __all__")  # pragma: no cover


# name -> (module, attribute or None for the module itself); resolved on first access (PEP 562).
_LAZY: dict[str, tuple[str, str | None]] = {
    **{
        name: ("." + package, name) for package in _LAZY_PACKAGES for name in _declared_all(package)
    },
    **{name: ("." + package, name) for name, package in _LAZY_ONE.items()},
    **{name: ("." + name, None) for name in _LAZY_MODULES},
}

_EAGER = [
    name
    for name, value in list(globals().items())
    if not name.startswith("_") and getattr(value, "__module__", "").startswith(__name__ + ".")
]

__all__ = sorted(({*_EAGER, *_LAZY} - set(_LAZY_MODULES)) | set(_PUBLIC_MODULES))


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
