"""TestSendPanel in a real browser: Voila serves a notebook, Chromium types, clicks Dry run, Send.

Besides the route table, this checks what only a kernel shows: a refused send is a
sentence (in a kernel, an ipywidgets Output turns errors raised inside it into tracebacks),
whether a number is invalid or no sender of the pool can reach it (issue 11 item 5), and
the summary and the four plotly charts render after a send.
"""

from __future__ import annotations

import pandas as pd
import pytest

import commstoolkit as ct

from ._notebooks import widget_notebook

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

# Magic sandbox numbers (SMS only, always RCS, unaddressable) and an ordinary one.
RECIPIENTS = ["+15005550005", "+15005550006", "+15005550002", "+14155550100"]
UNROUTABLE = "+15005550002"
ROUTABLE = [number for number in RECIPIENTS if number != UNROUTABLE]
BAD = "555 0100"


def test_test_send_panel_dry_run_shows_the_routes_then_sends(voila, page, tmp_path, artifacts):
    from playwright.sync_api import expect

    db = tmp_path / "sandbox.sqlite3"
    with ct.connect(sandbox=True, db=db, quiet=True) as client:  # seeds the shared file
        pools = ct.load_pools(client).sort_values("name", kind="stable")
        pool = pools.iloc[-1]  # not the panel's default (the first): the test must choose it
        expected = ct.test_send(client, pool["pool_id"], RECIPIENTS, "x", dry_run=True).routes
    first = expected[expected["rank"].fillna(1) == 1]
    assert len(pools) > 1 and first["sender_id"].isna().sum() == 1

    server = voila(widget_notebook(tmp_path, db, "TestSendPanel"))
    page.goto(server.url, wait_until="domcontentloaded")

    choice = page.locator(".ct-send-pool select")
    expect(choice).to_be_visible(timeout=45_000)
    choice.select_option(label=f"{pool['name']} ({pool['size']} senders)")

    recipients = page.locator(".ct-recipients textarea")
    issues = page.locator(".ct-recipient-issues")
    recipients.fill("\n".join([*RECIPIENTS[:2], BAD]))
    expect(issues).to_contain_text(f"✗ '{BAD}': no valid country code")
    expect(issues).to_contain_text("✓ 2 valid recipients")
    recipients.fill("\n".join(RECIPIENTS))
    expect(issues).not_to_contain_text("cannot be sent to")
    expect(issues).to_contain_text("✓ 4 valid recipients")
    expect(page.locator(".ct-text-count")).to_contain_text("GSM-7 · 1 SMS segment")

    page.locator("button.ct-dry-run").click()
    message = page.locator(".ct-send-message")
    expect(message).to_contain_text(f"Dry run through pool '{pool['name']}': 4 recipients")
    expect(message).to_contain_text("Nothing was sent.")
    rows = page.locator(".ct-routes tbody tr")
    expect(rows).to_have_count(len(RECIPIENTS))
    for i, (_, route) in enumerate(first.iterrows()):
        expect(rows.nth(i).locator("td").first).to_have_text(route["to"])
        sender = route["sender_address"] if pd.notna(route["sender_id"]) else ""
        expect(rows.nth(i).locator("td").nth(2)).to_have_text(sender)
    expect(page.locator(".ct-mode")).to_contain_text("Sandbox")
    assert page.get_by_text("Error displaying widget").count() == 0

    page.locator(".ct-test-send-panel").screenshot(path=str(artifacts / "testsendpanel.png"))

    with ct.connect(sandbox=True, db=db, quiet=True) as client:
        assert list(client.messages.list()) == []  # a dry run sends nothing

    recipients.fill("\n".join([*RECIPIENTS, BAD]))
    page.locator("button.ct-send").click()
    expect(message).to_contain_text("Could not send: 1 recipient is not a valid phone number")
    expect(message).to_contain_text("nothing was sent")
    assert page.get_by_text("Traceback").count() == 0

    recipients.fill("\n".join(RECIPIENTS))
    page.locator("button.ct-send").click()
    expect(message).to_contain_text("Nothing was sent")
    expect(message).to_contain_text(
        f"no sender of the pool can reach it (PHONE recipients): {UNROUTABLE}"
    )
    assert page.get_by_text("Traceback").count() == 0
    with ct.connect(sandbox=True, db=db, quiet=True) as client:
        assert list(client.messages.list()) == []  # refused before any message

    recipients.fill("\n".join(ROUTABLE))
    page.locator("button.ct-send").click()
    expect(message).to_contain_text(
        f"Sent 3 messages through pool '{pool['name']}'", timeout=30_000
    )
    output = page.locator(".ct-send-output")
    expect(output.locator(".commstoolkit-summary")).to_be_visible()
    expect(output.locator(".js-plotly-plot")).to_have_count(4, timeout=30_000)
    expect(page.locator(".ct-routes tbody tr")).to_have_count(0)
    assert page.get_by_text("Traceback").count() == 0
    page.locator(".ct-test-send-panel").screenshot(path=str(artifacts / "testsendpanel-sent.png"))

    with ct.connect(sandbox=True, db=db, quiet=True) as client:
        sent = list(client.messages.list())
    assert sorted(m.to_address for m in sent) == sorted(ROUTABLE)
