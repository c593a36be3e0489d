"""TestSendPanel without a browser: set ``.value``, ``.click()``, check attributes, the sandbox."""

from __future__ import annotations

import html
import re
import warnings
from collections import Counter

import ipywidgets as widgets
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import commstoolkit as ct
from commstoolkit.testsend.recipients import e164
from commstoolkit.widgets import TestSendPanel
from commstoolkit.widgets import test_send_panel as panel_module

# Magic sandbox recipients: never RCS-capable (SMS), always RCS, unaddressable, ordinary.
SMS_ONLY, ALWAYS_RCS, UNADDRESSABLE, ORDINARY = (
    "+15005550005",
    "+15005550006",
    "+15005550002",
    "+14155550100",
)
RECIPIENTS = [SMS_ONLY, ALWAYS_RCS, UNADDRESSABLE, ORDINARY]


def _text(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", markup)).replace("  ", " ")


def _said(panel: TestSendPanel) -> str:
    return _text(panel.message.value).strip()


def _table_rows(markup: str) -> list[list[str]]:
    body = re.search(r"<tbody>(.*)</tbody>", markup, re.S)
    assert body, "no table body"
    rows = re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)
    return [
        [html.unescape(c).strip() for c in re.findall(r"<td>(.*?)</td>", r, re.S)] for r in rows
    ]


def _all_messages(client) -> list:
    return list(client.messages.list())


@pytest.fixture
def pools(instant_client) -> pd.DataFrame:
    return ct.load_pools(instant_client).sort_values("name", kind="stable")


@pytest.fixture
def panel(instant_client) -> TestSendPanel:
    return TestSendPanel(instant_client)


# -- pools, recipients, text --------------------------------------------------------------------


def test_pool_list_names_every_pool_with_its_size(panel, pools):
    assert list(panel.pool.options) == [
        (f"{name} ({size} senders)", pool_id)
        for pool_id, name, size in zip(pools["pool_id"], pools["name"], pools["size"], strict=True)
    ]
    assert panel.pool.value == pools["pool_id"].iloc[0]


def test_reload_lists_a_new_pool_and_keeps_the_choice(panel, instant_client, pools):
    chosen = pools["pool_id"].iloc[1]
    panel.pool.value = chosen
    senders = ct.load_senders(instant_client, channel="SMS", status="ACTIVATED").head(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a pool with SMS senders only: warned, not a problem
        created = ct.create_pool(instant_client, "a panel pool", senders)
    panel.refresh_button.click()
    assert ("a panel pool (3 senders)", created.id) in panel.pool.options
    assert panel.pool.value == chosen


def test_bad_numbers_are_flagged_while_typing_with_test_sends_reasons(panel):
    panel.recipients.value = f"{SMS_ONLY}\n555 0100, +1 202 555 01\n{ORDINARY}"
    issues = _text(panel.recipient_issues.value)
    for bad in ("555 0100", "+1 202 555 01"):
        assert f"✗ {bad!r}: {e164(bad)[1]}" in issues
    assert "2 numbers cannot be sent to" in issues
    assert "✓ 2 valid recipients" in issues
    assert panel.check.numbers == [SMS_ONLY, ORDINARY]
    assert [text for text, _ in panel.check.invalid] == ["555 0100", "+1 202 555 01"]

    panel.recipients.value = f"{SMS_ONLY}, {ORDINARY}"
    issues = _text(panel.recipient_issues.value)
    assert "cannot be sent to" not in issues and "✓ 2 valid recipients" in issues


def test_a_repeated_number_is_said_to_get_one_message(panel):
    panel.recipients.value = f"{SMS_ONLY}\n+1 500 555 0005\n{ORDINARY}"
    assert panel.check.numbers == [SMS_ONLY, ORDINARY]
    assert f"{SMS_ONLY} is given 2 times: it gets one message." in _text(
        panel.recipient_issues.value
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a" * 160, "160 characters · GSM-7 · 1 SMS segment (0 of 160 left in the last)"),
        ("a" * 161, "161 characters · GSM-7 · 2 SMS segments (145 of 153 left in the last)"),
        ("ł" * 70, "70 characters · UCS-2 (because of 'ł') · 1 SMS segment (0 of 70 left"),
        ("ł" * 71, "71 characters · UCS-2 (because of 'ł') · 2 SMS segments (63 of 67 left"),
    ],
)
def test_text_count_shows_characters_encoding_and_segments(panel, text, expected):
    panel.text.value = text
    assert panel.text_count.value.startswith(expected)


