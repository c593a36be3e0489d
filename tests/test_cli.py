"""The command line, run as a user runs it: a real subprocess."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest


def _run(*args, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "commstoolkit", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_version():
    result = _run("--version")
    assert result.returncode == 0
    assert re.fullmatch(r"commstoolkit \d+\.\d+\.\d+\n", result.stdout)


def test_demo_prints_the_inventory_of_a_fresh_sandbox():
    result = _run("demo")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "sandbox" in out.splitlines()[0]
    match = re.search(r"Senders: (\d+) in (\d+) pools", out)
    assert match and match.groups() == ("300", "3")
    table = out.split("Senders by channel and status:")[1].split("Pools:")[0]
    for channel in ("SMS", "RCS", "EMAIL", "WHATSAPP", "PUSH"):
        assert re.search(rf"^{channel}\s+\d+\s+\d+\s+\d+$", table, re.M), channel
    total = re.search(r"^total\s+(\d+)\s+(\d+)\s+(\d+)$", table, re.M)
    assert total and int(total.group(3)) == 300
    assert int(total.group(1)) + int(total.group(2)) == 300
    assert re.search(r"Senders in more than one pool: [1-9]\d*", out)


def test_demo_is_deterministic_for_a_seed(tmp_path):
    first = _run("demo", "--seed", "11", "--senders", "120")
    second = _run("demo", "--seed", "11", "--senders", "120")
    assert first.returncode == second.returncode == 0
    assert first.stdout.splitlines()[1:] == second.stdout.splitlines()[1:]
    assert "Senders: 120 in 3 pools" in first.stdout


@pytest.mark.parametrize("args", [["demo", "--senders", "many"], ["nonsense"]])
def test_bad_arguments_exit_with_usage(args):
    result = _run(*args)
    assert result.returncode == 2
    assert "usage:" in result.stderr
