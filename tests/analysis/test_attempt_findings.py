"""``traffic_findings(..., events=)``: *attempts below pool*. A sandbox pool of three RCS
senders and one SMS sender, one RCS sender made bad (its attempts fail about half the time
and fall back to SMS, so the traffic credits the SMS sender with the outcome); its finding's
numbers are recomputed here from the raw JSON lines of the events with plain Python
(dictionaries, the Wilson formula, the hypergeometric tail), never through
``commstoolkit.metrics`` or ``load_events``; the frame and the dataset paths give the same
findings; the same pool without a bad sender gives none over several seeds."""

from __future__ import annotations

import json
import warnings

import pytest

import commstoolkit as ct
from commstoolkit.sandbox import Sandbox
from tests.analysis.test_health import _lower_tail, _wilson
from tests.instant import instant_client

KIND = "attempts_below_pool"
RECENT = "30min"  # the sends take a few minutes of a two-hour window
PLANTED_SEED = 11
CLEAN_SEEDS = (3, 5, 7, 13)


def _account(seed: int, bad: bool, folder):
    """(traffic, members, events frame, raw events, the bad RCS sender or None, the events'
    folder, the window as a dataset): 600 recipients sent through a pool of three RCS
    senders of normal quality and one SMS sender, the first RCS one made bad when ``bad``."""
    box = Sandbox(":memory:", seed=seed, speed=0)
    box.clock.instant = True
    client = instant_client(box)
    senders = ct.load_senders(client, status="ACTIVATED")
    quality = box.backend.messages.quality
    good = {
        channel: [
            s for s in senders.loc[senders["channel"] == channel, "sender_id"] if quality(s) > 0.9
        ]
        for channel in ("RCS", "SMS")
    }
    rcs, sms = good["RCS"][:3], good["SMS"][:1]
    assert len(rcs) == 3 and sms
    # A test-only fault: the sandbox's bad senders are stored with the seed.
    box.store.set("bad_senders", rcs[0] if bad else "")
    assert (quality(rcs[0]) < 0.65) == bad
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ct.PoolPlanWarning)  # no WhatsApp sender: fine here
        pool = ct.create_pool(client, "rcs first", [*rcs, *sms], progress=False)
    to = [f"+1415{i:07d}" for i in range(600)]
    for i in range(0, len(to), 100):
        client.wait(
            client.messages.send(to[i : i + 100], text="hi", sender_pool_id=pool.id), kind="message"
        )
    box.clock.advance(600)
    box.events.write_history(folder)
    raw = [json.loads(line) for path in sorted(folder.glob("*.jsonl"))
           for line in path.read_text().splitlines()]  # fmt: skip
    traffic = ct.load_traffic(client, "2h", progress=False)
    members = ct.load_pool_members(client)
    exported = folder.parent / f"dataset-{seed}"
    ct.export_traffic(client, *traffic.attrs["window"], exported, progress=False)
    box.close()
    dataset = ct.open_traffic(exported)
    return traffic, members, ct.load_events(folder), raw, rcs[0] if bad else None, folder, dataset


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("planted") / "events"
    folder.mkdir()
    return _account(PLANTED_SEED, True, folder)


def _expected(traffic, raw, sender: str) -> dict:
    """The planted sender's attempts, the pool's other RCS attempts and the fallback, from
    the raw events (each attempt's sender is in its ``from``) and the traffic's rows."""
    pool = {r.message_id: r.pool_id for r in traffic.itertuples()}
    final = {r.message_id: (r.status, r.sender_id) for r in traffic.itertuples()}
    attempts: dict[tuple[str, int], dict] = {}
    for event in raw:
        data = event["data"]
        message = data.get("message_id")
        if not event["type"].startswith("com.twilio.comms-api.message.") or message not in pool:
            continue
        if not data.get("attempt"):
            continue
        made = attempts.setdefault((message, data["attempt"]), {"failed": False})
        made["sender"], made["channel"] = data["from"]["id"], data["from"]["channel"]
        made["failed"] |= event["type"].endswith((".undelivered", ".failed"))
    mine = [(m, a) for (m, a), v in attempts.items() if v["sender"] == sender]
    the_pool = pool[mine[0][0]]
    rest = [(m, a) for (m, a), v in attempts.items()
            if v["sender"] != sender and v["channel"] == "RCS" and pool[m] == the_pool]  # fmt: skip
    failed_messages = {m for m, a in mine if attempts[(m, a)]["failed"]}
    rescued = {
        m for m in failed_messages
        if final[m][0] in ("DELIVERED", "READ") and final[m][1] != sender
    }  # fmt: skip
    return {
        "pool_id": the_pool,
        "mine": (sum(attempts[x]["failed"] for x in mine), len(mine)),
        "rest": (sum(attempts[x]["failed"] for x in rest), len(rest)),
        "fallback": (len(rescued), len(failed_messages)),
    }


