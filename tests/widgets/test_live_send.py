"""The live view of a send (``ct.LiveSendView``, ``charts.live_send``) fed by an
``EventReceiver`` subscribed with ``ct.events.subscribe`` on the embedded sandbox.

What the FigureWidget shows is recomputed here from the receiver's own frame, independently
(plain pandas over the raw events), and matches the API's statuses; it was redrawn from the
receiver's thread as the events arrived (no polling); ``TestSendPanel(events=receiver)``
charts its Send the same way.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pandas as pd
import pytest

import commstoolkit as ct
from commstoolkit.charts.live_send import BAR_STATUSES, send_progress
from commstoolkit.events import records
from commstoolkit.frames.schema import EVENT_COLUMNS, NO_SENDER, RUN_TAG
from commstoolkit.testsend import Journal, TestSend, sending
from commstoolkit.widgets import TestSendPanel

MIX = ["+15005550006", "+15005550007", "+15005550003", "+15005550004", "+15005550002"] + [
    f"+1415555{n:04d}" for n in range(12)
]
POOL = "Customer Support - NAMER"


@pytest.fixture
def subscribed(instant_client) -> Iterator[tuple[ct.CommsClient, ct.EventReceiver]]:
    with ct.EventReceiver(auth_token=instant_client.sandbox.auth_token) as receiver:
        ct.events.subscribe(instant_client, receiver, timeout=10)
        yield instant_client, receiver
        instant_client.sandbox.events.stop_delivering()


def _pool_id(client: ct.CommsClient) -> str:
    pools = ct.load_pools(client)
    return str(pools.loc[pools["name"] == POOL, "pool_id"].iloc[0])


def recount(events: pd.DataFrame, run_id: str) -> tuple[dict[tuple[str, str], int], list[float]]:
    """From the raw events of run ``run_id``: messages by (channel of the last attempt with a
    sender, status of the last event), and the sorted seconds from the first event of the run
    (operations included) to each message's first DELIVERED event."""
    mine = events[events["tags"].map(lambda t: t.get(RUN_TAG) == run_id)]
    operations = events[events["message_id"].isna() & events["operation_id"].isin(
        set(mine["operation_id"])
    )]  # fmt: skip
    start = min(mine["time"].min(), operations["time"].min())
    counts: dict[tuple[str, str], int] = {}
    delivered = []
    for _, rows in mine.groupby("message_id"):
        rows = rows.sort_values("time", kind="stable")  # ties: the frame's order holds
        with_sender = rows[rows["sender_channel"].notna()]
        channel = with_sender["sender_channel"].iloc[-1] if len(with_sender) else NO_SENDER
        key = (str(channel), str(rows["status"].iloc[-1]))
        counts[key] = counts.get(key, 0) + 1
        first = rows.loc[rows["status"] == "DELIVERED", "time"]
        if len(first):
            delivered.append((first.min() - start).total_seconds())
    return counts, sorted(delivered)


def shown(figure) -> tuple[dict[tuple[str, str], int], list[float]]:
    """What the FigureWidget draws: the bars' counts and the delivered curve's steps."""
    counts = {}
    for trace in figure.data[: len(BAR_STATUSES)]:
        for channel, n in zip(trace.x, trace.y, strict=True):
            if n:
                counts[(channel, trace.name)] = n
    delivered = next(t for t in figure.data if t.name == "delivered")
    assert list(delivered.y) == list(range(len(delivered.y)))  # one step per message
    return counts, list(delivered.x)[1:]


def _shown_as_reported(run, view, receiver) -> dict[tuple[str, str], int]:
    """Once the receiver has every status's event: what the view draws is recounted from
    the raw events, and those counts are the API's messages by channel and status."""
    run.refresh()
    run.wait_for_events(timeout=20)  # READs may come after the first load
    view.refresh()
    counts, delivered = recount(receiver.frame(), run.run_id)
    assert shown(view.figure) == (counts, pytest.approx(delivered))
    api = run.messages.assign(channel=lambda m: m["channel"].astype(object).fillna(NO_SENDER))
    reported = api.groupby(["channel", "status"], observed=True).size()
    assert counts == {(str(c), str(s)): int(n) for (c, s), n in reported.items() if n}
    return counts


