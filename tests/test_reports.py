"""Parameters (papermill-style), secrets kept out, and the offline HTML of a report."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import plotly.express as px
import pytest

from commstoolkit.apps.notebook_runner import (
    INJECTED_TAG,
    REDACTED,
    inject_parameters,
    notebook_parameters,
    parse_parameter,
    redact_secrets,
    run_notebook,
)
from commstoolkit.apps.reports import PLOTLY_MIMETYPE, count_figures, notebook_html, write_report
from commstoolkit.errors import InvalidInputError

REPO = Path(__file__).resolve().parents[1]


def _notebook(
    parameters: str | None = "pool = 'a'\nseed = None\nlimit: int = 5",
) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    cells = [nbformat.v4.new_markdown_cell("# Title")]
    if parameters is not None:
        cell = nbformat.v4.new_code_cell(parameters)
        cell.metadata["tags"] = ["parameters"]
        cells.append(cell)
    cells.append(nbformat.v4.new_code_cell("print(pool, seed, limit)"))
    notebook.cells = cells
    return notebook


# -- parse_parameter ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("seed=11", ("seed", 11)),
        ("rate=0.5", ("rate", 0.5)),
        ("live=True", ("live", True)),
        ("db=None", ("db", None)),
        ("channels=['SMS', 'RCS']", ("channels", ["SMS", "RCS"])),
        ("tags={'team': 'qa'}", ("tags", {"team": "qa"})),
        ("name='quoted'", ("name", "quoted")),
        ("pool_name=Marketing Promotions - UK", ("pool_name", "Marketing Promotions - UK")),
        ("sandbox_db=/tmp/demo/sandbox.sqlite3", ("sandbox_db", "/tmp/demo/sandbox.sqlite3")),
        ("text=a=b", ("text", "a=b")),
        ("text=", ("text", "")),
        (" seed = 3 ", ("seed", 3)),
    ],
)
def test_values_are_python_literals_when_they_parse_else_text(text, expected):
    assert parse_parameter(text) == expected


@pytest.mark.parametrize("text", ["seed", "=3", "1x=2", "a-b=3"])
def test_a_parameter_needs_a_name_and_a_value(text):
    with pytest.raises(InvalidInputError, match="expected name=value"):
        parse_parameter(text)


@pytest.mark.parametrize("name", ["auth_token", "TWILIO_AUTH_TOKEN", "api_secret", "api_key"])
def test_credentials_are_refused_as_parameters(name):
    with pytest.raises(InvalidInputError, match=r"looks like a credential.*environment"):
        parse_parameter(f"{name}=abc")
    with pytest.raises(InvalidInputError, match="looks like a credential"):
        inject_parameters(_notebook(), {name: "abc"}, strict=False)


# -- inject_parameters ----------------------------------------------------------------------


def test_parameters_cell_defaults_are_read():
    assert notebook_parameters(_notebook()) == {"pool": "'a'", "seed": "None", "limit": "5"}
    assert notebook_parameters(_notebook(None)) == {}


def test_injected_cell_follows_the_parameters_cell():
    source = _notebook()
    injected = inject_parameters(source, {"seed": 11, "pool": "x y"})
    assert [c.metadata.get("tags", []) for c in injected.cells] == [
        [],
        ["parameters"],
        [INJECTED_TAG],
        [],
    ]
    assert injected.cells[2].source == "# Parameters injected for this run\nseed = 11\npool = 'x y'"
    assert len(source.cells) == 3  # the original is untouched
    nbformat.validate(injected)


def test_injecting_again_replaces_the_earlier_injection():
    once = inject_parameters(_notebook(), {"seed": 1})
    twice = inject_parameters(once, {"seed": 2})
    tagged = [c for c in twice.cells if INJECTED_TAG in c.metadata.get("tags", [])]
    assert len(twice.cells) == 4 and len(tagged) == 1 and "seed = 2" in tagged[0].source
    assert len(inject_parameters(once, {}).cells) == 3


def test_unknown_parameters_are_an_error_listing_the_known_ones():
    with pytest.raises(InvalidInputError, match=r"unknown parameter 'sed'.*pool, seed, limit"):
        inject_parameters(_notebook(), {"sed": 3})


def test_without_a_parameters_cell_injection_goes_first_when_not_strict():
    injected = inject_parameters(_notebook(None), {"pool": "b"}, strict=False)
    assert INJECTED_TAG in injected.cells[0].metadata["tags"]
    with pytest.raises(InvalidInputError, match="none \\(no cell is tagged 'parameters'\\)"):
        inject_parameters(_notebook(None), {"pool": "b"})


# -- secrets -------------------------------------------------------------------------------


def test_redact_secrets_in_sources_and_outputs():
    notebook = _notebook()
    notebook.cells[2].source = "print('s3cret-value')"
    notebook.cells[2].outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="token s3cret-value\n"),
        nbformat.v4.new_output("execute_result", data={"text/html": "<b>s3cret-value</b>"}),
    ]
    assert redact_secrets(notebook, ["s3cret-value"]) == 3
    text = nbformat.writes(notebook)
    assert "s3cret-value" not in text and text.count(REDACTED) == 3


@pytest.mark.slow
def test_a_run_never_writes_the_environment_secret(monkeypatch, tmp_path):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "tok-0123456789abcdef")
    notebook = _notebook("pool = 'a'\nseed = None\nlimit = 1")
    notebook.cells.append(nbformat.v4.new_code_cell("import os\nos.environ['TWILIO_AUTH_TOKEN']"))
    executed = run_notebook(notebook, {"seed": 4})
    text = nbformat.writes(executed)
    assert "tok-0123456789abcdef" not in text and REDACTED in text
    assert "a 4 1" in executed.cells[3].outputs[0]["text"]  # parameters reached the kernel


# -- HTML ----------------------------------------------------------------------------------


def _executed_with_figures(
    n: int, widget: bool = False, repr_: str = "IntSlider(value=3)"
) -> nbformat.NotebookNode:
    """An 'executed' notebook holding ``n`` plotly figures as the kernel leaves them."""
    notebook = _notebook()
    for i in range(n):
        figure = px.bar(x=["a", "b"], y=[i, 2], title=f"Figure {i}").to_plotly_json()
        cell = nbformat.v4.new_code_cell(f"fig{i}")
        cell.outputs = [nbformat.v4.new_output("display_data", data={PLOTLY_MIMETYPE: figure})]
        notebook.cells.append(cell)
    if widget:
        cell = nbformat.v4.new_code_cell("slider")
        view = {"model_id": "m1", "version_major": 2, "version_minor": 0}
        cell.outputs = [
            nbformat.v4.new_output(
                "execute_result",
                data={"application/vnd.jupyter.widget-view+json": view, "text/plain": repr_},
            )
        ]
        notebook.cells.append(cell)
        notebook.metadata["widgets"] = {
            "application/vnd.jupyter.widget-state+json": {
                "state": {"m1": {"model_name": "IntSliderModel", "state": {}}},
                "version_major": 2,
                "version_minor": 0,
            }
        }
    return notebook


def test_report_html_is_standalone_and_offline():
    page = notebook_html(_executed_with_figures(2, widget=True), title="demo")
    assert "<title>demo</title>" in page
    assert not re.findall(r"<script[^>]+src=", page)  # no require.js, MathJax, widget manager
    assert not re.findall(r"<link[^>]+href=[\"']https?:", page)
    assert page.count("Plotly.newPlot(") == 2
    assert page.count('class="plotly-graph-div"') == 2
    assert "Figure 0" in page and "Figure 1" in page
    assert "Interactive widget (IntSlider): it runs in JupyterLab" in page
    assert "application/vnd.jupyter.widget-state+json" not in page
    # plotly.js itself, inline, once
    assert page.count('<script type="text/javascript">/**\n* plotly.js v') == 1


def test_a_widget_is_named_by_its_class_else_its_model():
    page = notebook_html(_executed_with_figures(0, widget=True, repr_="PoolBuilder(children=())"))
    assert "Interactive widget (PoolBuilder)" in page
    page = notebook_html(_executed_with_figures(0, widget=True, repr_="<widget>"))
    assert "Interactive widget (IntSlider)" in page


def test_report_without_figures_leaves_plotly_js_out():
    page = notebook_html(_executed_with_figures(0))
    assert "plotly.js v" not in page and "<h1" in page


def test_hide_code_leaves_the_code_out():
    executed = _executed_with_figures(1)
    assert "fig0" in notebook_html(executed)
    assert "fig0" not in notebook_html(executed, hide_code=True)


def test_count_figures():
    assert count_figures(_executed_with_figures(3)) == 3
    assert count_figures(_notebook()) == 0


@pytest.mark.slow
def test_write_report_writes_html_and_executed_notebook(tmp_path):
    path = tmp_path / "nb.ipynb"
    notebook = _notebook()
    notebook.cells.append(
        nbformat.v4.new_code_cell("import plotly.express as px\npx.bar(x=[1, 2], y=[limit, 3])")
    )
    nbformat.write(notebook, path)
    report = write_report(
        path,
        tmp_path / "out" / "nb.html",
        {"limit": 9},
        executed_path=tmp_path / "out" / "nb.ipynb",
    )
    assert report.figures == 1
    executed = nbformat.read(report.notebook, as_version=4)
    assert count_figures(executed) == 1
    assert "'a' None 9" not in report.html.read_text() and "a None 9" in report.html.read_text()
    # tqdm bars are off and plotly draws into its mimetype, not a pasted plotly.js
    assert "plotly.js v" not in nbformat.writes(executed)
