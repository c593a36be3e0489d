"""``TestSendPanel``: a guarded test send through a pool, from a notebook.

A thin view over ``test_send``: the panel turns its controls into ``test_send``'s
arguments, shows the dry run's routes, or sends, follows the send with a progress bar,
and shows the ``TestSend``'s summary and the send charts. Every refusal and error is
shown inside the panel as sentences.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import ipywidgets as widgets
import pandas as pd

from ..errors import CommsError, InvalidInputError, OperationTimeoutError
from ..events import EventReceiver
from ..frames import load_pools
from ..models import MESSAGE_ADDRESS_CHANNELS, MESSAGE_CHANNELS
from ..testsend import SendIncompleteError, TestSend, test_send
from ..testsend.api import TEXT_MAX
from ._capture import captured
from ._pool_views import ERROR, INFO, OK, error_text, message_html, pool_options
from ._segments import sms_segments
from ._send_inputs import RecipientCheck, check_recipients, sender_channels
from ._send_views import (
    confirm_label,
    dry_run_text,
    follow_error_text,
    mode_html,
    recipients_html,
    result_outputs,
    routes_html,
    segments_text,
    send_error_text,
    send_outcome_text,
)
from .live_send import LiveSendView

__all__ = ["TestSendPanel"]

logger = logging.getLogger(__name__)

DEFAULT_TEXT = "Hello from commstoolkit: this is a test message."
_LABEL = widgets.Layout(width="110px")
_STYLE = (
    "<style>.ct-test-send-panel .widget-toggle-button.mod-active"
    "{background:#1565c0;color:#fff}</style>"
)


def _label(text: str) -> widgets.Label:
    return widgets.Label(text, layout=_LABEL)


def _channel_toggle(channel: str) -> widgets.ToggleButton:
    button = widgets.ToggleButton(
        value=True,
        description=channel,
        tooltip=f"Let the pool's {channel} senders take messages",
        layout={"width": "auto"},
    )
    button.add_class("ct-filter")
    button.add_class(f"ct-filter-{channel.lower()}")
    return button


class TestSendPanel(widgets.VBox):
    """Dry-run or send a test message through a sender pool, and chart what happened.

    ``TestSendPanel(client, *, allow=None, max_recipients=None, allow_unroutable=False,
    timeout=300.0, events=None)``: ``client`` from ``ct.connect()``; ``allow``,
    ``max_recipients`` (also applied to the dry run) and ``allow_unroutable`` are passed to
    ``test_send`` (the live allow-list, a hard cap, and sending to recipients no sender of
    the pool can reach, which is refused otherwise); ``timeout``: how long Send follows
    the messages; ``events``: an ``EventReceiver`` subscribed to the account's events
    (``ct.events.subscribe``): each Send is then charted live, as its events arrive, in
    ``live_view`` (a ``LiveSendView``, CSS class ``ct-live-send``).

    Controls (set ``.value`` in code, or type and click in the notebook): ``pool``
    (dropdown of ``load_pools``, ``name (N senders)``; ``refresh_button`` reloads it),
    ``recipients`` (one per line or comma separated; checked as you type with the same
    rules as ``test_send``), ``channel`` (PHONE or WHATSAPP), ``channel_buttons`` (dict
    of ``ToggleButton``: the pool's sender channels allowed; all on = no filter),
    ``text`` (with its character and SMS segment count), ``confirm`` (live only: Send
    stays disabled until it is ticked; unticked again by each send and by any change of
    pool or recipients), ``dry_run_button``, ``send_button``. What the buttons call:
    ``dry_run()`` (returns ``routes``), ``send_test()`` (returns ``result``),
    ``load_pools()``.

    Latest values: ``check`` (``RecipientCheck`` of the recipients box), ``routes``
    (the last dry run's routes frame, as ``TestSend.routes``; None until a dry run),
    ``result`` (the ``TestSend`` of the last Send, or None).

    CSS classes: ``ct-test-send-panel``, ``ct-mode``, ``ct-send-pool``,
    ``ct-refresh-pools``, ``ct-recipients``, ``ct-recipient-issues``,
    ``ct-send-channel``, ``ct-filter`` (and ``ct-filter-sms|rcs|whatsapp``), ``ct-text``,
    ``ct-text-count``, ``ct-confirm``, ``ct-dry-run``, ``ct-send``,
    ``ct-send-message``, ``ct-send-progress``, ``ct-routes``, ``ct-send-output``.
    """

    __test__ = False  # not a pytest test class, whatever its name

    def __init__(
        self,
        client: Any,
        *,
        allow: str | Iterable[str] | None = None,
        max_recipients: int | None = None,
        allow_unroutable: bool = False,
        timeout: float = 300.0,
        events: EventReceiver | None = None,
        **kwargs: Any,
    ) -> None:
        self.client = client
        self.events = events
        # The live chart of each send, fed by the receiver (ct.events.subscribe feeds it).
        self.live_view = LiveSendView(events) if events is not None else None
        self.allow = allow
        self.max_recipients = max_recipients
        self.allow_unroutable = allow_unroutable
        self.timeout = timeout
        self.check = RecipientCheck()
        self.routes: pd.DataFrame | None = None
        self.result: TestSend | None = None
        self._pool_names: dict[str, str] = {}
        self._busy = False
        self._said = ("", INFO)
        self._build_controls()
        super().__init__(children=self._layout(), **kwargs)
        self.add_class("ct-test-send-panel")
        self._wire()
        self.load_pools()
        self._on_recipients()
        self._on_text()
        self._update_buttons()

    @property
    def live(self) -> bool:
        """True when the client talks to the real API (Send costs money)."""
        return bool(getattr(self.client, "live", False))

    # -- building -------------------------------------------------------------------------

    def _build_controls(self) -> None:
        self.mode_banner = widgets.HTML(mode_html(self.live))
        self.pool = widgets.Dropdown(options=[], value=None, layout={"width": "360px"})
        self.refresh_button = widgets.Button(
            icon="refresh", tooltip="Reload the pools", layout={"width": "40px"}
        )
        self.recipients = widgets.Textarea(
            placeholder="+14155550100\n+447911123456  (one per line, or comma separated)",
            rows=4,
            continuous_update=True,
            layout={"width": "360px"},
        )
        self.recipient_issues = widgets.HTML()
        self.channel = widgets.ToggleButtons(
            options=list(MESSAGE_ADDRESS_CHANNELS), value="PHONE", style={"button_width": "110px"}
        )
        self.channel_buttons = {c: _channel_toggle(c) for c in MESSAGE_CHANNELS}
        self.text = widgets.Textarea(
            value=DEFAULT_TEXT, rows=3, continuous_update=True, layout={"width": "360px"}
        )
        self.text_count = widgets.Label()
        self.confirm = widgets.Checkbox(
            value=False, indent=False, description=confirm_label(0), layout={"width": "auto"}
        )
        self.dry_run_button = widgets.Button(description="Dry run", icon="eye")
        self.send_button = widgets.Button(
            description="Send", icon="paper-plane", button_style="danger" if self.live else ""
        )
        self.message = widgets.HTML()
        self.routes_view = widgets.HTML(
            layout={"max_height": "320px", "overflow": "auto", "width": "100%"}
        )
        self.progress = widgets.Output()
        self.output = widgets.Output(layout={"overflow": "auto", "max_width": "100%"})
        for control, css in (
            (self.mode_banner, "ct-mode"),
            (self.pool, "ct-send-pool"),
            (self.refresh_button, "ct-refresh-pools"),
            (self.recipients, "ct-recipients"),
            (self.recipient_issues, "ct-recipient-issues"),
            (self.channel, "ct-send-channel"),
            (self.text, "ct-text"),
            (self.text_count, "ct-text-count"),
            (self.confirm, "ct-confirm"),
            (self.dry_run_button, "ct-dry-run"),
            (self.send_button, "ct-send"),
            (self.message, "ct-send-message"),
            (self.progress, "ct-send-progress"),
            (self.routes_view, "ct-routes"),
            (self.output, "ct-send-output"),
        ):
            control.add_class(css)

    def _layout(self) -> list[widgets.Widget]:
        confirm_row = widgets.HBox([_label(""), self.confirm])
        confirm_row.layout.display = "" if self.live else "none"
        return [
            widgets.HTML(f"{_STYLE}<b>Test send</b>"),
            self.mode_banner,
            widgets.HBox([_label("Pool"), self.pool, self.refresh_button]),
            widgets.HBox([_label("Recipients"), self.recipients, self.recipient_issues]),
            widgets.HBox([_label("Recipients on"), self.channel]),
            widgets.HBox([_label("Senders on"), *self.channel_buttons.values()]),
            widgets.HBox([_label("Message"), self.text]),
            widgets.HBox([_label(""), self.text_count]),
            confirm_row,
            widgets.HBox([_label(""), self.dry_run_button, self.send_button]),
            self.message,
            self.progress,
            *([self.live_view] if self.live_view is not None else []),
            self.routes_view,
            self.output,
        ]

    def _wire(self) -> None:
        self.recipients.observe(self._on_recipients, names="value")
        self.text.observe(self._on_text, names="value")
        self.pool.observe(self._on_pool, names="value")
        self.confirm.observe(self._update_buttons, names="value")
        self.refresh_button.on_click(self.load_pools)
        self.dry_run_button.on_click(self.dry_run)
        self.send_button.on_click(self.send_test)

    # -- reacting ---------------------------------------------------------------------------

    def _on_recipients(self, change: Any = None) -> None:
        self.check = check_recipients(self.recipients.value)
        self.recipient_issues.value = recipients_html(self.check)
        self.confirm.description = confirm_label(len(self.check.numbers))
        # A confirmation is for the numbers it was given for.
        self.confirm.value = False

    def _on_text(self, change: Any = None) -> None:
        self.text_count.value = segments_text(sms_segments(self.text.value), TEXT_MAX)

    def _on_pool(self, change: Any = None) -> None:
        self.confirm.value = False

    def _update_buttons(self, change: Any = None) -> None:
        self.dry_run_button.disabled = self._busy
        self.send_button.disabled = self._busy or (self.live and not self.confirm.value)
        self.send_button.tooltip = (
            "Tick the confirmation box first: this sends real messages"
            if self.live and not self.confirm.value
            else "Send the message to every recipient"
        )

    def load_pools(self, button: Any = None) -> None:
        """(Re)load the pool list, keeping the chosen pool when it still exists."""
        try:
            pools = load_pools(self.client, progress=False).sort_values("name", kind="stable")
        except CommsError as err:
            self._say(error_text("list the pools", err), ERROR)
            return
        self._pool_names = dict(zip(pools["pool_id"], pools["name"], strict=True))
        chosen = self.pool.value
        self.pool.options = pool_options(pools)
        if chosen in self._pool_names:
            self.pool.value = chosen
        elif self._pool_names:
            self.pool.value = next(iter(self._pool_names))
        if not self._pool_names:
            self._say(
                "There is no sender pool yet: build one (PoolBuilder, or ct.create_pool), "
                "then click the reload button next to the Pool list.",
                INFO,
            )

    def dry_run(self, button: Any = None) -> pd.DataFrame | None:
        """Resolve which sender and channel each recipient would get; nothing is sent.

        Shows the route table (one row per recipient) and returns ``routes`` (the
        ``TestSend.routes`` frame), or None with the reason as a sentence.
        """
        self.routes = None
        self.routes_view.value = ""
        self.output.outputs = ()
        self._run("run the dry run", self._resolve)
        return self.routes

    def send_test(self, button: Any = None) -> TestSend | None:
        """Send the message to every recipient through the pool and follow it to the end.

        A progress bar shows while the messages travel; then ``result`` holds the
        ``TestSend`` and the Output shows its summary and the send charts. In live mode
        nothing happens until the confirmation box is ticked. Returns ``result``: None
        after a refusal or an error before anything was sent (shown as sentences); the
        ``TestSend`` once messages went out, even when sending stopped midway
        (``TestSend.resume`` finishes it) or following them failed (``.wait()`` again).
        """
        if self.live and not self.confirm.value:
            self._say(
                "Nothing was sent: tick the confirmation box first — in live mode Send "
                "delivers real messages that cost money.",
                ERROR,
            )
            return None
        self.result = None
        self.routes_view.value = ""
        self.output.outputs = ()
        self._run("send", self._send_and_follow)
        return self.result

    # -- helpers ----------------------------------------------------------------------------

    def _resolve(self, arguments: dict[str, Any]) -> None:
        self._say("Dry run: asking the pool which sender would take each recipient…", INFO)
        run = test_send(self.client, **arguments, max_recipients=self.max_recipients, dry_run=True)
        self.routes = run.routes
        self.routes_view.value = routes_html(run.routes)
        self._say(dry_run_text(run.routes, self._pool_name()), OK)

    def _send_and_follow(self, arguments: dict[str, Any]) -> None:
        self._say(f"Sending {len(self.check.numbers):,} message(s)…", INFO)
        run = test_send(
            self.client,
            **arguments,
            confirm=bool(self.confirm.value),
            allow=self.allow,
            max_recipients=self.max_recipients,
            allow_unroutable=self.allow_unroutable,
            wait=False,
            events=self.events,
        )
        self.result = run
        self._follow(run)
        if self.events is not None and run.done:
            run.wait_for_events(timeout=min(self.timeout, 60.0))

    def _follow(self, run: TestSend) -> None:
        """Follow a send that went out, then show it; a failure here says it was sent."""
        try:
            timed_out = False
            try:
                with captured(self.progress):  # a progress bar while the messages travel
                    run.wait(progress=True, timeout=self.timeout)
            except OperationTimeoutError:
                timed_out = True
            finally:
                self.progress.clear_output()
            self._show_result(run, timed_out)
        except Exception as err:  # the panel shows every failure as a sentence
            logger.debug("TestSendPanel could not follow run %s", run.run_id, exc_info=True)
            self._say(follow_error_text(run, err), ERROR)

    def _arguments(self) -> dict[str, Any]:
        """``test_send``'s arguments from the controls (``InvalidInputError``: what is missing)."""
        if self.pool.value is None:
            raise InvalidInputError(
                "Choose a pool in the Pool list first (build one with PoolBuilder if there "
                "is none).",
                field="pool",
            )
        if not self.check.numbers and not self.check.invalid:
            raise InvalidInputError(
                "Type at least one recipient in the Recipients box, with its country code "
                "(for example +1 415 555 0100).",
                field="to",
            )
        switched_on = [c for c, b in self.channel_buttons.items() if b.value]
        return {
            "pool": self.pool.value,
            "to": self.recipients.value,
            "text": self.text.value,
            "channel": self.channel.value,
            "channels": sender_channels(switched_on),
        }

    def _run(self, action: str, operation: Callable[[dict[str, Any]], None]) -> None:
        """Run a dry run or a send: buttons disabled meanwhile, warnings and errors as sentences."""
        self._busy = True
        self._update_buttons()
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                operation(self._arguments())
            notes = " ".join(_sentence(str(w.message)) for w in caught)
            if notes:
                text, color = self._said
                self._say(f"{text} {notes}", color)
        except Exception as err:  # the panel shows every failure as a sentence
            logger.debug("TestSendPanel could not %s", action, exc_info=True)
            if isinstance(err, SendIncompleteError):
                self.result = err.test_send
            self._say(send_error_text(action, err), ERROR)
        finally:
            self._busy = False
            if self.live:
                self.confirm.value = False  # each live send is confirmed on its own
            self._update_buttons()

    def _show_result(self, run: TestSend, timed_out: bool) -> None:
        self.output.outputs = result_outputs(run)
        text = send_outcome_text(run, self._pool_name())
        if timed_out:
            text += f" Stopped following it after {self.timeout:g} s."
        self._say(text, OK if run.done else INFO)

    def _pool_name(self) -> str:
        return self._pool_names.get(self.pool.value or "", self.pool.value or "")

    def _say(self, text: str, color: str = INFO) -> None:
        self._said = (text, color)
        self.message.value = message_html(text, color)


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."
