"""DoctorPanel: the findings with checkboxes, the plan of the ticked ones on screen, and
Apply enabled only while that plan is shown (never rendered: values set, buttons clicked)."""

from __future__ import annotations

import re

import ipywidgets as widgets

import commstoolkit as ct
from commstoolkit.doctor import Diagnosis, DoctorFinding, ProposedChange
from commstoolkit.widgets import DoctorPanel


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html).replace("&#x27;", "'").replace("&quot;", '"')


def _shown(panel) -> str:
    return "".join(out.get("data", {}).get("text/html", "") for out in panel.output.outputs)


def _members(client, pool_id: str) -> set[str]:
    return set(ct.load_pool_members(client, pool_id)["sender_id"])


def test_plan_then_apply_the_ticked_findings(instant_client):
    diagnosis = ct.diagnose(instant_client, "Customer Support - NAMER")
    panel = DoctorPanel(diagnosis)
    proposing = [f for f in diagnosis.findings if f.changes]
    assert set(panel.checkboxes) == {f.index for f in proposing}
    assert all(box.value for box in panel.checkboxes.values())
    assert "shared_senders" in panel.told.value  # told, without a box
    assert panel.apply_button.disabled  # nothing on screen yet

    kept = proposing[0]
    for index, box in panel.checkboxes.items():
        box.value = index == kept.index
    panel.plan_button.click()

    plan = panel.plan
    assert plan is not None and not panel.apply_button.disabled
    removed = {c.sender_id for c in kept.changes if c.action == "remove"}
    assert set(plan.to_remove["sender_id"]) == removed
    shown = _shown(panel)
    assert "commstoolkit-pool-plan" in shown and "Why:" in shown
    for sender in removed:
        assert sender in shown

    panel.apply_button.click()
    assert panel.result is not None and panel.result.id == diagnosis.pool.id
    assert _members(instant_client, diagnosis.pool.id) == plan.target_ids
    assert "Applied to pool" in _text(panel.message.value)
    assert panel.apply_button.disabled  # applied: not twice


def test_any_change_of_the_ticks_takes_the_plan_away(instant_client):
    diagnosis = ct.diagnose(instant_client, "Customer Support - NAMER")
    panel = DoctorPanel(diagnosis)
    before = _members(instant_client, diagnosis.pool.id)
    panel.plan_button.click()
    assert not panel.apply_button.disabled
    next(iter(panel.checkboxes.values())).value = False
    assert panel.plan is None and panel.apply_button.disabled and panel.output.outputs == ()
    assert "click Plan" in _text(panel.message.value)
    assert panel.apply() is None  # a click without the plan on screen applies nothing
    assert _members(instant_client, diagnosis.pool.id) == before


def test_nothing_ticked_plans_nothing_and_apply_stays_off(instant_client):
    diagnosis = ct.diagnose(instant_client, "Customer Support - NAMER")
    panel = DoctorPanel(diagnosis)
    for box in panel.checkboxes.values():
        box.value = False
    panel.plan_button.click()
    assert panel.plan is not None and panel.plan.to_remove.empty and panel.plan.to_add.empty
    assert panel.apply_button.disabled
    assert "changes nothing" in _text(panel.message.value)


def test_live_mode_needs_the_confirmation(instant_client):
    diagnosis = ct.diagnose(instant_client, "Customer Support - NAMER")
    instant_client.live = True  # as if against Twilio: the panel asks before applying
    try:
        panel = DoctorPanel(diagnosis)
        assert panel.confirm_live.layout.display == ""
        before = _members(instant_client, diagnosis.pool.id)
        panel.plan_button.click()
        assert panel.apply() is None
        assert "live account" in _text(panel.message.value)
        assert _members(instant_client, diagnosis.pool.id) == before
        panel.confirm_live.value = True
        assert panel.apply() is not None
    finally:
        instant_client.live = False


def test_the_findings_are_escaped(instant_client):
    diagnosis = ct.diagnose(instant_client, "Customer Support - NAMER")
    hostile = Diagnosis(
        instant_client,
        diagnosis.pool,
        diagnosis.members,
        [
            DoctorFinding("same_name", "medium", {}, "**<img src=x onerror=alert(1)>**", index=0),
            DoctorFinding(
                "deactivated_member",
                "medium",
                {},
                "<script>x</script>",
                changes=(ProposedChange("remove", "comms_sender_x", "<a>", "SMS", "<b>"),),
                index=1,
            ),
        ],
    )
    panel = DoctorPanel(hostile)
    html = panel.told.value + "".join(
        row.children[1].value
        for row in panel.children
        if isinstance(row, widgets.HBox)
        and len(row.children) == 2
        and isinstance(row.children[1], widgets.HTML)
    )
    assert "&lt;img src=x" in html and "&lt;script&gt;" in html and "&lt;a&gt;" in html
    assert "<img" not in html and "<script" not in html and "<a>" not in html


def test_each_box_label_shows_whole_and_the_texts_line_up(instant_client):
    # A fixed 240px box cut "[7] medium · deactivated_member" to "deactivated_mem…" in the
    # browser (tests/browser/test_doctor_panel_browser.py measures it): each box is as wide
    # as its label needs, at least as wide as the longest label's characters, never shrunk.
    diagnosis = ct.diagnose(instant_client, "Customer Support - NAMER")
    panel = DoctorPanel(diagnosis)
    longest = max(len(box.description) for box in panel.checkboxes.values())
    assert any("medium · deactivated_member" in b.description for b in panel.checkboxes.values())
    for index, box in panel.checkboxes.items():
        finding = diagnosis.findings[index]
        assert box.description == f"[{index}] {finding.severity} · {finding.kind}"
        assert box.layout.width == "max-content" and box.layout.flex == "0 0 auto"
        assert box.layout.min_width == f"{longest + 4}ch"
