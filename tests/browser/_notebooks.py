"""The notebook the widget browser tests serve: one widget on a shared sandbox file."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat


def widget_notebook(folder: Path, db: Path, widget: str, show: str | None = None) -> Path:
    """A two-cell notebook (no outputs) showing ``widget`` (a commstoolkit.widgets class)
    on the sandbox file ``db``, with the sandbox clock instant. ``show``: the second cell's
    code, ending with the widget (default ``{widget}(client)``), for a widget built from
    more than the client (``DoctorPanel(diagnosis)``)."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    notebook.cells = [
        nbformat.v4.new_code_cell(
            "import commstoolkit as ct\n"
            f"from commstoolkit.widgets import {widget}\n\n"
            f"client = ct.connect(sandbox=True, db={json.dumps(str(db))}, quiet=True)\n"
            "client.sandbox.clock.instant = True"
        ),
        nbformat.v4.new_code_cell(show or f"{widget}(client)"),
    ]
    path = folder / f"{widget}.ipynb"
    nbformat.write(notebook, path)
    return path
