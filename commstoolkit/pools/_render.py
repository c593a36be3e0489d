"""How a ``PoolPlan`` reads: as text (``str``) and as a compact notebook view (HTML)."""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Protocol

import pandas as pd


class PlanView(Protocol):
    """What the views read of a plan (``pool_plan.PoolPlan`` has it; this module does not
    import it, since the plan renders itself with these functions)."""

    @property
    def to_add(self) -> pd.DataFrame: ...
    @property
    def to_remove(self) -> pd.DataFrame: ...
    @property
    def unchanged(self) -> int: ...
    @property
    def size(self) -> int: ...
    @property
    def requests(self) -> list[str]: ...
    @property
    def warnings(self) -> list[str]: ...
    @property
    def reasons(self) -> dict[str, str]: ...
    def title(self) -> str: ...


_ROWS = 5
_REQUESTS = 12
_LISTED = 5
_REASONS = 20


def plural(n: int, word: str) -> str:
    """``n`` and the word agreeing with it: ``"1 sender"``, ``"2 senders"``, ``"0 adds"``."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def some_of(items: Iterable[str], sep: str = ", ") -> str:
    """The first few ``items`` joined by ``sep``, then "… and N more" (sets come sorted)."""
    items = sorted(items) if isinstance(items, (set, frozenset)) else list(items)
    more = f"{sep}… and {len(items) - _LISTED:,} more" if len(items) > _LISTED else ""
    return sep.join(items[:_LISTED]) + more


def _requests(plan: PlanView) -> list[str]:
    """The plan's requests; a long run of removals is cut to its first lines."""
    lines = plan.requests
    if len(lines) <= _REQUESTS:
        return lines
    return [*lines[: _REQUESTS - 1], f"… and {len(lines) - _REQUESTS + 1:,} more"]


def _counts(plan: PlanView) -> list[tuple[str, int]]:
    return [
        ("to add", len(plan.to_add)),
        ("to remove", len(plan.to_remove)),
        ("unchanged", plan.unchanged),
        ("size after", plan.size),
    ]


def _why(plan: PlanView) -> list[tuple[str, str, str]]:
    """(``+`` or ``-``, the sender as ``address (channel, id)``, its reason) of each added
    and removed sender that has a reason: adds first, then removes, in the plan's order."""
    reasons = plan.reasons
    found = []
    for sign, frame in (("+", plan.to_add), ("-", plan.to_remove)):
        for sender, address, channel in zip(
            frame["sender_id"].tolist(),
            frame["address"].tolist(),
            frame["channel"].astype(object).tolist(),
            strict=True,
        ):
            if sender in reasons:
                found.append((sign, f"{address} ({channel}, {sender})", reasons[sender]))
    return found


def plan_text(plan: PlanView) -> str:
    """The plan as a few readable lines: counts, requests, warnings."""
    counts = " · ".join(f"{label} {count:,}" for label, count in _counts(plan))
    lines = [f"Plan: {plan.title()}", f"  {counts}", f"  requests ({len(plan.requests)}):"]
    lines += [f"    {line}" for line in _requests(plan)]
    why = _why(plan)
    if why:
        lines.append("  why:")
        lines += [f"    {sign} {sender}: {reason}" for sign, sender, reason in why[:_REASONS]]
        if len(why) > _REASONS:
            lines.append(f"    … and {len(why) - _REASONS:,} more (plan.reasons has them all)")
    if plan.warnings:
        lines.append("  warnings:")
        lines += [f"    - {warning}" for warning in plan.warnings]
    return "\n".join(lines)


def plan_html(plan: PlanView) -> str:
    """The plan for a notebook: counts, warnings, requests, first rows of adds and removes."""
    cells = "".join(
        f"<th style='text-align:left'>{label}</th><td>{count:,}</td>"
        for label, count in _counts(plan)
    )
    parts = [
        "<div class='commstoolkit-pool-plan'>",
        f"<p><strong>Plan: {html.escape(plan.title())}</strong></p>",
        f"<table><tr>{cells}</tr></table>",
    ]
    if plan.warnings:
        items = "".join(f"<li>{html.escape(w)}</li>" for w in plan.warnings)
        parts.append(f"<p>⚠ Warnings:</p><ul>{items}</ul>")
    why = _why(plan)
    if why:
        items = "".join(
            f"<li><code>{sign}</code> {html.escape(sender)}: {html.escape(reason)}</li>"
            for sign, sender, reason in why[:_REASONS]
        )
        more = (
            f"<li>… and {len(why) - _REASONS:,} more (plan.reasons has them all)</li>"
            if len(why) > _REASONS
            else ""
        )
        parts.append(f"<p>Why:</p><ul>{items}{more}</ul>")
    requests = "".join(f"<li>{html.escape(line)}</li>" for line in _requests(plan))
    parts.append(
        f"<details><summary>Requests ({len(plan.requests):,})</summary>"
        f"<ul>{requests}</ul></details>"
    )
    for label, frame in (("To add", plan.to_add), ("To remove", plan.to_remove)):
        if len(frame):
            shown = f"first {_ROWS} of {len(frame):,}" if len(frame) > _ROWS else f"{len(frame)}"
            # na_rep does not reach pandas' string dtype: blank the missing cells first.
            rows = frame.head(_ROWS).astype(object).where(frame.head(_ROWS).notna(), "")
            table = rows.to_html(index=False, border=0)
            parts.append(f"<details open><summary>{label} ({shown})</summary>{table}</details>")
    parts.append("</div>")
    return "".join(parts)
