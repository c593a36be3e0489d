"""The live view of a send in a real browser: Voila serves ``TestSendPanel(client,
events=receiver)`` with a receiver subscribed through ``ct.events.subscribe``; Chromium clicks
Send and the plotly ``FigureWidget`` (plotly's anywidget front end) draws the send as its
events arrive, its title and bars the counts the receiver's events give.
"""

from __future__ import annotations

import pytest

import commstoolkit as ct

from ._notebooks import widget_notebook

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

RECIPIENTS = ["+15005550005", "+15005550006", "+15005550004", "+14155550100"]
SHOW = """receiver = ct.EventReceiver(auth_token=client.sandbox.auth_token)
ct.events.subscribe(client, receiver)
TestSendPanel(client, events=receiver)"""


def test_the_panel_s_live_view_draws_a_send_as_its_events_arrive(voila, page, tmp_path, artifacts):
    from playwright.sync_api import expect

    db = tmp_path / "sandbox.sqlite3"
    with ct.connect(sandbox=True, db=db, quiet=True) as client:  # seeds the shared file
        ct.load_pools(client)
    server = voila(widget_notebook(tmp_path, db, "TestSendPanel", show=SHOW))
    page.goto(server.url, wait_until="domcontentloaded")

    live = page.locator(".ct-live-send")
    expect(live.locator(".js-plotly-plot")).to_have_count(1, timeout=45_000)
    title = live.locator(".gtitle")
    expect(title).to_contain_text("Live send: 0 messages")
    page.locator(".ct-recipients textarea").fill("\n".join(RECIPIENTS))
    page.locator("button.ct-send").click()
    expect(page.locator(".ct-send-message")).to_contain_text("Sent 4 messages", timeout=30_000)
    expect(title).to_contain_text("Live send: 4 messages, 4 final", timeout=30_000)
    expect(live.locator(".ct-live-caption")).to_contain_text("of 4 recipients")
    assert live.locator("g.trace.bars path").count() > 0  # the bars are drawn
    assert page.get_by_text("Error displaying widget").count() == 0
    assert page.get_by_text("Traceback").count() == 0
    live.screenshot(path=str(artifacts / "livesendview.png"))

    with ct.connect(sandbox=True, db=db, quiet=True) as client:
        sent = list(client.messages.list())
    delivered = sum(m.status in ("DELIVERED", "READ") for m in sent)
    expect(title).to_contain_text(f"{delivered} delivered")
