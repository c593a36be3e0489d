"""The command line as a new user meets it, in a real subprocess: every bad argument or file
is one line on stderr with the right exit status (2: the command line is wrong; 1: the work
failed), never a traceback unless ``--verbose``; output cut short by its reader ends quietly;
read-only commands never create a sandbox file; and a report asking for a seed never
reseeds the user's sandbox.

Each run gets its own HOME, XDG_DATA_HOME and COMMSTOOLKIT_SANDBOX_DB (under the test's
temporary folder), so the developer's own sandbox file is never touched.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import warnings
from pathlib import Path

import nbformat
import pytest

import commstoolkit as ct

REPO = Path(__file__).resolve().parents[1]
README_NOTEBOOK = REPO / "notebooks" / "03_test_send.ipynb"


@pytest.fixture
def place(tmp_path: Path) -> Path:
    """A folder holding what the bad arguments name: a folder, a file that is not SQLite,
    a CSV, a file that is not JSON but ends in .ipynb, a copy of a real notebook, and a
    folder holding a sandbox.sqlite3 that the demo did not write."""
    (tmp_path / "adir").mkdir()
    (tmp_path / "notdb.sqlite3").write_text("not a database\n", encoding="utf-8")
    (tmp_path / "table.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (tmp_path / "notjson.ipynb").write_text("a,b\n", encoding="utf-8")
    shutil.copy(README_NOTEBOOK, tmp_path / "send.ipynb")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "sandbox.sqlite3").write_bytes(b"the user's own file")
    (tmp_path / "home").mkdir()
    return tmp_path


def _env(place: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "COMMSTOOLKIT_"))}
    env.update(
        HOME=str(place / "home"),
        XDG_DATA_HOME=str(place / "home" / "data"),
        COMMSTOOLKIT_SANDBOX_DB=str(place / "shared" / "sandbox.sqlite3"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    )
    return env


def _run(place: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "commstoolkit", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=place,
        env=_env(place),
    )


@pytest.fixture
def busy_port():
    """A port something is already listening on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield str(sock.getsockname()[1])


USAGE, FAILED = 2, 1
NB = "{place}/send.ipynb"
# (arguments, exit status, a fragment of the one line on stderr). {place}: the fixture's
# folder; {busy}: a port in use.
BAD = [
    # read-only commands: a --db that is not there is refused, never created
    (["pools", "list", "--db", "{place}/missing/x.sqlite3"], USAGE, "does not exist"),
    (["senders", "export", "--db", "{place}/missing.sqlite3"], USAGE, "does not exist"),
    (["pools", "list", "--db", "{place}/adir"], USAGE, "is a folder"),
    (["senders", "export", "--db", "{place}/adir"], USAGE, "is a folder"),
    (["pools", "list", "--db", "{place}/notdb.sqlite3"], FAILED, "notdb.sqlite3"),
    (["senders", "export", "--db", "{place}/notdb.sqlite3"], FAILED, "notdb.sqlite3"),
    # export's output
    (["senders", "export", "-o", "{place}/adir"], USAGE, "is a folder"),
    (["senders", "export", "-o", "{place}/missing/x.csv"], USAGE, "does not exist"),
    (["senders", "export", "--format", "parquet"], USAGE, "parquet needs -o FILE"),
    (["senders", "export", "--format", "xls"], USAGE, "invalid choice: 'xls'"),
    (["senders", "export", "--status", "PAUSED"], USAGE, "invalid choice: 'PAUSED'"),
    # report's notebook, outputs, parameters and sandbox
    (["report", "{place}/table.csv"], USAGE, "not a notebook; give a .ipynb file"),
    (["report", "{place}/missing.ipynb"], USAGE, "no such notebook"),
    (["report", "{place}/adir"], USAGE, "not a notebook"),
    (["report", "{place}/notjson.ipynb"], USAGE, "is not a readable notebook"),
    (["report", NB, "-o", "{place}/adir"], USAGE, "is a folder"),
    (["report", NB, "-o", "{place}/missing/r.html"], USAGE, "does not exist"),
    (["report", NB, "--executed", "{place}/adir"], USAGE, "is a folder"),
    (["report", NB, "--executed", NB], USAGE, "is the notebook being run"),
    (["report", NB, "-p", "nope=1"], USAGE, "unknown parameter 'nope'"),
    (["report", NB, "-p", "auth_token=x"], USAGE, "looks like a credential"),
    (["report", NB, "-p", "seed"], USAGE, "expected name=value"),
    (["report", NB, "-p", "seed=-1"], USAGE, "-p seed=-1: expected a whole number from 0"),
    (["report", NB, "-p", "senders=0"], USAGE, "-p senders=0: expected a whole number from 1"),
    (["report", NB, "-p", "seed=eleven"], USAGE, "-p seed='eleven'"),
    (["report", NB, "--reset"], USAGE, "--reset needs the file to start over"),
    (["report", NB, "-p", "sandbox_db=:memory:", "--reset"], USAGE, "--reset needs the file"),
    (["report", NB, "-p", "mode=live", "--reset"], USAGE, "this run uses none"),
    (["report", NB, "-p", "sandbox_db={place}/adir"], USAGE, "is a folder"),
    (["report", NB, "-p", "sandbox_db={place}/notdb.sqlite3"], FAILED, "notdb.sqlite3"),
    (["report", NB, "--timeout", "0"], USAGE, "expected seconds above 0"),
    # demo's counts and output folder
    (["demo", "--senders", "-5"], USAGE, "senders must be a whole number from 1"),
    (["demo", "--senders", "0"], USAGE, "senders must be a whole number from 1"),
    (["demo", "--senders", "many"], USAGE, "expected a whole number from 1"),
    (["demo", "--seed", "-1"], USAGE, "seed must be a whole number from 0"),
    (["demo", "--out", "{place}/notdb.sqlite3"], USAGE, "is a file; give a folder"),
    (["demo", "--out", "{place}/mine"], USAGE, "was not written by the demo"),
    (["demo", "--out", "{place}/shared"], USAGE, "holds your default sandbox file"),
    # sandbox serve
    (["sandbox", "serve", "--port", "99999"], USAGE, "port must be a whole number from 0"),
    (["sandbox", "serve", "--port", "-1"], USAGE, "port must be a whole number from 0"),
    (["sandbox", "serve", "--seed", "-3"], USAGE, "seed must be a whole number from 0"),
    (["sandbox", "serve", "--senders", "0"], USAGE, "senders must be a whole number from 1"),
    (["sandbox", "serve", "--db", "{place}/adir", "--port", "0"], USAGE, "is a folder"),
    (["sandbox", "serve", "--db", "{place}/notdb.sqlite3", "--port", "0"], FAILED, "notdb"),
    (["sandbox", "serve", "--port", "{busy}"], FAILED, "cannot listen on 127.0.0.1:"),
    (["sandbox", "serve", "--reset", "--port", "{busy}"], FAILED, "choose another --port"),
    # the command itself
    (["nonsense"], USAGE, "invalid choice: 'nonsense'"),
    (["--frobnicate"], USAGE, "unrecognized arguments: --frobnicate"),
]


