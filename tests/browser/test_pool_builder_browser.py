"""PoolBuilder in a real browser (Voila, JupyterLab): Chromium clicks, the sandbox checks."""

from __future__ import annotations

import pytest

import commstoolkit as ct

from ._notebooks import widget_notebook

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

POOL_NAME = "browser-pool"
NON_SMS = ["RCS", "EMAIL", "WHATSAPP", "PUSH"]


def test_pool_builder_filters_and_creates_a_pool(show, page, problems, tmp_path, picture):
    from playwright.sync_api import expect

    db = tmp_path / "sandbox.sqlite3"
    with ct.connect(sandbox=True, db=db, quiet=True) as client:  # seeds the shared file
        senders = ct.load_senders(client)
        pools_before = len(ct.load_pools(client))
    activated = ct.select_senders(senders, statuses="ACTIVATED")
    expected = ct.select_senders(senders, channels=NON_SMS, statuses="ACTIVATED")
    assert 0 < len(expected) < len(activated)

    show(widget_notebook(tmp_path, db, "PoolBuilder"))

    count = page.locator(".ct-pool-count")
    expect(count).to_contain_text(f"{len(activated):,} senders match", timeout=45_000)

    page.locator("button.ct-channel-sms").click()
    expect(count).to_contain_text(f"{len(expected):,} senders match")
    expect(count).not_to_contain_text("SMS")

    page.locator(".ct-pool-name input").fill(POOL_NAME)
    page.locator(".ct-pool-tags input").fill("team=qa, source=browser")
    page.locator("button.ct-apply").click()
    message = page.locator(".ct-message")
    expect(message).to_contain_text(f"Created pool '{POOL_NAME}'", timeout=30_000)
    expect(message).to_contain_text(f"with {len(expected):,} senders")
    expect(page.locator(".ct-output .commstoolkit-pool-plan")).to_be_visible()
    assert page.get_by_text("Error displaying widget").count() == 0

    assert problems == []
    page.locator(".ct-pool-builder").screenshot(path=picture("poolbuilder"))

    with ct.connect(sandbox=True, db=db, quiet=True) as client:
        pools = ct.load_pools(client)
        created = pools[pools["name"] == POOL_NAME]
        assert len(pools) == pools_before + 1 and len(created) == 1
        members = ct.load_pool_members(client, created["pool_id"].iloc[0])
    assert set(members["sender_id"]) == set(expected["sender_id"])
    assert created["tags.team"].iloc[0] == "qa"
