"""The live view of a send in a real browser, in Voila and in JupyterLab: the notebook shows
``TestSendPanel(client, events=receiver)`` with a receiver subscribed through
``ct.events.subscribe``; Chromium clicks Send and the plotly ``FigureWidget`` (plotly's
anywidget front end; in JupyterLab, its labextension) draws the send as its events arrive:
its title counts the receiver's events, and its bars, measured on screen, the messages the
API reports by channel and outcome. No console error on the way.
"""

from __future__ import annotations

import pandas as pd
import pytest

import commstoolkit as ct

from ._notebooks import widget_notebook
from ._plotly import drawn_bars

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

RECIPIENTS = ["+15005550005", "+15005550006", "+15005550004", "+14155550100"]
SHOW = """receiver = ct.EventReceiver(auth_token=client.sandbox.auth_token)
ct.events.subscribe(client, receiver)
TestSendPanel(client, events=receiver)"""


def test_the_panel_s_live_view_draws_a_send_as_its_events_arrive(
    show, page, problems, tmp_path, picture
):
    from playwright.sync_api import expect

    db = tmp_path / "sandbox.sqlite3"
    with ct.connect(sandbox=True, db=db, quiet=True) as client:  # seeds the shared file
        ct.load_pools(client)
    show(widget_notebook(tmp_path, db, "TestSendPanel", show=SHOW))

    live = page.locator(".ct-live-send")
    expect(live.locator(".js-plotly-plot")).to_have_count(1, timeout=45_000)
    title = live.locator(".gtitle")
    expect(title).to_contain_text("Live send: 0 messages")
    page.locator(".ct-recipients textarea").fill("\n".join(RECIPIENTS))
    page.locator("button.ct-send").click()
    expect(page.locator(".ct-send-message")).to_contain_text("Sent 4 messages", timeout=30_000)
    expect(title).to_contain_text("Live send: 4 messages, 4 final", timeout=30_000)
    expect(live.locator(".ct-live-caption")).to_contain_text("of 4 recipients")
    assert page.get_by_text("Error displaying widget").count() == 0
    assert page.get_by_text("Traceback").count() == 0
    live.screenshot(path=picture("livesendview"))

    with ct.connect(sandbox=True, db=db, quiet=True) as client:
        messages = ct.load_messages(client)
    assert len(messages) == len(RECIPIENTS)
    delivered = int(messages["status"].isin(["DELIVERED", "READ"]).sum())
    expect(title).to_contain_text(f"{delivered} delivered")
    # The bars on screen reach the API's messages by channel and outcome (DELIVERED and READ
    # together: a read may land after the chart's last redraw).
    drawn: dict[tuple[str, str], float] = {}
    for (channel, status), height in drawn_bars(live.locator(".js-plotly-plot")).items():
        key = (channel, "DELIVERED" if status == "READ" else status)
        drawn[key] = drawn.get(key, 0.0) + height
    channel = messages["channel"].astype(object).fillna(ct.frames.NO_SENDER)
    outcome = messages["status"].astype(str).replace({"READ": "DELIVERED"})
    counted = {k: int(v) for k, v in pd.crosstab(channel, outcome).stack().items() if v}
    assert {k: round(v) for k, v in drawn.items() if v} == counted, drawn
    assert all(abs(v - round(v)) < 0.05 for v in drawn.values()), drawn  # whole messages
    assert problems == []
