"""Show a progress bar in an ``Output`` widget without letting it swallow errors.

In a kernel, ``with output:`` prints any exception raised inside as a traceback in the
Output *and suppresses it* (ipywidgets' ``Output.__exit__`` returns True), so the widget
could neither see the error nor turn it into a sentence. ``captured(output)`` catches
the error inside the block and raises it again once the Output's context is left.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import ipywidgets as widgets

__all__ = ["captured"]


@contextmanager
def captured(output: widgets.Output) -> Iterator[None]:
    """Display what the block shows (a tqdm bar) in ``output``; its errors reach the caller."""
    error: BaseException | None = None
    with output:
        try:
            yield
        except BaseException as exc:  # re-raised below, outside the Output's context
            error = exc
    if error is not None:
        raise error
