"""The public surface of ``commstoolkit`` is exactly what we mean to offer."""

from __future__ import annotations

import pytest

import commstoolkit as ct

PUBLIC = [
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
