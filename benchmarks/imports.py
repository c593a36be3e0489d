"""P7: ``import commstoolkit`` vs ``import pandas, httpx``, each in fresh interpreters."""

from __future__ import annotations

import statistics
import subprocess
import sys

from ._common import Line, Sizes, millis, verdict

_TIMER = "import time; t = time.perf_counter(); import {}; print(time.perf_counter() - t)"


def import_seconds(modules: str) -> float:
    """Seconds to import ``modules`` in a new interpreter (its start-up not counted)."""
    result = subprocess.run(
        [sys.executable, "-c", _TIMER.format(modules)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(result.stdout.strip().splitlines()[-1])


def p7(sizes: Sizes) -> Line:
    """P7: median import times over ``import_runs`` interleaved runs; the ratio."""
    base, ours = [], []
    import_seconds("commstoolkit")  # warm the file cache
    for _ in range(sizes.import_runs):
        base.append(import_seconds("pandas, httpx"))
        ours.append(import_seconds("commstoolkit"))
    ratio = statistics.median(ours) / statistics.median(base)
    return Line(
        "P7",
        "import commstoolkit (fresh interpreters)",
        f"commstoolkit {millis(statistics.median(ours))}, pandas + httpx "
        f"{millis(statistics.median(base))}, ratio {ratio:.2f}x (median of {len(ours)})",
        verdict(ratio <= 1.2),
        "<= 1.20x import pandas, httpx",
    )
