"""Issue 11, item 8 (found by an analyst while charting), the fixes outside ``charts/``:
counts in words agree in number, ``SendSummary.by_status`` lists outbound statuses, and a
dry run's routes frame types its channels like the messages frame. The charts' own fixes
are tested in ``test_charts.py``."""

from __future__ import annotations

import pytest

import commstoolkit as ct
from commstoolkit.client.checks import check_id
from commstoolkit.pools._render import plural
from commstoolkit.pools.plan import _sizes
from commstoolkit.pools.steps import MAX_SENDERS_PER_REQUEST, Step


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
