"""The performance paths (issue 7) give exactly what the plain paths give.

``load_senders`` reads pages straight into columns (``frames.SenderColumns``) instead of a
``Sender`` per row; ``parse_timestamp`` reads the API's own form without its regex;
categorical columns are built from codes. Each is checked against a reference built the
plain way, on the seeded account and on pages with every unusual shape the API allows.
"""

from __future__ import annotations

import json
import random
import re
from datetime import datetime, timezone

import httpx
import pandas as pd
import pytest

import commstoolkit as ct
from commstoolkit.errors import UnexpectedResponseError
from commstoolkit.frames import SENDER_DTYPES, STRING, TAG_PREFIX, senders_frame
from commstoolkit.frames.sender_columns import SenderColumns
from commstoolkit.models import _RFC3339, Sender, parse_timestamp


def reference_frame(senders: list[Sender]) -> pd.DataFrame:
    """The senders frame built the plain way: a typed Series per column from Sender fields."""
    values = {
        "sender_id": [s.id for s in senders],
        "display_name": [s.display_name for s in senders],
        "address": [s.address for s in senders],
        "channel": [s.channel for s in senders],
        "status": [s.status for s in senders],
        "created_at": [s.created_at for s in senders],
        "updated_at": [s.updated_at for s in senders],
    }
    frame = pd.DataFrame({n: pd.Series(values[n], dtype=d) for n, d in SENDER_DTYPES.items()})
    keys = sorted({key for s in senders for key in s.tags})
    for key in keys:
        frame[TAG_PREFIX + key] = pd.Series([s.tags.get(key) for s in senders], dtype=STRING)
    return frame


def test_load_senders_equals_the_plain_frame_of_the_seeded_account(client):
    senders = list(client.senders.list())
    pd.testing.assert_frame_equal(ct.load_senders(client), reference_frame(senders))


def test_senders_frame_of_objects_equals_the_plain_frame(client):
    senders = list(client.senders.list())
    pd.testing.assert_frame_equal(senders_frame(senders), reference_frame(senders))
    pd.testing.assert_frame_equal(senders_frame([]), reference_frame([]))


def _sender(n: int, **changes: object) -> dict:
    data = {
        "id": f"comms_sender_01h209fzvav0zkr1dqahgp{n:04d}",
        "displayName": f"Sender {n}",
        "address": f"+1415555{n:04d}",
        "channel": "SMS",
        "status": "ACTIVATED",
        "tags": {"team": "ops"},
        "createdAt": "2024-04-05T06:20:00Z",
        "updatedAt": "2024-04-05T06:20:00Z",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not ...}


UNUSUAL_PAGES = {
    "plain": [_sender(1), _sender(2, tags={"region": "uk"})],
    "no tags, null tags, empty tags": [
        _sender(1, tags=...),
        _sender(2, tags=None),
        _sender(3, tags={}),
        _sender(4, tags=[]),
    ],
    "tag values that are not text": [_sender(1, tags={"n": 3, "b": True, "z": None})],
    "timestamps with offsets and fractions": [
        _sender(1, createdAt="2024-04-05T08:20:00.123456789+02:00"),
        _sender(2, updatedAt="2024-04-05 06:20:00z"),
        _sender(3, createdAt="2024-04-05T06:20:00"),
    ],
    "no display name, unknown channel": [_sender(1, displayName=...), _sender(2, channel="FAX")],
}


class PagesTransport(httpx.BaseTransport):
    """Serves GET /Senders from fixed pages (the cursor is the page index)."""

    def __init__(self, pages: list[list[dict]]) -> None:
        self.pages = pages

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        index = int(request.url.params.get("pageToken") or 0)
        more = index + 1 < len(self.pages)
        body = {
            "senders": self.pages[index],
            "pagination": {"next": str(index + 1) if more else None, "self": str(index)},
        }
        return httpx.Response(200, content=json.dumps(body).encode(), request=request)


def _client(pages: list[list[dict]]) -> ct.CommsClient:
    return ct.CommsClient(
        account_sid="AC" + "0" * 32,
        auth_token="secret",
        base_url="https://pages.invalid/v1",
        transport=PagesTransport(pages),
        live=False,
    )


# The plain way warns that pandas will one day refuse a value outside the categories; the
# codes path gives it NA, as the plain way does today.
OUTSIDE_CATEGORIES = "ignore:Constructing a Categorical with a dtype:DeprecationWarning"


