"""The sandbox's fast paths give the verdicts of the slow paths they stand in for.

P6 (a 10,000-recipient test send) runs the sandbox in the benchmark's process, so its checks
were made cheaper: the compiled schema checker builds no exception details
(``detailed_exceptions=False``), a body whose bytes can hold no surrogate skips the walk that
looks for one, and a sender's quality draws are kept. Each is compared here with the path it
replaces, on generated bodies (valid and broken) and on hand-picked ones.
"""

from __future__ import annotations

import json
from typing import Any

import fastjsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commstoolkit.sandbox import contract
from commstoolkit.sandbox.exceptions import ApiError
from commstoolkit.sandbox.front import schema, validation
from commstoolkit.sandbox.simulation import delivery

OPERATIONS = sorted(
    name for name, spec in contract.schemas()["operations"].items() if spec.get("requestBody")
)
FAST = settings(
    max_examples=150, deadline=None, derandomize=True, database=None,
    suppress_health_check=list(HealthCheck),
)  # fmt: skip


def _names(value: Any, found: set[str]) -> set[str]:
    """Every property name and enum string of the contract's schemas."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "properties" and isinstance(item, dict):
                found.update(item)
            if key in ("enum", "const"):
                found.update(
                    v for v in (item if isinstance(item, list) else [item]) if isinstance(v, str)
                )
            _names(item, found)
    elif isinstance(value, list):
        for item in value:
            _names(item, found)
    return found


NAMES = sorted(_names(contract.schemas()["$defs"], set()))
TEXT = st.one_of(
    st.sampled_from(NAMES),
    st.sampled_from(["+14155550100", "+1914200", "comms_senderpool_01jwqxx91h2qc39gt6v6hj59b3",
                     "2025-06-03T09:00:00Z", "2025-13-03T09:00:00Z", "", "a@b.co"]),
    st.text(max_size=12),
)  # fmt: skip
SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-5, 2000), st.floats(-1, 1e4), TEXT)
VALUES = st.recursive(
    SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(NAMES), inner, max_size=5)
    ),
    max_leaves=25,
)


def recipients(draw: Any) -> list[Any]:
    """Mostly well-formed recipients, some broken (the shapes a send body holds)."""
    item = st.one_of(
        st.fixed_dictionaries(
            {"address": TEXT, "channel": st.sampled_from(["PHONE", "WHATSAPP", "EMAIL", "FAX"])}
        ),
        st.fixed_dictionaries({"address": TEXT}),
        st.dictionaries(st.sampled_from(NAMES), VALUES, max_size=3),
        VALUES,
    )
    return draw(st.lists(item, min_size=0, max_size=6))


@st.composite
def bodies(draw: Any) -> Any:
    """A request body: near a real one (send, resolve) or any JSON value."""
    kind = draw(st.sampled_from(["send", "resolve", "any"]))
    if kind == "any":
        return draw(VALUES)
    body = draw(st.dictionaries(st.sampled_from(NAMES), VALUES, max_size=3))
    if kind == "send":
        body["to"] = recipients(draw)
        body["content"] = draw(st.one_of(st.fixed_dictionaries({"text": TEXT}), VALUES))
    else:
        body["recipientAddresses"] = recipients(draw)
    return body


def _detailed(operation: str) -> Any:
    checker = schema._schema(contract.request_body(operation)["$ref"])
    return fastjsonschema.compile(checker.schema, formats=schema.FORMATS, use_default=False)


DETAILED = {operation: _detailed(operation) for operation in OPERATIONS}


def _verdict(accept: Any, body: Any) -> bool:
    try:
        accept(body)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


@FAST
@given(body=bodies())
def test_the_plain_schema_checker_accepts_what_the_detailed_one_accepts(body: Any) -> None:
    for operation in OPERATIONS:
        plain = schema._schema(contract.request_body(operation)["$ref"]).accept
        assert _verdict(plain, body) == _verdict(DETAILED[operation], body), operation


def test_a_big_send_body_and_its_broken_twins_get_the_same_verdicts() -> None:
    good = {
        "to": [{"address": f"+1914{n:07d}", "channel": "PHONE"} for n in range(2_000)],
        "content": {"text": "bench"},
        "from": {"senderPoolId": "comms_senderpool_01jwqxx91h2qc39gt6v6hj59b3"},
        "tags": {"ct_run": "x", "ct_chunk": "1"},
    }
    broken = [
        {**good, "to": [*good["to"], {"address": 5, "channel": "PHONE"}]},
        {**good, "to": [*good["to"], {"channel": "PHONE"}]},
        {**good, "to": [*good["to"][:3], {"address": "+1", "channel": "PAGER"}]},
        {key: value for key, value in good.items() if key != "content"},
    ]
    plain = schema._schema(contract.request_body("POST /Messages")["$ref"]).accept
    assert _verdict(plain, good) and _verdict(DETAILED["POST /Messages"], good)
    for body in broken:
        assert not _verdict(plain, body)
        assert not _verdict(DETAILED["POST /Messages"], body)


def _outcome(body: bytes) -> tuple[str, Any]:
    try:
        return "ok", validation.json_body(body)
    except ApiError as err:
        return "400", (err.status, err.body())


SURROGATE_BODIES = [
    b'{"name": "\\udead"}',
    b'{"name": "\\uD800"}',
    b'{"name": "\\uDBFFx"}',
    b'{"name": "\\ud83d\\ude00"}',  # a pair: one character, welcome
    b'{"name": "\\\\ud800"}',  # an escaped backslash, then text: no surrogate
    b'{"\\udc00": 1}',
    b'{"a": ["x", {"b": "\\udfff"}]}',
    b'{"name": "\xed\xa0\x80"}',  # a surrogate as raw UTF-8 bytes
    b'{"name": "caf\xc3\xa9"}',
    '{"name": "\ud800"}'.encode("utf-16-le", "surrogatepass"),
    '{"name": "ok"}'.encode("utf-16"),
    '{"name": "ok"}'.encode("utf-32-be"),
    b'{"name": "\\u00e9\\u0041"}',
    b'{"name": "plain"}',
    b"[1, 2, 3]",
    b'{"to": [{"address": "+14155550100", "channel": "PHONE"}]}',
]


@pytest.mark.parametrize("body", SURROGATE_BODIES)
def test_the_surrogate_shortcut_answers_as_the_walk(
    body: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = _outcome(body)
    monkeypatch.setattr(validation, "_no_surrogate", lambda body: False)
    assert fast == _outcome(body)


NEAR_SURROGATES = st.lists(st.integers(0xD7F0, 0xE010), max_size=4).map(
    lambda points: "".join(map(chr, points))
)
SURROGATE_VALUES = st.recursive(
    st.one_of(SCALAR, NEAR_SURROGATES),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(TEXT, NEAR_SURROGATES), inner, max_size=4),
    ),
    max_leaves=12,
)


@FAST
@given(value=SURROGATE_VALUES, raw=st.booleans())
def test_the_surrogate_shortcut_answers_as_the_walk_on_generated_bodies(
    value: Any, raw: bool
) -> None:
    body = json.dumps(value, ensure_ascii=not raw).encode("utf-8", "surrogatepass")
    fast = _outcome(body)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(validation, "_no_surrogate", lambda body: False)
        assert fast == _outcome(body)


def test_a_senders_kept_quality_draws_are_its_hash() -> None:
    for sender in ("comms_sender_a", "comms_sender_b", "x" * 40):
        for seed in (0, 7, 42):
            u, v, w = delivery.units(seed, "quality", sender, n=3)
            assert delivery.traits(seed, sender, frozenset()) == (
                (0.40 + 0.20 * v, 1.3 + 0.5 * w)
                if u < delivery.BAD_SHARE
                else (0.93 + 0.065 * v, 0.8 + 0.4 * w)
            )
            assert delivery.traits(seed, sender, {sender}) == (0.40 + 0.20 * v, 1.3 + 0.5 * w)
            assert delivery.badness(seed, sender) == u


def test_a_recipients_kept_draws_are_its_hash() -> None:
    """Handsets and sticky senders read from the kept draws are the hash's, call after call."""
    senders = [
        delivery.Sender(f"comms_sender_{n:02d}", f"+1800555{n:04d}", channel, None)
        for n, channel in enumerate(["SMS", "RCS"] * 5)
    ]
    router = delivery.Router(3, senders)
    for address in [f"+1914{n:07d}" for n in range(300)] * 2:
        (u,) = delivery.units(3, "rcs", address)
        assert delivery.handset(3, address) == (
            "rcs" if u < delivery.RCS_CAPABLE else "rcs_off" if u < delivery.RCS_OFF else "sms"
        )
        for channel in ("SMS", "RCS"):
            (v,) = delivery.units(3, "pick", channel, address)
            candidates = router.by_channel[channel]
            assert router.pick(channel, address) == candidates[int(v * len(candidates))]


