"""The command line: ``demo`` and ``report`` as a user runs them (a real subprocess),
``senders export`` and ``pools list`` through ``main()``."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest

import commstoolkit as ct
from commstoolkit.apps.cli import main
from commstoolkit.apps.demo import (
    DEMO_NOTEBOOKS,
    MARKER_FILE,
    SANDBOX_FILE,
    check_out_folder,
    inventory_summary,
)
from commstoolkit.apps.reports import count_figures
from commstoolkit.errors import InvalidInputError

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
FIGURES = {"01_sender_inventory": 3, "02_build_a_pool": 1, "03_test_send": 5, "04_pool_health": 5}


def _run(*args, cwd=None, timeout=240):
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.run(
        [sys.executable, "-m", "commstoolkit", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=env,
    )


def test_version():
    result = _run("--version")
    assert result.returncode == 0
    assert re.fullmatch(r"commstoolkit \d+\.\d+\.\d+\n", result.stdout)


@pytest.mark.parametrize(
    "args",
    [["demo", "--senders", "many"], ["nonsense"], ["senders", "export", "--format", "xls"]],
)
def test_bad_arguments_exit_with_usage(args):
    result = _run(*args)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert re.fullmatch(
        r"commstoolkit[\w ]*: error: .+ \(see 'commstoolkit[\w ]* --help'\)\n", result.stderr
    )


# -- demo ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The README's command, ``python -m commstoolkit demo``, run once in an empty folder."""
    folder = tmp_path_factory.mktemp("clean")
    result = _run("demo", cwd=folder, timeout=400)
    assert result.returncode == 0, result.stdout + result.stderr
    return folder / "commstoolkit-demo", result.stdout


@pytest.mark.slow
def test_demo_writes_executed_notebooks_and_html_reports(demo):
    out, stdout = demo
    for name in DEMO_NOTEBOOKS:
        stem = Path(name).stem
        executed = nbformat.read(out / name, as_version=4)
        assert count_figures(executed) == FIGURES[stem]
        code = [c for c in executed.cells if c.cell_type == "code"]
        assert all(c.execution_count for c in code)
        assert not [o for c in code for o in c.outputs if o.output_type == "error"]
        injected = next(c for c in code if "injected-parameters" in c.metadata.get("tags", []))
        assert f"sandbox_db = {str(out / 'sandbox.sqlite3')!r}" in injected.source
        page = (out / f"{stem}.html").read_text(encoding="utf-8")
        assert page.count("Plotly.newPlot(") == FIGURES[stem]
        assert not re.findall(r"<script[^>]+src=", page)
        assert f"  {(out / f'{stem}.html').resolve()}" in stdout
        assert f"  {(out / name).resolve()}" in stdout
    assert f"jupyter lab {out.resolve()}" in stdout
    assert (out / MARKER_FILE).is_file()  # the sandbox file is the demo's own
    check_out_folder(out)  # so a second demo may replace it


@pytest.mark.slow
def test_demo_prints_each_notebook_then_the_inventory_of_its_sandbox(demo):
    out, stdout = demo
    assert stdout.splitlines()[0].startswith("commstoolkit demo: a fresh sandbox (300 senders")
    for stem, figures in FIGURES.items():
        plural = "" if figures == 1 else "s"
        assert re.search(rf"^  {stem}\.ipynb +{figures} chart{plural} +\d+\.\d s$", stdout, re.M)
    # The summary is the sandbox as the notebooks left it: the seeded account plus the pool
    # built by 02_build_a_pool.
    with ct.connect(sandbox=True, db=out / "sandbox.sqlite3", quiet=True) as client:
        frames = (ct.load_senders(client), ct.load_pools(client), ct.load_pool_members(client))
    assert stdout.rstrip().endswith(inventory_summary(*frames))
    assert "Senders: 300 in 4 pools" in stdout
    assert "us-marketing" in stdout
    # Deterministic: the senders are those of a fresh sandbox with the same seed.
    with ct.connect(sandbox=True, db=":memory:", seed=7, senders=300, quiet=True) as fresh:
        senders = ct.load_senders(fresh)
    table = pd.crosstab(
        senders["channel"], senders["status"], margins=True, margins_name="total", dropna=False
    )
    assert table.to_string() in stdout


