"""Findings at any volume: ``traffic_findings`` of an exported dataset, counted in DuckDB over
its Parquet files without loading the messages, are the findings of the same window loaded
from the API — the same sentences and the same numbers — planted faults included."""

from __future__ import annotations

import pandas as pd
import pytest

import commstoolkit as ct
from commstoolkit.analysis import dataset as dataset_module
from commstoolkit.analysis import (
    export_traffic,
    findings_sql,
    load_traffic,
    open_traffic,
    traffic_findings,
)
from commstoolkit.analysis.tallies import dataset_tallies, frame_tallies
from commstoolkit.frames import load_pool_members
from commstoolkit.sandbox import Sandbox
from tests.instant import instant_client


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """Seven days of the sandbox's production history: the last three loaded with the three
    before them, and the same six days exported to Parquet."""
    box = Sandbox(":memory:", seed=7, senders=300, traffic_days=7, daily_messages=5000)
    try:
        client = instant_client(box)
        traffic = load_traffic(client, "3d", compare=True)
        start, end = traffic.attrs["window"]
        folder = tmp_path_factory.mktemp("history") / "traffic"
        export_traffic(client, start - (end - start), end, folder, progress=False)
        yield traffic, open_traffic(folder), load_pool_members(client), box.history_faults()
    finally:
        box.close()


def _facts(found):
    return [(f.kind, f.severity, f.subject, f.text, f.evidence) for f in found]


def test_a_datasets_findings_are_the_loaded_windows(history, monkeypatch):
    traffic, dataset, members, planted = history
    start, end = traffic.attrs["window"]
    from_frame = traffic_findings(traffic, members=members)

    # The dataset's messages are never loaded: reading them back would fail here.
    def no_loading(*args, **kwargs):
        raise AssertionError("the messages were loaded")

    monkeypatch.setattr(dataset_module, "traffic_frame", no_loading)
    from_files = traffic_findings(dataset, members=members, start=start, end=end)
    assert _facts(from_files) == _facts(from_frame)
    assert from_files.tested == from_frame.tested > 100
    assert from_files.window == from_frame.window == (start, end)
    # ... and they are the planted ones.
    assert {f.subject["sender_id"] for f in from_files.of("drift")} == {
        planted["degrading"]["senderId"]
    }
    bad = planted["badHour"]
    assert {"to_country": bad["country"], "hour": bad["hourUtc"]} in [
        f.subject for f in from_files.of("failure_cluster")
    ]


def test_duckdb_tallies_what_pandas_tallies(history):
    traffic, dataset, _, _ = history
    start, end = traffic.attrs["window"]
    recent_from = end - pd.Timedelta("1D")
    in_pandas = frame_tallies(traffic, (start, end), recent_from)
    in_duckdb = dataset_tallies(dataset, (start, end), recent_from)
    pd.testing.assert_frame_equal(in_duckdb.frame, in_pandas.frame)
    assert in_duckdb.pool_names == in_pandas.pool_names
    # Every message of both windows is tallied once: the sums are the frame's own counts.
    assert in_pandas.frame["messages"].sum() == len(traffic)
    recent = traffic["created_at"] >= recent_from
    assert in_pandas.frame.loc[in_pandas.frame["recent"], "messages"].sum() == recent.sum()
    rated = traffic["status"].isin(["DELIVERED", "READ", "UNDELIVERED", "FAILED"])
    assert in_pandas.frame["rated"].sum() == rated.sum()


def test_a_datasets_window_and_recent_days_are_checked(history):
    traffic, dataset, _, _ = history
    start, end = traffic.attrs["window"]
    with pytest.raises(ct.InvalidInputError, match="recent='9D'"):
        traffic_findings(dataset, start=start, end=end, recent="9D")
    with pytest.raises(ct.InvalidInputError, match="recent='soon'"):
        traffic_findings(dataset, start=start, end=end, recent="soon")
    with pytest.raises(ct.InvalidInputError, match="start / end choose a window"):
        traffic_findings(traffic, start=start)


def test_the_findings_sql_is_written_for_each_engine():
    for dialect in ("duckdb", "spark", "trino"):
        sql = findings_sql(dialect, table="traffic")
        assert "GROUP BY 1, 2, 3, 4, 5, 6" in sql and sql.count("?") == 4
    with pytest.raises(ct.InvalidInputError, match="dialect='oracle'"):
        findings_sql("oracle")
