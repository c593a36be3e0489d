"""One regression test per bug the hardening proofs found (issue 6), each committed with its fix.

Every test here failed before its fix. The broader proofs (fault matrix, bad-input corpus,
schema fuzzing, load) live beside this file.
"""

from __future__ import annotations

import httpx
import pytest

from commstoolkit.sandbox import Sandbox


@pytest.fixture
def box():
    with Sandbox(":memory:", seed=5, senders=40, speed=0) as sandbox:
        yield sandbox


@pytest.fixture
def raw(box):
    with httpx.Client(
        transport=box.transport(), base_url=box.base_url, auth=box.credentials()
    ) as client:
        yield client


def _envelope(answer: httpx.Response) -> dict:
    body = answer.json()
    (item,) = body["errors"]
    assert set(item) == {"code", "message", "infoUrl", "context"}
    return item


CONTROL = "https://sandbox.comms.invalid/_sandbox"


def _snapshot(box: Sandbox) -> tuple:
    return box.state(), box.faults.list(), box.clock.seconds()


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/SenderPools", b'{"name": ' + b"9" * 5000 + b"}"),  # past Python's int-from-text limit
        ("/SenderPools", b'{"name": "p", "tags": {"a": Infinity}}'),
        ("/SenderPools", b'{"name": "p", "senders": [], "x": 1e400}'),  # overflows to inf
        (f"{CONTROL}/faults", b'{"route": "GET /Senders", "status": 503, "probability": NaN}'),
        (f"{CONTROL}/faults", b'{"route": "GET /Senders", "latency": -Infinity}'),
        (f"{CONTROL}/clock", b'{"advance": NaN}'),
    ],
    ids=["5000-digits", "Infinity", "1e400", "NaN-rule", "-Infinity-rule", "NaN-clock"],
)
def test_numbers_json_cannot_carry_are_refused_as_invalid_json(box, raw, path, body):
    """NaN, Infinity, 1e400 and 5,000-digit integers are not JSON: a 400 at "$", nothing
    stored (they used to be a 500, a stored NaN rule, or a NaN sandbox clock)."""
    before = _snapshot(box)
    answer = raw.post(path, content=body)
    assert answer.status_code == 400, answer.text
    assert _envelope(answer)["context"] == "$"
    assert _snapshot(box) == before


def _a_pool(raw: httpx.Client) -> str:
    return raw.get("/SenderPools").json()["senderPools"][0]["id"]


@pytest.mark.parametrize(
    ("method", "path", "body", "context"),
    [
        ("POST", "/SenderPools", b'{"name": "\\ud800"}', "$.name"),
        ("POST", "/SenderPools", b'{"name": "ok \\udfff ok"}', "$.name"),
        ("PATCH", "/SenderPools/{pool}", b'{"name": "a\\ud83d"}', "$.name"),
        ("POST", "/Senders/Search", b'{"address": "\\udc00", "channel": "SMS"}', "$.address"),
    ],
    ids=["create-name", "create-low-surrogate", "patch-name", "search-address"],
)
def test_unpaired_surrogates_are_a_400_and_never_reach_the_database(
    box, raw, method, path, body, context
):
    """A lone UTF-16 surrogate cannot be stored as UTF-8: a pool named "\\ud800" used to be
    accepted, then every later request answered 500 (the operation could never complete)."""
    answer = raw.request(method, path.format(pool=_a_pool(raw)), content=body)
    assert answer.status_code == 400, answer.text
    assert _envelope(answer)["context"] == context
    box.clock.advance(60)
    assert raw.get("/SenderPools").status_code == 200
    assert raw.get("/Senders").status_code == 200


def test_paired_surrogates_are_one_character_and_welcome(box, raw):
    answer = raw.post("/SenderPools", content=b'{"name": "launch \\ud83d\\ude80"}')
    assert answer.status_code == 202
    box.clock.advance(60)
    names = [p["name"] for p in raw.get("/SenderPools").json()["senderPools"]]
    assert "launch 🚀" in names


