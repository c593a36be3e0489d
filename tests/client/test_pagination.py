"""Pager: follows pagination.next as a token or a URL, in the query or the body."""

from __future__ import annotations

import httpx
import pytest

from commstoolkit.errors import InvalidInputError, UnexpectedResponseError
from commstoolkit.models import Sender

from .conftest import POOL_ID, body_of, sender_json

BASE = "https://comms.twilio.com/v1"


def _page(numbers, next_=None, key="senders"):
    return {key: [sender_json(n) for n in numbers], "pagination": {"next": next_, "self": "s"}}


def _token_server(pages):
    """Serve ``pages`` (lists of sender numbers) chained by tokens t1, t2, ..."""

    def handler(request):
        token = request.url.params.get("pageToken")
        index = 0 if token is None else int(token[1:])
        following = f"t{index + 1}" if index + 1 < len(pages) else None
        return httpx.Response(200, json=_page(pages[index], following))

    return handler


def test_iterating_follows_tokens_until_next_is_null(fake_api):
    api = fake_api(_token_server([[1, 2], [3, 4], [5]]))
    senders = list(api.client().senders.list(channel="SMS", status="ACTIVATED"))
    assert [s.address for s in senders] == [f"+1415555{n:04d}" for n in (1, 2, 3, 4, 5)]
    assert all(isinstance(s, Sender) for s in senders)
    params = [dict(r.url.params) for r in api.requests]
    assert params == [
        {"channel": "SMS", "status": "ACTIVATED", "pageSize": "1000"},
        {"channel": "SMS", "status": "ACTIVATED", "pageSize": "1000", "pageToken": "t1"},
        {"channel": "SMS", "status": "ACTIVATED", "pageSize": "1000", "pageToken": "t2"},
    ]


def test_pages_yields_one_list_per_http_page(fake_api):
    api = fake_api(_token_server([[1, 2], [3, 4], [5]]))
    pages = list(api.client().senders.list().pages())
    assert [len(page) for page in pages] == [2, 2, 1]
    assert all(isinstance(page, list) for page in pages)


def test_nothing_is_requested_until_iteration_and_each_iteration_restarts(fake_api):
    api = fake_api(_token_server([[1], [2]]))
    pager = api.client().senders.list()
    assert api.requests == []
    assert len(list(pager)) == 2
    assert len(list(pager)) == 2
    assert len(api.requests) == 4


def test_empty_listing(fake_api):
    api = fake_api(lambda request: httpx.Response(200, json=_page([])))
    assert list(api.client().senders.list()) == []
    assert list(api.client().senders.list().pages()) == [[]]


def test_next_as_full_url_is_fetched_as_is(fake_api):
    second = f"{BASE}/SenderPools/{POOL_ID}/Senders?pageToken=abc%3D%3D&pageSize=2"

    def handler(request):
        if "pageToken" not in request.url.params:
            return httpx.Response(200, json=_page([1, 2], second))
        return httpx.Response(200, json=_page([3]))

    api = fake_api(handler)
    members = list(api.client().sender_pools.members.list(POOL_ID, page_size=2))
    assert len(members) == 3
    assert str(api.requests[1].url) == second
    assert api.requests[1].headers["Authorization"] == api.requests[0].headers["Authorization"]


def test_next_url_on_another_host_is_not_followed(fake_api):
    api = fake_api(lambda r: httpx.Response(200, json=_page([1], "https://evil.test/v1/Senders")))
    pages = api.client().senders.list().pages()
    assert len(next(pages)) == 1
    with pytest.raises(UnexpectedResponseError, match="another host"):
        next(pages)
    assert len(api.requests) == 1


def test_a_repeated_cursor_stops_the_listing(fake_api):
    api = fake_api(lambda request: httpx.Response(200, json=_page([1], "same")))
    with pytest.raises(UnexpectedResponseError, match="already returned"):
        list(api.client().senders.list())
    assert len(api.requests) == 2


def test_search_pages_in_the_body(fake_api):
    def handler(request):
        token = body_of(request).get("pageToken")
        return httpx.Response(200, json=_page([1]) if token else _page([2], "tok=="))

    api = fake_api(handler)
    found = list(api.client().senders.search("+14155550001", "sms", page_size=1))
    assert len(found) == 2
    assert [r.method for r in api.requests] == ["POST", "POST"]
    assert [body_of(r) for r in api.requests] == [
        {"address": "+14155550001", "channel": "SMS", "pageSize": 1},
        {"address": "+14155550001", "channel": "SMS", "pageSize": 1, "pageToken": "tok=="},
    ]
    assert all(not r.url.params for r in api.requests)


def test_pool_and_operation_listings_use_their_item_keys(fake_api):
    def handler(request):
        if request.url.path.endswith("/Operations"):
            op = {"id": "comms_operation_01h9krwprkeee8fzqspvwy6nq8", "status": "COMPLETED"}
            return httpx.Response(200, json={"operations": [op], "pagination": {"next": None}})
        pool = {
            "id": POOL_ID,
            "name": "p",
            "tags": {},
            "createdAt": "2024-01-01T00:00:00Z",
            "updatedAt": "2024-01-01T00:00:00Z",
        }
        return httpx.Response(200, json={"senderPools": [pool], "pagination": {"next": None}})

    client = fake_api(handler).client()
    assert [p.id for p in client.sender_pools.list()] == [POOL_ID]
    ops = list(client.sender_pools.operations.list(status="completed"))
    assert [(o.status, o.kind) for o in ops] == [("COMPLETED", "sender_pool")]


@pytest.mark.parametrize("page_size", [0, 1001, -5, 2.5, "100", True, None])
def test_page_size_is_checked_before_any_request(fake_api, page_size):
    api = fake_api(lambda request: httpx.Response(200, json=_page([])))
    client = api.client()
    listings = [
        lambda: client.senders.list(page_size=page_size),
        lambda: client.senders.search("+1", "SMS", page_size=page_size),
        lambda: client.sender_pools.list(page_size=page_size),
        lambda: client.sender_pools.members.list(POOL_ID, page_size=page_size),
        lambda: client.sender_pools.operations.list(page_size=page_size),
    ]
    for listing in listings:
        with pytest.raises(InvalidInputError, match="page_size") as caught:
            listing()
        assert caught.value.field == "page_size"
        assert caught.value.allowed == (1, 1000)
    assert api.requests == []


@pytest.mark.parametrize("page_size", [1, 1000])
def test_page_size_bounds_are_allowed(fake_api, page_size):
    api = fake_api(lambda request: httpx.Response(200, json=_page([])))
    list(api.client().senders.list(page_size=page_size))
    assert api.requests[0].url.params["pageSize"] == str(page_size)
