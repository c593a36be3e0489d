"""Issue 11, item 3 — attribution: a message no sender took is "no sender", everywhere.

The analyst's case: a WhatsApp recipient sent through a pool with no WhatsApp sender got
``channel == "WHATSAPP"`` in the messages frame (the recipient's address channel, which
the API echoes in ``from`` when no sender took the message), so ``by_channel``,
``send_outcomes`` and ``fallback`` showed a failing "WHATSAPP" channel, while the same
case for a PHONE recipient showed as no sender; tables said "NaN" / "<NA>" where charts
said "no sender".

Now ``channel`` is the sender's (NA with no sender; ``to_channel`` keeps the recipient's)
and every table, chart and sentence says ``frames.NO_SENDER``. Each test recomputes the
expected count from the raw messages (``Message.sender_id`` as the API gave it), never
from the frame under test.
"""

from __future__ import annotations

import ast
from pathlib import Path

import plotly.graph_objects as go
import pytest
from instant import instant_client

import commstoolkit as ct
from commstoolkit import charts
from commstoolkit.frames import NO_SENDER, attempts_frame, messages_frame
from commstoolkit.models import Message
from commstoolkit.sandbox import Sandbox
from commstoolkit.testsend.summary import summarise
from commstoolkit.widgets._send_views import send_outcome_text

UNADDRESSABLE = "+15005550002"
ORDINARY = [f"+1914318{n:04d}" for n in range(8100, 8112)]
PACKAGE = Path(ct.__file__).parent


@pytest.fixture(scope="module")
def client():
    box = Sandbox(":memory:", seed=7, senders=200)
    box.clock.instant = True
    with instant_client(box) as made:
        yield made
    box.close()


@pytest.fixture(scope="module")
def pool(client):
    """A pool of 2 SMS and 1 RCS senders: no WhatsApp sender."""
    senders = ct.load_senders(client, status="ACTIVATED")
    ids = [
        *senders.loc[senders["channel"] == "SMS", "sender_id"].head(2),
        *senders.loc[senders["channel"] == "RCS", "sender_id"].head(1),
    ]
    with pytest.warns(ct.PoolPlanWarning, match="WHATSAPP"):
        return ct.create_pool(client, "item 3: no WhatsApp sender", ids)


@pytest.fixture(scope="module")
def runs(client, pool):
    """A WhatsApp send (no sender can take it) and a PHONE send with an unaddressable
    recipient, through the same pool."""
    whatsapp = ct.test_send(
        client, pool, ORDINARY[:4], "WA", channel="WHATSAPP", allow_unroutable=True
    )
    phone = ct.test_send(
        client, pool, [UNADDRESSABLE, *ORDINARY[4:]], "phone", allow_unroutable=True
    )
    return {"WHATSAPP": whatsapp, "PHONE": phone}


def _raw(client, run) -> list[Message]:
    """The run's messages straight from the API listing (what the frame is built from)."""
    return list(client.messages.list(tags={"ct_run": run.run_id}))


def _no_sender(raw: list[Message]) -> int:
    return sum(1 for m in raw if m.sender_id is None)


def _bars(fig: go.Figure) -> dict[str, float]:
    """{category on x: total over the stacked traces} of a bar chart."""
    totals: dict[str, float] = {}
    for trace in fig.data:
        for category, value in zip(trace.x, trace.y, strict=True):
            totals[str(category)] = totals.get(str(category), 0.0) + float(value)
    return totals


@pytest.mark.parametrize("kind", ["WHATSAPP", "PHONE"])
def test_item3_the_frame_keeps_no_recipient_channel_in_channel(client, runs, kind):
    run = runs[kind]
    raw = _raw(client, run)
    expected = _no_sender(raw)
    assert expected == (4 if kind == "WHATSAPP" else 1)  # the case is reproduced
    if kind == "WHATSAPP":  # what the API answers: the recipient's channel in `from`
        assert {m.channel for m in raw if m.sender_id is None} == {"WHATSAPP"}
    frame = run.messages
    assert frame["channel"].isna().sum() == frame["sender_id"].isna().sum() == expected
    assert frame["channel"].isna().equals(frame["sender_id"].isna())  # the same rows
    assert set(frame["to_channel"]) == {kind}  # the recipient's channel stays in to_channel
    assert set(frame["channel"].dropna()) <= {"SMS", "RCS"}  # the pool's channels only
    listed = ct.load_messages(client, run_id=run.run_id, details=False)
    assert listed["channel"].isna().sum() == expected


