"""TestSendPanel in live mode: a client addressed as live at a sandbox served over HTTP.

A witness fault rule (``"*"``, a millisecond of latency) counts on the server every API
request that reaches it, so "nothing was sent" is what the server saw.
"""

from __future__ import annotations

import html
import re

import ipywidgets as widgets
import pytest

import commstoolkit as ct
from commstoolkit.sandbox import Sandbox
from commstoolkit.sandbox.server import run_server
from commstoolkit.testsend import ALLOW_ENV
from commstoolkit.widgets import TestSendPanel

TEAM = [f"+1914318{n:04d}" for n in range(8060, 8070)]


def _said(panel: TestSendPanel) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", panel.message.value)).strip()


@pytest.fixture(scope="module")
def served():
    box = Sandbox(":memory:", seed=5, senders=60)
    box.clock.instant = True
    with run_server(box) as server:
        yield box, server
    box.close()


@pytest.fixture
def live(served, monkeypatch, tmp_path):
    """(live client on the served sandbox, witness() -> API requests since the test began)."""
    box, server = served
    monkeypatch.delenv(ALLOW_ENV, raising=False)
    monkeypatch.setenv("COMMSTOOLKIT_JOURNAL_DIR", str(tmp_path / "journals"))
    client = ct.CommsClient(
        account_sid=box.account_sid,
        auth_token=box.auth_token,
        base_url=server.base_url,
        live=True,
    )
    box.faults.clear()
    with client:
        yield client, box
    box.faults.clear()


def _witness(box):
    rule = box.faults.add("*", latency=0.001)
    return lambda: next(r.fired for r in box.faults.list() if r.id == rule)


def _confirm_row(panel: TestSendPanel) -> widgets.HBox:
    return next(
        c for c in panel.children if isinstance(c, widgets.HBox) and panel.confirm in c.children
    )


def test_live_panel_warns_of_real_messages_and_money(live):
    client, _ = live
    panel = TestSendPanel(client)
    banner = html.unescape(re.sub(r"<[^>]+>", "", panel.mode_banner.value))
    assert "LIVE" in banner and "real messages" in banner and "costs money" in banner
    assert _confirm_row(panel).layout.display == ""
    panel.recipients.value = ", ".join(TEAM[:2])
    assert panel.confirm.description == (
        "I understand: Send delivers 2 real messages and costs money"
    )


def test_send_stays_disabled_until_confirm_is_ticked(live):
    client, box = live
    panel = TestSendPanel(client, allow=TEAM)
    panel.recipients.value = TEAM[0]
    assert panel.send_button.disabled
    panel.confirm.value = True
    assert not panel.send_button.disabled
    panel.confirm.value = False
    assert panel.send_button.disabled

    witness = _witness(box)
    assert panel.send_test() is None  # called in code while unticked: refused, no request
    assert _said(panel).startswith("Nothing was sent: tick the confirmation box first")
    assert witness() == 0 and panel.result is None


def test_changing_the_recipients_unticks_the_confirmation(live):
    client, _ = live
    panel = TestSendPanel(client, allow=TEAM)
    panel.recipients.value = TEAM[0]
    panel.confirm.value = True
    panel.recipients.value = f"{TEAM[0]}, {TEAM[1]}"
    assert not panel.confirm.value and panel.send_button.disabled


def test_without_an_allow_list_the_guards_refuse_in_sentences(live):
    client, box = live
    panel = TestSendPanel(client)
    panel.recipients.value = TEAM[0]
    panel.confirm.value = True
    witness = _witness(box)
    panel.send_button.click()
    said = _said(panel)
    assert said.startswith("Nothing was sent — the live-send guards refused it.")
    assert (
        f"A live test send goes only to allow-listed numbers: pass allow=[...] or set {ALLOW_ENV}"
        in said
    )
    assert witness() == 0 and panel.result is None
    assert not panel.confirm.value and panel.send_button.disabled  # confirm again to retry


def test_every_broken_guard_is_named(live, monkeypatch):
    client, box = live
    monkeypatch.setenv(ALLOW_ENV, ",".join(TEAM[:7]))
    panel = TestSendPanel(client, max_recipients=7)
    panel.recipients.value = "\n".join([*TEAM[:7], "+14155550123"])
    panel.confirm.value = True
    witness = _witness(box)
    panel.send_test()
    said = _said(panel)
    assert f"1 recipient is not on the allow-list ({ALLOW_ENV}): +14155550123." in said
    assert "8 recipients is more than max_recipients=7" in said
    assert witness() == 0


def test_a_confirmed_allow_listed_send_goes_out(live):
    client, box = live
    panel = TestSendPanel(client, allow=TEAM, timeout=30)
    panel.recipients.value = "\n".join(TEAM[:6])  # above 5: the tick is the confirmation
    panel.confirm.value = True
    witness = _witness(box)
    run = panel.send_test()
    assert witness() > 0
    assert run is not None and run.done and run.mode == "live"
    assert sorted(run.messages["to"]) == sorted(TEAM[:6])
    assert run.journal is not None and run.journal.path is not None
    assert _said(panel).startswith(f"Sent 6 messages through pool {panel._pool_name()!r} (live")
    assert not panel.confirm.value and panel.send_button.disabled


def test_a_dry_run_needs_no_confirmation_and_sends_nothing(live):
    client, _ = live
    before = len(list(client.messages.list()))
    panel = TestSendPanel(client)
    panel.recipients.value = ", ".join(TEAM[:3])
    routes = panel.dry_run()
    assert routes is not None and list(dict.fromkeys(routes["to"])) == TEAM[:3]
    assert len(list(client.messages.list())) == before
