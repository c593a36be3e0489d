"""``LiveSendView``: a test send as its events arrive, without polling.

A ``VBox`` of one line of text and the plotly ``FigureWidget`` of ``charts.live_send``
(outcomes by channel, delivery over time). It watches an ``EventReceiver``
(``receiver.watch``): each batch the receiver keeps redraws the figure from the receiver's
own frame, from the receiver's thread, so the view moves while ``ct.test_send(...,
events=receiver)`` is still running. A send made with ``events=receiver`` announces its run
id and the view follows it (its messages are tagged ``ct_run:<run id>``).
"""

from __future__ import annotations

import html
import threading
from typing import Any

import ipywidgets as widgets
import pandas as pd

from ..charts.live_send import live_send, send_progress, update_live_send
from ..errors import InvalidInputError
from ..events import EventReceiver
from ..frames.schema import RUN_TAG


class LiveSendView(widgets.VBox):
    """The live chart of a send, fed by ``receiver`` (see the module).

    ``run_id``: the test send to show (None: follow the next send announced by
    ``test_send(..., events=receiver)``, and until then every message event received).
    ``figure``: the ``FigureWidget``; ``frame()``: the events it shows (the receiver's, of
    the run); ``progress()``: one row per message (``charts.send_progress``), which the
    figure draws. ``close()`` stops watching. CSS classes: ``ct-live-send``,
    ``ct-live-caption``.
    """

    def __init__(self, receiver: EventReceiver, *, run_id: str | None = None, **kwargs: Any):
        if not isinstance(receiver, EventReceiver):
            raise InvalidInputError(
                f"receiver must be a ct.EventReceiver, got {type(receiver).__name__}",
                field="receiver",
                allowed="EventReceiver",
            )
        self.receiver = receiver
        self.run_id = run_id
        self.expected: int | None = None
        self._lock = threading.Lock()
        self.caption = widgets.HTML()
        self.caption.add_class("ct-live-caption")
        self.figure = live_send(self.frame())
        super().__init__(children=[self.caption, self.figure], **kwargs)
        self.add_class("ct-live-send")
        self._caption()
        self._unwatch = receiver.watch(self._on_events, on_send=self.follow)

    def frame(self) -> pd.DataFrame:
        """The events shown: the receiver's, of ``run_id`` when one is followed."""
        tags = None if self.run_id is None else {RUN_TAG: self.run_id}
        return self.receiver.frame(tags=tags)

    def progress(self) -> pd.DataFrame:
        """One row per message shown (``charts.send_progress``)."""
        return send_progress(self.frame())

    def follow(self, run_id: str, recipients: int | None = None) -> None:
        """Show test send ``run_id`` (of ``recipients`` recipients) from now on."""
        self.run_id = run_id
        self.expected = recipients
        self.refresh()

    def refresh(self) -> None:
        """Redraw from the receiver's events (the watch does it as events arrive)."""
        with self._lock:
            events = self.frame()
            update_live_send(self.figure, events)
            self._caption(events)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        # A FigureWidget hands its edits to the views already showing it; plotly brings its
        # whole state up to date when it is displayed itself, so do that for a view of it
        # shown now (the view displayed again in a later cell, say).
        with self._lock:
            self.figure._repr_mimebundle_()
        return super()._repr_mimebundle_(**kwargs)

    def _on_events(self, events: list[dict[str, Any]]) -> None:
        self.refresh()

    def _caption(self, events: pd.DataFrame | None = None) -> None:
        shown = f"test send <code>{html.escape(self.run_id)}</code>" if self.run_id else "events"
        count = 0 if events is None else int(events["message_id"].notna().sum())
        expected = f" of {self.expected:,} recipients" if self.expected is not None else ""
        self.caption.value = (
            f"Live: {shown}{expected}, {count:,} message events from "
            f"<code>{html.escape(self.receiver.url)}</code>"
        )

    def close(self) -> None:
        """Stop watching the receiver and close the widgets."""
        unwatch = getattr(self, "_unwatch", None)  # None when __init__ refused its receiver
        if unwatch is not None:
            unwatch()
            self.figure.close()
        super().close()
