"""The import rules of design.md §3.

import-linter checks them (the contracts in `.importlinter`, run by scripts/check); these tests
plant each kind of violation in a copy of the package and see the check fail, naming the
contract it breaks. What import-linter cannot say stays here: heavy modules load lazily.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "commstoolkit"
CONFIG = ROOT / ".importlinter"

LAYERS = "Layers: apps > connect > widgets > pools | testsend | charts > frames > client"
APPS = "Apps: the entry point > the CLI > the demo > reports > notebook execution"
RULES = "The input rules (client.checks) import nothing of the client"
SANDBOX_ALONE = "The sandbox imports nothing of the package"
SANDBOX_IMPORTERS = "Only connect and the apps import the sandbox"
PANDAS = "pandas stays out of the floor, the client and the sandbox"
HTTPX = "httpx stays in the client"
VIEWS = "charts and widgets never touch the client"
CONNECT = "connect imports only the client, errors, models and the sandbox"
SANDBOX_LAYERS = "Sandbox: server > core > front > simulation > state"

# (id, file under commstoolkit/, code appended to it, the contracts it breaks); a file that
# does not exist yet is a new module.
PLANTS = [
    ("frames->widgets", "frames.py", "from commstoolkit.widgets import PoolBuilder", {LAYERS}),
    # An import inside a function counts like any other.
    ("frames->pools", "frames.py", "def _planted():\n    from .pools import plan_pool", {LAYERS}),
    (
        "sandbox/store->cli",
        "sandbox/state/store.py",
        "from commstoolkit import cli",
        # connect and notebook_runner import the sandbox, so they now reach the CLI above them;
        # and the CLI imports the sandbox's server, so the state now reaches the parts above it.
        {SANDBOX_ALONE, LAYERS, APPS, SANDBOX_LAYERS},
    ),
    ("pools/plan->testsend", "pools/plan.py", "from ..testsend import recipients", {LAYERS}),
    ("testsend->pools", "testsend/api.py", "from commstoolkit.pools import plan_pool", {LAYERS}),
    # The input rules import the models, so they now reach the client through frames too.
    ("models->frames", "models.py", "from .frames import load_senders", {LAYERS, RULES}),
    (
        "client/retry->connect",
        "client/retry.py",
        "from commstoolkit.connect import connect",
        {LAYERS},
    ),
    ("a new module in no layer", "analysis.py", "import math", {LAYERS}),
    ("connect->frames", "connect.py", "from .frames import load_senders", {CONNECT}),
    ("checks->client", "client/checks.py", "from ._http import HttpCore", {RULES}),
    ("notebook_runner->cli", "notebook_runner.py", "from . import cli", {APPS}),
    (
        "widgets->sandbox",
        "widgets/pool_builder.py",
        "from ..sandbox import Sandbox",
        {SANDBOX_IMPORTERS},
    ),
    # Inside the sandbox: the state never reaches up to the simulation or the front, and the
    # front answers for an Account without naming the Sandbox that assembles it.
    (
        "sandbox/state->simulation",
        "sandbox/state/seed.py",
        "from ..simulation.clock import Clock",
        {SANDBOX_LAYERS},
    ),
    (
        "sandbox/front->core",
        "sandbox/front/transport.py",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..core import Sandbox",
        {SANDBOX_LAYERS},
    ),
    ("a new sandbox module in no part", "sandbox/helpers.py", "import math", {SANDBOX_LAYERS}),
    ("client->pandas", "client/pagination.py", "import pandas", {PANDAS}),
    ("charts->httpx", "charts/_base.py", "import httpx", {HTTPX}),
    # The exception tree stays free of httpx, even for type checkers (errors -> httpx).
    (
        "errors->httpx",
        "errors.py",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import httpx",
        {HTTPX},
    ),
    ("charts->client", "charts/sends.py", "from ..client import CommsClient", {VIEWS}),
]


def _lint_imports(root: Path) -> tuple[int, dict[str, str], str]:
    """Run lint-imports on the package under ``root``: its exit code, {contract: KEPT|BROKEN}."""
    command = Path(sys.executable).with_name("lint-imports")
    env = {**os.environ, "PYTHONPATH": str(root), "COLUMNS": "1000", "NO_COLOR": "1"}
    result = subprocess.run(
        [str(command), str(root / ".importlinter"), "--no-cache"],
        cwd=root,  # lint-imports puts the working directory first on sys.path
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    verdicts = {
        match["name"]: match["verdict"]
        for match in re.finditer(r"^(?P<name>\S.*?) (?P<verdict>KEPT|BROKEN)\b", output, re.M)
    }
    return result.returncode, verdicts, output


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(
        PACKAGE, tmp_path / "commstoolkit", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(CONFIG, tmp_path / ".importlinter")
    return tmp_path


def _broken(verdicts: dict[str, str]) -> set[str]:
    named = {
        LAYERS, APPS, RULES, SANDBOX_ALONE, SANDBOX_IMPORTERS, SANDBOX_LAYERS, PANDAS, HTTPX, VIEWS,
        CONNECT,
    }  # fmt: skip
    return {
        prefix
        for name, verdict in verdicts.items()
        if verdict == "BROKEN"
        for prefix in named
        if name.startswith(prefix)
    }


def test_the_package_as_it_is_keeps_every_contract(tmp_path):
    code, verdicts, output = _lint_imports(_copy(tmp_path))
    assert code == 0, output
    contracts = re.findall(r"^\[importlinter:contract:", CONFIG.read_text(), re.M)
    assert len(verdicts) == len(contracts) and set(verdicts.values()) == {"KEPT"}, output
    assert _broken(verdicts) == set()


@pytest.mark.parametrize(
    ("where", "code", "broken"),
    [pytest.param(where, code, broken, id=name) for name, where, code, broken in PLANTS],
)
def test_a_planted_violation_fails_the_check(tmp_path, where, code, broken):
    root = _copy(tmp_path)
    path = root / "commstoolkit" / where
    before = path.read_text(encoding="utf-8") if path.exists() else ""
    path.write_text(f"{before}\n{code}\n", encoding="utf-8")

    returncode, verdicts, output = _lint_imports(root)

    assert returncode == 1, output
    assert _broken(verdicts) == broken, output
    # The report names the module that broke the rule.
    assert f"commstoolkit.{where.removesuffix('.py').replace('/', '.')}" in output, output


@pytest.mark.parametrize("heavy", ["plotly", "ipywidgets", "nbformat", "uvicorn", "sqlite3"])
def test_import_commstoolkit_stays_light(heavy):
    code = f"import sys, commstoolkit; print({heavy!r} in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