def test_text_count_warns_over_the_send_limit(panel):
    panel.text.value = "a" * 1601
    assert "too long: a test send takes at most 1,600 characters" in panel.text_count.value


# -- dry run ----------------------------------------------------------------------------------


def test_dry_run_shows_test_sends_routes_and_sends_nothing(panel, instant_client):
    panel.recipients.value = "\n".join(RECIPIENTS)
    panel.dry_run_button.click()

    expected = ct.test_send(instant_client, panel.pool.value, RECIPIENTS, "x", dry_run=True)
    assert_frame_equal(panel.routes, expected.routes)
    assert _all_messages(instant_client) == []
    assert panel.result is None

    rows = _table_rows(panel.routes_view.value)
    assert [row[0] for row in rows] == RECIPIENTS
    first = expected.routes[expected.routes["rank"].fillna(1) == 1].reset_index(drop=True)
    for row, (_, route) in zip(rows, first.iterrows(), strict=True):
        if pd.isna(route["sender_id"]):
            assert row[1:] == ["no sender of the pool can reach it", "", "", "", ""]
        else:
            assert row[2:5] == [route["sender_address"], route["channel"], str(route["priority"])]
    said = _said(panel)
    assert said.startswith(f"Dry run through pool {panel._pool_name()!r}: 4 recipients → ")
    assert "1 unaddressable" in said and said.endswith("Nothing was sent.")


def test_dry_run_passes_the_channel_and_the_sender_filter(panel, instant_client):
    panel.recipients.value = f"{ALWAYS_RCS}, {ORDINARY}"
    panel.channel_buttons["RCS"].value = False
    panel.channel_buttons["WHATSAPP"].value = False
    routes = panel.dry_run()
    expected = ct.test_send(
        instant_client,
        panel.pool.value,
        [ALWAYS_RCS, ORDINARY],
        "x",
        channels=["SMS"],
        dry_run=True,
    )
    assert_frame_equal(routes, expected.routes)
    assert set(routes["channel"].dropna()) == {"SMS"}

    panel.channel.value = "WHATSAPP"
    routes = panel.dry_run()
    assert set(routes["to_channel"]) == {"WHATSAPP"}


def test_no_sender_channel_switched_on_is_a_sentence(panel):
    panel.recipients.value = ORDINARY
    for button in panel.channel_buttons.values():
        button.value = False
    assert panel.dry_run() is None
    assert "Switch on at least one sender channel" in _said(panel)


def test_dry_run_with_a_bad_number_refuses_with_a_sentence(panel, instant_client):
    panel.recipients.value = f"{ORDINARY}, 12"
    assert panel.dry_run() is None
    said = _said(panel)
    assert said.startswith("Could not run the dry run: 1 recipient is not a valid phone number")
    assert "'12'" in said and "Traceback" not in said
    assert panel.routes_view.value == ""


def test_empty_recipients_and_no_pool_say_what_to_do(panel):
    panel.send_button.click()
    assert "Type at least one recipient in the Recipients box" in _said(panel)
    panel.recipients.value = ORDINARY
    panel.pool.value = None
    panel.dry_run_button.click()
    assert "Choose a pool in the Pool list first" in _said(panel)


# -- send ------------------------------------------------------------------------------------


