"""What PoolBuilder shows: counts, the preview table, the diff line, outcome and error sentences.

Pure functions from frames, plans and errors to text or HTML; no widget is imported here.
Only the first rows of a selection are ever rendered, so the view stays fast at 100,000
senders.
"""

from __future__ import annotations

import html
from collections.abc import Collection, Iterable

import pandas as pd

from ..errors import CommsError
from ..models import SENDER_CHANNELS, SenderPool
from ..pools import PoolApplyError, PoolDeletedError, PoolPlan

__all__ = [
    "ERROR",
    "INFO",
    "OK",
    "PREVIEW_ROWS",
    "TABLE_STYLE",
    "count_text",
    "diff_text",
    "error_text",
    "escape_lines",
    "message_html",
    "namesake_text",
    "outcome_text",
    "plan_ready_text",
    "pool_options",
    "preview_html",
    "removal_label",
]

PREVIEW_ROWS = 20
# Colours of the sentences under the buttons: done, failed, information.
OK, ERROR, INFO = "#1a7f37", "#b42318", "#333"
_PREVIEW_COLUMNS = ("display_name", "address", "channel", "status", "created_at")
TABLE_STYLE = (
    "<style>.ct-table{border-collapse:collapse;font-size:12px}"
    ".ct-table th,.ct-table td{padding:2px 10px;text-align:left;white-space:nowrap}"
    ".ct-table thead th{border-bottom:1px solid #bbb}"
    ".ct-table tbody tr:nth-child(odd){background:rgba(0,0,0,.04)}</style>"
)


def _senders(count: int) -> str:
    return f"{count:,} sender{'' if count == 1 else 's'}"


def count_text(selection: pd.DataFrame) -> str:
    """``"87 senders match · SMS 40 · RCS 20 · EMAIL 27"`` (channels with at least one)."""
    if selection.empty:
        return "No sender matches these filters."
    counts = selection["channel"].astype(str).value_counts()
    by_channel = " · ".join(f"{c} {counts[c]:,}" for c in SENDER_CHANNELS if c in counts)
    verb = "matches" if len(selection) == 1 else "match"
    return f"{_senders(len(selection))} {verb} · {by_channel}"


def preview_html(
    selection: pd.DataFrame, rows: int = PREVIEW_ROWS, members: Collection[str] | None = None
) -> str:
    """An HTML table of the first ``rows`` senders of ``selection``.

    With ``members`` (the sender ids of the target pool), an ``in pool`` column marks the
    senders the pool already holds.
    """
    if selection.empty:
        return ""
    head = selection.head(rows)
    table = pd.DataFrame({column: head[column] for column in _PREVIEW_COLUMNS})
    table["created_at"] = head["created_at"].dt.strftime("%Y-%m-%d")
    table.columns = ["name", "address", "channel", "status", "created"]
    if members is not None:
        table.insert(0, "in pool", ["✓" if i in members else "" for i in head["sender_id"]])
    shown = (
        f"First {len(head):,} of {_senders(len(selection))}"
        if len(selection) > len(head)
        else f"All {_senders(len(selection))}"
    )
    body = table.to_html(index=False, na_rep="", border=0, classes="ct-table")
    return f"{TABLE_STYLE}<div style='font-size:12px;color:#555'>{shown}</div>{body}"


def pool_options(pools: pd.DataFrame) -> list[tuple[str, str]]:
    """``(label, pool_id)`` per pool of a ``load_pools`` frame, labelled ``name (N senders)``."""
    columns = zip(pools["pool_id"], pools["name"], pools["size"], strict=True)
    return [(f"{name} ({_senders(size)})", pool_id) for pool_id, name, size in columns]


def diff_text(pool_name: str, members: Collection[str], planned: Iterable[str]) -> str:
    """How the pool's membership would change: ``Pool 'x' has 40 senders; after: 52 (+15, −3)``."""
    target = set(planned)
    added = len(target - set(members))
    removed = len(set(members) - target)
    return (
        f"Pool {pool_name!r} has {_senders(len(members))}; after applying: "
        f"{_senders(len(target))} ({added:,} to add, {removed:,} to remove, "
        f"{len(target) - added:,} unchanged)."
    )


