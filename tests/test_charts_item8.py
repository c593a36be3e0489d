"""Issue 11, item 8 (found by an analyst while charting), the fixes outside ``charts/``:
counts in words agree in number, ``SendSummary.by_status`` lists outbound statuses, and a
dry run's routes frame types its channels like the messages frame. The charts' own fixes
are tested in ``test_charts.py``."""

from __future__ import annotations

import pandas as pd
import pytest

import commstoolkit as ct
from commstoolkit.frames import messages_frame
from commstoolkit.pools._render import plural
from commstoolkit.pools.plan import _sizes
from commstoolkit.pools.steps import MAX_SENDERS_PER_REQUEST, Step
from commstoolkit.rules import check_id
from commstoolkit.testsend.summary import summarise


def test_counts_in_words_agree_in_number():
    assert [plural(n, "sender") for n in (0, 1, 2, 1500)] == [
        "0 senders",
        "1 sender",
        "2 senders",
        "1,500 senders",
    ]
    assert Step("create", ("comms_sender_1",)).describe(None) == ("POST /SenderPools with 1 sender")
    assert Step("add", ("a", "b")).describe("p") == "POST /SenderPools/p/Senders with 2 senders"
    just_over = MAX_SENDERS_PER_REQUEST + 1  # two requests: a create and one add
    (new,) = _sizes(just_over, 0, new=True)
    assert "(1 create + 1 add)." in new and "adds" not in new
    (existing,) = _sizes(just_over, 0, new=False)
    assert "(2 adds)." in existing
    (three,) = _sizes(2 * MAX_SENDERS_PER_REQUEST + 1, 0, new=True)
    assert "(1 create + 2 adds)." in three
    for kind, article in (("operation", "an"), ("sender", "a"), ("sender pool", "a")):
        with pytest.raises(ct.InvalidInputError) as error:
            check_id("nope", kind, "field")
        assert f"'nope' is not {article} {kind} id (expected" in str(error.value)


OUTBOUND = ("SCHEDULED", "QUEUED", "SENT", "DELIVERED", "READ", "UNDELIVERED", "FAILED", "CANCELED")


def test_by_status_lists_only_outbound_statuses_and_others_only_when_present():
    frame = messages_frame([]).reindex(range(3))
    frame["status"] = pd.Categorical(
        ["DELIVERED", "FAILED", "DELIVERED"], dtype=frame["status"].dtype
    )
    by_status = summarise(frame).by_status
    assert "GROUP" in frame["status"].cat.categories  # the frame's categories hold them...
    assert list(by_status.index) == list(OUTBOUND)  # ... by_status does not list them at 0
    assert by_status.to_dict() == {**dict.fromkeys(OUTBOUND, 0), "DELIVERED": 2, "FAILED": 1}
    assert by_status.name == "messages" and by_status.index.name == "status"
    assert by_status.sum() == len(frame)
    # A status outside the outbound ones is listed when present: every message is counted.
    frame.loc[1, "status"] = "INBOUND"
    by_status = summarise(frame).by_status
    assert list(by_status.index) == [*OUTBOUND, "INBOUND"] and by_status["INBOUND"] == 1
    assert by_status.sum() == len(frame)
    plain = summarise(frame.astype({"status": str})).by_status  # no categories to lean on
    assert plain.to_dict() == by_status.to_dict() and list(plain.index) == list(by_status.index)
    assert "by status: DELIVERED 2, INBOUND 1" in str(summarise(frame))


def test_dry_run_routes_type_to_channel_and_channel_like_the_messages_frame(client):
    pool = next(iter(client.sender_pools.list()))
    recipients = [f"+1914{n:07d}" for n in range(4_000_000, 4_000_005)]
    run = ct.testsend.test_send(client, pool, recipients, "Dry", dry_run=True)
    routes, messages = run.routes, messages_frame([])
    for column in ("to_channel", "channel"):
        assert routes[column].dtype == messages[column].dtype, column
        assert isinstance(routes[column].dtype, pd.CategoricalDtype)
    assert set(routes["to_channel"]) == {"PHONE"}
    assert set(routes["channel"].dropna()) <= {"SMS", "RCS", "WHATSAPP"}
    assert routes["channel"].notna().sum() == routes["sender_id"].notna().sum() > 0
    # Routes and messages now concatenate and compare without dtype surprises.
    both = pd.concat([routes[["to_channel", "channel"]], messages[["to_channel", "channel"]]])
    assert both.dtypes.to_dict() == messages[["to_channel", "channel"]].dtypes.to_dict()
