"""``PoolBuilder``: pick senders with filters, preview the pool plan, apply it — in a notebook.

A thin view: ``select_senders`` picks, ``plan_pool`` plans, ``PoolPlan.apply`` applies.
The widget only turns control values into their arguments and shows what they return.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import ipywidgets as widgets
import pandas as pd

from ..errors import CommsError, NotFoundError
from ..frames import TAG_PREFIX, load_pool_members, load_pools, load_senders
from ..models import SENDER_CHANNELS, SENDER_STATUSES, SenderPool
from ..pools import PoolDeletedError, PoolPlan, plan_pool, select_senders
from ._capture import captured
from ._pool_inputs import (
    EXISTING_POOL,
    KEEP_MEMBERS,
    NEW_POOL,
    REPLACE_MEMBERS,
    filter_arguments,
    format_tags,
    planned_senders,
    tag_options,
    target_arguments,
)
from ._pool_views import (
    ERROR,
    INFO,
    OK,
    count_text,
    diff_text,
    error_text,
    message_html,
    namesake_text,
    outcome_text,
    plan_ready_text,
    pool_options,
    preview_html,
    removal_label,
)

__all__ = ["PoolBuilder"]

_LABEL = widgets.Layout(width="110px")
_ANY_TAG = ""
# Switched-on toggles read as "included" at a glance (ipywidgets marks them .mod-active).
_STYLE = (
    "<style>.ct-pool-builder .widget-toggle-button.mod-active"
    "{background:#1565c0;color:#fff}</style>"
)


def _label(text: str) -> widgets.Label:
    return widgets.Label(text, layout=_LABEL)


def _toggle(value: str, on: bool, kind: str) -> widgets.ToggleButton:
    button = widgets.ToggleButton(
        value=on, description=value, tooltip=f"Include {value} senders", layout={"width": "auto"}
    )
    button.add_class(f"ct-{kind}")
    button.add_class(f"ct-{kind}-{value.lower()}")
    return button


class PoolBuilder(widgets.VBox):
    """Assemble a sender pool with filters, preview the plan, apply it.

    ``PoolBuilder(client, senders=None)``: ``client`` from ``ct.connect()``; ``senders``
    is the senders frame to pick from (default: ``load_senders(client)``, loaded once).

    Controls (set ``.value`` in code, or click in the notebook): ``channel_buttons`` and
    ``status_buttons`` (dicts of ``ToggleButton``; the senders of the values switched on
    match; default every channel, ``ACTIVATED`` only), ``search_text``, ``tag_key`` /
    ``tag_values``, ``created_from`` / ``created_to`` (inclusive), ``target`` (``"new"`` or
    ``"existing"``), ``pool_name``, ``pool_tags`` (``key=value, ...``), ``pool_choice``
    (existing pools), ``members_mode`` (``"keep"``: current members stay, the matches are
    added; ``"replace"``: the pool becomes the matches), ``preview_button``,
    ``confirm_removal``, ``apply_button``.

    Safeguards: members are never removed unless the plan is on screen and
    ``confirm_removal`` ("Remove 43 members", unticked again by any change) is ticked —
    Apply without a preview only previews such a plan. A new pool whose name a pool already
    has becomes the plan of that pool (shown, not applied), never a second pool of the
    name. A pool deleted since the preview is said to be gone; Apply again does not retry.

    Latest values: ``filters`` (the ``select_senders`` arguments), ``selection`` (the
    matching senders), ``plan`` (``PoolPlan`` or None until previewed; reset by any
    change), ``result`` (the ``SenderPool`` last applied, or None).

    CSS classes for tests and styling: ``ct-pool-builder``, ``ct-channel-<sms…>``,
    ``ct-status-<activated…>``, ``ct-search``, ``ct-tag-key``, ``ct-tag-values``,
    ``ct-created-from``, ``ct-created-to``, ``ct-pool-count``, ``ct-preview``,
    ``ct-target``, ``ct-pool-name``, ``ct-pool-tags``, ``ct-pool-choice``,
    ``ct-members-mode``, ``ct-pool-diff``, ``ct-preview-plan``, ``ct-confirm-removal``,
    ``ct-apply``, ``ct-message``, ``ct-output``.
    """

    def __init__(self, client: Any, senders: pd.DataFrame | None = None, **kwargs: Any) -> None:
        self.client = client
        self.senders = load_senders(client) if senders is None else senders
        self.filters: dict[str, Any] = {}
        self.selection: pd.DataFrame = self.senders.iloc[0:0]
        self.plan: PoolPlan | None = None
        self.result: SenderPool | None = None
        self._tags = tag_options(self.senders)
        self._pools = pd.DataFrame({"pool_id": [], "name": []})
        self._applied: PoolPlan | None = None
        self._members: dict[str, frozenset[str]] = {}
        self._holding = False
        self._build_controls()
        super().__init__(children=self._layout(), **kwargs)
        self.add_class("ct-pool-builder")
        self._wire()
        self.update()
        self._load_pool_choices()

    # -- building -------------------------------------------------------------------------

    def _build_controls(self) -> None:
        self.channel_buttons = {c: _toggle(c, True, "channel") for c in SENDER_CHANNELS}
        self.status_buttons = {s: _toggle(s, s == "ACTIVATED", "status") for s in SENDER_STATUSES}
        self.search_text = widgets.Text(placeholder="address or name contains…")
        self.tag_key = widgets.Dropdown(
            options=[("(any tag)", _ANY_TAG), *((key, key) for key in self._tags)],
            value=_ANY_TAG,
        )
        self.tag_values = widgets.SelectMultiple(
            options=[], rows=3, disabled=True, layout={"width": "200px"}
        )
        self.created_from = widgets.DatePicker(description="from", layout={"width": "auto"})
        self.created_to = widgets.DatePicker(description="to", layout={"width": "auto"})
        self.count_label = widgets.Label()
        self.preview_table = widgets.HTML(
            layout={"max_height": "260px", "overflow": "auto", "width": "100%"}
        )
        self.target = widgets.ToggleButtons(
            options=[("New pool", NEW_POOL), ("Existing pool", EXISTING_POOL)], value=NEW_POOL
        )
        self.pool_name = widgets.Text(placeholder="name of the new pool")
        self.pool_tags = widgets.Text(placeholder="tags: team=ops, region=uk")
        self.pool_choice = widgets.Dropdown(options=[], value=None)
        self.members_mode = widgets.ToggleButtons(
            options=[
                ("Keep members, add matches", KEEP_MEMBERS),
                ("Replace with matches", REPLACE_MEMBERS),
            ],
            value=KEEP_MEMBERS,
        )
        self.diff_label = widgets.Label()
        self.preview_button = widgets.Button(description="Preview plan", icon="eye")
        self.confirm_removal = widgets.Checkbox(
            value=False, indent=False, layout={"width": "auto", "display": "none"}
        )
        self.apply_button = widgets.Button(
            description="Apply", icon="check", button_style="primary"
        )
        self.message = widgets.HTML()
        self.output = widgets.Output(layout={"overflow": "auto", "max_width": "100%"})
        for control, css in (
            (self.search_text, "ct-search"),
            (self.tag_key, "ct-tag-key"),
            (self.tag_values, "ct-tag-values"),
            (self.created_from, "ct-created-from"),
            (self.created_to, "ct-created-to"),
            (self.count_label, "ct-pool-count"),
            (self.preview_table, "ct-preview"),
            (self.target, "ct-target"),
            (self.pool_name, "ct-pool-name"),
            (self.pool_tags, "ct-pool-tags"),
            (self.pool_choice, "ct-pool-choice"),
            (self.members_mode, "ct-members-mode"),
            (self.diff_label, "ct-pool-diff"),
            (self.preview_button, "ct-preview-plan"),
            (self.confirm_removal, "ct-confirm-removal"),
            (self.apply_button, "ct-apply"),
            (self.message, "ct-message"),
            (self.output, "ct-output"),
        ):
            control.add_class(css)

    def _layout(self) -> list[widgets.Widget]:
        self._existing_row = widgets.HBox(
            [_label("Pool"), self.pool_choice, self.members_mode, self.diff_label]
        )
        return [
            widgets.HTML(f"{_STYLE}<b>Pick senders</b>"),
            widgets.HBox([_label("Channels"), *self.channel_buttons.values()]),
            widgets.HBox([_label("Statuses"), *self.status_buttons.values()]),
            widgets.HBox([_label("Search"), self.search_text]),
            widgets.HBox([_label("Tag"), self.tag_key, self.tag_values]),
            widgets.HBox([_label("Created"), self.created_from, self.created_to]),
            self.count_label,
            self.preview_table,
            widgets.HTML("<b>Target pool</b>"),
            widgets.HBox([_label("Target"), self.target]),
            widgets.HBox([_label("Name, tags"), self.pool_name, self.pool_tags]),
            self._existing_row,
            widgets.HBox([self.preview_button, self.confirm_removal, self.apply_button]),
            self.message,
            self.output,
        ]

    def _wire(self) -> None:
        controls = [
            *self.channel_buttons.values(),
            *self.status_buttons.values(),
            self.search_text,
            self.tag_values,
            self.created_from,
            self.created_to,
            self.pool_name,
            self.pool_tags,
            self.members_mode,
        ]
        for control in controls:
            control.observe(self.update, names="value")
        self.target.observe(self._on_target, names="value")
        self.pool_choice.observe(self._on_target, names="value")
        self.tag_key.observe(self._on_tag_key, names="value")
        self.preview_button.on_click(self.preview)
        self.apply_button.on_click(self.apply)

    # -- reacting ---------------------------------------------------------------------------

    def update(self, change: Any = None) -> None:
        """Recompute ``filters`` and ``selection``; refresh the count, preview and diff.

        Any change makes the previewed plan out of date: ``plan`` is reset.
        """
        if self._holding:
            return
        self.plan = None
        self._confirming(None)
        self.output.outputs = ()
        self.apply_button.disabled = False
        self._say("")
        existing = self.target.value == EXISTING_POOL
        self._existing_row.layout.display = "" if existing else "none"
        self.pool_name.placeholder = (
            "new name (blank: keep it)" if existing else "name of the new pool"
        )
        self.pool_tags.placeholder = (
            "tags: team=ops (blank: keep them)" if existing else "tags: team=ops, region=uk"
        )
        try:
            self.filters = filter_arguments(
                channels=[c for c, b in self.channel_buttons.items() if b.value],
                statuses=[s for s, b in self.status_buttons.items() if b.value],
                search=self.search_text.value,
                tag_key=self.tag_key.value,
                tag_values=self.tag_values.value,
                created_from=self.created_from.value,
                created_to=self.created_to.value,
            )
            self.selection = select_senders(self.senders, **self.filters)
            members = self._current_members() if existing else None
        except CommsError as err:
            self.selection = self.senders.iloc[0:0]
            self._say(error_text("select senders", err), ERROR)
            members = None
        self.count_label.value = count_text(self.selection)
        self.preview_table.value = preview_html(self.selection, members=members)
        self.diff_label.value = ""
        if members is not None:
            name = self._pool_settings(self.pool_choice.value)[0]
            self.diff_label.value = diff_text(name, members, self._planned(members))

    def _on_tag_key(self, change: Any) -> None:
        with self._hold():
            self.tag_values.options = self._tags.get(change["new"], [])
            self.tag_values.value = ()
            self.tag_values.disabled = change["new"] == _ANY_TAG
        self.update()

    def _on_target(self, change: Any) -> None:
        # Name and tags mean "the new pool's" or "the chosen pool's": refill them on a switch.
        name, tags = "", ""
        if self.target.value == EXISTING_POOL and self.pool_choice.value is not None:
            name, tags = self._pool_settings(self.pool_choice.value)
        with self._hold():
            self.pool_name.value = name
            self.pool_tags.value = tags
        self.update()

    def preview(self, button: Any = None) -> PoolPlan | None:
        """Plan the change for the current controls, show it; returns ``plan`` (None on error).

        A new pool whose name a pool already has is planned as a change of that pool
        instead (the target switches to it and the message says so).
        """
        self.output.outputs = ()
        self._confirming(None)
        try:
            target = target_arguments(
                self.target.value,
                self.pool_name.value,
                self.pool_tags.value,
                self.pool_choice.value,
            )
            members = self._current_members() if target["pool_id"] else None
            plan = plan_pool(self.client, self._planned(members), inventory=self.senders, **target)
        except NotFoundError as err:
            self.plan = None
            if self.target.value != EXISTING_POOL:
                self._say(error_text("plan the pool", err), ERROR)
                return None
            gone = self.pool_choice.value
            self._refresh_pools()
            self._say(
                f"Could not plan the pool: pool {gone} no longer exists (it was deleted since "
                "the Pool list was loaded). The list is refreshed: choose another pool.",
                ERROR,
            )
            return None
        except CommsError as err:
            self.plan = None
            self._say(error_text("plan the pool", err), ERROR)
            return None
        if plan.is_new and plan.namesakes:
            return self._plan_for_namesake(plan)
        self.plan = plan
        self._confirming(plan)
        self.output.outputs = (
            {
                "output_type": "display_data",
                "data": {"text/html": self.plan._repr_html_(), "text/plain": str(self.plan)},
                "metadata": {},
            },
        )
        self._say(plan_ready_text(self.plan), INFO)
        return self.plan

    def apply(self, button: Any = None) -> SenderPool | None:
        """Apply the previewed plan (planning first if needed) with a progress bar.

        Shows the outcome, or the error, as a sentence; returns ``result`` (None on error
        or when nothing was applied). A plan that removes members is applied only once it
        is on screen and ``confirm_removal`` is ticked; a plan made here that switched to
        an existing pool of the same name is shown, not applied.
        """
        if self.plan is not None and self.plan is self._applied:
            self._say("This plan is applied already; change a filter or the target to plan again.")
            return self.result
        plan, target = self.plan, self.target.value
        if plan is None:
            plan = self.preview()
            if plan is None or self.target.value != target:
                return None  # an error, or now the plan of another pool: shown, to be read
        if len(plan.to_remove) and not self.confirm_removal.value:
            self._say(
                f"Nothing was applied: this plan removes {len(plan.to_remove):,} of the pool's "
                f'members. Read the plan below, tick "{removal_label(len(plan.to_remove))}" '
                "to confirm, then click Apply.",
                ERROR,
            )
            return None
        self._say("Applying…", INFO)
        self.apply_button.disabled = self.preview_button.disabled = True
        try:
            with captured(self.output):  # the progress bar, and errors reach the except
                pool = plan.apply(progress=True)
        except PoolDeletedError as err:
            # The pool is gone: retrying cannot help; list the pools again and plan afresh.
            self.result = None
            self._refresh_pools()
            self._say(error_text("apply the plan", err), ERROR)
            return None
        except CommsError as err:
            self.result = None
            self.apply_button.disabled = False
            self._say(error_text("apply the plan", err), ERROR)
            return None
        finally:
            self.preview_button.disabled = False
        self.result = pool
        self._applied = plan
        self._members.clear()
        self._load_pool_choices()
        self._say(outcome_text(plan, pool), OK)
        return pool

    # -- helpers ----------------------------------------------------------------------------

    def _plan_for_namesake(self, plan: PoolPlan) -> PoolPlan | None:
        """The new pool's name is taken: plan the change of that pool instead, and say so."""
        pool_id = plan.namesakes[0]
        if pool_id not in self._pools.index:
            self._load_pool_choices()  # made elsewhere since the list was loaded
        if pool_id not in self._pools.index:
            self.plan = None
            self._say(
                f"Not planned: a pool named {plan.name!r} already exists ({pool_id}), but the "
                "Pool list could not show it; click Preview plan again.",
                ERROR,
            )
            return None
        tags_text = self.pool_tags.value
        with self._hold():
            self.target.value = EXISTING_POOL
            self.pool_choice.value = pool_id
            if tags_text.strip():  # the tags typed for the new pool: set them on this one
                self.pool_tags.value = tags_text
        self.update()
        switched = self.preview()
        if switched is not None:
            reason = namesake_text(str(plan.name), plan.namesakes, pool_id)
            self._say(f"{reason} {plan_ready_text(switched)}", INFO)
        return switched

    def _refresh_pools(self) -> None:
        """List the pools again (one was deleted meanwhile) and refresh the view."""
        self._members.clear()
        self._load_pool_choices()
        self.update()

    def _confirming(self, plan: PoolPlan | None) -> None:
        """Untick the removal box; show it, with the count, when ``plan`` removes members."""
        removed = 0 if plan is None else len(plan.to_remove)
        self.confirm_removal.value = False
        self.confirm_removal.description = removal_label(removed) if removed else ""
        self.confirm_removal.layout.display = "" if removed else "none"

    def _planned(self, members: frozenset[str] | None) -> list[str]:
        return planned_senders(self.selection["sender_id"], members, self.members_mode.value)

    def _current_members(self) -> frozenset[str] | None:
        pool_id = self.pool_choice.value
        if pool_id is None:
            return None
        if pool_id not in self._members:
            frame = load_pool_members(self.client, pool_id)
            self._members[pool_id] = frozenset(frame["sender_id"])
        return self._members[pool_id]

    def _load_pool_choices(self) -> None:
        try:
            pools = load_pools(self.client).sort_values("name", kind="stable")
        except CommsError as err:
            self._say(error_text("list the pools", err), ERROR)
            return
        self._pools = pools.set_index("pool_id", drop=False)
        with self._hold():
            chosen = self.pool_choice.value
            self.pool_choice.options = pool_options(pools)
            self.pool_choice.value = chosen if chosen in self._pools.index else None

    def _pool_settings(self, pool_id: str) -> tuple[str, str]:
        """The name and the tags text (``key=value, ...``) of a listed pool."""
        row = self._pools.loc[pool_id]
        tags = {
            column.removeprefix(TAG_PREFIX): str(row[column])
            for column in self._pools.columns
            if column.startswith(TAG_PREFIX) and pd.notna(row[column])
        }
        return str(row["name"]), format_tags(tags)

    @contextmanager
    def _hold(self) -> Iterator[None]:
        """Set several controls without an ``update()`` after each one."""
        holding, self._holding = self._holding, True
        try:
            yield
        finally:
            self._holding = holding

    def _say(self, text: str, color: str = INFO) -> None:
        self.message.value = message_html(text, color)
