"""The committed notebooks: valid and output-free, and each runs top to bottom headless.

Every notebook runs in a real ipykernel (nbclient) against a fresh sandbox file; a failing
cell fails the test with the cell's source and the error (``execute`` below), and a
deliberately broken notebook checks that it does.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest

import commstoolkit as ct
from commstoolkit.apps.demo import DEMO_NOTEBOOKS, demo_notebooks_dir
from commstoolkit.apps.notebook_runner import NotebookCellError, notebook_parameters, run_notebook
from commstoolkit.apps.reports import count_figures

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
COMMITTED = sorted(NOTEBOOKS.glob("*.ipynb"))
DELIVERED = ("DELIVERED", "READ")
RATED = (*DELIVERED, "UNDELIVERED", "FAILED")
FLAGGED = re.compile(
    r"Sender \*\*(?P<address>[^*]+)\*\* \((?P<channel>\w+)\) delivers \*\*(?P<rate>\d+)%\*\* "
    r"\((?P<delivered>\d+) of (?P<messages>\d+) messages\) against (?P<rest>\d+)% for the rest"
)


def execute(notebook: Path | nbformat.NotebookNode, **parameters) -> nbformat.NotebookNode:
    """Run a notebook headless; a failing cell fails the test showing its source and error."""
    try:
        return run_notebook(notebook, parameters, timeout=180)
    except NotebookCellError as error:
        pytest.fail(f"{error}\n\n{error.traceback}", pytrace=False)


def outputs(notebook: nbformat.NotebookNode, cell_id: str, mimetype: str) -> list[str]:
    """The ``mimetype`` data (or stream text, for ``"stream"``) of one cell's outputs."""
    cell = next(c for c in notebook.cells if c.get("id") == cell_id)
    if mimetype == "stream":
        return [o["text"] for o in cell.outputs if o["output_type"] == "stream"]
    return [o["data"][mimetype] for o in cell.outputs if mimetype in o.get("data", {})]


def defaults(path: Path) -> dict[str, object]:
    """The notebook's parameter defaults, as values."""
    notebook = nbformat.read(path, as_version=4)
    return {k: ast.literal_eval(v) for k, v in notebook_parameters(notebook).items()}


def sandbox(db: Path) -> ct.CommsClient:
    return ct.connect(sandbox=True, db=db, quiet=True)


# -- the committed files -------------------------------------------------------------------