def test_the_demo_replaces_only_its_own_sandbox_file(tmp_path):
    check_out_folder(tmp_path / "new")  # a folder to be made
    check_out_folder(tmp_path)  # an empty one
    (tmp_path / SANDBOX_FILE).write_bytes(b"someone's account")
    with pytest.raises(InvalidInputError, match="was not written by the demo"):
        check_out_folder(tmp_path)
    # A folder an earlier demo wrote before the marker existed: its first executed notebook
    # names the sandbox file.
    executed = nbformat.v4.new_notebook()
    injected = nbformat.v4.new_code_cell(f"sandbox_db = {str(tmp_path / SANDBOX_FILE)!r}")
    injected.metadata["tags"] = ["injected-parameters"]
    executed.cells = [injected]
    nbformat.write(executed, tmp_path / DEMO_NOTEBOOKS[0])
    check_out_folder(tmp_path)
    (tmp_path / DEMO_NOTEBOOKS[0]).unlink()
    (tmp_path / MARKER_FILE).write_text("demo", encoding="utf-8")
    check_out_folder(tmp_path)


def test_demo_refuses_a_sandbox_file_it_did_not_write(tmp_path):
    (tmp_path / SANDBOX_FILE).write_bytes(b"someone's account")
    result = _run("demo", "--out", str(tmp_path))
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "was not written by the demo" in result.stderr
    assert (tmp_path / SANDBOX_FILE).read_bytes() == b"someone's account"
    assert sorted(p.name for p in tmp_path.iterdir()) == [SANDBOX_FILE]


def test_demo_options():
    result = _run("demo", "--help")
    assert result.returncode == 0
    for option in ("--out", "--seed", "--senders"):
        assert option in result.stdout


# -- report --------------------------------------------------------------------------------


@pytest.mark.slow
def test_report_runs_a_notebook_with_parameters(tmp_path):
    db = tmp_path / "small.sqlite3"
    result = _run(
        "report",
        str(NOTEBOOKS / "01_sender_inventory.ipynb"),
        "-p",
        f"sandbox_db={db}",
        "-p",
        "seed=11",
        "-p",
        "senders=120",
        "-p",
        "statuses=ACTIVATED",
        "-o",
        str(tmp_path / "inventory.html"),
        "--executed",
        str(tmp_path / "inventory.ipynb"),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert f"Report: {tmp_path / 'inventory.html'} (3 charts)" in result.stdout
    page = (tmp_path / "inventory.html").read_text(encoding="utf-8")
    executed = nbformat.read(tmp_path / "inventory.ipynb", as_version=4)
    injected = next(
        c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])
    )
    assert "seed = 11\nsenders = 120\nstatuses = 'ACTIVATED'" in injected.source
    with ct.connect(sandbox=True, db=db, quiet=True) as client:
        activated = ct.load_senders(client, status="ACTIVATED")
        assert client.sandbox.state()["senders"] == 120
    line = f"{len(activated)} senders, 3 pools"
    assert len(activated) < 120 and line in page
    assert "300 senders" not in page


def _broken(folder: Path) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    parameters = nbformat.v4.new_code_cell("divisor = 0")
    parameters.metadata["tags"] = ["parameters"]
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Broken"),
        parameters,
        nbformat.v4.new_code_cell("result = 1 / divisor"),
    ]
    path = folder / "broken.ipynb"
    nbformat.write(notebook, path)
    return path


@pytest.mark.slow
def test_report_names_the_failing_cell_and_its_error(tmp_path):
    broken = _broken(tmp_path)
    result = _run("report", str(broken), "-o", str(tmp_path / "b.html"), cwd=tmp_path)
    assert result.returncode == 1
    assert re.search(
        r"broken\.ipynb: cell 3 \(id [\w-]+\) failed — ZeroDivisionError: division by zero",
        result.stderr,
    )
    assert "    result = 1 / divisor" in result.stderr
    assert "---->" not in result.stderr and "--verbose" in result.stderr
    assert (tmp_path / "b.html").is_file()  # the outputs up to the failure