def removal_label(count: int) -> str:
    """The confirmation box of a plan's removals: ``"Remove 43 members"``."""
    return f"Remove {count:,} member{'' if count == 1 else 's'}"


def plan_ready_text(plan: PoolPlan) -> str:
    """What the previewed plan would do, as one sentence inviting to Apply.

    A plan that removes members asks first to tick the box that confirms how many.
    """
    if not plan.requests:
        return f"Nothing to change: pool {plan.name!r} already holds exactly these senders."
    verb = "create" if plan.pool_id is None else "update"
    warned = f", {len(plan.warnings)} warning(s) to read first" if plan.warnings else ""
    removed = len(plan.to_remove)
    then = (
        f'Read the plan below, tick "{removal_label(removed)}" to confirm the removals, '
        "then click Apply."
        if removed
        else "Click Apply to make the change."
    )
    return (
        f"Plan ready: {verb} pool {plan.name!r} ({len(plan.to_add):,} to add, "
        f"{removed:,} to remove, {len(plan.requests):,} request(s){warned}). {then}"
    )


def namesake_text(name: str, namesakes: Collection[str], chosen: str) -> str:
    """Why the plan of a new pool became the plan of the existing pool ``chosen``."""
    others = sorted(namesakes)
    if len(others) == 1:
        there = f"A pool named {name!r} already exists ({chosen})"
        target = "that pool"
    else:
        there = f"{len(others)} pools are named {name!r} already ({', '.join(others)})"
        target = f"{chosen} (pick another in the Pool list if you meant another)"
    return (
        f"{there}, so the plan now updates {target} instead of creating a second pool of "
        "the same name. To make a new pool, choose New pool and another name."
    )


def outcome_text(plan: PoolPlan, pool: SenderPool) -> str:
    """The sentence shown once ``plan`` is applied: created, updated or unchanged."""
    if plan.is_new:
        return f"Created pool {pool.name!r} ({pool.id}) with {_senders(plan.size)}."
    if not (len(plan.to_add) or len(plan.to_remove) or plan.update):
        return f"Pool {pool.name!r} ({pool.id}) already matched the plan: nothing changed."
    changes = [f"added {len(plan.to_add):,}", f"removed {len(plan.to_remove):,}"]
    changes += [f"set its {key}" for key in plan.update]
    return (
        f"Updated pool {pool.name!r} ({pool.id}): {', '.join(changes)}; "
        f"it now holds {_senders(plan.size)}."
    )


def error_text(action: str, err: CommsError) -> str:
    """A failure as sentences for the analyst: ``"Could not <action>: <what happened>"``.

    A ``PoolApplyError`` says which request failed, how many were made, and that clicking
    Apply again continues from the pool's current members; a ``PoolDeletedError`` says the
    pool no longer exists and that Apply again will not help.
    """
    if isinstance(err, PoolDeletedError):
        made = len(err.applied)
        return " ".join(
            _sentence(s)
            for s in (
                f"Could not {action}: pool {err.pool_id} no longer exists; it was deleted "
                "after this plan was made",
                f"{made:,} of {made + len(err.pending):,} request(s) were made before that",
                "Clicking Apply again will not help: choose another pool in the Pool list, or "
                "New pool, and preview the plan again",
            )
        )
    if isinstance(err, PoolApplyError) and err.cause is not None:
        made = len(err.applied)
        total = made + len(err.pending)
        step = err.pending[0] if err.pending else "the final check of the members"
        sentences = [
            f"Could not {action}: the request {step} failed: {_first_line(err.cause)}",
            f"{made:,} of {total:,} request(s) were made before it stopped.",
        ]
        if err.pool_id is not None:
            sentences.append(
                f"The pool is {err.pool_id}; click Apply again to finish from its current members."
            )
        return " ".join(_sentence(s) for s in sentences)
    return _sentence(f"Could not {action}: {_first_line(err)}")


def _first_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return lines[0] if lines else type(err).__name__


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def escape_lines(text: str) -> str:
    """HTML-escape ``text`` (for an ``ipywidgets.HTML`` value)."""
    return html.escape(text).replace("\n", "<br>")


def message_html(text: str, color: str = INFO) -> str:
    """The HTML of a sentence under a widget's buttons (empty text: nothing)."""
    if not text:
        return ""
    return f"<div style='color:{color};white-space:normal'>{escape_lines(text)}</div>"