def test_the_four_notebooks_are_committed_and_packaged():
    assert [p.name for p in COMMITTED] == list(DEMO_NOTEBOOKS)
    assert {p.name for p in demo_notebooks_dir().glob("*.ipynb")} == set(DEMO_NOTEBOOKS)


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.stem)
def test_committed_notebook_is_valid_v4_5_with_ids_and_no_outputs(path):
    raw = nbformat.reads(path.read_text(encoding="utf-8"), as_version=nbformat.NO_CONVERT)
    nbformat.validate(raw)
    assert (raw.nbformat, raw.nbformat_minor) == (4, 5)
    assert raw.metadata.kernelspec.name == "python3"
    ids = [cell.get("id") for cell in raw.cells]
    assert all(ids) and len(set(ids)) == len(ids)
    code = [cell for cell in raw.cells if cell.cell_type == "code"]
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code)
    assert all("execution" not in cell.metadata for cell in code)
    assert "widgets" not in raw.metadata
    tagged = [c for c in raw.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and tagged[0].cell_type == "code"
    assert not [c for c in raw.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert raw.cells[0].cell_type == "markdown" and raw.cells[0].source.startswith("# ")


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.stem)
def test_parameters_default_to_the_sandbox_and_hold_no_secret(path):
    params = defaults(path)
    assert params["mode"] == "sandbox"
    assert {"sandbox_db", "seed", "senders"} <= set(params)
    assert not [name for name in params if re.search("token|secret|password|key", name)]
    source = path.read_text(encoding="utf-8")
    assert "TWILIO_AUTH_TOKEN =" not in source and "auth_token=" not in source


# -- each notebook, run headless on a fresh sandbox ----------------------------------------


@pytest.mark.slow
def test_sender_inventory_runs_and_reports_pool_health(tmp_path):
    db = tmp_path / "sandbox.sqlite3"
    executed = execute(NOTEBOOKS / "01_sender_inventory.ipynb", sandbox_db=str(db), seed=7)
    assert count_figures(executed) == 3
    with sandbox(db) as client:
        pools = ct.load_pools(client)
        report = ct.pool_report(client)
    assert f"300 senders, {len(pools)} pools" in outputs(executed, "load", "stream")[0]
    notes = outputs(executed, "health", "text/markdown")[0]
    for row in report.itertuples():
        if row.n_deactivated:
            assert f"**{row.name}**: {row.n_deactivated} of {row.size} senders" in notes
        if row.n_shared:
            assert f"**{row.name}** shares {row.n_shared} of its {row.size}" in notes


@pytest.mark.slow
def test_build_a_pool_creates_the_pool_its_filters_select(tmp_path):
    db = tmp_path / "sandbox.sqlite3"
    path = NOTEBOOKS / "02_build_a_pool.ipynb"
    params = defaults(path)
    executed = execute(path, sandbox_db=str(db), seed=7)
    assert count_figures(executed) == 1
    assert outputs(executed, "builder", "application/vnd.jupyter.widget-view+json")
    with sandbox(db) as client:
        senders = ct.load_senders(client)
        pools = ct.load_pools(client)
        created = pools[pools["name"] == params["pool_name"]]
        assert len(created) == 1
        members = ct.load_pool_members(client, created["pool_id"].iloc[0])
    expected = ct.select_senders(
        senders, channels=params["channels"], statuses=params["statuses"], tags=params["tags"]
    )
    assert 0 < len(expected) == len(members)
    assert set(members["sender_id"]) == set(expected["sender_id"])
    assert created["tags.team"].iloc[0] == params["pool_tags"]["team"]
    assert f"holds {len(expected):,} senders" in outputs(executed, "apply", "stream")[0]

    # Run again: the pool exists, the plan is empty, nothing changes.
    again = execute(path, sandbox_db=str(db), seed=7)
    plan = outputs(again, "plan", "text/plain")[0]
    assert "+0 -0" in plan
    with sandbox(db) as client:
        assert len(ct.load_pools(client)) == len(pools)


@pytest.mark.slow
def test_test_send_runs_and_its_finding_is_computed_from_the_messages(tmp_path):
    db = tmp_path / "sandbox.sqlite3"
    path = NOTEBOOKS / "03_test_send.ipynb"
    params = defaults(path)
    assert params["live_events"] is False  # the report stays as it was unless asked
    executed = execute(path, sandbox_db=str(db), seed=7, live_events=True)
    assert count_figures(executed) == 6  # the five, and the live chart as the send ended
    with sandbox(db) as client:
        messages = ct.load_messages(client)
        # The receiver's subscription is gone with the notebook: no sink left behind.
        assert list(client.event_streams.list_sinks()) == []
    # Issue 16: a receiver followed the send, its events agreeing with the API's statuses.
    (said,) = outputs(executed, "events-check", "stream")
    total = len(messages)
    assert re.search(rf"the last event of {total:,} of {total:,} messages is the status", said)
    live = outputs(executed, "live-events", "application/vnd.jupyter.widget-view+json")
    assert len(live) == 1  # the LiveSendView
    # Its static copy in the report: the bars count the API's messages by channel and outcome
    # (DELIVERED and READ together: a read may land after the notebook's last look).
    (static,) = outputs(executed, "events-check", "application/vnd.plotly.v1+json")
    drawn: dict[tuple[str, str], int] = {}
    for trace in static["data"]:
        if trace["type"] == "bar":
            outcome = "DELIVERED" if trace["name"] in ("DELIVERED", "READ") else trace["name"]
            for channel, count in zip(trace["x"], trace["y"], strict=True):
                key = (channel, outcome)
                drawn[key] = drawn.get(key, 0) + count
    channel = messages["channel"].astype(object).fillna(ct.frames.NO_SENDER)
    outcome = messages["status"].astype(str).replace({"READ": "DELIVERED"})
    counted = pd.crosstab(channel, outcome).stack()
    assert {k: v for k, v in drawn.items() if v} == {k: int(v) for k, v in counted.items() if v}
    assert len(messages) == params["generated_recipients"] + 5
    assert messages["status"].isin(RATED).all()  # tracked to the end
    # Issue 11 item 3: the unaddressable test number has no sender, and says so.
    no_sender = int(messages["sender_id"].isna().sum())
    assert no_sender == 1 and messages["channel"].isna().sum() == no_sender
    dry_run = outputs(executed, "dry-run", "text/plain")[0]
    assert re.search(rf"^no sender\s+{no_sender}$", dry_run, re.MULTILINE), dry_run
    summary = outputs(executed, "summary", "text/html")[0]
    assert summary.count("<th>no sender</th>") == 2 and "NaN" not in summary

    finding = outputs(executed, "finding", "text/markdown")[0]
    flagged = [m.groupdict() for m in FLAGGED.finditer(finding)]
    assert flagged, finding  # seed 7 has clearly bad senders in this pool
    rated = messages[messages["status"].isin(RATED) & messages["sender_id"].notna()]
    rated = rated[~rated["to"].str.startswith("+1500555000")]
    for sender in flagged:
        mine = rated[rated["sender_address"] == sender["address"]]
        delivered = int(mine["status"].isin(DELIVERED).sum())
        assert (int(sender["delivered"]), int(sender["messages"])) == (delivered, len(mine))
        assert int(sender["rate"]) == round(100 * delivered / len(mine))
        rest = rated[rated["sender_address"] != sender["address"]]
        assert int(sender["rest"]) == round(100 * rest["status"].isin(DELIVERED).mean())
    assert params["pool_name"] in finding


@pytest.mark.slow
def test_test_send_says_so_when_no_sender_stands_out(tmp_path):
    executed = execute(
        NOTEBOOKS / "03_test_send.ipynb",
        sandbox_db=str(tmp_path / "sandbox.sqlite3"),
        generated_recipients=20,  # a message or two per sender: no rate is telling
        magic_recipients=False,
    )
    finding = outputs(executed, "finding", "text/markdown")[0]
    assert finding.startswith("No sender stands out")


@pytest.mark.slow
def test_live_mode_without_credentials_stops_at_connect_and_never_falls_back(tmp_path):
    with pytest.raises(NotebookCellError) as caught:
        run_notebook(NOTEBOOKS / "03_test_send.ipynb", {"mode": "live"}, timeout=120)
    error = caught.value
    assert error.cell_id == "connect" and error.ename == "ConfigurationError"
    assert "sandbox=False needs credentials" in error.evalue
    assert not [c for c in error.notebook.cells if c.get("id") == "send" and c.outputs]


# -- the finding, on frames made to order (no kernel) --------------------------------------


@pytest.fixture(scope="module")
def finding():
    """The notebook's ``finding`` function, taken from its cell."""
    notebook = nbformat.read(NOTEBOOKS / "03_test_send.ipynb", as_version=4)
    source = next(c.source for c in notebook.cells if c.get("id") == "finding")
    namespace: dict[str, object] = {"MAGIC": ["+15005550003"]}
    exec(source.rsplit("\nMarkdown(", 1)[0], namespace)
    return namespace["finding"]


def _messages(counts: dict[str, tuple[int, int]]) -> pd.DataFrame:
    """Messages per sender address: ``{address: (delivered, undelivered)}``."""
    rows = []
    for address, (delivered, undelivered) in counts.items():
        statuses = ["DELIVERED"] * delivered + ["UNDELIVERED"] * undelivered
        rows += [
            {"to": f"+1415555{i:04d}", "status": s, "sender_id": "id-" + address}
            | {"sender_address": address, "channel": "SMS"}
            for i, s in enumerate(statuses)
        ]
    return pd.DataFrame(rows)


def test_finding_names_the_sender_that_delivers_clearly_worse(finding):
    frame = _messages({"+15550001": (29, 31), "+15550002": (98, 2), "+15550003": (97, 3)})
    text = finding(frame, "Promo")
    assert text == (
        "- Sender **+15550001** (SMS) delivers **48%** (29 of 60 messages) against 98% for "
        "the rest of the pool: consider removing it from **Promo**."
    )


def test_finding_puts_a_small_dip_down_to_chance(finding):
    frame = _messages({"+15550001": (8, 2), "+15550002": (95, 5), "+15550003": (96, 4)})
    assert finding(frame, "Promo").startswith(
        "No sender stands out in **Promo**: 3 senders delivered 95% of 210 messages"
    )


def test_finding_leaves_the_test_numbers_out(finding):
    frame = _messages({"+15550001": (50, 0), "+15550002": (50, 0)})
    failing = frame.iloc[:20].assign(to="+15005550003", status="FAILED")
    assert finding(pd.concat([frame, failing]), "P").startswith("No sender stands out")


def test_finding_with_nothing_final(finding):
    frame = _messages({"+15550001": (3, 0)}).assign(status="SENT")
    assert finding(frame, "P").startswith("No message with a sender reached a final status")


# -- a failing cell fails the test, showing the cell --------------------------------------


def _broken(tmp_path: Path) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Broken on purpose"),
        nbformat.v4.new_code_cell("total = 10\nparts = 0"),
        nbformat.v4.new_code_cell("share = total / parts  # divides by zero"),
        nbformat.v4.new_code_cell("print('never runs')"),
    ]
    path = tmp_path / "broken.ipynb"
    nbformat.write(notebook, path)
    return path


