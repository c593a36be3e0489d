"""DoctorPanel in a real browser: Voila serves a notebook that diagnoses the pool holding the
sandbox history's planted degrading sender; Chromium reads the findings, unticks and ticks
them, clicks Plan and Apply; the sandbox file then holds exactly the planned pool.

The expected strings come from the same seeded file in the test process: the findings'
texts from ``ct.diagnose`` there, and the degrading sender's numbers (delivered of rated
before and since the planted fall) counted again from the raw traffic frame.
"""

from __future__ import annotations

import pandas as pd
import pytest

import commstoolkit as ct

from ._notebooks import widget_notebook

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

# An account large enough that each removed sender has a replacement (the doctor history
# tests' size), with a planted sender whose delivery falls half way through the window.
SEED, SENDERS, DAYS, DAILY = 7, 1000, 4, 5000
RECENT = "2D"
RATED = ("DELIVERED", "READ", "UNDELIVERED", "FAILED")
GOOD = ("DELIVERED", "READ")

SHOW = f"""faults = client.sandbox.history_faults()
traffic = ct.load_traffic(client, faults["start"], faults["end"], progress=False)
diagnosis = ct.diagnose(client, faults["degrading"]["senderPoolId"], traffic, recent={RECENT!r})
DoctorPanel(diagnosis)"""


def _plain(text: str) -> str:
    """A finding's markdown text as the panel shows it (bold and code marks dropped)."""
    return text.replace("**", "").replace("`", "")


def _fall(traffic: pd.DataFrame, sender: str, pool: str, since: pd.Timestamp) -> list[str]:
    """The sender's delivery in the pool before and since ``since``, as the doctor writes it
    ('89.4% (76 of 85'), counted from the raw frame."""
    rated = traffic[
        (traffic["sender_id"] == sender)
        & (traffic["pool_id"] == pool)
        & traffic["status"].isin(RATED)
    ]
    parts = []
    for part in (rated[rated["created_at"] < since], rated[rated["created_at"] >= since]):
        good, total = int(part["status"].isin(GOOD).sum()), len(part)
        parts.append(f"{good / total:.1%} ({good:,} of {total:,}")
    return parts