@pytest.mark.filterwarnings(OUTSIDE_CATEGORIES)
@pytest.mark.parametrize("name", UNUSUAL_PAGES)
def test_unusual_pages_load_as_sender_objects_would(name):
    page = UNUSUAL_PAGES[name]
    pages = [page, [_sender(100 + i) for i in range(3)], page[:1]]
    # Later pages introduce tags earlier rows lack, and the reverse.
    pages[1][0]["tags"] = {"late": "yes"}
    with _client(pages) as client:
        frame = ct.load_senders(client, progress=False)
        senders = list(client.senders.list())
    assert len(senders) == sum(map(len, pages))
    pd.testing.assert_frame_equal(frame, reference_frame(senders))


@pytest.mark.parametrize(
    "bad",
    [
        _sender(2, id=...),
        _sender(2, createdAt="yesterday"),
        _sender(2, updatedAt=None),
        _sender(2, tags=["team"]),
        "not an object",
    ],
)
def test_an_unreadable_page_raises_what_sender_objects_raise(bad):
    with _client([[_sender(1), bad]]) as client:
        with pytest.raises(UnexpectedResponseError) as plain:
            list(client.senders.list())
        with pytest.raises(UnexpectedResponseError) as fast:
            ct.load_senders(client, progress=False)
    assert str(fast.value) == str(plain.value)


def test_a_page_that_fails_adds_nothing():
    columns = SenderColumns()
    columns.add([_sender(1)])
    with pytest.raises(KeyError):
        columns.add([_sender(2), _sender(3, address=...)])
    assert len(columns) == len(columns.address) == len(columns.tags["team"]) == 1


def _general(value: str) -> datetime:
    """parse_timestamp's general path (the regex), for comparison."""
    match = _RFC3339.fullmatch(value.strip())
    if not match:
        raise ValueError(value)
    frac = (match["frac"] or ".0")[1:7].ljust(6, "0")
    offset = match["offset"] or "Z"
    offset = "+00:00" if offset in ("Z", "z") else offset
    if ":" not in offset:
        offset = f"{offset[:3]}:{offset[3:]}"
    parsed = datetime.fromisoformat(f"{match['date']}T{match['time']}.{frac}{offset}")
    return parsed.astimezone(timezone.utc)


def test_the_timestamp_fast_path_agrees_with_the_general_path():
    rng = random.Random(7)
    base = "2024-04-05T06:20:00Z"
    alphabet = "0123456789-:TZtz +.W٣"
    for _ in range(20_000):
        chars = list(base)
        for _ in range(rng.randint(1, 3)):
            chars[rng.randrange(len(chars))] = rng.choice(alphabet)
        text = "".join(chars)
        try:
            expected = _general(text)
        except ValueError:
            with pytest.raises(ValueError):
                parse_timestamp(text)
            continue
        got = parse_timestamp(text)
        assert got == expected and got.tzinfo is timezone.utc, text


@pytest.mark.filterwarnings(OUTSIDE_CATEGORIES)
@pytest.mark.parametrize("values", [["SMS", "RCS", None, "FAX"], [], ["PUSH"] * 3])
def test_categorical_columns_from_codes_equal_columns_from_values(values):
    from commstoolkit.frames import CHANNEL
    from commstoolkit.frames.build import _typed

    pd.testing.assert_series_equal(_typed(values, CHANNEL), pd.Series(values, dtype=CHANNEL))


@pytest.fixture
def sandbox_http():
    """A raw httpx client on a fresh in-memory sandbox (in-process), and the sandbox."""
    from commstoolkit.sandbox import Sandbox

    with Sandbox(":memory:", seed=11, senders=2500) as sandbox:
        http = httpx.Client(
            transport=sandbox.transport(), base_url=sandbox.base_url, auth=sandbox.credentials()
        )
        with http:
            yield http, sandbox


def _walk(http: httpx.Client, method: str, path: str, **kwargs: object) -> list[dict]:
    """Every page of a listing, as decoded answers (POST listings page in the body)."""
    pages, token = [], None
    while True:
        if method == "GET":
            params = {**kwargs.get("params", {}), **({"pageToken": token} if token else {})}
            answer = http.get(path, params=params)
        else:
            body = {**kwargs.get("json", {}), **({"pageToken": token} if token else {})}
            answer = http.post(path, json=body)
        assert answer.status_code == 200, answer.text
        pages.append(answer.json())
        token = pages[-1]["pagination"]["next"]
        if not token:
            return pages


