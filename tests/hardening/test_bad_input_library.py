"""Bad input to the library's public functions: a clear error naming the field, before any request.

Every call gets a client whose transport fails the test on any request (``NoNetwork``), so
"before any request" is checked, not assumed. The error must be a commstoolkit error (or, for
the sandbox's own settings, a ``ValueError``) and its text must name the argument.
"""

from __future__ import annotations

import importlib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

import commstoolkit as ct
from commstoolkit.sandbox import AccountFileError, Sandbox
from commstoolkit.testsend import TestSend
from commstoolkit.widgets import _pool_inputs as inputs

POOL = "comms_senderpool_01h9krwprkeee8fzqspvwy6nq8"
SENDER = "comms_sender_01h9krwprkeee8fzqspvwy6nq8"
OPERATION = "comms_operation_01h9krwprkeee8fzqspvwy6nq8"
NUMBER = "+15005550006"
SID, TOKEN = "AC00000000000000000000000000000000", "tok_corpus"


class NoNetwork(httpx.BaseTransport):
    """A transport that records and refuses every request."""

    def __init__(self) -> None:
        self.requests: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(f"{request.method} {request.url.path}")
        raise AssertionError(f"a request was sent: {request.method} {request.url}")


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    """A real senders frame (read from a sandbox, outside the calls under test)."""
    with ct.connect(sandbox=True, db=":memory:", seed=3, senders=30, quiet=True) as client:
        return ct.load_senders(client)


@dataclass(frozen=True)
class Case:
    id: str
    call: Callable[[ct.CommsClient, pd.DataFrame], Any]
    field: str
    live: bool = False


def _client(transport: httpx.BaseTransport, live: bool) -> ct.CommsClient:
    return ct.CommsClient(
        account_sid=SID, auth_token=TOKEN, transport=transport, live=live, sleep=lambda s: None
    )


def _connect(**kwargs: Any) -> Callable[[Any, Any], Any]:
    return lambda client, frame: ct.connect(quiet=True, env={}, **kwargs)


def _send(*args: Any, **kwargs: Any) -> Callable[[Any, Any], Any]:
    return lambda client, frame: ct.test_send(client, *args, **kwargs)


def _ids(frame: pd.DataFrame, n: int = 2) -> list[str]:
    return list(frame["sender_id"].head(n))


_SCRATCH = tempfile.TemporaryDirectory(prefix="ct-bad-input-")  # removed when the run ends


def _scratch(name: str, text: str | None = None) -> str:
    """A folder (no ``text``) or a file holding ``text``, in a scratch folder of this run."""
    path = Path(_SCRATCH.name) / name
    if text is None:
        path.mkdir(exist_ok=True)
    else:
        path.write_text(text)
    return str(path)