@pytest.mark.parametrize(
    ("body", "context"),
    [
        (b'{"advance": 1e308}', "$.advance"),
        (b'{"advance": 300000000000}', "$.advance"),  # past the year 9999
        (b'{"advance": 1' + b"0" * 400 + b"}", "$.advance"),  # too big for a float
        (b'{"speed": 1e308}', "$.speed"),
        (b'{"speed": 1e300, "advance": 1}', "$.speed"),
    ],
    ids=["1e308", "year-10000", "401-digits", "speed-1e308", "speed-first"],
)
def test_the_clock_refuses_times_it_cannot_show(box, raw, body, context):
    """Sandbox time must stay a date the API can write: these were a 500 (and left the
    clock at a time every later answer failed to format)."""
    before = box.clock.to_wire()
    answer = raw.post(f"{CONTROL}/clock", content=body)
    assert answer.status_code == 400, answer.text
    assert _envelope(answer)["context"] == context
    assert box.clock.to_wire() == before


@pytest.mark.parametrize("seconds", [float("nan"), float("inf"), 1e308])
def test_clock_advance_in_code_refuses_and_changes_nothing(box, seconds):
    before = box.clock.seconds()
    with pytest.raises(ValueError, match="advance"):
        box.clock.advance(seconds)
    assert box.clock.seconds() == before


@pytest.mark.parametrize("speed", [float("nan"), float("inf"), 1e300])
def test_clock_speed_in_code_refuses_and_changes_nothing(box, speed):
    with pytest.raises(ValueError, match="speed"):
        box.clock.speed = speed
    assert box.clock.speed == 0


@pytest.mark.parametrize(
    ("body", "context"),
    [
        (b'{"route": "*", "status": 429, "retryAfter": 1' + b"0" * 400 + b"}", "$.retryAfter"),
        (b'{"route": "*", "status": 503, "times": 1' + b"0" * 30 + b"}", "$.times"),
        (b'{"route": "*", "latency": 1e300}', "$.latency"),
        (b'{"route": "*", "status": 429, "retryAfter": 1e300}', "$.retryAfter"),
    ],
    ids=["retry-after-401-digits", "times-31-digits", "latency-1e300", "retry-after-1e300"],
)
def test_fault_rules_with_numbers_out_of_range_are_a_400(box, raw, body, context):
    """These were a 500 (a number too big for a float or for SQLite), or a rule that made
    every request hang for ever."""
    answer = raw.post(f"{CONTROL}/faults", content=body)
    assert answer.status_code == 400, answer.text
    assert _envelope(answer)["context"] == context
    assert box.faults.list() == []
    assert raw.get("/Senders").status_code == 200


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"status": 503, "probability": float("nan")}, "probability"),
        ({"latency": float("inf")}, "latency"),
        ({"status": 429, "retry_after": float("nan")}, "retry_after"),
        ({"status": 503, "times": 10**30}, "times"),
    ],
)
def test_fault_rules_in_code_refuse_non_finite_or_huge_numbers(box, kwargs, named):
    with pytest.raises(ValueError, match=named):
        box.faults.add("GET /Senders", **kwargs)
    assert box.faults.list() == []


EDGE_DATES = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-23:59"]


@pytest.mark.parametrize("when", EDGE_DATES)
@pytest.mark.parametrize("path", ["/Senders", "/SenderPools", "/Messages", "/Messages/Operations"])
def test_dates_that_leave_the_calendar_in_utc_are_a_400(raw, path, when):
    """Well-formed RFC 3339 text whose UTC instant is before year 1 or after 9999 was a 500."""
    answer = raw.get(path, params={"startDate": when})
    assert answer.status_code == 400, answer.text
    assert _envelope(answer)["context"] == "startDate"