@pytest.mark.parametrize("kind", ["WHATSAPP", "PHONE"])
def test_item3_the_summary_tables_say_no_sender(client, runs, kind):
    run = runs[kind]
    expected = _no_sender(_raw(client, run))
    summary = run.summary()
    by_channel = summary.by_channel
    assert not by_channel.index.hasnans and "WHATSAPP" not in by_channel.index
    assert by_channel.loc[NO_SENDER, "messages"] == expected
    assert by_channel.index[-1] == NO_SENDER
    assert by_channel["messages"].sum() == len(run.recipients)
    by_sender = summary.by_sender
    channel = by_sender.index.get_level_values("channel")
    assert not channel.hasnans
    assert by_sender.loc[channel == NO_SENDER, "messages"].sum() == expected
    labels = [str(c) for c in by_channel.index] + [str(c) for c in channel]
    assert not {"nan", "NaN", "<NA>", "None"} & set(labels)
    text = str(summary)
    assert "by channel: " in text and f"{NO_SENDER} {expected}" in text
    assert "NaN" not in text and "<NA>" not in text
    html = summary._repr_html_()
    assert html.count(f"<th>{NO_SENDER}</th>") == 2  # by channel and by sender
    assert "NaN" not in html and "&lt;NA&gt;" not in html
    said = send_outcome_text(run, "item 3")
    noun = "message" if expected == 1 else "messages"
    assert f"; {expected} {noun} with {NO_SENDER}." in said


@pytest.mark.parametrize("kind", ["WHATSAPP", "PHONE"])
def test_item3_every_chart_plots_no_sender_for_exactly_those_messages(client, runs, kind):
    run = runs[kind]
    expected = _no_sender(_raw(client, run))
    for frame in (run.messages, ct.load_messages(client, run_id=run.run_id, details=False)):
        outcomes = _bars(charts.send_outcomes(frame))
        assert outcomes[NO_SENDER] == expected and outcomes.get("WHATSAPP", 0) == 0
        routes = _bars(charts.fallback(frame))
        assert routes[NO_SENDER] == expected and routes.get("WHATSAPP", 0) == 0
        figure = charts.delivery_latency(frame)
        latency = {t.name: len(t.y) for t in figure.data}
        # never sent, so no time to delivered: left out, and the subtitle counts them
        assert NO_SENDER not in latency and "WHATSAPP" not in latency
        said = f"{figure.layout.title.text} {figure.layout.title.subtitle.text}"
        assert f"unaddressable excluded: {expected}" in said
        delivery = charts.sender_delivery(frame)
        if delivery.data:  # messages with no sender are left out, and the subtitle says so
            assert NO_SENDER not in {str(c) for t in delivery.data for c in t.customdata[:, 1]}
            assert f"{expected} with {NO_SENDER}" in delivery.layout.title.subtitle.text


def test_item3_a_whatsapp_recipient_without_a_sender_has_no_channel():
    """Built from the API's own shape (sandbox and contract): ``from`` is
    ``{"address": "", "channel": <the recipient's channel>}`` with no ``senderId``."""
    now = "2025-06-02T09:00:00Z"

    def message(n: int, to_channel: str, sender: dict) -> Message:
        return Message.from_api(
            {
                "id": f"comms_message_01jwqxx06n2qc39gt6v6hj5{n:03d}",
                "from": sender,
                "to": [{"address": f"+1914318800{n}", "channel": to_channel}],
                "status": "FAILED" if "senderId" not in sender else "DELIVERED",
                "createdAt": now,
                "updatedAt": now,
                "attempts": [] if "senderId" not in sender else None,
            }
        )

    sms = {"address": "+14155550100", "channel": "SMS", "senderId": "comms_sender_x"}
    raw = [
        message(1, "WHATSAPP", {"address": "", "channel": "WHATSAPP"}),
        message(2, "PHONE", {"address": "", "channel": "PHONE"}),
        message(3, "PHONE", sms),
    ]
    frame = messages_frame(raw)
    assert frame["channel"].isna().tolist() == [m.sender_id is None for m in raw]
    assert frame["to_channel"].tolist() == ["WHATSAPP", "PHONE", "PHONE"]
    assert frame.loc[2, "channel"] == "SMS"
    assert summarise(frame).by_channel["messages"].to_dict() == {"SMS": 1, NO_SENDER: 2}
    assert attempts_frame(raw).empty


def test_item3_one_constant_for_the_label():
    """The label is written once, in frames; every other module uses ``NO_SENDER``."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value == "no sender":
                found.append(path.relative_to(PACKAGE).as_posix())
    assert found == ["frames/schema.py"]