def test_a_failing_cell_fails_the_test_with_its_source_and_error(tmp_path):
    with pytest.raises(pytest.fail.Exception) as failed:
        execute(_broken(tmp_path))
    message = str(failed.value)
    assert "broken.ipynb: cell 3" in message
    assert "ZeroDivisionError: division by zero" in message
    assert "share = total / parts  # divides by zero" in message
    assert "never runs" not in message


def test_the_cell_error_carries_the_partly_executed_notebook(tmp_path):
    with pytest.raises(NotebookCellError) as caught:
        run_notebook(_broken(tmp_path))
    error = caught.value
    assert (error.number, error.ename) == (3, "ZeroDivisionError")
    assert error.cell_id == error.notebook.cells[2].id
    assert "----> 1 share = total / parts" in error.traceback
    assert error.notebook.cells[3].outputs == []  # execution stopped at the failure


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.stem)
def test_papermill_run_directly_reads_the_same_parameters(path):
    """``papermill NOTEBOOK OUT -p ...`` (its own reader of the parameters cell, which skips
    a line with ``=`` in its comment) sees every parameter, with the same defaults."""
    import papermill

    inspected = papermill.inspect_notebook(str(path))
    notebook = nbformat.read(path, as_version=4)
    assert {name: p["default"] for name, p in inspected.items()} == notebook_parameters(notebook)


