"""What TestSendPanel shows: recipient issues, the text count, the mode, routes, outcomes.

Pure functions from checks, frames, ``TestSend`` results and errors to text, HTML or
notebook outputs; no widget is imported here. Tables render only their first rows, so a
send to thousands of recipients stays fast to show.
"""

from __future__ import annotations

import html
import json
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from .. import charts
from ..errors import CommsError
from ..frames import NO_SENDER
from ..testsend import (
    ALLOW_ENV,
    CONFIRM_ABOVE,
    InvalidRecipientsError,
    SendIncompleteError,
    SendRefusedError,
    TestSend,
)
from ._pool_views import TABLE_STYLE, error_text
from ._segments import GSM7, Segments
from ._send_inputs import RecipientCheck

__all__ = [
    "ISSUES_SHOWN",
    "ROUTE_ROWS",
    "SEND_CHARTS",
    "confirm_label",
    "dry_run_text",
    "figure_output",
    "follow_error_text",
    "html_output",
    "mode_html",
    "recipients_html",
    "result_outputs",
    "route_table",
    "routes_html",
    "segments_text",
    "send_error_text",
    "send_outcome_text",
]

ISSUES_SHOWN = 10
ROUTE_ROWS = 200
SEND_CHARTS = ("send_outcomes", "sender_delivery", "fallback", "delivery_latency")
UNREACHABLE = "no sender of the pool can reach it"
_GREY = "color:#555;font-size:12px"
_ROUTE_HEADERS = {
    "to": "recipient",
    "sender": "sender",
    "sender_address": "sender address",
    "channel": "channel",
    "priority": "priority",
    "alternatives": "other senders",
}


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def recipients_html(check: RecipientCheck) -> str:
    """The line under the recipients box: how many will get a message, and every problem.

    Each invalid number is listed with the reason ``test_send`` would give (the first
    ``ISSUES_SHOWN``, then how many more); numbers given twice are said to get one message.
    """
    if not check.numbers and not check.invalid:
        return f"<div style='{_GREY}'>Type phone numbers with their country code.</div>"
    lines = []
    if check.invalid:
        lines.append(
            f"<div style='color:#b42318'><b>{_count(len(check.invalid), 'number')} "
            f"cannot be sent to</b> — fix or remove {'it' if len(check.invalid) == 1 else 'them'}"
            ":</div>"
        )
        lines += [
            f"<div style='color:#b42318'>✗ {html.escape(repr(text))}: {html.escape(reason)}</div>"
            for text, reason in check.invalid[:ISSUES_SHOWN]
        ]
        if len(check.invalid) > ISSUES_SHOWN:
            lines.append(
                f"<div style='color:#b42318'>… and {len(check.invalid) - ISSUES_SHOWN:,}"
                " more.</div>"
            )
    if check.numbers:
        lines.append(
            f"<div style='color:#1a7f37'>✓ {_count(len(check.numbers), 'valid recipient')}</div>"
        )
    for number, times in list(check.repeated.items())[:ISSUES_SHOWN]:
        lines.append(
            f"<div style='{_GREY}'>{html.escape(number)} is given {times} times: "
            "it gets one message.</div>"
        )
    return "".join(lines)


def segments_text(segments: Segments, limit: int) -> str:
    """``"42 characters · GSM-7 · 1 SMS segment (118 left)"``; says what forced UCS-2 and
    when the text is over ``limit`` characters (``test_send`` refuses it then)."""
    if not segments.characters:
        return "0 characters: type the message to send."
    parts = [_count(segments.characters, "character")]
    if segments.encoding == GSM7:
        parts.append(GSM7)
    else:
        parts.append(f"UCS-2 (because of {segments.first_unicode!r})")
    parts.append(
        f"{_count(segments.segments, 'SMS segment')} "
        f"({segments.remaining:,} of {segments.per_segment} left in the last)"
    )
    text = " · ".join(parts)
    if segments.characters > limit:
        text += f" — too long: a test send takes at most {limit:,} characters."
    return text


