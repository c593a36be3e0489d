"""P7: ``import commstoolkit`` vs ``import pandas, httpx``, each in fresh interpreters.

Measured as a user has it after ``pip install``: with the bytecode cache (written once to a
temporary ``PYTHONPYCACHEPREFIX``, so the source tree stays clean). Shown beside it, for
information: commstoolkit compiled from source at every import, which is what happens where
``PYTHONDONTWRITEBYTECODE`` is set and no cache was ever written (pandas and httpx keep
the cache their installation wrote).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile

from ._common import Line, Sizes, millis, verdict

_TIMER = "import time; t = time.perf_counter(); import {}; print(time.perf_counter() - t)"


def import_seconds(modules: str, env: dict[str, str]) -> float:
    """Seconds to import ``modules`` in a new interpreter (its start-up not counted)."""
    result = subprocess.run(
        [sys.executable, "-c", _TIMER.format(modules)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return float(result.stdout.strip().splitlines()[-1])


def p7(sizes: Sizes) -> Line:
    """P7: median import times over ``import_runs`` interleaved runs; the ratio."""
    with tempfile.TemporaryDirectory(prefix="ct-pyc-") as cache:
        cached = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        cached["PYTHONPYCACHEPREFIX"] = cache
        source = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        source.pop("PYTHONPYCACHEPREFIX", None)
        import_seconds("pandas, httpx, commstoolkit", cached)  # writes the cache
        runs: dict[str, list[float]] = {"base": [], "ours": [], "base_src": [], "ours_src": []}
        for _ in range(sizes.import_runs):
            runs["base"].append(import_seconds("pandas, httpx", cached))
            runs["ours"].append(import_seconds("commstoolkit", cached))
            runs["base_src"].append(import_seconds("pandas, httpx", source))
            runs["ours_src"].append(import_seconds("commstoolkit", source))
    medians = {name: statistics.median(values) for name, values in runs.items()}
    ratio = medians["ours"] / medians["base"]
    from_source = medians["ours_src"] / medians["base_src"]
    return Line(
        "P7",
        "import commstoolkit (fresh interpreters, bytecode cached)",
        f"commstoolkit {millis(medians['ours'])}, pandas + httpx {millis(medians['base'])}, "
        f"ratio {ratio:.2f}x (median of {sizes.import_runs}); compiled from source each "
        f"time (PYTHONDONTWRITEBYTECODE, no cache): {from_source:.2f}x",
        verdict(ratio <= 1.2),
        "<= 1.20x import pandas, httpx",
    )