def test_send_makes_one_message_per_recipient_and_shows_its_summary(panel, instant_client):
    panel.allow_unroutable = True  # the unaddressable number is sent on purpose
    panel.recipients.value = "\n".join(RECIPIENTS)
    panel.send_button.click()

    run = panel.result
    assert run is not None and run.done and not run.dry_run
    sent = _all_messages(instant_client)
    assert sorted(m.to_address for m in sent) == sorted(RECIPIENTS)
    assert {m.sender_pool_id for m in sent if m.sender_id} == {panel.pool.value}
    assert {m.tags["ct_run"] for m in sent} == {run.run_id}

    summary = run.summary()
    statuses = Counter(m.status for m in sent)
    assert summary.messages == len(RECIPIENTS)
    assert {s: n for s, n in summary.by_status.items() if n} == dict(statuses)
    delivered = statuses["DELIVERED"] + statuses["READ"]
    assert summary.delivered == delivered
    said = _said(panel)
    assert said.startswith(
        f"Sent 4 messages through pool {panel._pool_name()!r} (sandbox, run {run.run_id}): "
        f"{summary.final} final, {delivered} delivered"
    )

    outputs = panel.output.outputs
    assert run.run_id in outputs[0]["data"]["text/html"]
    assert "commstoolkit-summary" in outputs[0]["data"]["text/html"]
    titles = [o["data"]["application/vnd.plotly.v1+json"]["layout"]["title"] for o in outputs[1:]]
    expected = [
        getattr(ct.charts, name)(run.messages).layout.title.text
        for name in ("send_outcomes", "sender_delivery", "fallback", "delivery_latency")
    ]
    assert [t["text"] for t in titles] == expected
    assert not panel.send_button.disabled and not panel.dry_run_button.disabled


def test_send_with_a_bad_number_refuses_and_sends_nothing(panel, instant_client):
    panel.recipients.value = f"{ORDINARY}\nnot a number\n+44 20"
    assert panel.send_test() is None
    said = _said(panel)
    assert said.startswith("Could not send: 2 recipients are not valid phone numbers")
    assert "'not a number'" in said and "'+44 20'" in said
    assert said.endswith("Fix or remove them in the Recipients box; nothing was sent.")
    assert _all_messages(instant_client) == []
    assert panel.result is None and panel.output.outputs == ()


def test_a_duplicate_number_is_sent_once_and_said(panel, instant_client):
    panel.recipients.value = f"{ORDINARY}, +1 (415) 555-0100"
    panel.send_test()
    assert [m.to_address for m in _all_messages(instant_client)] == [ORDINARY]
    assert "1 duplicate recipient(s) removed" in _said(panel)


def test_an_api_refusal_of_a_number_is_a_sentence_naming_it(panel, instant_client):
    panel.recipients.value = "+15005550001"  # the sandbox's invalid number: the API's 400
    assert panel.send_test() is None  # refused when resolving, before any message
    said = _said(panel)
    assert said.startswith("Could not send: 1 recipient is not a valid phone number")
    assert "'+15005550001'" in said and "Traceback" not in said
    assert panel.result is None and _all_messages(instant_client) == []


def test_an_api_refusal_is_a_sentence_and_keeps_the_partial_send(panel, instant_client):
    instant_client.sandbox.faults.add("POST /Messages", status=400)
    panel.recipients.value = ORDINARY
    partial = panel.send_test()
    said = _said(panel)
    assert said.startswith("Could not send: test send")
    assert "400" in said and "Traceback" not in said
    assert "TestSend.resume(client, panel.result.journal)" in said
    assert partial is panel.result and partial.operations == []
    assert _all_messages(instant_client) == []


def test_a_send_no_sender_can_reach_is_refused_with_a_sentence(panel, instant_client):
    panel.recipients.value = f"{ORDINARY}\n{UNADDRESSABLE}"
    assert panel.send_test() is None
    said = _said(panel)
    assert said.startswith("Nothing was sent")
    assert "1 recipient is unroutable, no sender of the pool can reach it" in said
    assert UNADDRESSABLE in said and "allow_unroutable=True" in said
    assert panel.result is None and _all_messages(instant_client) == []