@pytest.mark.slow
def test_report_verbose_shows_the_traceback(tmp_path, capsys):
    assert main(["report", str(_broken(tmp_path)), "-o", str(tmp_path / "b.html"), "-v"]) == 1
    assert "----> 1 result = 1 / divisor" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-p", "divisr=2"], "unknown parameter 'divisr'; this notebook's parameters: divisor"),
        (["-p", "auth_token=abc"], "looks like a credential"),
        (["-p", "divisor"], "expected name=value"),
    ],
)
def test_report_refuses_bad_parameters_before_running(tmp_path, capsys, args, message):
    assert main(["report", str(_broken(tmp_path)), *args]) == 2
    assert message in capsys.readouterr().err
    assert not list(tmp_path.glob("*.html"))


def test_report_on_a_missing_notebook(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nope.ipynb")]) == 2
    assert "no such notebook" in capsys.readouterr().err


# -- senders export and pools list ---------------------------------------------------------


@pytest.fixture
def account(tmp_path):
    """A seeded sandbox file and its senders frame."""
    db = tmp_path / "account.sqlite3"
    with ct.connect(sandbox=True, db=db, quiet=True) as client:
        senders = ct.load_senders(client)
    return db, senders


def _read(fmt: str, source) -> pd.DataFrame:
    if fmt == "csv":
        return pd.read_csv(source, dtype=str, keep_default_na=False)
    if fmt == "json":
        return pd.read_json(source, orient="records", dtype=False)
    return pd.read_parquet(source)


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_senders_export_round_trips(account, tmp_path, capsys, fmt):
    db, senders = account
    path = tmp_path / f"senders.{fmt}"
    assert main(["senders", "export", "--format", fmt, "-o", str(path), "--db", str(db)]) == 0
    assert f"Wrote {len(senders)} senders to {path}" in capsys.readouterr().err
    back = _read(fmt, path)
    assert list(back.columns) == list(senders.columns)
    assert any(c.startswith("tags.") for c in back.columns)
    assert list(back["sender_id"]) == list(senders["sender_id"])
    for column in ("address", "channel", "status", "tags.region"):
        expected = senders[column].astype(object).where(senders[column].notna(), "")
        assert list(back[column].astype(object).fillna("")) == list(expected), column
    created = pd.to_datetime(back["created_at"], utc=True)
    assert (created == senders["created_at"]).all()


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_senders_export_filters_to_stdout(account, capsys, fmt):
    db, senders = account
    args = ["senders", "export", "--format", fmt, "--status", "activated", "--channel", "SMS"]
    assert main([*args, "--channel", "rcs", "--db", str(db)]) == 0
    captured = capsys.readouterr()
    assert captured.err.startswith("commstoolkit: sandbox")  # stdout holds only data
    back = _read(fmt, io.StringIO(captured.out))
    expected = ct.select_senders(senders, channels=["SMS", "RCS"], statuses="ACTIVATED")
    assert sorted(back["sender_id"]) == sorted(expected["sender_id"])


def test_parquet_needs_a_file(account, capsys):
    assert main(["senders", "export", "--format", "parquet", "--db", str(account[0])]) == 2
    assert "parquet needs -o FILE" in capsys.readouterr().err


def test_pools_list_prints_every_pool(account, capsys):
    db, _ = account
    assert main(["pools", "list", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    with ct.connect(sandbox=True, db=db, quiet=True) as client:
        pools = ct.load_pools(client)
    for pool in pools.itertuples():
        assert re.search(rf"^\s*{re.escape(pool.name)}\s+{pool.pool_id}\s+{pool.size}\s", out, re.M)
    assert f"{len(pools)} pools, {pools['size'].sum()} memberships" in out
    assert "tags.team" in out


def test_pools_list_as_json_uses_the_default_sandbox(capsys):
    # No --db and no credentials: connect() picks the sandbox ($COMMSTOOLKIT_SANDBOX_DB).
    assert main(["pools", "list", "--format", "json"]) == 0
    captured = capsys.readouterr()
    pools = json.loads(captured.out)
    assert [p["name"] for p in pools] == [
        "Customer Support - NAMER",
        "Marketing Promotions - UK",
        "Ops Alerts - Global",
    ]
    assert "no Twilio credentials found" in captured.err


def test_group_commands_without_a_subcommand_print_their_help(capsys):
    assert main(["pools"]) == 2
    assert "list" in capsys.readouterr().out
