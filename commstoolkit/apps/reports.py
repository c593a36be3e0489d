"""Standalone HTML reports of executed notebooks, with interactive plotly charts, offline.

::

    from commstoolkit.apps.reports import write_report
    write_report("notebooks/01_sender_inventory.ipynb", "inventory.html", {"seed": 11})

A report is one HTML file that opens anywhere, with no network: plotly.js is inlined once
and every figure is drawn from the data the notebook produced; nbconvert's requests to
CDNs (require.js, MathJax, the widget manager) are left out. Widgets cannot run in a
static page, so each shows a note pointing to the notebook instead.

nbconvert and plotly are imported on first use.
"""

from __future__ import annotations

import copy
import html
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .notebook_runner import NotebookCellError, run_notebook

if TYPE_CHECKING:
    from collections.abc import Mapping

    from nbformat import NotebookNode

__all__ = ["PLOTLY_MIMETYPE", "Report", "count_figures", "notebook_html", "write_report"]

PLOTLY_MIMETYPE = "application/vnd.plotly.v1+json"
WIDGET_MIMETYPE = "application/vnd.jupyter.widget-view+json"
_TEMPLATE_FILE = "commstoolkit-report.html.j2"
# The lab template, minus every script it would fetch from a CDN, plus plotly.js inline.
_TEMPLATE = """
{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}
{%- if resources.plotly_js -%}
<script type="text/javascript">{{ resources.plotly_js }}</script>
{%- endif -%}
{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_css -%}
<style type="text/css">
.ct-widget-note { border-left: 4px solid #9aa5b1; background: #f5f7fa; padding: 8px 12px;
  color: #3e4c59; font-size: 13px; }
</style>
{%- endblock html_head_css -%}
"""
_WIDGET_NOTE = (
    "<div class='ct-widget-note'>Interactive widget{what}: it runs in JupyterLab, not in a "
    "static report. Open the notebook to use it.</div>"
)


@dataclass(frozen=True)
class Report:
    """What ``write_report`` wrote: the ``html`` path, the ``notebook`` path (or None) and
    the number of ``figures`` drawn."""

    html: Path
    notebook: Path | None
    figures: int


def write_report(
    notebook: str | os.PathLike[str],
    html_path: str | os.PathLike[str],
    parameters: Mapping[str, Any] | None = None,
    *,
    executed_path: str | os.PathLike[str] | None = None,
    hide_code: bool = False,
    timeout: float = 600.0,
    cwd: str | os.PathLike[str] | None = None,
) -> Report:
    """Run ``notebook`` with ``parameters`` and write its HTML report to ``html_path``
    (and the executed notebook to ``executed_path`` when given).

    When a cell fails, the report and executed notebook are still written (they show the
    outputs up to the error) and the ``NotebookCellError`` is raised.
    """
    source = Path(notebook)
    try:
        executed = run_notebook(source, parameters, timeout=timeout, cwd=cwd)
    except NotebookCellError as error:
        _write(error.notebook, source.stem, html_path, executed_path, hide_code)
        raise
    figures = _write(executed, source.stem, html_path, executed_path, hide_code)
    return Report(
        html=Path(html_path),
        notebook=Path(executed_path) if executed_path is not None else None,
        figures=figures,
    )


def notebook_html(notebook: NotebookNode, *, title: str = "report", hide_code: bool = False) -> str:
    """The standalone HTML of an executed notebook (see the module docstring)."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    static = _static_outputs(notebook)
    exporter = HTMLExporter(
        template_name="lab",
        extra_loaders=[DictLoader({_TEMPLATE_FILE: _TEMPLATE})],
        template_file=_TEMPLATE_FILE,
        exclude_input=hide_code,
        exclude_input_prompt=hide_code,
    )
    resources: dict[str, Any] = {
        "metadata": {"name": title},
        "plotly_js": _plotly_js() if count_figures(notebook) else "",
    }
    body, _ = exporter.from_notebook_node(static, resources=resources)
    return body


def count_figures(notebook: NotebookNode) -> int:
    """How many plotly figures the notebook's outputs hold."""
    return sum(
        PLOTLY_MIMETYPE in output.get("data", {})
        for cell in notebook.cells
        for output in cell.get("outputs", [])
    )


def _write(
    notebook: NotebookNode,
    title: str,
    html_path: str | os.PathLike[str],
    executed_path: str | os.PathLike[str] | None,
    hide_code: bool,
) -> int:
    import nbformat

    target = Path(html_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(notebook_html(notebook, title=title, hide_code=hide_code), encoding="utf-8")
    if executed_path is not None:
        Path(executed_path).parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, os.fspath(executed_path))
    return count_figures(notebook)


def _static_outputs(notebook: NotebookNode) -> NotebookNode:
    """A copy whose figures are HTML (drawn by the inlined plotly.js) and whose widgets
    are notes; the widget state is dropped (it would make nbconvert fetch a manager)."""
    static = copy.deepcopy(notebook)
    static.metadata.pop("widgets", None)
    models = notebook.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json")
    states = (models or {}).get("state", {})
    for cell in static.cells:
        for output in cell.get("outputs", []):
            data = output.get("data")
            if not data:
                continue
            if PLOTLY_MIMETYPE in data:
                output["data"] = {"text/html": _figure_html(data[PLOTLY_MIMETYPE])}
            elif WIDGET_MIMETYPE in data:
                model = states.get(data[WIDGET_MIMETYPE].get("model_id"), {})
                # The repr names the class (PoolBuilder); the model only its base (VBox).
                named = re.match(r"(\w+)\(", data.get("text/plain", ""))
                what = named.group(1) if named else model.get("model_name", "")
                output["data"] = {"text/html": _widget_note(what.removesuffix("Model"))}
    return static


def _figure_html(figure: dict[str, Any]) -> str:
    import plotly.io as pio

    config = {"responsive": True, "displaylogo": False, **figure.get("config", {})}
    shown = {"data": figure.get("data", []), "layout": figure.get("layout", {})}
    markup: str = pio.to_html(
        shown,
        include_plotlyjs=False,
        full_html=False,
        validate=False,
        config=config,
        default_width="100%",
    )
    return markup


def _widget_note(name: str) -> str:
    return _WIDGET_NOTE.format(what=f" ({html.escape(name)})" if name else "")


def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    script: str = get_plotlyjs()
    return script