@pytest.mark.parametrize(
    ("args", "status", "fragment"), BAD, ids=[" ".join(case[0]) for case in BAD]
)
def test_a_bad_argument_is_one_line_and_an_exit_status(place, busy_port, args, status, fragment):
    argv = [a.format(place=place, busy=busy_port) for a in args]
    result = _run(place, *argv)
    assert (result.returncode, result.stderr.count("\n")) == (status, 1), result.stderr
    assert result.stderr.startswith("commstoolkit") and result.stderr.endswith("\n")
    assert fragment.format(place=place) in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    # Nothing was made: no sandbox file anywhere, the user's file as it was.
    assert not (place / "missing").exists() and not (place / "missing.sqlite3").exists()
    assert not (place / "shared").exists() and not (place / "home" / "data").exists()
    assert (place / "mine" / "sandbox.sqlite3").read_bytes() == b"the user's own file"
    assert (place / "notdb.sqlite3").read_text(encoding="utf-8") == "not a database\n"


@pytest.mark.parametrize("where", ["before", "after"])
def test_verbose_shows_the_traceback_of_a_runtime_error(place, where):
    command = ["pools", "list", "--db", str(place / "notdb.sqlite3")]
    argv = ["--verbose", *command] if where == "before" else [*command, "--verbose"]
    result = _run(place, *argv)
    assert result.returncode == 1
    assert result.stderr.startswith("Traceback (most recent call last):")
    assert result.stderr.splitlines()[-1].startswith("commstoolkit pools list: error: ")


def test_verbose_shows_the_traceback_of_a_usage_error_found_by_a_check(place):
    result = _run(place, "--verbose", "senders", "export", "-o", str(place / "adir"))
    assert result.returncode == 2
    assert "Traceback" in result.stderr and "is a folder" in result.stderr.splitlines()[-1]


