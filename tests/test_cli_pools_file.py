"""``commstoolkit pools plan / apply / export``: pools as code on the command line.

Exit statuses through ``main()`` and through the real entry point (a subprocess), on a
sandbox file (``--db``) and on a sandbox server addressed as a live account (Twilio
credentials and ``COMMSTOOLKIT_BASE_URL`` in the environment, as a user would set them).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import commstoolkit as ct
from commstoolkit.apps.cli import main
from commstoolkit.sandbox import Sandbox
from commstoolkit.sandbox.server import run_server

REPO = Path(__file__).resolve().parents[1]
BAD = REPO / "tests" / "data" / "pool_files" / "bad"
BAD_FILES = sorted(BAD.glob("*.yaml"))


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m commstoolkit ARGS`` as a user runs it, stdin not a terminal."""
    environ = {
        **os.environ,
        **(env or {}),
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.run(
        [sys.executable, "-m", "commstoolkit", *args],
        capture_output=True,
        text=True,
        timeout=240,
        env=environ,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def db(tmp_path):
    """A seeded sandbox file (the default account: 300 senders, 3 pools)."""
    path = tmp_path / "account.sqlite3"
    ct.connect(sandbox=True, db=path, quiet=True).close()
    return path


def edit(path: Path) -> tuple[str, str]:
    """Drop one sender from the first pool of an exported file; (pool id, sender id)."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    entry = document["pools"][0]
    dropped = entry["members"]["include"].pop(0)
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return entry["id"], dropped


def members(db: Path, pool_id: str) -> set[str]:
    with ct.connect(sandbox=True, db=db, quiet=True) as client:
        return {s.id for s in client.sender_pools.members.list(pool_id)}


class Terminal(io.StringIO):
    """A stdin that is a terminal, where the user types ``answer``."""

    def isatty(self) -> bool:
        return True


# -- exit statuses through main() -------------------------------------------------------------


def test_export_plan_edit_apply_plan(db, tmp_path, capsys):
    path = tmp_path / "pools.yaml"
    assert main(["pools", "export", "-o", str(path), "--db", str(db)]) == 0
    assert f"Wrote the account's pools to {path}" in capsys.readouterr().err

    assert main(["pools", "plan", "-f", str(path), "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert out.count("unchanged ") == 3
    assert out.rstrip().endswith("Plan: 0 to create, 0 to change, 3 unchanged: no change.")

    pool_id, dropped = edit(path)
    before = members(db, pool_id)
    assert main(["pools", "plan", "-f", str(path), "--db", str(db)]) == 2
    out = capsys.readouterr().out
    assert f"({pool_id}): add 0, remove 1; {len(before) - 1} senders after" in out
    assert f"    - remove 1 sender: {dropped}\n" in out
    assert "Plan: 0 to create, 1 to change, 2 unchanged: changes pending." in out
    assert members(db, pool_id) == before  # planning changed nothing

    assert main(["pools", "apply", "-f", str(path), "--db", str(db), "--yes"]) == 0
    out = capsys.readouterr().out
    assert "Applied: 1 pool created or changed, 0 deleted." in out
    assert f"({pool_id})\n" in out.split("Applied:")[1]
    assert members(db, pool_id) == before - {dropped}
    assert main(["pools", "plan", "-f", str(path), "--db", str(db)]) == 0
    assert main(["pools", "apply", "-f", str(path), "--db", str(db)]) == 0
    assert "Nothing to apply." in capsys.readouterr().out


def test_export_to_stdout_is_the_file(db, capsys):
    assert main(["pools", "export", "--db", str(db)]) == 0
    document = yaml.safe_load(capsys.readouterr().out)
    assert document["version"] == 1 and len(document["pools"]) == 3


@pytest.mark.parametrize("path", BAD_FILES, ids=[p.stem for p in BAD_FILES])
def test_a_bad_file_is_one_line_and_exit_1(db, path, capsys):
    before = ct.export_pool_file(ct.connect(sandbox=True, db=db, quiet=True))
    fragment = path.read_text(encoding="utf-8").splitlines()[0].removeprefix("# expect: ")
    needs_account = any(
        what in fragment
        for what in ("not a sender of", "matches no sender", "has no pool", "no sender has")
    )
    for command in (["plan"], ["apply", "--yes"]):
        assert main(["pools", *command, "-f", str(path), "--db", str(db)]) == 1
        captured = capsys.readouterr()
        lines = captured.err.splitlines()
        # the file's own mistakes come before connecting: the error is the only line
        assert len(lines) == (2 if needs_account else 1), captured.err
        assert lines[-1].startswith(f"commstoolkit pools {command[0]}: error: {path}{fragment}")
        assert captured.out == ""
    assert ct.export_pool_file(ct.connect(sandbox=True, db=db, quiet=True)) == before


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["pools", "plan", "--db", "{db}"], "the following arguments are required: -f/--file"),
        (["pools", "plan", "-f", "{pools}", "--bogus"], "unrecognized arguments: --bogus"),
        (["pools", "apply", "-f", "{pools}", "--prune=yes"], "--prune: ignored explicit"),
    ],
)
def test_a_command_line_plan_and_apply_cannot_read_exits_1(db, tmp_path, capsys, args, fragment):
    places = {"{db}": str(db), "{pools}": str(tmp_path / "pools.yaml")}
    with pytest.raises(SystemExit) as caught:
        main([places.get(a, a) for a in args])
    assert caught.value.code == 1
    err = capsys.readouterr().err
    assert fragment in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["pools", "plan", "-f", "{missing}"], "No such file or directory"),
        (["pools", "apply", "-f", "{pools}"], "stdin is not a terminal"),
    ],
)
def test_plan_and_apply_fail_with_1_and_change_nothing(db, tmp_path, capsys, args, fragment):
    pools = tmp_path / "pools.yaml"
    pools.write_text("pools:\n  - name: fresh\n    members: {select: {channels: SMS}}\n")
    places = {"{missing}": str(tmp_path / "missing.yaml"), "{pools}": str(pools)}
    assert main([*(places.get(a, a) for a in args), "--db", str(db)]) == 1
    err = capsys.readouterr().err
    assert fragment in err and "Traceback" not in err
    with ct.connect(sandbox=True, db=db, quiet=True) as client:
        assert "fresh" not in {pool.name for pool in client.sender_pools.list()}


def test_usage_errors_exit_1_through_the_entry_point(tmp_path):
    # argparse's own errors: the subcommand's (a missing -f) and the top level's (an option
    # nobody knows) both exit 1 for plan, never 2 ("changes pending").
    assert run("pools", "plan").returncode == 1
    result = run("pools", "plan", "-f", str(tmp_path / "x.yaml"), "--bogus")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert run("pools", "list", "--bogus").returncode == 2  # other commands keep 2


def test_the_sandbox_asks_on_a_terminal(db, tmp_path, monkeypatch, capsys):
    path = tmp_path / "pools.yaml"
    ct.export_pool_file(ct.connect(sandbox=True, db=db, quiet=True), path)
    pool_id, dropped = edit(path)
    monkeypatch.setattr(sys, "stdin", Terminal("n\n"))
    assert main(["pools", "apply", "-f", str(path), "--db", str(db)]) == 1
    captured = capsys.readouterr()
    assert "Apply these changes to 1 pool of the sandbox? [y/N]" in captured.err
    assert "nothing applied (not confirmed)" in captured.err
    assert dropped in members(db, pool_id)

    monkeypatch.setattr(sys, "stdin", Terminal("y\n"))
    assert main(["pools", "apply", "-f", str(path), "--db", str(db)]) == 0
    assert dropped not in members(db, pool_id)


def test_prune_lists_then_deletes(db, tmp_path, capsys):
    path = tmp_path / "pools.yaml"
    ct.export_pool_file(ct.connect(sandbox=True, db=db, quiet=True), path)
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    kept, *dropped = document["pools"]
    document["pools"] = [kept]
    path.write_text(yaml.safe_dump(document), encoding="utf-8")

    assert main(["pools", "plan", "-f", str(path), "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert out.count("(--prune deletes it)") == 2
    assert main(["pools", "plan", "-f", str(path), "--db", str(db), "--prune"]) == 2
    out = capsys.readouterr().out
    for entry in dropped:
        assert f"delete {entry['name']!r} ({entry['id']}): not in the file" in out
    assert main(["pools", "apply", "-f", str(path), "--db", str(db), "--prune", "--yes"]) == 0
    assert "0 pools created or changed, 2 deleted." in capsys.readouterr().out
    with ct.connect(sandbox=True, db=db, quiet=True) as client:
        assert [p.id for p in client.sender_pools.list()] == [kept["id"]]
    assert main(["pools", "plan", "-f", str(path), "--db", str(db), "--prune"]) == 0


# -- the real entry point, against a sandbox server addressed as live -------------------------


@pytest.fixture
def server():
    box = Sandbox(":memory:")
    box.clock.instant = True
    with run_server(box) as running:
        yield box, running
    box.close()


def test_round_trip_against_a_server_addressed_as_live(server, tmp_path):
    box, running = server
    live = {
        "TWILIO_ACCOUNT_SID": box.account_sid,
        "TWILIO_AUTH_TOKEN": box.credentials()[1],
        "COMMSTOOLKIT_BASE_URL": running.base_url,
    }
    path = tmp_path / "pools.yaml"
    result = run("pools", "export", "-o", str(path), env=live)
    assert result.returncode == 0, result.stderr
    assert "is a commstoolkit sandbox server, not Twilio" in result.stderr  # and live

    result = run("pools", "plan", "-f", str(path), env=live)
    assert result.returncode == 0, result.stderr
    assert "no change" in result.stdout

    pool_id, dropped = edit(path)
    result = run("pools", "plan", "-f", str(path), env=live)
    assert result.returncode == 2, result.stderr
    assert f"remove 1 sender: {dropped}" in result.stdout

    refused = run("pools", "apply", "-f", str(path), env=live)
    assert refused.returncode == 1
    assert f"remove 1 sender: {dropped}" in refused.stdout  # the plan is shown first
    assert refused.stderr.strip().splitlines()[-1] == (
        "commstoolkit pools apply: error: nothing applied: this is a live account; check the "
        "plan above and run again with --yes to apply it"
    )
    assert box.credentials()[1] not in refused.stdout + refused.stderr
    with ct.CommsClient(
        account_sid=box.account_sid,
        auth_token=box.credentials()[1],
        base_url=running.base_url,
    ) as client:
        assert dropped in {s.id for s in client.sender_pools.members.list(pool_id)}

        result = run("pools", "apply", "-f", str(path), "--yes", env=live)
        assert result.returncode == 0, result.stderr
        assert dropped not in {s.id for s in client.sender_pools.members.list(pool_id)}

    result = run("pools", "plan", "-f", str(path), env=live)
    assert result.returncode == 0, result.stdout + result.stderr

    bad = BAD / "unknown_channel.yaml"
    result = run("pools", "plan", "-f", str(bad), env=live)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"commstoolkit pools plan: error: {bad}:6:25: pools[0].members.select.channels: 'MMS' "
        "is not one of SMS, RCS, EMAIL, WHATSAPP, PUSH"
    ]