def test_max_recipients_caps_the_dry_run_too(instant_client):
    panel = TestSendPanel(instant_client, max_recipients=1)
    panel.recipients.value = f"{ORDINARY}\n{ALWAYS_RCS}"
    assert panel.dry_run() is None and panel.routes is None
    assert "2 recipients is more than max_recipients=1" in _said(panel)


def test_a_server_error_during_the_dry_run_is_a_sentence(panel, instant_client):
    instant_client.sandbox.faults.add("POST /Senders/Resolve", status=500)
    panel.recipients.value = ORDINARY
    assert panel.dry_run() is None
    said = _said(panel)
    assert said.startswith("Could not run the dry run: 500")
    assert panel.routes is None


def test_an_unexpected_error_is_a_sentence_too(panel, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("something odd\nsecond line")

    monkeypatch.setattr(panel_module, "test_send", broken)
    panel.recipients.value = ORDINARY
    panel.send_test()
    assert _said(panel) == "Could not send: unexpected RuntimeError: something odd."
    assert not panel.send_button.disabled


def test_a_send_still_running_after_the_timeout_is_shown_as_such(client):
    # The sandbox clock runs in real time here: the messages are not final at once.
    panel = TestSendPanel(client, timeout=0.2)
    panel.recipients.value = ORDINARY
    run = panel.send_test()
    assert run is not None and not run.done
    said = _said(panel)
    assert "Some messages are still on their way: call .result.wait()" in said
    assert said.endswith("Stopped following it after 0.2 s.")
    assert len(_all_messages(client)) == 1


def test_sandbox_mode_says_so_and_needs_no_confirmation(panel):
    banner = _text(panel.mode_banner.value)
    assert "Sandbox" in banner and "nothing real is sent" in banner
    row = next(
        c for c in panel.children if isinstance(c, widgets.HBox) and panel.confirm in c.children
    )
    assert row.layout.display == "none"
    assert not panel.send_button.disabled


def test_the_panel_is_a_widget_with_its_css_classes(panel):
    assert "ct-test-send-panel" in panel._dom_classes
    for control, css in (
        (panel.pool, "ct-send-pool"),
        (panel.recipients, "ct-recipients"),
        (panel.recipient_issues, "ct-recipient-issues"),
        (panel.text, "ct-text"),
        (panel.text_count, "ct-text-count"),
        (panel.dry_run_button, "ct-dry-run"),
        (panel.send_button, "ct-send"),
        (panel.confirm, "ct-confirm"),
        (panel.message, "ct-send-message"),
        (panel.routes_view, "ct-routes"),
        (panel.output, "ct-send-output"),
        (panel.channel_buttons["SMS"], "ct-filter-sms"),
    ):
        assert css in control._dom_classes


class KernelLikeOutput(widgets.Output):
    """An Output that, like ipywidgets' in a kernel, swallows what is raised inside it."""

    def __exit__(self, etype, evalue, tb):
        super().__exit__(etype, evalue, tb)
        return etype is not None


def test_an_error_while_following_the_send_is_a_sentence_even_in_a_kernel(panel, instant_client):
    panel.progress = KernelLikeOutput()
    instant_client.sandbox.faults.add("GET /Messages/Operations/{operationId}", status=500)
    panel.recipients.value = ORDINARY
    run = panel.send_test()
    said = _said(panel)
    expected = f"The messages were sent (run {run.run_id}), but following them failed: 500"
    assert said.startswith(expected), said
    assert said.endswith("Call .result.wait() to follow them again.")
    assert run is panel.result and run.run_id is not None
    assert len(_all_messages(instant_client)) == 1


def test_a_failed_dry_run_after_a_send_does_not_claim_a_send(panel, instant_client):
    panel.recipients.value = ORDINARY
    sent = panel.send_test()
    instant_client.sandbox.faults.add("POST /Senders/Resolve", status=500)
    assert panel.dry_run() is None
    assert _said(panel).startswith("Could not run the dry run: 500")
    assert panel.result is sent and panel.output.outputs == ()