def test_sender_pages_written_by_sqlite_equal_the_python_ones(sandbox_http, monkeypatch):
    from commstoolkit.sandbox.simulation import backend

    http, sandbox = sandbox_http
    assert backend.SQLITE_JSON
    with sandbox.store.write() as conn:  # text that needs escaping, and no display name
        for n, name in enumerate(['Café "quoted" \\ back\nslash \u2603', None]):
            conn.execute(
                "INSERT INTO senders VALUES (?, ?, ?, 'SMS', 'ACTIVATED', ?, 1700000000, ?)",
                (
                    f"comms_sender_01zzzzzzzzzzzzzzzzzzzzzzz{n}",
                    name,
                    f"+4479111234{n:02d}",
                    json.dumps({"ключ": "значение", "q": '"'}),
                    1700000000 + n,
                ),
            )
    sandbox.clock.instant = True
    members = [s["id"] for s in http.get("/Senders", params={"pageSize": 40}).json()["senders"]]
    created = http.post("/SenderPools", json={"senders": [{"senderId": i} for i in members]})
    pool_id = http.get(f"/SenderPools?operationId={created.json()['operationId']}").json()[
        "senderPools"
    ][0]["id"]
    first = http.get("/Senders", params={"pageSize": 1}).json()["senders"][0]
    listings = [
        ("GET", "/Senders", {"params": {"pageSize": 300}}),
        ("GET", "/Senders", {"params": {"channel": "RCS", "status": "ACTIVATED"}}),
        ("GET", "/Senders", {"params": {"startDate": "2024-01-01T00:00:00Z", "pageSize": 70}}),
        ("GET", f"/SenderPools/{pool_id}/Senders", {"params": {"pageSize": 7}}),
        ("POST", "/Senders/Search", {"json": {"address": first["address"], "channel": "SMS"}}),
        ("GET", "/Senders", {"params": {"channel": "PUSH", "startDate": "2099-01-01T00:00:00Z"}}),
    ]
    fast = [_walk(http, method, path, **kw) for method, path, kw in listings]
    monkeypatch.setattr(backend, "SQLITE_JSON", False)
    plain = [_walk(http, method, path, **kw) for method, path, kw in listings]
    assert fast == plain
    assert sum(len(p["senders"]) for p in fast[0]) == 2502
    assert http.get(f"/Senders/{first['id']}").json() == first


@pytest.mark.parametrize(
    "texts",
    [
        ["2024-04-05T06:20:00Z", "2023-12-31T23:59:59Z"],
        ["2024-02-29T00:00:00Z"],
        ["2023-02-29T00:00:00Z"],
        ["2024-04-05T06:20:00Z\n2024-04-05T06:20:00Z"],
        ["2024-04-05T06:20:00Z\n", " 2024-04-05T06:20:00Z"],
        ["2024-04-05T06:20:00Z", "2024-04-05T06:20:00.5+01:00"],
        ["2024-04-05T06:20:00Z", datetime(2024, 1, 1, tzinfo=timezone.utc)],
        [],
    ],
)
def test_page_timestamps_are_kept_or_read_as_parse_timestamp_reads(texts):
    from commstoolkit.frames.sender_columns import _timestamps

    try:
        expected = [parse_timestamp(t) for t in texts]
    except ValueError:
        with pytest.raises(ValueError):
            _timestamps(texts)
        return
    got = _timestamps(texts)
    # Texts in the API's own form are kept as they are (a frame reads them at once).
    read = [parse_timestamp(t) if isinstance(t, str) else t for t in got]
    assert read == expected and all(t.tzinfo is timezone.utc for t in read)
    api_form = all(isinstance(t, str) and len(t) == 20 and t.endswith("Z") for t in texts)
    assert got == (texts if api_form else expected)


@pytest.mark.parametrize("bad", ["2024-13-05T06:20:00Z", "2024-04-0506:20:00Z", "", None])
def test_a_bad_page_timestamp_raises_what_parse_timestamp_raises(bad):
    from commstoolkit.frames.sender_columns import _timestamps

    texts = ["2024-04-05T06:20:00Z", bad]
    with pytest.raises((ValueError, TypeError, AttributeError)) as plain:
        [parse_timestamp(t) for t in texts]
    with pytest.raises(plain.type, match=re.escape(str(plain.value))):
        _timestamps(texts)


@pytest.mark.parametrize(
    "values",
    [
        ["2024-04-05T06:20:00Z", "1999-12-31T23:59:59Z"],
        ["2024-04-05T06:20:00Z", datetime(2020, 5, 1, 12, 30, 15, 250000, tzinfo=timezone.utc)],
        ["2024-04-05T06:20:00.5+02:00"],
        [],
    ],
)
def test_time_columns_read_at_once_equal_columns_of_datetimes(values):
    from commstoolkit.frames import UTC_TIMESTAMP
    from commstoolkit.frames.build import _utc_times

    expected = [parse_timestamp(v) if isinstance(v, str) else v for v in values]
    pd.testing.assert_series_equal(_utc_times(values), pd.Series(expected, dtype=UTC_TIMESTAMP))
