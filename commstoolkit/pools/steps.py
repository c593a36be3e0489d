"""The write steps a pool plan is made of, and how each reads as an API call."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ._render import plural

__all__ = ["MAX_SENDERS_PER_REQUEST", "Step", "plan_steps"]

# The API takes at most this many senders in one create or add request.
MAX_SENDERS_PER_REQUEST = 10_000

NEW_POOL = "{new pool}"


@dataclass(frozen=True)
class Step:
    """One write call: ``create`` (POST /SenderPools), ``add`` (POST …/Senders),
    ``remove`` (DELETE …/Senders/{id}) or ``update`` (PATCH /SenderPools/{id})."""

    kind: str
    sender_ids: tuple[str, ...] = ()
    name: str | None = None
    tags: dict[str, str] | None = field(default=None, hash=False)

    @property
    def senders(self) -> int:
        """How many senders the step adds or removes."""
        return len(self.sender_ids)

    def describe(self, pool_id: str | None) -> str:
        """The call as one readable line, e.g. ``POST /SenderPools name='x' with 10 senders``."""
        pool = f"/SenderPools/{pool_id or NEW_POOL}"
        if self.kind == "create":
            return f"POST /SenderPools{self._fields()} with {plural(self.senders, 'sender')}"
        if self.kind == "add":
            return f"POST {pool}/Senders with {plural(self.senders, 'sender')}"
        if self.kind == "remove":
            return f"DELETE {pool}/Senders/{self.sender_ids[0]}"
        return f"PATCH {pool}{self._fields()}"

    def _fields(self) -> str:
        text = f" name={self.name!r}" if self.name is not None else ""
        return text + (f" tags={self.tags!r}" if self.tags is not None else "")


def plan_steps(
    *,
    new: bool,
    name: str | None,
    tags: dict[str, str] | None,
    add_ids: Sequence[str],
    remove_ids: Sequence[str],
    update: dict[str, Any],
) -> list[Step]:
    """The steps in the order they run: create (new pool, first 10,000 senders), adds in
    chunks of 10,000, one remove per sender, then the PATCH of name / tags if any."""
    chunks = [
        tuple(add_ids[start : start + MAX_SENDERS_PER_REQUEST])
        for start in range(0, len(add_ids), MAX_SENDERS_PER_REQUEST)
    ]
    steps = []
    if new:
        steps.append(Step("create", chunks.pop(0) if chunks else (), name=name, tags=tags))
    steps += [Step("add", chunk) for chunk in chunks]
    steps += [Step("remove", (sender_id,)) for sender_id in remove_ids]
    if update:
        steps.append(Step("update", name=update.get("name"), tags=update.get("tags")))
    return steps
