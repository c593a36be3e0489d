"""What the report browser tests share: ``commstoolkit report`` run on a notebook as a user
runs it (a subprocess, this checkout first on the path), and a page that records every
console error, page error, refused request and request made."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nbformat

REPO = Path(__file__).resolve().parents[2]


def run_report(
    folder: Path, notebook: Path, parameters: Mapping[str, str]
) -> tuple[Path, nbformat.NotebookNode]:
    """``commstoolkit report NOTEBOOK -p ...`` into ``folder``: the HTML report and the
    executed notebook."""
    html, executed = folder / f"{notebook.stem}.html", folder / notebook.name
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    args = [a for name, value in parameters.items() for a in ("-p", f"{name}={value}")]
    command = [sys.executable, "-m", "commstoolkit", "report", str(notebook), *args]
    result = subprocess.run(
        [*command, "-o", str(html), "--executed", str(executed)],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=folder,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return html, nbformat.read(executed, as_version=4)


def watch(page: Any) -> tuple[list[str], list[str]]:
    """(problems, requested): console errors, page errors and failed requests as they come,
    and every URL the page asks for."""
    problems: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url[:120]}"))
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    return problems, requested