def test_doctor_panel_plans_and_applies_the_ticked_findings(
    voila, page, problems, tmp_path, artifacts
):
    from playwright.sync_api import expect

    db = tmp_path / "sandbox.sqlite3"
    with ct.connect(  # seeds the shared file, history included
        sandbox=True,
        db=db,
        seed=SEED,
        senders=SENDERS,
        traffic_days=DAYS,
        daily_messages=DAILY,
        quiet=True,
    ) as client:
        faults = client.sandbox.history_faults()
        degrading, pool_id = faults["degrading"]["senderId"], faults["degrading"]["senderPoolId"]
        traffic = ct.load_traffic(client, faults["start"], faults["end"], progress=False)
        diagnosis = ct.diagnose(client, pool_id, traffic, recent=RECENT)
        before = set(ct.load_pool_members(client, pool_id)["sender_id"])
        senders = ct.load_senders(client).set_index("sender_id")
    since = pd.Timestamp(faults["degrading"]["since"])
    was, now = _fall(traffic, degrading, pool_id, since)
    drift = [f for f in diagnosis.of("drift") if f.subject["sender_id"] == degrading]
    assert len(drift) == 1, str(diagnosis)
    drift_finding = drift[0]
    assert f"fell from {was}; 95% CI" in drift_finding.text
    assert f" to {now}; 95% CI" in drift_finding.text
    fall = f"delivery fell from {was}) to {now})"  # the removal's reason
    assert any(fall in c.reason for c in drift_finding.changes if c.action == "remove")
    proposing = [f for f in diagnosis.findings if f.changes]
    told = [f for f in diagnosis.findings if not f.changes]
    # Kept ticked: the drift and one deactivated member, each with its replacement.
    replaced = [
        f for f in diagnosis.of("deactivated_member") if any(c.action == "add" for c in f.changes)
    ]
    assert replaced and any(c.action == "add" for c in drift_finding.changes), str(diagnosis)
    kept = [drift_finding, replaced[0]]
    changes = [(f, c) for f in kept for c in f.changes]
    removed = {c.sender_id for _, c in changes if c.action == "remove"}
    added = {c.sender_id for _, c in changes if c.action == "add"}
    assert removed == {degrading, replaced[0].subject["sender_id"]} and len(added) == 2
    for sender in added:  # the replacements are sound ones from the account
        assert sender not in before and senders.at[sender, "status"] == "ACTIVATED"
    why = sorted(
        f"{'+' if c.action == 'add' else '-'} {senders.at[c.sender_id, 'address']} "
        f"({senders.at[c.sender_id, 'channel']}, {c.sender_id}): "
        f"{c.reason} (finding {f.index}, {f.kind})"
        for f, c in changes
    )

    server = voila(widget_notebook(tmp_path, db, "DoctorPanel", show=SHOW))
    page.goto(server.url, wait_until="domcontentloaded")

    panel = page.locator(".ct-doctor-panel")
    expect(panel).to_be_visible(timeout=60_000)
    expect(panel).to_contain_text(diagnosis.headline())
    boxes = page.locator(".ct-doctor-finding")
    expect(boxes).to_have_count(len(proposing))
    # Each box's label shows whole: no "[7] medium · deactivated_mem…" cut by an ellipsis.
    cut = boxes.evaluate_all(
        """boxes => boxes.flatMap(box => [...box.querySelectorAll('label, span')]
            .filter(el => el.scrollWidth > el.clientWidth + 1).map(el => el.textContent))"""
    )
    assert cut == []
    apply, plan = page.locator("button.ct-doctor-apply"), page.locator("button.ct-doctor-plan")
    expect(apply).to_be_disabled()
    expect(plan).to_be_enabled()
    for i, finding in enumerate(proposing):
        box = boxes.nth(i)
        expect(box).to_contain_text(f"[{finding.index}] {finding.severity} · {finding.kind}")
        expect(box.locator("input[type=checkbox]")).to_be_checked()
        row = box.locator("xpath=..")  # the finding's row: its box, its text, its changes
        expect(row).to_contain_text(_plain(finding.text))
        for change in finding.changes:
            expect(row).to_contain_text(f"{change.describe()}: {change.reason}")
    details = panel.locator("details").first
    expect(details).to_contain_text(f"{len(told)} findings without a change")
    details.locator("summary").click()
    for finding in told:
        expect(details).to_contain_text(_plain(finding.text))

    position = {f.index: i for i, f in enumerate(proposing)}
    for finding in proposing:
        if finding not in kept:
            boxes.nth(position[finding.index]).locator("input").uncheck()
    message = page.locator(".ct-doctor-panel .ct-message")
    expect(message).to_contain_text("The ticked findings changed: click Plan")
    plan.click()
    expect(message).to_contain_text("The plan is below: 2 to remove, 2 to add", timeout=30_000)
    expect(apply).to_be_enabled()
    shown = page.locator(".ct-doctor-panel .commstoolkit-pool-plan")
    expect(shown).to_be_visible()
    reasons = shown.locator("p:text-is('Why:') + ul > li")
    expect(reasons).to_have_count(len(why))
    assert sorted(reasons.all_inner_texts()) == why
    expect(shown.get_by_text(fall).first).to_be_visible()

    # Unticking the drift takes the plan away; ticking it back needs Plan again.
    drift_box = boxes.nth(position[drift_finding.index]).locator("input")
    drift_box.uncheck()
    expect(apply).to_be_disabled()
    expect(shown).to_have_count(0)
    drift_box.check()
    expect(message).to_contain_text("click Plan")
    expect(apply).to_be_disabled()
    plan.click()
    expect(apply).to_be_enabled(timeout=30_000)
    expect(reasons).to_have_count(len(why))
    assert sorted(reasons.all_inner_texts()) == why
    assert page.get_by_text("Error displaying widget").count() == 0

    apply.click()
    expect(message).to_contain_text(
        f"Applied to pool '{diagnosis.pool.name}' ({pool_id}): 2 removed, 2 added.",
        timeout=30_000,
    )
    expect(apply).to_be_disabled()
    expect(plan).to_be_enabled()
    assert page.get_by_text("Traceback").count() == 0
    assert problems == []
    # The panel is taller than the window: a window taller than it draws all of it.
    height = int(panel.evaluate("el => el.getBoundingClientRect().height"))
    page.set_viewport_size({"width": 1280, "height": height + 400})
    panel.scroll_into_view_if_needed()
    panel.screenshot(path=str(artifacts / "doctorpanel.png"))

    # Planning again after Apply finds the pool already as planned: nothing to apply twice.
    plan.click()
    expect(message).to_contain_text("The plan changes nothing: the pool already matches it.")
    expect(apply).to_be_disabled()
    assert problems == []

    with ct.connect(sandbox=True, db=db, quiet=True) as client:
        after = set(ct.load_pool_members(client, pool_id)["sender_id"])
    assert after == (before - removed) | added