CASES = [
    # -- connect and the client's configuration ---------------------------------------------
    Case("connect live without credentials", _connect(sandbox=False), "account_sid"),
    Case(
        "connect http to a remote host",
        _connect(account_sid=SID, auth_token="t", base_url="http://example.com/v1"),
        "base_url",
    ),
    Case(
        "connect with credentials in the URL",
        _connect(account_sid=SID, auth_token="t", base_url="https://u:p@example.com/v1"),
        "base_url",
    ),
    Case(
        "connect a token with a newline",
        _connect(account_sid=SID, auth_token="t\nX: 1"),
        "auth_token",
    ),
    Case("connect a SID with a colon", _connect(account_sid="AC:1", auth_token="t"), "account_sid"),
    Case(
        "connect an api key without secret", _connect(api_key="SK1", api_secret=" "), "api_secret"
    ),
    Case("connect a negative seed", _connect(sandbox=True, db=":memory:", seed=-1), "seed"),
    Case(
        "connect senders as text", _connect(sandbox=True, db=":memory:", senders="many"), "senders"
    ),
    Case(
        "connect a db that is a folder",
        lambda c, f: _connect(sandbox=True, db=_scratch("dir"))(c, f),
        "db",
    ),
    Case(
        "connect a db that is no SQLite file",
        lambda c, f: _connect(sandbox=True, db=_scratch("notes.txt", "notes\n" * 50))(c, f),
        "db",
    ),
    Case(
        "connect a db under a file",
        lambda c, f: _connect(sandbox=True, db=_scratch("plain", "x") + "/sub/s.sqlite3")(c, f),
        "db",
    ),
    Case("connect a db that is a number", _connect(sandbox=True, db=42), "db"),
    Case("connect reset as text", _connect(sandbox=True, db=":memory:", reset="yes"), "reset"),
    Case(
        "client timeout zero",
        lambda c, f: ct.CommsClient(account_sid=SID, auth_token="t", timeout=0),
        "timeout",
    ),
    Case("negative max_retries", lambda c, f: ct.RetryPolicy(max_retries=-1), "max_retries"),
    Case("max_retries a bool", lambda c, f: ct.RetryPolicy(max_retries=True), "max_retries"),
    # -- load_* -------------------------------------------------------------------------------
    Case("load_senders channel FAX", lambda c, f: ct.load_senders(c, channel="FAX"), "channel"),
    Case(
        "load_senders a number for status",
        lambda c, f: ct.load_senders(c, status=["ACTIVATED", 5]),
        "status",
    ),
    Case("load_senders channel 123", lambda c, f: ct.load_senders(c, channel=123), "channel"),
    Case("load_senders empty status list", lambda c, f: ct.load_senders(c, status=[]), "status"),
    Case("load_senders channel NA", lambda c, f: ct.load_senders(c, channel=pd.NA), "channel"),
    Case("load_senders status NA", lambda c, f: ct.load_senders(c, status=pd.NA), "status"),
    Case(
        "load_senders channel NaN", lambda c, f: ct.load_senders(c, channel=float("nan")), "channel"
    ),
    Case(
        "load_senders NA among channels",
        lambda c, f: ct.load_senders(c, channel=["SMS", pd.NA]),
        "channel",
    ),
    Case("load_senders progress NA", lambda c, f: ct.load_senders(c, progress=pd.NA), "progress"),
    Case("load_pools progress NA", lambda c, f: ct.load_pools(c, progress=pd.NA), "progress"),
    Case("load_pool_members NA", lambda c, f: ct.load_pool_members(c, pd.NA), "pool_ids"),
    Case(
        "load_pool_members progress NA",
        lambda c, f: ct.load_pool_members(c, POOL, progress=pd.NA),
        "progress",
    ),
    Case("load_pool_members a bad id", lambda c, f: ct.load_pool_members(c, "nope"), "pool_ids"),
    Case(
        "load_pool_members a bad id after a good one",
        lambda c, f: ct.load_pool_members(c, [POOL, "nope"]),
        "pool_ids",
    ),
    Case("load_pool_members a number", lambda c, f: ct.load_pool_members(c, 5), "pool_ids"),
    Case("load_messages empty run id", lambda c, f: ct.load_messages(c, run_id=""), "run_id"),
    Case(
        "load_messages run id with spaces", lambda c, f: ct.load_messages(c, run_id="a b"), "run_id"
    ),
    Case(
        "load_messages bad operation",
        lambda c, f: ct.load_messages(c, operation_id="op"),
        "operation",
    ),
    Case("load_messages status", lambda c, f: ct.load_messages(c, status="LOST"), "status"),
    Case("load_messages channel", lambda c, f: ct.load_messages(c, channel="EMAIL"), "channel"),
    Case("load_messages channel NA", lambda c, f: ct.load_messages(c, channel=pd.NA), "channel"),
    Case(
        "load_messages status NaN", lambda c, f: ct.load_messages(c, status=float("nan")), "status"
    ),
    Case(
        "load_messages operation NA",
        lambda c, f: ct.load_messages(c, operation_id=pd.NA),
        "operation_id",
    ),
    Case("load_messages details NA", lambda c, f: ct.load_messages(c, details=pd.NA), "details"),
    Case("load_messages details 'yes'", lambda c, f: ct.load_messages(c, details="yes"), "details"),
    # -- select_senders ------------------------------------------------------------------------
    Case("select channel FAX", lambda c, f: ct.select_senders(f, channels="FAX"), "channels"),
    Case("select status ON", lambda c, f: ct.select_senders(f, statuses=["ON"]), "statuses"),
    Case("select unknown tag key", lambda c, f: ct.select_senders(f, tags={"nokey": "x"}), "tags"),
    Case("select tags as a list", lambda c, f: ct.select_senders(f, tags=["team"]), "tags"),
    Case(
        "select a date that is none",
        lambda c, f: ct.select_senders(f, created_after="nope"),
        "created_after",
    ),
    Case(
        "select a date object",
        lambda c, f: ct.select_senders(f, created_before=object()),
        "created_before",
    ),
    Case("select channels a number", lambda c, f: ct.select_senders(f, channels=123), "channels"),
    Case("select channels NA", lambda c, f: ct.select_senders(f, channels=pd.NA), "channels"),
    Case(
        "select NaN among statuses",
        lambda c, f: ct.select_senders(f, statuses=["ACTIVATED", float("nan")]),
        "statuses",
    ),
    Case("select a tag value NA", lambda c, f: ct.select_senders(f, tags={"team": pd.NA}), "tags"),
    Case(
        "select a tag value NaN",
        lambda c, f: ct.select_senders(f, tags={"team": float("nan")}),
        "tags",
    ),
    Case(
        "select None among tag values",
        lambda c, f: ct.select_senders(f, tags={"team": ["ops", None]}),
        "tags",
    ),
    Case(
        "select created_after NA",
        lambda c, f: ct.select_senders(f, created_after=pd.NA),
        "created_after",
    ),
    Case("select search a number", lambda c, f: ct.select_senders(f, search=5), "search"),
    Case("select from text, not a frame", lambda c, f: ct.select_senders("senders"), "senders"),
    Case(
        "select a frame without status",
        lambda c, f: ct.select_senders(f[["sender_id"]], statuses="ACTIVATED"),
        "senders",
    ),
    # -- plan_pool / create_pool / delete_pool -----------------------------------------------------
    Case("plan malformed sender id", lambda c, f: ct.plan_pool(c, ["bad"], name="x"), "senders"),
    Case("plan empty name", lambda c, f: ct.plan_pool(c, _ids(f), name=" "), "name"),
    Case("plan neither name nor pool", lambda c, f: ct.plan_pool(c, _ids(f)), "name"),
    Case(
        "plan a 257-character tag",
        lambda c, f: ct.plan_pool(c, _ids(f), name="x", tags={"k": "v" * 257}),
        "tags",
    ),
    Case(
        "plan a tag key with a space",
        lambda c, f: ct.plan_pool(c, _ids(f), name="x", tags={"a b": "c"}),
        "tags",
    ),
    Case(
        "plan 11 tags",
        lambda c, f: ct.plan_pool(c, _ids(f), name="x", tags={f"k{i}": "v" for i in range(11)}),
        "tags",
    ),
    Case("plan a bad pool id", lambda c, f: ct.plan_pool(c, _ids(f), pool_id="p1"), "pool_id"),
    Case(
        "plan a frame without ids",
        lambda c, f: ct.plan_pool(c, f[["address"]], name="x"),
        "senders",
    ),
    Case("plan a number of senders", lambda c, f: ct.plan_pool(c, 42, name="x"), "senders"),
    Case("create an empty name", lambda c, f: ct.create_pool(c, "", _ids(f)), "name"),
    Case(
        "create an upper-case id", lambda c, f: ct.create_pool(c, "x", [SENDER.upper()]), "senders"
    ),
    Case("create tags as a list", lambda c, f: ct.create_pool(c, "x", _ids(f), tags=["t"]), "tags"),
    Case("delete a bad pool id", lambda c, f: ct.delete_pool(c, "p", confirm=True), "pool_id"),
    Case("delete without confirm", lambda c, f: ct.delete_pool(c, POOL), "confirm"),
    # -- test_send -------------------------------------------------------------------------------
    Case("send to a pool that is no id", _send("pool", [NUMBER], "x"), "pool"),
    Case("send to a national number", _send(POOL, ["(415) 555-0100"], "x"), "to"),
    Case("send to nobody", _send(POOL, [], "x"), "to"),
    Case("send to a number, not text", _send(POOL, [14155550100], "x"), "to"),
    Case("send to a dict", _send(POOL, {"to": NUMBER}, "x"), "to"),
    Case("send empty text", _send(POOL, NUMBER, " "), "text"),
    Case("send 1,601 characters", _send(POOL, NUMBER, "x" * 1601), "text"),
    Case("send on channel SMS", _send(POOL, NUMBER, "x", channel="SMS"), "channel"),
    Case("send over EMAIL senders", _send(POOL, NUMBER, "x", channels=["EMAIL"]), "channels"),
    Case("send with timeout 0", _send(POOL, NUMBER, "x", timeout=0), "timeout"),
    Case(
        "send with max_recipients 0", _send(POOL, NUMBER, "x", max_recipients=0), "max_recipients"
    ),
    Case("live send without an allow-list", _send(POOL, NUMBER, "x"), "allow", live=True),
    Case(
        "live send of 6 without confirm",
        _send(
            POOL,
            [f"+1914318800{i}" for i in range(6)],
            "x",
            allow=[f"+1914318800{i}" for i in range(6)],
        ),
        "confirm",
        live=True,
    ),
    Case("send with a journal that is a number", _send(POOL, NUMBER, "x", journal=123), "journal"),
    Case(
        "resume a journal that is not there",
        lambda c, f: TestSend.resume(c, "/nonexistent/run.jsonl"),
        "journal",
    ),
    # -- the client's own calls ----------------------------------------------------------------
    Case("list senders page_size 0", lambda c, f: c.senders.list(page_size=0), "page_size"),
    Case("update a pool with nothing", lambda c, f: c.sender_pools.update(POOL), "name"),
    Case("send to no recipients", lambda c, f: c.messages.send([], text="x"), "recipients"),
    Case(
        "send from a pool and a sender",
        lambda c, f: c.messages.send(NUMBER, text="x", sender_id=SENDER, sender_pool_id=POOL),
        "sender_id",
    ),
    Case("wait on a word", lambda c, f: c.wait("op"), "operation_or_id"),
    Case(
        "send at a naive datetime",
        lambda c, f: c.messages.send(NUMBER, text="x", send_at=datetime(2030, 1, 1)),
        "send_at",
    ),
    Case(
        "add 10,001 members",
        lambda c, f: c.sender_pools.members.add(POOL, [SENDER] * 10_001),
        "sender_ids",
    ),
    # -- the widgets' inputs -------------------------------------------------------------------
    Case("tags without '='", lambda c, f: inputs.parse_tags("team"), "tags"),
    Case("tags without a key", lambda c, f: inputs.parse_tags("=ops"), "tags"),
    Case("tags without a value", lambda c, f: inputs.parse_tags("team="), "tags"),
    Case("a tag key twice", lambda c, f: inputs.parse_tags("a=1, a=2"), "tags"),
    Case(
        "a new pool without a name",
        lambda c, f: inputs.target_arguments("new", "  ", "", None),
        "name",
    ),
    Case(
        "an existing pool not chosen",
        lambda c, f: inputs.target_arguments("existing", "", "", None),
        "pool_id",
    ),
    Case(
        "a target that is neither",
        lambda c, f: inputs.target_arguments("sideways", "x", "", None),
        "target",
    ),
    Case(
        "a pair without = among good ones",
        lambda c, f: inputs.parse_tags("team=ops, region"),
        "tags",
    ),
]


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 60
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.filterwarnings("ignore::commstoolkit.pools.PoolPlanWarning")
@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_argument_is_refused_naming_it_before_any_request(case: Case, frame: pd.DataFrame):
    transport = NoNetwork()
    with (
        _client(transport, case.live) as client,
        pytest.raises((ct.CommsError, ValueError)) as caught,
    ):
        case.call(client, frame)
    assert transport.requests == []
    error = caught.value
    assert not isinstance(error, AssertionError)
    # The field is named in the text, or (for the widgets' sentences) is the error's .field.
    assert case.field in str(error) or getattr(error, "field", None) == case.field, str(error)


