"""The public surface of ``commstoolkit`` is exactly what we mean to offer."""

from __future__ import annotations

import ast
import inspect
import typing
from importlib import import_module
from pathlib import Path

import pytest

import commstoolkit as ct

# The reviewed surface: the one place a test writes the public names. A name added to a
# subpackage's __all__ (analysis, pools, testsend, widgets) or to the eager imports shows up here.
PUBLIC = [
    "ALLOW_ENV",
    "APIError",
    "Accepted",
    "Attempt",
    "AuthenticationError",
    "BadRequestError",
    "CHUNK_SIZE",
    "CHUNK_TAG",
    "CONFIRM_ABOVE",
    "CommsClient",
    "CommsConnectionError",
    "CommsError",
    "CommsTimeoutError",
    "ConfigurationError",
    "ConflictError",
    "Diagnosis",
    "DoctorFinding",
    "DoctorPanel",
    "DuplicateRecipientWarning",
    "EventReceiver",
    "ExportResult",
    "Finding",
    "Findings",
    "InvalidInputError",
    "InvalidRecipientsError",
    "Journal",
    "LiveSendView",
    "MAX_SENDERS_PER_REQUEST",
    "Message",
    "NotFoundError",
    "Operation",
    "OperationError",
    "OperationTimeoutError",
    "PoolApplyError",
    "PoolBuilder",
    "PoolDeletedError",
    "PoolFilePlan",
    "PoolPlan",
    "PoolPlanWarning",
    "PoolSpec",
    "ProposedChange",
    "RateLimitError",
    "RetryPolicy",
    "Sandbox",
    "SandboxStateError",
    "SendIncompleteError",
    "SendRefusedError",
    "SendSummary",
    "Sender",
    "SenderPool",
    "SenderSelector",
    "ServerError",
    "ServiceUnavailableError",
    "SinkTestError",
    "SubscriptionChange",
    "TestSend",
    "TestSendPanel",
    "TrafficDataset",
    "TransportConnectionError",
    "TransportError",
    "TransportTimeoutError",
    "UnexpectedResponseError",
    "analysis",
    "attempts_sql",
    "charts",
    "clear_cache",
    "connect",
    "create_pool",
    "default_journal_dir",
    "delete_pool",
    "diagnose",
    "error_codes",
    "events",
    "export_pool_file",
    "export_traffic",
    "findings_from_tallies",
    "findings_sql",
    "health_events_sql",
    "health_from_counts",
    "health_sql",
    "load_events",
    "load_messages",
    "load_pool_file",
    "load_pool_members",
    "load_pools",
    "load_senders",
    "load_traffic",
    "open_traffic",
    "plan_pool",
    "plan_pool_file",
    "pool_report",
    "read_traffic",
    "select_senders",
    "test_send",
    "traffic_findings",
    "traffic_health",
]

# Every name of design.md §2.
DESIGN_NAMES = [
    "connect",
    "load_senders",
    "load_pools",
    "load_pool_members",
    "select_senders",
    "plan_pool",
    "create_pool",
    "test_send",
    "PoolBuilder",
    "TestSendPanel",
    "Sandbox",
    "charts",
]


def test_all_is_the_curated_sorted_surface():
    assert ct.__all__ == PUBLIC
    assert sorted(ct.__all__) == ct.__all__


def test_every_public_name_resolves():
    for name in ct.__all__:
        assert getattr(ct, name) is not None, name


def test_design_names_are_public():
    assert set(DESIGN_NAMES) <= set(ct.__all__)


def test_errors_form_one_tree():
    errors = [getattr(ct, name) for name in PUBLIC if name.endswith("Error")]
    assert all(issubclass(error, ct.CommsError) for error in errors)
    assert issubclass(ct.InvalidInputError, ValueError)
    assert issubclass(ct.SandboxStateError, ct.ConfigurationError)


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no_such_thing"):
        ct.no_such_thing  # noqa: B018


def _type_checking_names() -> set[str]:
    """The names the package's ``if TYPE_CHECKING:`` block imports (what type checkers see)."""
    tree = ast.parse(Path(ct.__file__).read_text(encoding="utf-8"))
    blocks = [
        node
        for node in tree.body
        if isinstance(node, ast.If)
        and isinstance(node.test, ast.Name)
        and node.test.id == "TYPE_CHECKING"
    ]
    assert len(blocks) == 1
    names = set()
    for node in ast.walk(blocks[0]):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                # ``X as X``: re-exported for type checkers (the package sets no_implicit_reexport).
                assert alias.asname == alias.name, alias.name
                names.add(alias.name)
    return names


def test_the_type_checking_block_the_lazy_map_and_all_agree():
    lazy = set(ct._LAZY)
    assert _type_checking_names() == lazy
    public_modules = {"analysis", "charts", "events"}
    assert set(ct.__all__) == set(ct._EAGER) | (lazy - set(ct._LAZY_MODULES)) | public_modules
    assert not set(ct._EAGER) & lazy


def test_the_lazy_map_is_each_subpackages_all():
    for package in ct._LAZY_PACKAGES:
        declared = import_module(f"commstoolkit.{package}").__all__
        assert {name for name, (module, _) in ct._LAZY.items() if module == f".{package}"} >= set(
            declared
        )
        assert all(ct._LAZY[name] == (f".{package}", name) for name in declared)


def _public_functions():
    """Every public function and public method of a public class, with its owner's name."""
    for name in ct.__all__:
        value = getattr(ct, name)
        if inspect.isfunction(value):
            yield name, value
        elif inspect.isclass(value) and value.__module__.startswith("commstoolkit."):
            for attribute, member in vars(value).items():
                if attribute.startswith("_"):
                    continue
                member = getattr(member, "__func__", member)
                if isinstance(member, property):
                    member = member.fget
                if inspect.isfunction(member):
                    yield f"{name}.{attribute}", member


def _commstoolkit_types(annotation) -> set[type]:
    """The commstoolkit classes named in a resolved annotation (``X | None``, ``list[X]``...)."""
    found = set()
    if inspect.isclass(annotation) and annotation.__module__.startswith("commstoolkit."):
        found.add(annotation)
    for argument in typing.get_args(annotation):
        found |= _commstoolkit_types(argument)
    return found


# Returned by public methods but not meant to be named by users: the sandbox's own types (it
# stands beside the stack) and a plan's internal write steps.
NOT_EXPORTED_RETURNS = {"Changes", "SandboxTransport", "Step"}


def test_every_type_a_public_function_returns_is_exported():
    exported = {getattr(ct, name) for name in ct.__all__}
    missing = {}
    for where, function in _public_functions():
        namespace = {**vars(import_module(function.__module__)), **vars(ct)}
        annotation = function.__annotations__.get("return")
        try:  # only the return annotation: a parameter's may name a module not imported
            resolved = eval(annotation, namespace) if isinstance(annotation, str) else annotation
        except NameError as error:  # imported for type checking only: must be one of those
            assert error.name in NOT_EXPORTED_RETURNS, (where, annotation)
            continue
        returned = _commstoolkit_types(resolved)
        for kind in returned - exported:
            if kind.__name__ not in NOT_EXPORTED_RETURNS:
                missing[where] = kind.__name__
    assert missing == {}


def test_the_return_types_of_the_public_functions_are_exported():
    # The functions the issue named: delete_pool returns Accepted; load_messages' rows are
    # Message objects with their Attempts.
    assert ct.delete_pool.__annotations__["return"] == "Accepted"
    for name in ("Accepted", "Message", "Attempt"):
        assert name in ct.__all__