def mode_html(live: bool) -> str:
    """The banner saying where Send goes: real phones (and money) or the sandbox."""
    if not live:
        return (
            "<div style='background:#eef6ee;border-left:4px solid #1a7f37;padding:4px 8px'>"
            "<b>Sandbox</b>: messages go to the embedded sandbox — nothing real is sent "
            "and nothing is charged.</div>"
        )
    return (
        "<div style='background:#fdecea;border-left:4px solid #b42318;padding:4px 8px'>"
        "<b>LIVE</b>: Send delivers <b>real messages</b> to real phones through Twilio, "
        "and <b>each one costs money</b>. Tick the confirmation box to enable Send. Only "
        f"allow-listed numbers are sent to ({ALLOW_ENV}, or the panel's allow=); "
        f"above {CONFIRM_ABOVE} recipients the box also confirms the larger send.</div>"
    )


def confirm_label(recipients: int) -> str:
    """The confirmation box's label for a live send to ``recipients`` numbers."""
    what = _count(recipients, "real message") if recipients else "real messages"
    return f"I understand: Send delivers {what} and costs money"


def route_table(routes: pd.DataFrame) -> pd.DataFrame:
    """One row per recipient of a dry run's routes: the sender a send would use (rank 1).

    Columns: ``to, sender_id, sender, sender_address, channel, priority, alternatives``
    (how many other senders could take it). A recipient no sender can reach has NA
    sender, priority and alternatives, and ``sender`` saying so.
    """
    first = routes.loc[routes["rank"].fillna(1) == 1]
    ranked = routes.dropna(subset=["rank"])
    others = ranked.groupby("to", sort=False).size() - 1
    sender = first["display_name"].fillna(first["sender_address"])
    sender = sender.where(first["sender_id"].notna(), UNREACHABLE)
    return pd.DataFrame(
        {
            "to": first["to"],
            "sender_id": first["sender_id"],
            "sender": sender.astype("string"),
            "sender_address": first["sender_address"],
            "channel": first["channel"],
            "priority": first["priority"],
            "alternatives": first["to"].map(others).astype("Int64"),
        }
    ).reset_index(drop=True)


def routes_html(routes: pd.DataFrame, rows: int = ROUTE_ROWS) -> str:
    """The dry run's route table (``route_table``), one row per recipient, first ``rows``."""
    table = route_table(routes)
    head = table.head(rows).loc[:, list(_ROUTE_HEADERS)].rename(columns=_ROUTE_HEADERS)
    head = head.astype(object).where(head.notna(), "")  # pandas writes NA as "<NA>" otherwise
    shown = (
        f"First {len(head):,} of {_count(len(table), 'recipient')}"
        if len(table) > len(head)
        else f"{_count(len(table), 'recipient')}"
    )
    body = head.to_html(index=False, na_rep="", border=0, classes="ct-table")
    return (
        f"{TABLE_STYLE}<div style='{_GREY}'>Dry run — nothing was sent. {shown}, "
        f"each with the sender a send would use:</div>{body}"
    )


def dry_run_text(routes: pd.DataFrame, pool: str) -> str:
    """``"Dry run through pool 'x': 3 recipients → RCS 2 · SMS 1. Nothing was sent."``"""
    table = route_table(routes)
    reached = table["channel"].dropna().astype(str).value_counts()
    by_channel = " · ".join(f"{channel} {n:,}" for channel, n in reached.items())
    unreachable = int(table["sender_id"].isna().sum())
    text = f"Dry run through pool {pool!r}: {_count(len(table), 'recipient')}"
    text += f" → {by_channel}" if by_channel else ""
    if unreachable:
        text += f"; {unreachable:,} unaddressable ({UNREACHABLE})"
    return text + ". Nothing was sent."


