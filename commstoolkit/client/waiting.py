"""``client.wait``: poll an operation until it ends, with a timeout and an optional bar."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from commstoolkit.client._http import HttpCore
from commstoolkit.client._resource import Resource
from commstoolkit.client.operations import Operations
from commstoolkit.errors import InvalidInputError, OperationTimeoutError
from commstoolkit.models import OPERATION_KINDS, Operation
from commstoolkit.rules import operation_id_of


class OperationPoller(Resource):
    """Fetches operations of either kind and waits for them to finish."""

    def __init__(
        self, http: HttpCore, *, sleep: Callable[[float], None], clock: Callable[[], float]
    ):
        super().__init__(http)
        self._sleep = sleep
        self._clock = clock

    def fetch(self, operation_id: str, kind: str) -> Operation:
        """The current state of operation ``operation_id`` of ``kind``."""
        return Operations(self._http, kind).get(operation_id)

    def wait(
        self,
        operation_or_id: Operation | str,
        *,
        timeout: float,
        poll_interval: float,
        progress: bool | None,
        kind: str | None,
    ) -> Operation:
        """Poll until the operation is COMPLETED or CANCELED; see ``CommsClient.wait``."""
        _check_progress(progress)
        operation_id = operation_id_of(operation_or_id, "operation_or_id")
        kind = _kind_of(operation_or_id, kind)
        _check_seconds(timeout, "timeout")
        _check_seconds(poll_interval, "poll_interval")
        deadline = self._clock() + timeout
        polls = 0
        bar = _progress_bar(operation_id, kind) if progress else None
        try:
            while True:
                current = self.fetch(operation_id, kind)
                if bar is None and progress is None and polls:
                    # automatic: a bar from the second poll on (the first found it running)
                    bar = _progress_bar(operation_id, kind)
                polls += 1
                if bar is not None:
                    _show(bar, current)
                if current.done:
                    return current
                remaining = deadline - self._clock()
                if remaining <= 0:
                    raise _timed_out(current, timeout)
                self._sleep(min(poll_interval, remaining))
        finally:
            if bar is not None:
                bar.close()


def _kind_of(operation: Operation | str, kind: str | None) -> str:
    if kind is None:
        return operation.kind if isinstance(operation, Operation) else "sender_pool"
    if kind not in OPERATION_KINDS:
        raise InvalidInputError(
            f"kind: {kind!r} is not allowed; use one of {', '.join(OPERATION_KINDS)}",
            field="kind",
            allowed=OPERATION_KINDS,
        )
    return kind


def _check_seconds(value: Any, field: str) -> None:
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not (number and 0 < value < math.inf):
        raise InvalidInputError(
            f"{field}: expected a finite number of seconds > 0, got {value!r}",
            field=field,
            allowed="> 0",
        )


def _check_progress(value: Any) -> None:
    if value is not None and not isinstance(value, bool):
        raise InvalidInputError(
            f"progress: expected True, False or None (automatic), got {value!r}",
            field="progress",
            allowed=(True, False, None),
        )


def _timed_out(operation: Operation, timeout: float) -> OperationTimeoutError:
    progress = f"; {operation.processed}/{operation.total} done" if operation.total else ""
    return OperationTimeoutError(
        f"operation {operation.id} ({operation.kind}) is still {operation.status} after "
        f"{timeout:g}s{progress}. It keeps running on the server: call client.wait() again "
        "to keep waiting",
        operation=operation,
    )


def _progress_bar(operation_id: str, kind: str) -> Any:
    from tqdm.auto import tqdm

    unit = " senders" if kind == "sender_pool" else " messages"
    return tqdm(total=None, desc=operation_id, unit=unit, leave=True)


def _show(bar: Any, operation: Operation) -> None:
    if operation.total is not None and bar.total != operation.total:
        bar.total = operation.total
    bar.n = operation.processed
    bar.set_postfix_str(operation.status or "", refresh=False)
    bar.refresh()