def test_the_bad_rcs_sender_is_found_with_the_raw_events_numbers(planted):
    traffic, members, events, raw, bad, *_ = planted
    findings = ct.traffic_findings(traffic, members, events=events, recent=RECENT)
    [finding] = findings.of(KIND)
    expected = _expected(traffic, raw, bad)
    (f, n), (f_rest, n_rest) = expected["mine"], expected["rest"]
    assert finding.subject == {"pool_id": expected["pool_id"], "sender_id": bad, "channel": "RCS"}
    assert finding.evidence["failed_attempts"] == (f, n)
    assert finding.evidence["rest_failed_attempts"] == (f_rest, n_rest)
    assert finding.evidence["fallback"] == expected["fallback"]
    intervals = finding.evidence["intervals"]
    assert intervals["sender"] == pytest.approx(_wilson(f, n))
    assert intervals["rest_of_pool"] == pytest.approx(_wilson(f_rest, n_rest))
    # The test is on attempt success: the sender's against the pool's RCS attempts.
    p = _lower_tail(n - f, n, n + n_rest - f - f_rest, n + n_rest)
    assert finding.evidence["p"] == pytest.approx(p, rel=1e-9)
    assert p <= finding.evidence["p_adjusted"] <= p * findings.tested
    assert finding.evidence["comparisons"] == findings.tested
    assert f / n - f_rest / n_rest >= 0.2 and finding.severity == "high"
    low, high = _wilson(f, n)
    assert f"{f:,} of its {n:,} attempts failed ({f / n:.1%}; 95% CI {low:.1%}–{high:.1%})" in (
        finding.text
    )
    assert f"({f_rest:,} of {n_rest:,};" in finding.text
    rescued, failed_messages = expected["fallback"]
    assert f"{rescued:,} of the {failed_messages:,} messages it failed" in finding.text
    # Most of its failed messages reached the recipient by SMS: the traffic cannot see it.
    assert rescued / failed_messages > 0.8
    assert not [
        x
        for x in ct.traffic_findings(traffic, members, recent=RECENT)
        if x.subject.get("sender_id") == bad
    ]


def test_the_dataset_path_counts_the_same_findings_in_duckdb(planted):
    traffic, members, events, _, _, folder, dataset = planted
    frame = ct.traffic_findings(traffic, members, events=events, recent=RECENT)
    for source in (folder, events):
        counted = ct.traffic_findings(dataset, members, events=source, recent=RECENT)
        assert counted == frame
        assert counted.tested == frame.tested


def test_without_events_the_findings_are_the_traffics_alone(planted):
    traffic, members, events, *_ = planted
    alone = ct.traffic_findings(traffic, members, recent=RECENT)
    assert not alone.of(KIND)
    with_events = ct.traffic_findings(traffic, members, events=events, recent=RECENT)
    assert with_events.tested > alone.tested
    assert [f.kind for f in with_events if f.kind != KIND] == [f.kind for f in alone]


@pytest.mark.parametrize("seed", CLEAN_SEEDS)
def test_a_pool_without_a_bad_sender_gives_no_attempt_finding(tmp_path, seed):
    folder = tmp_path / "events"
    folder.mkdir()
    traffic, members, events, _, _, folder, dataset = _account(seed, False, folder)
    findings = ct.traffic_findings(traffic, members, events=events, recent=RECENT)
    # The three RCS senders were judged (each made enough attempts), and none was found.
    assert findings.tested - ct.traffic_findings(traffic, members, recent=RECENT).tested == 3
    assert not findings.of(KIND)
    assert not ct.traffic_findings(dataset, members, events=folder, recent=RECENT).of(KIND)


def test_events_that_are_not_an_events_frame_are_refused(planted):
    traffic, members, *_ = planted
    with pytest.raises(ct.InvalidInputError, match="events"):
        ct.traffic_findings(traffic, members, events="nowhere", recent=RECENT)


def test_only_the_attempts_of_the_windows_messages_count(planted):
    traffic, members, events, raw, bad, *_ = planted
    # Every other message: the events of the others belong to no message of this traffic.
    half = traffic.iloc[::2].copy()
    half.attrs = dict(traffic.attrs)
    [finding] = ct.traffic_findings(half, members, events=events, recent=RECENT).of(KIND)
    expected = _expected(half, raw, bad)
    assert finding.evidence["failed_attempts"] == expected["mine"]
    assert finding.evidence["rest_failed_attempts"] == expected["rest"]
    assert finding.evidence["fallback"] == expected["fallback"]
    assert expected["mine"][1] < _expected(traffic, raw, bad)["mine"][1]
