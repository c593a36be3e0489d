"""Fixtures shared by the whole suite (a fresh in-memory sandbox and a client on it), and the
skip guard: every run prints how many tests skipped and why; under ``CI=true`` a skip whose
reason is not on ``ALLOWED_SKIPS`` fails the run (a green run that tested nothing is a lie).
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

import commstoolkit as ct

REPO = Path(__file__).resolve().parents[1]

# The only reasons a test may skip under CI: each names a platform this suite does not run on.
ALLOWED_SKIPS = {
    "SIGKILL is POSIX": "Windows has no SIGKILL; the crash tests run on Linux and macOS",
}
_skipped: Counter[str] = Counter()


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def _skip_reason(report: pytest.CollectReport | pytest.TestReport) -> str:
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return reason.removeprefix("Skipped: ")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        _skipped[_skip_reason(report)] += 1


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.skipped:
        _skipped[f"{_skip_reason(report)} (whole module {report.nodeid})"] += 1


def _unexplained() -> dict[str, int]:
    return {reason: n for reason, n in _skipped.items() if reason not in ALLOWED_SKIPS}


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    total = sum(_skipped.values())
    bad = _unexplained()
    terminalreporter.write_line(
        f"skips: {total} ({total - sum(bad.values())} on the allow-list in tests/conftest.py)"
    )
    for reason, n in sorted(_skipped.items()):
        mark = "allowed" if reason in ALLOWED_SKIPS else "NOT ALLOWED under CI=true"
        terminalreporter.write_line(f"  {n} x {reason}  [{mark}]")
    if bad and _in_ci():
        terminalreporter.write_line(
            f"CI=true: {sum(bad.values())} skip(s) without an allowed reason fail this run",
            red=True,
            bold=True,
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _in_ci() and _unexplained() and exitstatus in (0, 5):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True)
def _no_live_credentials(monkeypatch, tmp_path):
    """Tests never see the developer's Twilio credentials or shared sandbox file."""
    for name in (
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "TWILIO_API_KEY",
        "TWILIO_API_SECRET",
        "COMMSTOOLKIT_BASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COMMSTOOLKIT_SANDBOX_DB", str(tmp_path / "default-sandbox.sqlite3"))


@pytest.fixture
def client():
    """A client wired in-process to a fresh, seeded, in-memory sandbox."""
    with ct.connect(sandbox=True, db=":memory:", quiet=True) as sandbox_client:
        yield sandbox_client


@pytest.fixture(scope="session")
def contract_dir() -> Path:
    """The repo's copy of the official contract extract (contract/comms; see contract/NOTICE).

    Tests read nothing outside the repo: a missing copy is a broken checkout, not a skip.
    """
    path = REPO / "contract" / "comms"
    if not (path / "schemas.json").is_file():
        raise FileNotFoundError(f"{path}/schemas.json is missing: restore contract/ from git")
    return path
