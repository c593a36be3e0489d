"""client.wait(): polls the right endpoint until the operation ends, on a fake clock."""

from __future__ import annotations

import sys

import httpx
import pytest

from commstoolkit.client import CommsClient
from commstoolkit.errors import InvalidInputError, OperationTimeoutError
from commstoolkit.models import Operation

from .conftest import OP_ID, SID, TOKEN


class FakeTime:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _operation_json(status, **stats):
    return {
        "id": OP_ID,
        "status": status,
        "stats": stats,
        "createdAt": "2024-04-05T06:20:00Z",
        "updatedAt": "2024-04-05T06:20:00Z",
    }


def _operation_server(states):
    """Answer successive polls with ``states`` (then the last one forever)."""
    requests = []

    def handler(request):
        requests.append(request)
        return httpx.Response(200, json=states[min(len(requests), len(states)) - 1])

    return handler, requests


def _client(handler, fake_time):
    return CommsClient(
        account_sid=SID,
        auth_token=TOKEN,
        transport=httpx.MockTransport(handler),
        sleep=fake_time.sleep,
        clock=fake_time.clock,
    )


def test_polls_until_completed():
    states = [
        _operation_json("PROCESSING", total=3, queued=3, created=0, failed=0),
        _operation_json("PROCESSING", total=3, queued=1, created=2, failed=0),
        _operation_json("COMPLETED", total=3, queued=0, created=3, failed=0),
    ]
    handler, requests = _operation_server(states)
    fake_time = FakeTime()
    accepted = Operation(id=OP_ID, kind="sender_pool")
    final = _client(handler, fake_time).wait(accepted, poll_interval=2.0)
    assert final.status == "COMPLETED"
    assert final.stats["created"] == 3
    assert len(requests) == 3
    assert fake_time.sleeps == [2.0, 2.0]
    assert {r.url.path for r in requests} == {f"/v1/SenderPools/Operations/{OP_ID}"}


def test_message_operations_are_polled_under_messages():
    handler, requests = _operation_server([_operation_json("COMPLETED", total=1, delivered=1)])
    client = _client(handler, FakeTime())
    final = client.wait(OP_ID, kind="message")
    assert final.kind == "message"
    assert requests[0].url.path == f"/v1/Messages/Operations/{OP_ID}"
    client.wait(Operation(id=OP_ID, kind="message"))
    assert requests[1].url.path == f"/v1/Messages/Operations/{OP_ID}"


def test_a_canceled_operation_is_returned():
    handler, _ = _operation_server([_operation_json("CANCELED", total=2)])
    assert _client(handler, FakeTime()).wait(OP_ID).status == "CANCELED"


def test_timeout_raises_with_the_last_state():
    handler, requests = _operation_server(
        [_operation_json("PROCESSING", total=10, queued=6, created=4, failed=0)]
    )
    fake_time = FakeTime()
    with pytest.raises(OperationTimeoutError) as caught:
        _client(handler, fake_time).wait(OP_ID, timeout=5.0, poll_interval=2.0)
    assert fake_time.now == pytest.approx(5.0)
    assert fake_time.sleeps == [2.0, 2.0, 1.0]
    assert len(requests) == 4
    err = caught.value
    assert err.operation.status == "PROCESSING"
    assert "still PROCESSING after 5s" in str(err)
    assert "4/10 done" in str(err)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"timeout": 0}, "timeout"),
        ({"timeout": float("inf")}, "timeout"),
        ({"poll_interval": -1}, "poll_interval"),
        ({"kind": "pool"}, "kind"),
    ],
)
def test_bad_wait_arguments_are_refused_before_polling(kwargs, field):
    handler, requests = _operation_server([_operation_json("COMPLETED")])
    with pytest.raises(InvalidInputError) as caught:
        _client(handler, FakeTime()).wait(OP_ID, **kwargs)
    assert caught.value.field == field
    assert requests == []


def test_bad_operation_id_is_refused():
    handler, requests = _operation_server([_operation_json("COMPLETED")])
    with pytest.raises(InvalidInputError, match="operation"):
        _client(handler, FakeTime()).wait("comms_sender_01h9krwprkeee8fzqspvwy6nq8")
    assert requests == []


class FakeBar:
    """Stands in for tqdm.auto.tqdm and remembers what it was shown."""

    def __init__(self, total=None, **kwargs):
        self.total, self.n, self.postfix, self.closed = total, 0, None, False

    def set_postfix_str(self, text, refresh=True):
        self.postfix = text

    def refresh(self):
        pass

    def close(self):
        self.closed = True


@pytest.fixture
def fake_bars(monkeypatch):
    bars = []
    module = type(sys)("tqdm.auto")
    module.tqdm = lambda **kwargs: bars.append(FakeBar(**kwargs)) or bars[-1]
    monkeypatch.setitem(sys.modules, "tqdm.auto", module)
    return bars


def test_progress_bar_follows_stats(fake_bars):
    states = [
        _operation_json("PROCESSING", total=4, queued=4, created=0, failed=0),
        _operation_json("COMPLETED", total=4, queued=0, created=3, failed=1),
    ]
    handler, _ = _operation_server(states)
    _client(handler, FakeTime()).wait(OP_ID, progress=True)
    (bar,) = fake_bars
    assert (bar.total, bar.n, bar.postfix, bar.closed) == (4, 4, "COMPLETED", True)


def test_progress_bar_is_closed_on_timeout(fake_bars):
    handler, _ = _operation_server([_operation_json("PROCESSING", total=1, created=0)])
    with pytest.raises(OperationTimeoutError):
        _client(handler, FakeTime()).wait(OP_ID, timeout=1, progress=True)
    assert [bar.closed for bar in fake_bars] == [True]


def test_progress_uses_real_tqdm(capsys):
    handler, _ = _operation_server([_operation_json("COMPLETED", total=2, created=2, failed=0)])
    _client(handler, FakeTime()).wait(OP_ID, progress=True)
    assert "2/2" in capsys.readouterr().err