def test_a_send_with_events_moves_the_live_view_and_its_numbers_recount_from_the_events(
    subscribed,
):
    client, receiver = subscribed
    view = ct.LiveSendView(receiver)
    threads: list[str] = []
    redraw = view.refresh

    def counted() -> None:
        threads.append(threading.current_thread().name)
        redraw()

    view.refresh = counted  # type: ignore[method-assign]
    run = ct.test_send(client, _pool_id(client), MIX, "hi", events=receiver, allow_unroutable=True)
    assert view.run_id == run.run_id and view.expected == len(MIX)
    assert run.events is receiver
    # Redrawn from the receiver's thread as batches came, before the send returned: no polling.
    assert threads[0] == threading.main_thread().name  # the announce: the view follows the run
    assert any(name != threading.main_thread().name for name in threads[1:])
    counts = _shown_as_reported(run, view, receiver)
    assert sum(counts.values()) == len(MIX)
    title = view.figure.layout.title.text
    assert title.startswith(f"Live send: {len(MIX)} messages, {len(MIX)} final")
    # Shown again (a later cell): the browser gets the figure as it is now, not as it began.
    assert view._repr_mimebundle_()["application/vnd.jupyter.widget-view+json"]
    synced = {t["name"]: t for t in view.figure._widget_data}
    assert synced["delivered"]["y"] == list(view.figure.data[-2].y)
    assert view.figure._widget_layout["title"]["text"] == title
    frame = run.event_frame()
    assert set(frame["message_id"].dropna()) == set(run.messages["message_id"])
    assert frame["id"].is_unique
    view.close()


def test_the_panel_charts_its_send_live(subscribed):
    client, receiver = subscribed
    panel = TestSendPanel(client, events=receiver)
    assert panel.live_view in panel.children
    panel.pool.value = _pool_id(client)
    panel.recipients.value = "\n".join(MIX[5:])
    panel.text.value = "hello"
    panel.send_test()
    run = panel.result
    assert run is not None and panel.live_view.run_id == run.run_id
    panel.live_view.refresh()
    counts, delivered = recount(receiver.frame(), run.run_id)
    assert shown(panel.live_view.figure) == (counts, pytest.approx(delivered))
    assert sum(counts.values()) == len(MIX) - 5
    panel.live_view.close()


def test_events_and_the_view_are_checked_before_any_request(instant_client):
    with pytest.raises(ct.InvalidInputError) as caught:
        ct.test_send(instant_client, "comms_senderpool_" + "0" * 26, MIX, "hi", events="r")
    assert caught.value.field == "events"
    with pytest.raises(ct.InvalidInputError) as view:
        ct.LiveSendView("not a receiver")
    assert view.value.field == "receiver"
    with pytest.raises(ct.InvalidInputError, match="not an events frame"):
        send_progress(pd.DataFrame({"message_id": []}))


def test_an_empty_receiver_gives_an_empty_figure_and_the_columns_agree():
    assert EVENT_COLUMNS == records.COLUMNS
    with ct.EventReceiver(auth_token="t") as receiver:
        view = ct.LiveSendView(receiver)
        assert all(len(trace.x) == 0 for trace in view.figure.data[: len(BAR_STATUSES)])
        assert view.figure.layout.title.text.startswith("Live send: 0 messages")
        assert send_progress(receiver.frame()).empty
        view.close()


def test_a_send_whose_events_never_come_says_so(instant_client):
    with ct.EventReceiver(auth_token="t") as receiver:  # never subscribed: nothing arrives
        with pytest.warns(UserWarning, match="is the subscription active") as caught:
            run = ct.test_send(instant_client, _pool_id(instant_client), MIX[5:8], "hi",
                               events=receiver, timeout=1)  # fmt: skip
        assert "the 3 event(s) of the status of message(s)" in str(caught[0].message)
        assert run.event_frame().empty and run.done


def test_a_resumed_send_with_events_is_followed_to_the_end(subscribed, tmp_path, monkeypatch):
    """A send stopped after its first chunk, resumed with ``events=``: the view follows the
    run again and its numbers count every message of the run, the API's statuses."""
    client, receiver = subscribed
    monkeypatch.setattr(sending, "CHUNK_SIZE", 5)
    original = Journal.append

    def stop_after_first_chunk(self, kind, **fields):
        record = original(self, kind, **fields)
        if kind == "sent":
            raise KeyboardInterrupt  # the user stopped the cell
        return record

    monkeypatch.setattr(Journal, "append", stop_after_first_chunk)
    path = tmp_path / "run.jsonl"
    with pytest.raises(KeyboardInterrupt):
        ct.test_send(client, _pool_id(client), MIX, "hi", events=receiver, journal=path,
                     allow_unroutable=True)  # fmt: skip
    monkeypatch.setattr(Journal, "append", original)
    view = ct.LiveSendView(receiver)
    with pytest.raises(ct.InvalidInputError) as caught:
        TestSend.resume(client, path, events="receiver")
    assert caught.value.field == "events"
    run = TestSend.resume(client, path, events=receiver)
    assert run.events is receiver and len(run.operations) == 4  # 17 recipients, chunks of 5
    assert view.run_id == run.run_id and view.expected == len(MIX)
    counts = _shown_as_reported(run, view, receiver)
    assert sum(counts.values()) == len(MIX) and run.messages["to"].is_unique
    view.close()