@pytest.mark.parametrize("when", EDGE_DATES)
def test_a_schedule_outside_the_calendar_is_a_400_and_sends_nothing(box, raw, when):
    before = box.state()
    answer = raw.post(
        "/Messages",
        json={
            "to": [{"address": "+15005550006", "channel": "PHONE"}],
            "content": {"text": "hello"},
            "schedule": {"sendAt": [when]},
        },
    )
    assert answer.status_code == 400, answer.text
    assert _envelope(answer)["context"] == "$.schedule.sendAt[0]"
    assert box.state() == before


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("body", "context"),
    [(b'{"senders": 1000000000}', "$.senders"), (b'{"seed": 1' + b"0" * 30 + b"}", "$.seed")],
    ids=["a-billion-senders", "31-digit-seed"],
)
def test_a_reset_the_sandbox_cannot_seed_is_a_400(box, raw, body, context):
    """A billion senders used to hold the account lock for hours, seeding."""
    before = box.state()
    answer = raw.post(f"{CONTROL}/reset", content=body)
    assert answer.status_code == 400, answer.text
    assert _envelope(answer)["context"] == context
    assert box.state() == before


@pytest.mark.parametrize(
    ("kwargs", "named"), [({"senders": 10**9}, "senders"), ({"seed": 2**64}, "seed")]
)
def test_a_sandbox_it_cannot_seed_is_refused_in_code(kwargs, named):
    with pytest.raises(ValueError, match=named):
        Sandbox(":memory:", **kwargs)


class _NoNetwork(httpx.BaseTransport):
    def handle_request(self, request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"a request was sent: {request.method} {request.url}")


@pytest.fixture
def offline():
    import commstoolkit as ct

    with ct.CommsClient(account_sid="AC1", auth_token="t", transport=_NoNetwork()) as client:
        yield client


GOOD_POOL = "comms_senderpool_01h9krwprkeee8fzqspvwy6nq8"


@pytest.mark.parametrize(
    "pool_ids", ["nope", [GOOD_POOL, "nope"], 5], ids=["bad", "good-then-bad", "number"]
)
def test_load_pool_members_checks_every_id_first_naming_pool_ids(offline, pool_ids):
    """A bad id after a good one used to be found only after fetching the good pool; the
    error named "id", and a number was a TypeError."""
    import commstoolkit as ct

    with pytest.raises(ct.InvalidInputError) as caught:
        ct.load_pool_members(offline, pool_ids)
    assert caught.value.field == "pool_ids" and "pool_ids" in str(caught.value)


@pytest.mark.parametrize("channel", [123, b"SMS"])
def test_load_senders_with_a_channel_that_is_no_text_names_it(offline, channel):
    """It was a TypeError ('int' object is not iterable)."""
    import commstoolkit as ct

    with pytest.raises(ct.InvalidInputError, match="channel"):
        ct.load_senders(offline, channel=channel)


@pytest.mark.parametrize(
    ("senders", "kwargs", "named"),
    [
        ("frame", {"channels": 123}, "channels"),
        ("frame", {"statuses": b"ACTIVATED"}, "statuses"),
        ("frame", {"search": 5}, "search"),
        ("senders.csv", {}, "senders"),
    ],
    ids=["channels-number", "statuses-bytes", "search-number", "text-for-a-frame"],
)
def test_select_senders_names_arguments_of_the_wrong_type(box, senders, kwargs, named):
    """These were a TypeError or an AttributeError from deep inside pandas."""
    import commstoolkit as ct

    if senders == "frame":
        client = ct.CommsClient(
            account_sid=box.account_sid,
            auth_token=box.auth_token,
            base_url=box.base_url,
            transport=box.transport(),
        )
        senders = ct.load_senders(client)
    with pytest.raises(ct.InvalidInputError) as caught:
        ct.select_senders(senders, **kwargs)
    assert caught.value.field == named and named in str(caught.value)


@pytest.mark.parametrize("journal", [123, b"run.jsonl", ["run.jsonl"]])
def test_test_send_refuses_a_journal_that_is_no_path_before_any_request(offline, journal):
    """The pool was fetched first, then a TypeError came from pathlib."""
    import commstoolkit as ct

    with pytest.raises(ct.InvalidInputError) as caught:
        ct.test_send(offline, GOOD_POOL, "+15005550006", "hi", journal=journal)
    assert caught.value.field == "journal"