def send_outcome_text(run: TestSend, pool: str) -> str:
    """What a send did, in one or two sentences: the summary's numbers (``metrics``)."""
    summary = run.summary()
    rate = summary.delivery_rate
    rate_text = "n/a" if rate != rate else f"{rate:.0%}"
    text = (
        f"Sent {_count(len(run.recipients), 'message')} through pool {pool!r} "
        f"({run.mode}, run {run.run_id}): {summary.final:,} final, {summary.delivered:,} "
        f"delivered ({rate_text} of {summary.delivery.denominator:,} rated)"
    )
    if summary.fallbacks:
        fallback = summary.fallback
        text += (
            f", {fallback.numerator:,} of {fallback.denominator:,} RCS-first messages fell "
            f"back to SMS ({fallback.value:.0%})"
        )
    no_sender = int(summary.by_channel["messages"].get(NO_SENDER, 0))
    if no_sender:
        text += f"; {_count(no_sender, 'message')} with {NO_SENDER}"
    text += "."
    if not run.done:
        text += " Some messages are still on their way: call .result.wait() to follow them."
    return text


def send_error_text(action: str, err: BaseException) -> str:
    """A failed dry run or send as sentences for the analyst, never a traceback."""
    if isinstance(err, InvalidRecipientsError):
        listed = "; ".join(f"{text!r} ({reason})" for text, reason in err.invalid[:ISSUES_SHOWN])
        more = len(err.invalid) - ISSUES_SHOWN
        listed += f"; and {more:,} more" if more > 0 else ""
        one = len(err.invalid) == 1
        verb = "is not a valid phone number" if one else "are not valid phone numbers"
        return (
            f"Could not {action}: {_count(len(err.invalid), 'recipient')} {verb} — {listed}. "
            f"Fix or remove {'it' if one else 'them'} in the Recipients box; nothing was sent."
        )
    if isinstance(err, SendRefusedError):
        # The same error carries every guard's refusal: say which kind it was.
        if err.unroutable:
            why = "no sender of the pool can reach some recipients"
        elif err.field == "max_recipients":
            why = "it is over the recipient cap"
        else:
            why = "the live-send guards refused it"
        return f"Nothing was sent — {why}. " + " ".join(err.reasons)
    if isinstance(err, SendIncompleteError):
        return error_text(action, err) + (
            " The partial send is in .result; TestSend.resume(client, panel.result.journal) "
            "sends the rest (never twice)."
        )
    if isinstance(err, CommsError):
        return error_text(action, err)
    first = str(err).strip().splitlines()[0] if str(err).strip() else ""
    return f"Could not {action}: unexpected {type(err).__name__}{': ' + first if first else ''}."


def follow_error_text(run: TestSend, err: BaseException) -> str:
    """Sentences for a send whose messages went out but could not be followed to the end."""
    reason = send_error_text("follow them", err).removeprefix("Could not follow them: ")
    return (
        f"The messages were sent (run {run.run_id}), but following them failed: {reason} "
        "Call .result.wait() to follow them again."
    )


def html_output(markup: str, text: str) -> dict[str, Any]:
    """A notebook ``display_data`` output of HTML (with ``text`` for plain frontends)."""
    return {
        "output_type": "display_data",
        "data": {"text/html": markup, "text/plain": text},
        "metadata": {},
    }


def figure_output(fig: go.Figure) -> dict[str, Any]:
    """A notebook ``display_data`` output of a plotly figure (plotly's own mime type)."""
    figure = json.loads(fig.to_json())
    figure["config"] = {"displaylogo": False, "responsive": True}
    title = fig.layout.title.text or "figure"
    return {
        "output_type": "display_data",
        "data": {"application/vnd.plotly.v1+json": figure, "text/plain": f"<Figure: {title}>"},
        "metadata": {},
    }


def result_outputs(run: TestSend) -> tuple[dict[str, Any], ...]:
    """The Output's content after a send: the send and its summary, then the four charts."""
    messages = run.messages
    figures = [getattr(charts, name)(messages) for name in SEND_CHARTS]
    return (
        html_output(run._repr_html_(), repr(run)),
        *(figure_output(fig) for fig in figures),
    )
