"""``commstoolkit traffic export``: the window into a dataset, one line on stderr; bad input
is one line and exit 2 before any request."""

from __future__ import annotations

from datetime import timedelta

import pytest

from commstoolkit.analysis import read_traffic
from commstoolkit.apps.cli import main

from .conftest import DAYS, NUMBERS


def test_export_writes_the_window_and_says_so(account, tmp_path, capsys):
    client, _, start, end = account
    db = str(client.sandbox.db_path)
    folder = tmp_path / "traffic"
    since, until = start.date().isoformat(), (end + timedelta(days=1)).date().isoformat()
    code = main(
        ["traffic", "export", "--since", since, "--until", until, "-o", str(folder), "--db", db]
    )
    err = capsys.readouterr().err
    assert code == 0, err
    total = DAYS * (2 * len(NUMBERS) + 2)
    assert f"Exported {total:,} messages" in err
    assert len(read_traffic(folder)) == total
    # Again: every day had ended when exported, so every day is kept.
    assert (
        main(
            ["traffic", "export", "--since", since, "--until", until, "-o", str(folder), "--db", db]
        )
        == 0
    )
    assert "kept from an earlier run" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--since", "7x"], "start: '7x' is not a date-time"),
        (["--since", "2025-06-03", "--until", "2025-06-01"], "must be after start"),
        (["--since", "7d", "--until", "1d"], "end: '1d' is a length"),
    ],
)
def test_bad_input_is_one_line_and_nothing_is_written(account, tmp_path, capsys, args, said):
    client, *_ = account
    folder = tmp_path / "traffic"
    code = main(
        ["traffic", "export", *args, "-o", str(folder), "--db", str(client.sandbox.db_path)]
    )
    err = capsys.readouterr().err
    assert code == 2, err
    assert said in err and len(err.strip().splitlines()) == 1, err
    assert not folder.exists()
