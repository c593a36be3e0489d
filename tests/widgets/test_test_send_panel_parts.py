"""TestSendPanel's pure parts: SMS segments, the recipients check, routes and sentences."""

from __future__ import annotations

import json
import warnings

import ipywidgets as widgets
import pandas as pd
import pytest

import commstoolkit as ct
from commstoolkit.errors import InvalidInputError
from commstoolkit.testsend import InvalidRecipientsError, SendRefusedError
from commstoolkit.testsend.recipients import normalise_numbers
from commstoolkit.widgets._capture import captured
from commstoolkit.widgets._segments import GSM7, UCS2, sms_segments
from commstoolkit.widgets._send_inputs import check_recipients, sender_channels
from commstoolkit.widgets._send_views import (
    confirm_label,
    dry_run_text,
    figure_output,
    route_table,
    segments_text,
    send_error_text,
)

# -- SMS segments -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments", "remaining"),
    [
        ("", GSM7, 0, 0, 160),
        ("Hello", GSM7, 5, 1, 155),
        ("a" * 160, GSM7, 160, 1, 0),
        ("a" * 161, GSM7, 161, 2, 145),
        ("a" * 306, GSM7, 306, 2, 0),
        ("a" * 307, GSM7, 307, 3, 152),
        ("€" * 80, GSM7, 160, 1, 0),  # an extension character takes two septets
        ("€" * 81, GSM7, 162, 2, 143),  # 76 + 5 in the parts: a pair is never split
        ("a" * 152 + "€" + "a" * 152, GSM7, 306, 3, 152),  # the € moves to the 2nd part
        ("ł" * 70, UCS2, 70, 1, 0),
        ("ł" * 71, UCS2, 71, 2, 63),
        ("ł" * 134, UCS2, 134, 2, 0),
        ("ł" * 135, UCS2, 135, 3, 66),
        ("😀" * 35, UCS2, 70, 1, 0),  # outside the BMP: two 16-bit units each
        ("a" * 66 + "😀" + "a", UCS2, 69, 1, 1),
        ("a" * 66 + "😀" + "a" * 2, UCS2, 70, 1, 0),
        ("a" * 66 + "😀" + "a" * 3, UCS2, 71, 2, 62),  # the emoji starts the 2nd part
    ],
)
def test_sms_segments(text, encoding, units, segments, remaining):
    count = sms_segments(text)
    assert (count.encoding, count.units, count.segments, count.remaining) == (
        encoding,
        units,
        segments,
        remaining,
    )
    assert count.characters == len(text)


def test_one_unicode_character_makes_the_whole_text_ucs2_and_is_named():
    count = sms_segments("Caf\u00e9 ok ✓ done")
    assert count.encoding == UCS2 and count.first_unicode == "✓"
    assert sms_segments("Café, Ñandù, ¿Qué? Ça, 5€ {ok}").encoding == GSM7


def test_segments_text():
    assert segments_text(sms_segments(""), 1600) == "0 characters: type the message to send."
    assert segments_text(sms_segments("Hi"), 1600) == (
        "2 characters · GSM-7 · 1 SMS segment (158 of 160 left in the last)"
    )
    assert "UCS-2 (because of '😀')" in segments_text(sms_segments("Hi 😀"), 1600)


# -- recipients ---------------------------------------------------------------------------------

CASES = [
    "+14155550100",
    "+1 415 555 0100, +44 7911 123456",
    "+14155550100\n\n+1 (415) 555-0100; whatsapp:+447911123456",
    "415 555 0100",
    "+1415, hello, +44 7911 123456",
    "+999 123, +14155550100, ",
]


@pytest.mark.parametrize("text", CASES)
def test_recipients_check_agrees_with_test_sends_normalisation(text):
    check = check_recipients(text)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            numbers = normalise_numbers(text)
        except InvalidRecipientsError as err:
            assert check.invalid == err.invalid and not check.ok
        else:
            assert check.numbers == numbers and check.invalid == [] and check.ok


def test_recipients_check_counts_repeats_and_empty_text():
    check = check_recipients("+14155550100, +1 415 555 0100\n+14155550100, +447911123456")
    assert check.numbers == ["+14155550100", "+447911123456"]
    assert check.repeated == {"+14155550100": 3}
    empty = check_recipients(" ,\n ")
    assert empty.numbers == [] and empty.invalid == [] and not empty.ok