# -- 04: pool health from the account's real traffic -------------------------------------------


def test_pool_health_finds_the_faults_planted_in_the_sandbox_history(tmp_path):
    db = tmp_path / "s.sqlite3"
    executed = execute(
        NOTEBOOKS / "04_pool_health.ipynb",
        sandbox_db=str(db),
        seed=7,
        traffic_days=7,
        daily_messages=2000,
        engine="duckdb",
    )
    with ct.connect(sandbox=True, db=db, quiet=True) as client:
        planted = client.sandbox.history_faults()
        client.sandbox.close()
    (findings,) = outputs(executed, "findings", "text/markdown")
    degrading = planted["degrading"]["senderId"]
    # The drift finding names the planted degrading sender, and no other.
    drift = re.findall(r"Sender \*\*[^*]+\*\* \(\w+, `([^`]+)`\) fell from", findings)
    assert drift == [degrading], findings
    bad = planted["badHour"]
    assert f"Messages to **{bad['country']}** at {bad['hourUtc']:02d}:00 UTC" in findings
    # A member deactivated in the window carried its messages before: named as DEACTIVATED.
    named = re.findall(r"\(\w+, `([^`]+)`\) is DEACTIVATED but carried", findings)
    with ct.connect(sandbox=True, db=db, quiet=True) as client:
        senders = ct.load_senders(client).set_index("sender_id")
        client.sandbox.close()
    assert named and all(senders.at[sender, "status"] == "DEACTIVATED" for sender in named)
    load = "".join(outputs(executed, "load", "stream"))
    assert re.search(r"^[\d,]+ messages from .* \([\d,]+ in the window before\)", load, re.M)
    duckdb = "".join(outputs(executed, "duckdb", "stream"))
    assert "DuckDB counts what pandas counts: True" in duckdb
    assert "The files give the same findings: True" in duckdb
    assert count_figures(executed) == 5
    # The doctor diagnoses the worst pool and shows its plan, each change with its reason;
    # nothing is applied by default.
    (diagnosis,) = outputs(executed, "doctor", "text/html")
    assert "commstoolkit-diagnosis" in diagnosis and "Diagnosis of pool" in diagnosis
    (plan,) = outputs(executed, "doctor-plan", "text/html")
    assert "commstoolkit-pool-plan" in plan and "Why:" in plan
    applied = "".join(outputs(executed, "doctor-apply", "stream"))
    assert "Not applied (apply_fixes is False)" in applied
    with ct.connect(sandbox=True, db=db, quiet=True) as client:
        assert client.sandbox.changes().pools == 0
        client.sandbox.close()


