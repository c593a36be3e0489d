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

LAYERS = "Layers: apps > connect > widgets > doctor > pools | testsend | charts | analysis > frames"
APPS = "Apps: the entry point > the CLI > the demo > reports > notebook execution"
RULES = "The input rules import only errors and models of the package"
SANDBOX_ALONE = "The sandbox imports nothing of the package"
SANDBOX_IMPORTERS = "Only connect and the apps import the sandbox"
PANDAS = "pandas stays out of the floor, the client and the sandbox"
HTTPX = "httpx stays in the client"
VIEWS = "charts and widgets never touch the client"
CONNECT = "connect imports only the client, errors, models and the sandbox"
POOLS = "Inside pools: plan > apply"
TESTSEND = "Inside testsend: api > result"
FRAMES = "Inside frames: load > build"
SCHEMA = "charts import only the schema of frames"
ANALYSIS = "Inside analysis: health | findings > tallies | event_sql > event_counts > sql"
DOCTOR = "Inside doctor: api > diagnosis"
SANDBOX_LAYERS = "Sandbox: server > core > front > events > simulation > state"
SANDBOX_EVENTS = "Inside the sandbox's events: service > delivery"
EVENTS = "Inside events: subscribe > receiver > records"

# (id, file under commstoolkit/, code appended to it, the contracts it breaks); a file that
# does not exist yet is a new module.
PLANTS = [
    # pools', testsend's and analysis' lower modules import frames, so through it they now
    # reach the top of their own package (widgets use pools.plan and testsend.api, and the
    # doctor, which widgets use, analysis' findings and its own api); the builders reach the
    # loaders (through frames' package, which widgets import).
    (
        "frames->widgets",
        "frames/build.py",
        "from commstoolkit.widgets import PoolBuilder",
        {LAYERS, POOLS, TESTSEND, FRAMES, ANALYSIS, DOCTOR},
    ),
    # An import inside a function counts like any other.
    (
        "frames->pools",
        "frames/load.py",
        "def _planted():\n    from ..pools import plan_pool",
        {LAYERS, POOLS},
    ),
    (
        "sandbox/store->cli",
        "sandbox/state/store.py",
        "from commstoolkit import cli",
        # connect and apps.notebook_runner import the sandbox, so they now reach the CLI above
        # them (the old path commstoolkit.cli re-exports it); and the CLI imports the
        # sandbox's server, so the state now reaches the parts above it (the events' lower
        # modules, which use the state, reach their service too).
        {SANDBOX_ALONE, LAYERS, APPS, SANDBOX_LAYERS, SANDBOX_EVENTS},
    ),
    ("pools/plan->testsend", "pools/plan.py", "from ..testsend import recipients", {LAYERS}),
    ("testsend->pools", "testsend/api.py", "from commstoolkit.pools import plan_pool", {LAYERS}),
    ("analysis->charts", "analysis/health.py", "from .. import charts", {LAYERS}),
    # Inside analysis: the dataset reader may not reach the SQL counting above it.
    ("analysis/dataset->sql", "analysis/dataset.py", "from . import sql", {ANALYSIS}),
    # ... nor the SQL counting the tallies that use it.
    ("analysis/sql->tallies", "analysis/sql.py", "from . import tallies", {ANALYSIS}),
    # The events' counting in pandas stays below their counting in DuckDB, which uses it.
    (
        "analysis/event_counts->event_sql",
        "analysis/event_counts.py",
        "from . import event_sql",
        {ANALYSIS},
    ),
    # frames' lower modules and the charts import the models: through them they now reach
    # the loaders.
    ("models->frames", "models.py", "from .frames import load_senders", {LAYERS, FRAMES, SCHEMA}),
    (
        "client/retry->connect",
        "client/retry.py",
        "from commstoolkit.connect import connect",
        {LAYERS},
    ),
    ("a new module in no layer", "insights.py", "import math", {LAYERS}),
    # The doctor joins the domain from above: the domain may not reach up to it (and the
    # doctor's diagnosis, which plans with pools, would then reach its own api through
    # them); inside it the findings' data may not reach the diagnosis built from them.
    (
        "pools/selection->doctor",
        "pools/selection.py",
        "from ..doctor import diagnose",
        {LAYERS, POOLS, DOCTOR},
    ),
    ("doctor/findings->diagnosis", "doctor/findings.py", "from . import diagnosis", {DOCTOR}),
    ("connect->frames", "connect.py", "from .frames import load_senders", {CONNECT}),
    # The rules sit below the client: the import breaks both contracts.
    ("rules->client", "rules.py", "from .client._http import HttpCore", {RULES, LAYERS}),
    # ... and the frames' listing and cache, which name the client, which checks with the
    # rules, now reach the loaders above them.
    (
        "rules->frames",
        "rules.py",
        "def _planted():\n    from . import frames",
        {RULES, LAYERS, FRAMES},
    ),
    ("apps/notebook_runner->cli", "apps/notebook_runner.py", "from . import cli", {APPS}),
    # Within the apps, an old path counts as what it re-exports: reports may not reach the
    # demo above it through commstoolkit.demo.
    ("apps/reports->the demo's old path", "apps/reports.py", "from .. import demo", {APPS}),
    (
        "apps/parameters->papermill_engine",
        "apps/parameters.py",
        "from . import papermill_engine",
        {APPS},
    ),
    (
        "sandbox/store->apps.demo",
        "sandbox/state/store.py",
        "from commstoolkit.apps import demo",
        {SANDBOX_ALONE, LAYERS, APPS, SANDBOX_LAYERS, SANDBOX_EVENTS},
    ),
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
    # Event Streams sit between the front and the simulation: the messages never reach for
    # them, and inside them the resources never reach for the delivery above.
    (
        "sandbox/simulation->events",
        "sandbox/simulation/messages.py",
        "from ..events import outbox",
        {SANDBOX_LAYERS},
    ),
    (
        "sandbox/events/streams->delivery",
        "sandbox/events/streams.py",
        "def _planted():\n    from .delivery import Deliverer",
        {SANDBOX_EVENTS},
    ),
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
    # The cycles once dodged by deferred imports stay ended: a plan does not reach for what
    # applies it, and a TestSend does not reach for test_send's module to resume.
    (
        "pools/pool_plan->apply",
        "pools/pool_plan.py",
        "def _planted():\n    from .apply import apply_plan",
        {POOLS},
    ),
    ("pools/apply->plan", "pools/apply.py", "from .plan import plan_pool", {POOLS}),
    ("pools/pool_file->plan", "pools/pool_file.py", "from .plan import plan_pool", {POOLS}),
    (
        "testsend/result->api",
        "testsend/result.py",
        "def _planted():\n    from .api import test_send",
        {TESTSEND},
    ),
    ("testsend/journal->sending", "testsend/journal.py", "from . import sending", {TESTSEND}),
    # The charts read the frames' schema, nothing else of frames: not the package (which
    # imports the loaders), not a builder.
    ("charts->frames", "charts/sends.py", "from ..frames import messages_frame", {SCHEMA}),
    ("charts->frames/build", "charts/_base.py", "from ..frames.build import typed_frame", {SCHEMA}),
    ("frames/schema->build", "frames/schema.py", "from . import build", {FRAMES}),
    ("frames/build->load", "frames/build.py", "from .load import DETAILS_LIMIT", {FRAMES}),
    # The split listing and the cache serve the loaders, beside the builders: none of the
    # three reaches for another.
    ("frames/listing->load", "frames/listing.py", "from .load import load_senders", {FRAMES}),
    ("frames/cache->build", "frames/cache.py", "from .build import typed_frame", {FRAMES}),
    # The slices of a window serve the loader and the export, never the other way round.
    ("analysis/slices->export", "analysis/slices.py", "from . import export", {ANALYSIS}),
    # The toolkit's events: a sibling of the frames and metrics, no HTTP client, the records
    # below the receiver.
    ("metrics->events", "metrics.py", "from .events import load_events", {LAYERS}),
    ("events->httpx", "events/receiver.py", "import httpx", {HTTPX}),
    (
        "events/records->receiver",
        "events/records.py",
        "def _planted():\n    from .receiver import EventReceiver",
        {EVENTS},
    ),
    # subscribe (through the client) sits above the receiver, which never reaches up to it.
    (
        "events/receiver->subscribe",
        "events/receiver.py",
        "def _planted():\n    from .subscribe import subscribe",
        {EVENTS},
    ),
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
        *(LAYERS, APPS, RULES, SANDBOX_ALONE, SANDBOX_IMPORTERS, PANDAS, HTTPX, VIEWS, CONNECT),
        *(POOLS, TESTSEND, FRAMES, SCHEMA, SANDBOX_LAYERS, SANDBOX_EVENTS, EVENTS),
        *(ANALYSIS, DOCTOR),
    }
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
