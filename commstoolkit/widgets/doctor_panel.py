"""``DoctorPanel``: a diagnosis's findings with a checkbox each, the plan of the ticked ones,
and Apply — enabled only while that plan is on screen.

A thin view: ``Diagnosis.plan(accept=...)`` plans, ``PoolPlan.apply`` applies. The panel
turns the ticked boxes into ``accept`` and shows what comes back.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

from ..doctor import Diagnosis, DoctorFinding
from ..errors import CommsError
from ..models import SenderPool
from ..pools import PoolPlan
from ._capture import captured
from ._pool_views import ERROR, INFO, OK, error_text, message_html

__all__ = ["DoctorPanel"]


def _finding_html(finding: DoctorFinding) -> str:
    text = html.escape(finding.text.replace("**", "").replace("`", ""))
    changes = "".join(
        f"<li>{html.escape(c.describe())}: {html.escape(c.reason)}</li>" for c in finding.changes
    )
    return f"<div>{text}</div>" + (f"<ul>{changes}</ul>" if changes else "")


class DoctorPanel(widgets.VBox):
    """The findings of a ``Diagnosis`` (``ct.diagnose``), the plan of the ticked ones, Apply.

    ``DoctorPanel(diagnosis)``. Each finding that proposes a change has a checkbox
    (``checkboxes``: finding index -> ``Checkbox``, all ticked at first); the others are
    listed below them. ``plan_button`` plans the ticked findings
    (``diagnosis.plan(accept=[...])``) and shows the plan, each change with its reason;
    ``apply_button`` is enabled only while that plan is on screen — ticking or unticking a
    box takes the plan away and disables it again. Against the live API Apply also needs
    ``confirm_live`` ticked.

    Latest values: ``plan`` (the ``PoolPlan`` on screen, or None), ``result`` (the
    ``SenderPool`` last applied, or None). CSS classes: ``ct-doctor-panel``,
    ``ct-doctor-finding``, ``ct-doctor-plan``, ``ct-doctor-apply``, ``ct-message``.
    """

    def __init__(self, diagnosis: Diagnosis, **kwargs: Any) -> None:
        self.diagnosis = diagnosis
        self.plan: PoolPlan | None = None
        self.result: SenderPool | None = None
        self._applied: PoolPlan | None = None
        self.header = widgets.HTML(f"<strong>{html.escape(diagnosis.headline())}</strong>")
        self.checkboxes: dict[int, widgets.Checkbox] = {}
        rows: list[widgets.Widget] = []
        told: list[str] = []
        labels = {f.index: f"[{f.index}] {f.severity} · {f.kind}" for f in diagnosis.findings}
        # Each box's label shows whole (a fixed 240px cut "[7] medium · deactivated_mem…"
        # with an ellipsis in the browser): as wide as the panel's longest label, so the
        # findings' texts line up, and wider when its font needs it, never shrunk.
        longest = max((len(labels[f.index]) for f in diagnosis.findings if f.changes), default=0)
        for finding in diagnosis.findings:
            label = labels[finding.index]
            if not finding.changes:
                told.append(f"<li><b>{html.escape(label)}</b> {_finding_html(finding)}</li>")
                continue
            box = widgets.Checkbox(
                value=True,
                description=label,
                indent=False,
                layout={
                    "width": "max-content",
                    "min_width": f"{longest + 4}ch",
                    "flex": "0 0 auto",
                },
            )
            box.add_class("ct-doctor-finding")
            self.checkboxes[finding.index] = box
            rows.append(widgets.HBox([box, widgets.HTML(_finding_html(finding))]))
        self.told = widgets.HTML(
            f"<details><summary>{len(told)} finding{'s' if len(told) != 1 else ''} without a "
            f"change</summary><ul>{''.join(told)}</ul></details>"
            if told
            else ""
        )
        self.plan_button = widgets.Button(description="Plan", icon="list")
        self.plan_button.add_class("ct-doctor-plan")
        self.apply_button = widgets.Button(
            description="Apply", button_style="danger", icon="check", disabled=True
        )
        self.apply_button.add_class("ct-doctor-apply")
        live = bool(getattr(diagnosis.client, "live", False))
        self.confirm_live = widgets.Checkbox(
            value=False,
            description="Apply to the live account",
            indent=False,
            layout={"display": "" if live else "none"},
        )
        self.message = widgets.HTML()
        self.message.add_class("ct-message")
        self.output = widgets.Output()
        super().__init__(
            children=[
                self.header,
                *rows,
                self.told,
                widgets.HBox([self.plan_button, self.apply_button, self.confirm_live]),
                self.message,
                self.output,
            ],
            **kwargs,
        )
        self.add_class("ct-doctor-panel")
        for box in self.checkboxes.values():
            box.observe(self._changed, names="value")
        self.confirm_live.observe(self._changed_confirm, names="value")
        self.plan_button.on_click(self.make_plan)
        self.apply_button.on_click(self.apply)
        if not self.checkboxes:
            self.plan_button.disabled = True
            self._say("No finding proposes a change: nothing to plan.", INFO)

    @property
    def accepted(self) -> list[int]:
        """The indices of the ticked findings."""
        return [index for index, box in self.checkboxes.items() if box.value]

    def make_plan(self, button: Any = None) -> PoolPlan | None:
        """Plan the ticked findings and show the plan; returns ``plan`` (None on error)."""
        self._clear()
        try:
            plan = self.diagnosis.plan(accept=self.accepted)
        except CommsError as err:
            self._say(error_text("plan the changes", err), ERROR)
            return None
        self.plan = plan
        self.output.outputs = (
            {
                "output_type": "display_data",
                "data": {"text/html": plan._repr_html_(), "text/plain": str(plan)},
                "metadata": {},
            },
        )
        changes = len(plan.to_add) + len(plan.to_remove)
        if changes:
            self._say(
                f"The plan is below: {len(plan.to_remove):,} to remove, {len(plan.to_add):,} "
                "to add, each with its reason. Read it, then click Apply.",
                INFO,
            )
        else:
            self._say("The plan changes nothing: the pool already matches it.", INFO)
        self._enable_apply()
        return plan

    def apply(self, button: Any = None) -> SenderPool | None:
        """Apply the plan on screen with a progress bar; returns ``result`` (None when
        nothing was applied: no plan on screen, an unconfirmed live change, or an error)."""
        plan = self.plan
        if plan is None or plan is self._applied:
            self._say("Click Plan first: only the plan on screen is applied.", ERROR)
            return None
        if self.confirm_live.layout.display != "none" and not self.confirm_live.value:
            self._say("This changes the live account: tick the confirmation first.", ERROR)
            return None
        self.apply_button.disabled = self.plan_button.disabled = True
        self._say("Applying…", INFO)
        try:
            with captured(self.output):
                pool = plan.apply(progress=True)
        except CommsError as err:
            self._say(error_text("apply the plan", err), ERROR)
            self._enable_apply()
            return None
        finally:
            self.plan_button.disabled = False
        self.result = pool
        self._applied = plan
        self._say(
            f"Applied to pool {pool.name!r} ({pool.id}): {len(plan.to_remove):,} removed, "
            f"{len(plan.to_add):,} added. Diagnose again to see the pool as it is now.",
            OK,
        )
        return pool

    def _changed(self, change: Any = None) -> None:
        self._clear()
        self._say("The ticked findings changed: click Plan to see the new plan.", INFO)

    def _changed_confirm(self, change: Any = None) -> None:
        self._enable_apply()

    def _clear(self) -> None:
        self.plan = None
        self.apply_button.disabled = True
        self.output.outputs = ()

    def _enable_apply(self) -> None:
        plan = self.plan
        self.apply_button.disabled = (
            plan is None or plan is self._applied or not (len(plan.to_add) or len(plan.to_remove))
        )

    def _say(self, text: str, kind: str = INFO) -> None:
        self.message.value = message_html(text, kind)