def test_pool_health_applies_the_doctor_s_plan_only_when_asked(tmp_path):
    db = tmp_path / "s.sqlite3"
    executed = execute(
        NOTEBOOKS / "04_pool_health.ipynb",
        sandbox_db=str(db),
        seed=7,
        traffic_days=7,
        daily_messages=2000,
        apply_fixes=True,
    )
    (applied,) = outputs(executed, "doctor-apply", "stream")
    match = re.match(r"Applied to '(?P<name>[^']+)': (?P<removed>\d+) removed", applied)
    assert match and int(match["removed"]) > 0, applied
    with ct.connect(sandbox=True, db=db, quiet=True) as client:
        (pool_id,) = [p.id for p in client.sender_pools.list() if p.name == match["name"]]
        after = ct.diagnose(client, pool_id)
        client.sandbox.close()
    assert after.of("deactivated_member") == []  # the plan removed them


def test_pool_health_on_a_sandbox_whose_clock_ran_past_its_history(tmp_path):
    """Days after seeding, a window ending now misses the history: the notebook says where it
    ends, and with that end as window_end it finds the planted faults again."""
    db = tmp_path / "s.sqlite3"
    with ct.connect(sandbox=True, db=db, seed=7, traffic_days=7, quiet=True) as client:
        client.sandbox.clock.advance(5 * 86400)
        history_end = client.sandbox.history_faults()["end"]
        planted = client.sandbox.history_faults()
        client.sandbox.close()
    late = execute(NOTEBOOKS / "04_pool_health.ipynb", sandbox_db=str(db))
    load = "".join(outputs(late, "load", "stream"))
    assert f"Note: this sandbox's history ends at {history_end}" in load
    assert f'run with window_end = "{history_end}"' in load
    (findings,) = outputs(late, "findings", "text/markdown")
    assert "fell from" not in findings  # the drift is out of this window
    judged = execute(NOTEBOOKS / "04_pool_health.ipynb", sandbox_db=str(db), window_end=history_end)
    load = "".join(outputs(judged, "load", "stream"))
    assert "Note: this sandbox's history" not in load
    assert re.search(rf"messages from .* to {history_end[:10]} {history_end[11:16]} UTC", load)
    (findings,) = outputs(judged, "findings", "text/markdown")
    drift = re.findall(r"Sender \*\*[^*]+\*\* \(\w+, `([^`]+)`\) fell from", findings)
    assert drift == [planted["degrading"]["senderId"]], findings
    late_doctor = "".join(outputs(late, "doctor", "stream"))
    assert "No pool carried traffic in the window" in late_doctor