def _senders_of(api: Any, pool: str, to: list[dict[str, str]]) -> set[str]:
    answer = api.post("/Senders/Resolve", json={"recipientAddresses": to, "senderPoolId": pool})
    assert answer.status_code == 200, answer.text
    return {result["from"]["senderId"] for result in answer.json()["results"]}


def test_resolve_reads_a_pool_again_once_it_changed(sandbox: Any, raw_api: Any) -> None:
    """The routing senders kept between Resolve calls are read again after any change: a
    sender taken out of the pool is no longer routed to, a deleted pool is a 400."""
    from .messaging import numbers, phones, pool_id

    pool = pool_id(raw_api)
    to = phones(*numbers(60))
    before = _senders_of(raw_api, pool, to)
    assert before == _senders_of(raw_api, pool, to)  # kept: the same answer
    gone = sorted(before)[0]
    removed = raw_api.delete(f"/SenderPools/{pool}/Senders/{gone}")
    assert removed.status_code < 300, removed.text
    sandbox.clock.advance(600)  # the removal's operation completes
    after = _senders_of(raw_api, pool, to)
    assert gone not in after and after
    assert raw_api.delete(f"/SenderPools/{pool}").status_code < 300
    sandbox.clock.advance(600)
    answer = raw_api.post("/Senders/Resolve", json={"recipientAddresses": to, "senderPoolId": pool})
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["code"] == 20404


