"""Messages and attempts DataFrames: columns, dtypes, NA rules, the details limit, filters."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import httpx
import pandas as pd
import pytest

import commstoolkit as ct
from commstoolkit.frames import (
    ATTEMPT_COLUMNS,
    DETAILS_LIMIT,
    MESSAGE_COLUMNS,
    attempts_frame,
    load_messages,
    messages_frame,
)
from commstoolkit.models import Attempt, Message

T0 = datetime(2024, 4, 5, 6, 20, tzinfo=timezone.utc)
OP = "comms_operation_01h9krwprkeee8fzqspvwy6nq8"
SMS = "comms_sender_01h9krwprkeee8fzqspvwy0sms"
RCS = "comms_sender_01h9krwprkeee8fzqspvwy0rcs"


def _attempt(channel, status, code=None):
    sender = SMS if channel == "SMS" else RCS
    return Attempt(sender, f"{channel}-addr", channel, "+14155550000", status, T0, code, None)


def _message(n, status="DELIVERED", attempts=None, seconds=4.5, channel="SMS"):
    return Message(
        id=f"comms_message_01h9krwprkeee8fzqspvwy{n:04d}",
        operation_id=OP,
        status=status,
        to_address=f"+1415555{n:04d}",
        to_channel="PHONE",
        sender_id=SMS if channel == "SMS" else RCS,
        sender_address=f"{channel}-addr",
        channel=channel,
        sender_pool_id=None,
        tags={"ct_run": "r1"},
        scheduled_for=None,
        created_at=T0,
        updated_at=T0 + timedelta(seconds=seconds),
        attempts=attempts,
    )


FALLBACK = (_attempt("RCS", "FAILED", 61337), _attempt("SMS", "DELIVERED"))


def test_messages_frame_columns_dtypes_and_values():
    frame = messages_frame(
        [
            _message(0, attempts=FALLBACK),
            _message(1, "FAILED", attempts=()),  # unaddressable: no attempt at all
            _message(2, "SENT", attempts=(_attempt("RCS", "SENT"),), channel="RCS"),
            _message(3, "UNDELIVERED", attempts=(_attempt("SMS", "UNDELIVERED", 30003),)),
        ]
    )
    assert tuple(frame.columns) == MESSAGE_COLUMNS
    assert frame["fallback"].tolist() == [True, False, False, False]
    assert frame["n_attempts"].tolist() == [2, 0, 1, 1]
    assert frame["error_code"].tolist()[0] is pd.NA  # the last attempt delivered
    assert frame["error_code"].tolist()[1:] == [pd.NA, pd.NA, 30003]
    latency = frame["latency_s"].tolist()
    assert latency[0] == latency[1] == latency[3] == 4.5 and math.isnan(latency[2])
    assert str(frame["fallback"].dtype) == "boolean"
    assert str(frame["n_attempts"].dtype) == str(frame["error_code"].dtype) == "Int64"
    assert list(frame["channel"].cat.categories) == ["SMS", "RCS", "WHATSAPP"]
    assert "READ" in frame["status"].cat.categories
    assert list(frame["to_channel"].cat.categories) == ["PHONE", "WHATSAPP"]
    assert str(frame["created_at"].dt.tz) == "UTC"


def test_without_attempts_fallback_and_counts_are_na_not_guessed():
    frame = messages_frame([_message(0), _message(1, "FAILED")])
    assert frame["fallback"].isna().all()
    assert frame["n_attempts"].isna().all()
    assert frame["error_code"].isna().all()
    assert frame["latency_s"].tolist() == [4.5, 4.5]


def test_an_unaddressable_message_has_no_sender_in_the_frame(recwarn):
    # The sandbox (like the spec's MessageAddress) gives it ``from: {address: "", channel: PHONE}``.
    data = _wire(_message(0, "FAILED"), with_attempts=False)
    data["from"] = {"address": "", "channel": "PHONE"}
    frame = messages_frame([Message.from_api({**data, "attempts": []})])
    assert frame["channel"].isna().all() and frame["sender_address"].isna().all()
    assert frame["sender_id"].isna().all() and frame["n_attempts"].tolist() == [0]
    assert not recwarn.list


def test_attempts_frame_has_one_row_per_attempt_numbered_from_one():
    frame = attempts_frame([_message(0, attempts=FALLBACK), _message(1), _message(2, attempts=())])
    assert tuple(frame.columns) == ATTEMPT_COLUMNS
    assert frame["attempt"].tolist() == [1, 2]
    assert frame["channel"].tolist() == ["RCS", "SMS"]
    assert frame["error_code"].tolist() == [61337, pd.NA]
    assert set(frame["message_id"]) == {_message(0).id}


def test_empty_frames_keep_columns_and_dtypes():
    full = messages_frame([_message(0, attempts=FALLBACK)])
    empty = messages_frame([])
    assert len(empty) == 0 and (empty.dtypes == full.dtypes).all()
    full_attempts = attempts_frame([_message(0, attempts=FALLBACK)])
    empty_attempts = attempts_frame([])
    assert (empty_attempts.dtypes == full_attempts.dtypes).all()


def _wire(message: Message, with_attempts: bool) -> dict:
    """The API JSON of a ``Message`` (the list omits attempts, GET has them)."""
    data = {
        "id": message.id,
        "from": {"address": message.sender_address, "channel": message.channel},
        "to": [{"address": message.to_address, "channel": "PHONE"}],
        "status": message.status,
        "related": [{"name": "OPERATION", "id": OP, "uri": "https://x.test/op"}],
        "tags": message.tags,
        "scheduledFor": None,
        "createdAt": message.created_at.isoformat(),
        "updatedAt": message.updated_at.isoformat(),
        "deletedAt": None,
    }
    data["from"]["senderId"] = message.sender_id
    if with_attempts:
        data["attempts"] = [
            {
                "from": {"address": "a", "channel": "RCS", "senderId": RCS},
                "to": [{"address": message.to_address, "channel": "PHONE"}],
                "status": "FAILED",
                "attemptedAt": message.created_at.isoformat(),
                "infoUrl": "https://x.test/log",
                "error": {"code": 61337, "message": "Recipient does not have RCS enabled."},
            },
            {
                "from": {"address": "b", "channel": "SMS", "senderId": SMS},
                "to": [{"address": message.to_address, "channel": "PHONE"}],
                "status": message.status,
                "attemptedAt": message.created_at.isoformat(),
                "infoUrl": "https://x.test/log",
                "error": None,
            },
        ]
    return data


class FakeMessages:
    """A messages API: pages of 1000, GET by id; records every request."""

    def __init__(self, count: int) -> None:
        self.messages = {m.id: m for m in (_message(n) for n in range(count))}
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path.removeprefix("/v1")
        if path == "/Messages":
            start = int(request.url.params.get("pageToken", "0"))
            ids = list(self.messages)[start : start + 1000]
            more = start + 1000 < len(self.messages)
            page = [_wire(self.messages[i], False) for i in ids]
            pagination = {"next": str(start + 1000) if more else None, "self": str(start)}
            return httpx.Response(200, json={"messages": page, "pagination": pagination})
        return httpx.Response(200, json=_wire(self.messages[path.rsplit("/", 1)[1]], True))

    def client(self) -> ct.CommsClient:
        return ct.CommsClient(
            account_sid="AC1", auth_token="t", transport=httpx.MockTransport(self)
        )

    def count(self, kind: str) -> int:
        lists = sum(r.url.path == "/v1/Messages" for r in self.requests)
        return lists if kind == "list" else len(self.requests) - lists


def test_load_messages_fetches_attempts_up_to_the_limit():
    api = FakeMessages(3)
    frame = load_messages(api.client(), run_id="r1", status="delivered", channel="SMS")
    assert (api.count("list"), api.count("get")) == (1, 3)
    assert dict(api.requests[0].url.params) == {
        "status": "DELIVERED",
        "channel": "SMS",
        "tags": "ct_run:r1;",
        "pageSize": "1000",
    }
    assert frame["fallback"].tolist() == [True, True, True]
    assert frame["error_code"].isna().all()  # the last attempt delivered


def test_load_messages_above_the_limit_leaves_details_na():
    api = FakeMessages(DETAILS_LIMIT + 1)
    frame = load_messages(api.client(), progress=False)
    assert len(frame) == DETAILS_LIMIT + 1
    assert (api.count("list"), api.count("get")) == (2, 0)
    assert frame["fallback"].isna().all() and frame["n_attempts"].isna().all()


@pytest.mark.parametrize(("details", "gets"), [(False, 0), (True, 2)])
def test_details_can_be_forced_either_way(details, gets):
    api = FakeMessages(2)
    frame = load_messages(api.client(), operation_id=OP, details=details)
    assert api.count("get") == gets
    assert frame["n_attempts"].isna().all() == (not details)
    assert api.requests[0].url.params["operationId"] == OP


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"run_id": "run 1"}, "run_id"),
        ({"status": "LOST"}, "status"),
        ({"channel": "X"}, "channel"),
    ],
)
def test_bad_filters_are_refused_before_any_request(kwargs, field):
    api = FakeMessages(1)
    with pytest.raises(ct.InvalidInputError) as caught:
        load_messages(api.client(), **kwargs)
    assert caught.value.field == field and api.requests == []
