"""Executed notebooks and HTML reports hold no secret.

``commstoolkit demo`` and ``commstoolkit report`` run in a subprocess with a recognisable
``TWILIO_AUTH_TOKEN`` (and SID) in the environment, the notebooks forced onto the sandbox by
their ``mode`` parameter. Every file they write, and everything they print, is searched for
the token, raw and base64-encoded with the SID.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOKEN = "tok_HARDEN_5ecret"
SID = "AC00000000000000000000000000000000"
NEEDLES = (TOKEN.encode(), base64.b64encode(f"{SID}:{TOKEN}".encode()), b"5ecret")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def _run(arguments: list[str], tmp_path: Path) -> str:
    env = {
        **os.environ,
        "TWILIO_ACCOUNT_SID": SID,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "COMMSTOOLKIT_SANDBOX_DB": str(tmp_path / "shared.sqlite3"),
        "COMMSTOOLKIT_JOURNAL_DIR": str(tmp_path / "journals"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "commstoolkit.apps.cli", *arguments],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        timeout=280,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output.decode(errors="replace")[-2000:]
    for needle in NEEDLES:
        assert needle not in output, f"{needle!r} printed"
    return output.decode(errors="replace")


def _assert_no_file_holds_the_token(folder: Path) -> list[Path]:
    files = [path for path in folder.rglob("*") if path.is_file()]
    for path in files:
        content = path.read_bytes()
        for needle in NEEDLES:
            assert needle not in content, f"{needle!r} in {path.relative_to(folder)}"
    return files


def test_a_report_of_the_test_send_notebook_holds_no_secret(tmp_path):
    report, executed = tmp_path / "03.html", tmp_path / "03.ipynb"
    _run(
        [
            "report",
            str(REPO / "notebooks" / "03_test_send.ipynb"),
            "-p",
            "mode=sandbox",
            "-p",
            "senders=60",
            "-o",
            str(report),
            "--executed",
            str(executed),
        ],
        tmp_path,
    )
    written = _assert_no_file_holds_the_token(tmp_path)
    assert report in written and executed in written
    assert "sandbox=True" in executed.read_text(encoding="utf-8")  # it ran on the sandbox


def test_the_demos_notebooks_and_reports_hold_no_secret(tmp_path):
    out = tmp_path / "demo"
    _run(["demo", "--out", str(out), "--senders", "60"], tmp_path)
    written = _assert_no_file_holds_the_token(tmp_path)
    names = {path.name for path in written}
    for stem in ("01_sender_inventory", "02_build_a_pool", "03_test_send"):
        assert {f"{stem}.html", f"{stem}.ipynb"} <= names