def test_resolve_sees_a_change_another_connection_made(tmp_path: Any) -> None:
    """Two sandboxes on one file (two processes, say): a pool the other one deleted is a 400
    here too, though this one had its senders kept."""
    from commstoolkit.sandbox import Sandbox

    from .conftest import make_client
    from .messaging import numbers, phones, pool_id

    path = str(tmp_path / "shared.sqlite3")
    with (
        Sandbox(path, speed=0) as first,
        Sandbox(path, speed=0) as second,
        make_client(first) as one,
        make_client(second) as other,
    ):
        pool = pool_id(one)
        to = phones(*numbers(10))
        assert _senders_of(one, pool, to)
        assert other.delete(f"/SenderPools/{pool}").status_code < 300
        second.clock.advance(600)
        other.get(f"/SenderPools/{pool}")  # settles the deletion there
        # Nothing written through this one's connection since: only SQLite's count of
        # other connections' commits tells the pool changed.
        answer = one.post("/Senders/Resolve", json={"recipientAddresses": to, "senderPoolId": pool})
        assert answer.status_code == 400, answer.text


def test_ids_made_at_once_are_the_ids_made_one_by_one() -> None:
    import random

    from commstoolkit.sandbox.state import ids

    rng = random.Random(5)
    top = 1 << ids.RANDOM_BITS
    for prefix in (ids.MESSAGE, ids.OPERATION):
        for ms in (0, 1, 1_748_854_800_000, (1 << 50) - 1):
            parts = [0, top - 1, *(rng.randrange(top) for _ in range(200))]
            made = ids.make_ids(prefix, ms, parts)
            assert made == [ids.make_id(prefix, ms, r) for r in parts]
            assert all(ids.is_valid(i, prefix) for i in made if ms < 1 << 48)
    assert ids.make_ids(ids.MESSAGE, 5, []) == []


def test_a_kept_draw_is_the_first_of_the_hashs_units() -> None:
    for parts in (("rcs", "+14155550100"), ("pick", "SMS", "+447911123456"), ("x",)):
        for seed in (0, 7, 123456789):
            assert delivery._draw(seed, *parts) == delivery.units(seed, *parts)[0]