def test_sender_channels():
    assert sender_channels(["SMS", "RCS", "WHATSAPP"]) is None
    assert sender_channels(["WHATSAPP", "SMS"]) == ["SMS", "WHATSAPP"]
    with pytest.raises(InvalidInputError, match="Switch on at least one sender channel"):
        sender_channels([])


# -- routes and sentences ---------------------------------------------------------------------


@pytest.fixture
def routes(client) -> pd.DataFrame:
    pool = next(iter(client.sender_pools.list()))
    to = ["+15005550005", "+15005550006", "+15005550002", "+14155550100"]
    return ct.test_send(client, pool, to, "x", dry_run=True).routes


def test_route_table_has_one_row_per_recipient_with_its_first_route(routes):
    table = route_table(routes)
    assert list(table["to"]) == list(dict.fromkeys(routes["to"]))
    first = routes[routes["rank"].fillna(1) == 1].reset_index(drop=True)
    assert table["sender_id"].equals(first["sender_id"])
    assert table["channel"].equals(first["channel"])
    ranked = routes.dropna(subset=["rank"]).groupby("to").size()
    reached = table.dropna(subset=["sender_id"])
    assert list(reached["alternatives"]) == [ranked[to] - 1 for to in reached["to"]]
    unreachable = table[table["to"] == "+15005550002"].iloc[0]
    assert pd.isna(unreachable["sender_id"]) and pd.isna(unreachable["alternatives"])
    assert unreachable["sender"] == "no sender of the pool can reach it"


def test_dry_run_text_counts_channels_and_unaddressable(routes):
    table = route_table(routes)
    counts = table["channel"].dropna().astype(str).value_counts()
    text = dry_run_text(routes, "Pool A")
    assert text.startswith("Dry run through pool 'Pool A': 4 recipients → ")
    for channel, n in counts.items():
        assert f"{channel} {n}" in text
    assert "; 1 unaddressable" in text and text.endswith("Nothing was sent.")


def test_guard_refusals_become_their_sentences():
    err = SendRefusedError(["First reason.", "Second reason."], field="to")
    assert send_error_text("send", err) == (
        "Nothing was sent — the live-send guards refused it. First reason. Second reason."
    )


def test_other_errors_become_one_sentence():
    assert send_error_text("send", InvalidInputError("text: too long", field="text")) == (
        "Could not send: text: too long."
    )
    assert send_error_text("send", KeyError("x")) == "Could not send: unexpected KeyError: 'x'."


def test_confirm_label_says_how_many_real_messages():
    assert confirm_label(1) == "I understand: Send delivers 1 real message and costs money"
    assert confirm_label(6) == "I understand: Send delivers 6 real messages and costs money"


def test_figure_output_is_plain_json_with_the_plotly_mime_type():
    frame = pd.DataFrame({"message_id": [], "to_channel": [], "channel": [], "status": []})
    fig = ct.charts.send_outcomes(frame.astype("string"))
    output = figure_output(fig)
    assert output["output_type"] == "display_data"
    figure = output["data"]["application/vnd.plotly.v1+json"]
    assert figure["layout"]["title"]["text"] == fig.layout.title.text
    json.dumps(output)  # what the Output widget sends to the browser must be plain JSON


# -- progress capture ---------------------------------------------------------------------------


class KernelLikeOutput(widgets.Output):
    """An Output that, like ipywidgets' in a kernel, swallows what is raised inside it."""

    def __exit__(self, etype, evalue, tb):
        super().__exit__(etype, evalue, tb)
        return etype is not None


def test_captured_lets_errors_through_an_output_that_swallows_them():
    output = KernelLikeOutput()
    with output:
        raise KeyError("swallowed, as in a kernel")
    with pytest.raises(KeyError, match="reaches the caller"), captured(output):
        raise KeyError("reaches the caller")
    with captured(output):
        pass


def test_a_refusal_says_which_guard_refused_it():
    unroutable = SendRefusedError(["+14155550100 has no route."], field="to", unroutable=["+1"])
    assert send_error_text("send", unroutable).startswith(
        "Nothing was sent — no sender of the pool can reach some recipients. +14155550100"
    )
    capped = SendRefusedError(["12 recipients is more than 10."], field="max_recipients")
    assert send_error_text("dry run", capped) == (
        "Nothing was sent — it is over the recipient cap. 12 recipients is more than 10."
    )