def test_the_send_panel_refuses_no_channel():
    module = pytest.importorskip("commstoolkit.widgets._send_inputs")
    with pytest.raises(ct.InvalidInputError) as caught:
        module.sender_channels([])
    assert caught.value.field == "channels"


def test_sandbox_settings_are_refused_naming_them():
    for kwargs, named in (({"seed": -1}, "seed"), ({"senders": 1.5}, "senders")):
        with pytest.raises(ValueError, match=named):
            Sandbox(":memory:", **kwargs)
    assert importlib.import_module("commstoolkit.sandbox.state.seed").MAX_SENDERS >= 100_000
    # A file it cannot use: the sandbox's own ValueError naming db, never a sqlite3 error.
    for db in (_scratch("a-folder"), _scratch("text.sqlite3", "text\n" * 50)):
        with pytest.raises(AccountFileError, match="db '") as caught:
            Sandbox(db)
        assert isinstance(caught.value, ValueError) and caught.value.__suppress_context__


NA_LIKE = [pd.NA, float("nan"), None, pd.NaT]


@pytest.mark.parametrize("value", NA_LIKE, ids=repr)
def test_na_like_filters_are_typed_errors_naming_the_argument(value: Any, frame: pd.DataFrame):
    """pd.NA, NaN, None and NaT (what a missing cell of a frame gives): never pandas' own
    TypeError from comparing NA, never read as "no filter" where None is not the default."""
    with _client(NoNetwork(), live=False) as client:
        calls = {
            "channel": lambda: ct.load_senders(client, channel=[value]),
            "status": lambda: ct.load_senders(client, status=[value]),
            "channels": lambda: ct.select_senders(frame, channels=[value]),
            "statuses": lambda: ct.select_senders(frame, statuses=[value]),
            "tags": lambda: ct.select_senders(frame, tags={"team": value}),
            "pool_ids": lambda: ct.load_pool_members(client, [value]),
        }
        for field, call in calls.items():
            with pytest.raises(ct.InvalidInputError) as caught:
                call()
            assert caught.value.field == field, field
        if value is not None:  # a single None is the default: no filter
            with pytest.raises(ct.InvalidInputError) as caught:
                ct.load_senders(client, channel=value)
            assert caught.value.field == "channel" and "SMS" in caught.value.allowed
            assert "channel must be one of SMS, RCS, EMAIL, WHATSAPP, PUSH" in str(caught.value)