def test_output_cut_short_by_its_reader_ends_quietly(place):
    db = place / "large.sqlite3"
    with ct.connect(sandbox=True, db=db, senders=3000, quiet=True):
        pass  # about 600 kB of CSV: far more than a pipe holds, so the writer must block
    command = [sys.executable, "-m", "commstoolkit", "senders", "export", "--format", "csv"]
    process = subprocess.Popen(
        [*command, "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=place,
        env=_env(place),
    )
    assert process.stdout is not None and process.stderr is not None
    header = process.stdout.readline()
    process.stdout.close()  # as `| head -1` does
    stderr = process.stderr.read().decode()
    assert process.wait(120) == 0, stderr
    assert header.startswith(b"sender_id,")
    assert stderr.startswith("commstoolkit: sandbox") and stderr.count("\n") == 1, stderr
    assert "Exception ignored" not in stderr and "BrokenPipeError" not in stderr


@pytest.fixture
def users_sandbox(place: Path) -> tuple[Path, str]:
    """The user's default sandbox file (COMMSTOOLKIT_SANDBOX_DB of the runs) holding a pool
    the user made; (its path, the pool's name)."""
    db = place / "shared" / "sandbox.sqlite3"
    with ct.connect(sandbox=True, db=db, quiet=True) as client:
        client.sandbox.clock.instant = True
        senders = ct.load_senders(client, status="ACTIVATED")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the plan's warnings (channels left out)
            ct.create_pool(client, "my own pool", senders.head(3), progress=False)
    return db, "my own pool"


def _pools_and_seed(db: Path) -> tuple[list[str], object]:
    with ct.connect(sandbox=True, db=db, quiet=True) as client:
        return list(ct.load_pools(client)["name"]), client.sandbox.state()["seed"]


@pytest.mark.slow
def test_the_readme_report_keeps_the_users_sandbox(place, users_sandbox):
    db, pool = users_sandbox
    before = _pools_and_seed(db)
    assert pool in before[0] and before[1] == 7
    (place / "out").mkdir()
    result = _run(
        place,
        "report",
        str(README_NOTEBOOK),
        "-p",
        "pool_name=Marketing Promotions - UK",
        "-p",
        "seed=11",
        "-o",
        str(place / "out" / "send.html"),
        "--executed",
        str(place / "out" / "send.ipynb"),
        timeout=400,
    )
    assert result.returncode == 0, result.stderr
    assert "an in-memory account of its own (seed 11)" in result.stdout
    assert _pools_and_seed(db) == before  # the pool is there, the file still has seed 7
    executed = nbformat.read(place / "out" / "send.ipynb", as_version=4)
    injected = next(
        c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])
    )
    assert "seed = 11" in injected.source and "sandbox_db = ':memory:'" in injected.source
    assert (place / "out" / "send.html").is_file()


def test_a_report_naming_the_users_file_with_another_seed_is_refused(place, users_sandbox):
    db, _ = users_sandbox
    before = _pools_and_seed(db)
    result = _run(place, "report", str(README_NOTEBOOK), "-p", f"sandbox_db={db}", "-p", "seed=11")
    assert (result.returncode, result.stderr.count("\n")) == (1, 1), result.stderr
    assert "--reset" in result.stderr and "Traceback" not in result.stderr
    assert _pools_and_seed(db) == before
    assert not list(place.glob("*.html"))  # refused before the notebook ran


@pytest.mark.slow
def test_a_report_with_reset_starts_the_named_file_over(place, users_sandbox):
    db, pool = users_sandbox
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    parameters = nbformat.v4.new_code_cell("sandbox_db = None\nseed = None\nsenders = None")
    parameters.metadata["tags"] = ["parameters"]
    notebook.cells = [
        parameters,
        nbformat.v4.new_code_cell(
            "import commstoolkit as ct\n"
            "client = ct.connect(sandbox=True, db=sandbox_db, seed=seed, senders=senders)\n"
            "print(sorted(ct.load_pools(client)['name']))"
        ),
    ]
    nbformat.write(notebook, place / "pools.ipynb")
    args = ["report", "pools.ipynb", "-p", f"sandbox_db={db}", "-p", "seed=11", "--reset"]
    result = _run(place, *args, timeout=300)
    assert result.returncode == 0, result.stderr
    names, seed = _pools_and_seed(db)
    assert pool not in names and seed == 11
    assert (place / "pools.html").is_file()


def test_sandbox_serve_with_another_seed_is_refused_without_reset(place, users_sandbox):
    db, _ = users_sandbox
    before = _pools_and_seed(db)
    result = _run(place, "sandbox", "serve", "--port", "0", "--db", str(db), "--seed", "11")
    assert (result.returncode, result.stderr.count("\n")) == (1, 1), result.stderr
    assert "--reset" in result.stderr and "Traceback" not in result.stderr
    assert _pools_and_seed(db) == before


def test_sandbox_serve_reset_starts_the_file_over(place, users_sandbox):
    db, pool = users_sandbox
    command = [sys.executable, "-m", "commstoolkit", "sandbox", "serve", "--port", "0"]
    process = subprocess.Popen(
        [*command, "--db", str(db), "--seed", "11", "--reset"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=place,
        env=_env(place),
    )
    assert process.stdout is not None
    try:
        banner = process.stdout.readline()
    finally:
        process.terminate()
        process.wait(30)
    assert banner.startswith("commstoolkit sandbox serving http://127.0.0.1:"), banner
    names, seed = _pools_and_seed(db)
    assert pool not in names and seed == 11


def test_a_port_in_use_is_found_before_the_sandbox_is_opened(place, users_sandbox, busy_port):
    db, _ = users_sandbox
    before = _pools_and_seed(db)
    args = ["sandbox", "serve", "--db", str(db), "--seed", "11", "--reset", "--port", busy_port]
    assert _run(place, *args).returncode == 1
    assert _pools_and_seed(db) == before


def test_a_read_only_command_on_a_missing_db_creates_nothing(place):
    missing = place / "nope" / "account.sqlite3"
    result = _run(place, "pools", "list", "--db", str(missing))
    assert result.returncode == 2 and "never creates one" in result.stderr
    assert not missing.parent.exists()
