"""The Parquet dataset: an export reads back as the frame ``load_traffic`` gives, an
interrupted export resumes to exactly the dataset of an uninterrupted one, a folder is
never overwritten by surprise, and DuckDB's health is pandas' health."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

import commstoolkit as ct
from commstoolkit.analysis import (
    BY,
    export_traffic,
    health_events_sql,
    health_sql,
    load_traffic,
    open_traffic,
    read_traffic,
    traffic_health,
)
from commstoolkit.analysis.manifest import MANIFEST

from .conftest import DAYS, NUMBERS

ROOT = Path(__file__).resolve().parents[2]


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))


def test_an_export_reads_back_as_the_loaded_frame(account, tmp_path):
    client, pools, start, end = account
    result = export_traffic(client, start, end, tmp_path / "t")
    assert result.messages == DAYS * (2 * len(NUMBERS) + 2)
    assert len(result.written) == DAYS + 1  # the window ends a minute into a fourth day
    assert f"{result.messages:,} messages" in str(result)
    days = sorted(p.name for p in (tmp_path / "t").iterdir() if p.is_dir())
    assert days == [f"day={d.isoformat()}" for d in sorted(result.written)]
    loaded = load_traffic(client, start, end)
    back = read_traffic(tmp_path / "t")
    _same(back, loaded)
    assert back.attrs["window"] == loaded.attrs["window"]
    # A sub-window and filters, pushed down, give what filtering the frame gives.
    day_two = pd.Timestamp(start + timedelta(days=1))
    part = read_traffic(tmp_path / "t", day_two, day_two + pd.Timedelta(days=1), pools="East")
    want = loaded[
        (loaded["created_at"] >= day_two)
        & (loaded["created_at"] < day_two + pd.Timedelta(days=1))
        & (loaded["pool_id"] == pools["East"])
    ]
    _same(part, want)
    gb = read_traffic(tmp_path / "t", countries="gb")
    _same(gb, loaded[loaded["to_country"] == "GB"])


def test_a_rerun_keeps_complete_days_and_other_filters_are_refused(account, tmp_path):
    client, _, start, end = account
    folder = tmp_path / "t"
    first = export_traffic(client, start, end, folder)
    again = export_traffic(client, start, end, folder)
    # Every day had ended when it was exported except none: the sandbox's clock is years
    # behind the wall clock, so every day counts as complete and is kept.
    assert again.written == {} and again.kept == first.written
    with pytest.raises(ct.ConfigurationError, match="holds an export with the filters"):
        export_traffic(client, start, end, folder, channel="SMS")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(ct.ConfigurationError, match="not empty and holds no traffic export"):
        export_traffic(client, start, end, tmp_path / "other")
    assert (tmp_path / "other" / "notes.txt").read_text() == "mine"


def test_memory_holds_one_row_group_at_a_time(account, tmp_path):
    client, _, start, end = account
    export_traffic(client, start, end, tmp_path / "t", rows_per_group=4)
    files = sorted((tmp_path / "t").glob("day=*/part-0.parquet"))
    groups = [pq.ParquetFile(f).metadata.num_row_groups for f in files]
    sizes = [pq.ParquetFile(f).metadata.row_group(0).num_rows for f in files]
    assert max(groups) > 1 and max(sizes) <= 4 + 999  # a page is added whole, then flushed


_EXPORT = textwrap.dedent(
    """
    import sys
    import commstoolkit as ct
    from commstoolkit.analysis import export_traffic
    from commstoolkit.sandbox import Sandbox
    from tests.instant import instant_client

    box = Sandbox(sys.argv[1])
    box.faults.add("GET /Messages", latency=float(sys.argv[4]))
    client = instant_client(box)
    # One page after the other: the kill must land between days (a concurrent export
    # fetches every day's first page at once, and the days of this account are one page).
    export_traffic(client, sys.argv[2], sys.argv[3], sys.argv[5], rows_per_group=3, concurrency=1)
    """
)


def test_an_export_killed_mid_way_resumes_to_the_same_dataset(account, tmp_path):
    client, _, start, end = account
    box = client.sandbox
    script = tmp_path / "export.py"
    script.write_text(_EXPORT)
    folder = tmp_path / "killed"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    args = [str(box.db_path), start.isoformat(), end.isoformat()]
    process = subprocess.Popen(
        [sys.executable, str(script), *args, "0.4", str(folder)], env=env, cwd=ROOT
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            manifest = folder / MANIFEST
            if manifest.exists() and len(json.loads(manifest.read_text())["days"]) >= 1:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the export wrote no day within 60 s")
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        process.kill()
    box.faults.clear()
    done = json.loads((folder / MANIFEST).read_text())["days"]
    assert 1 <= len(done) < DAYS + 1, "the kill landed after the export finished"
    resumed = export_traffic(client, start, end, folder)
    assert set(resumed.kept) == {pd.Timestamp(d).date() for d in done}
    assert not list(folder.rglob("*.partial"))
    whole = export_traffic(client, start, end, tmp_path / "whole")
    _same(read_traffic(folder), read_traffic(tmp_path / "whole"))
    assert resumed.messages == whole.messages
    ids = read_traffic(folder)["message_id"]
    assert ids.is_unique


@pytest.mark.parametrize("by", list(BY))
def test_duckdb_counts_what_pandas_counts(account, tmp_path, by):
    client, _, start, end = account
    folder = tmp_path / "t"
    export_traffic(client, start, end, folder)
    middle = pd.Timestamp(start + timedelta(days=2))
    window = (middle, pd.Timestamp(end))
    frame = read_traffic(folder, window[0] - (window[1] - window[0]), window[1])
    frame.attrs["window"] = window
    in_pandas = traffic_health(frame, by)
    in_duckdb = traffic_health(open_traffic(folder), by, start=window[0], end=window[1])
    pd.testing.assert_frame_equal(in_duckdb, in_pandas, check_exact=False, rtol=1e-12)
    assert in_duckdb.attrs == in_pandas.attrs
    # Days never recur; every other grouping meets itself in the previous window.
    assert (in_pandas["prev_rated"].sum() > 0) == (by != "day")


def test_times_are_stored_to_the_microsecond_and_older_nanosecond_days_still_read(
    account, tmp_path
):
    """Spark cannot read Parquet's nanosecond times, so days are written in microseconds;
    a dataset whose first days were exported before (nanoseconds) and resumed since reads
    back the same, in pandas and in DuckDB."""
    import pyarrow as pa

    client, _, start, end = account
    folder = tmp_path / "t"
    export_traffic(client, start, end, folder)
    files = sorted(folder.glob("day=*/*.parquet"))
    stamps = [f for f in pq.read_schema(files[0]) if pa.types.is_timestamp(f.type)]
    assert stamps and {f.type.unit for f in stamps} == {"us"}
    before = read_traffic(folder)
    by_pool = traffic_health(open_traffic(folder), "pool", start=start, end=end)
    table = pq.read_table(files[0])
    as_ns = pa.schema(
        [f.with_type(pa.timestamp("ns", tz="UTC")) if f in stamps else f for f in table.schema]
    )
    pq.write_table(table.cast(as_ns), files[0], compression="zstd")  # as older versions did
    assert pq.read_schema(files[0]).field("created_at").type.unit == "ns"
    _same(read_traffic(folder), before)
    again = traffic_health(open_traffic(folder), "pool", start=start, end=end)
    pd.testing.assert_frame_equal(again, by_pool)


def test_the_sql_names_its_engine_parts():
    assert "quantile_cont(" in health_sql("sender")
    assert "percentile(" in health_sql("sender", "spark")
    assert "timestampdiff(SECOND" in health_sql("sender", "spark")
    assert "approx_percentile(" in health_sql("day", "trino")
    with pytest.raises(ct.InvalidInputError, match="dialect='oracle'"):
        health_sql("sender", "oracle")
    # The event columns' query: each engine's first-by-time, its NULL kept (a failed
    # attempt without a code is "no code"), and its milliseconds since the epoch.
    assert "arg_min_null(" in health_events_sql("sender")
    assert "min_by(" in health_events_sql("pool", "trino")
    assert "unix_millis(" in health_events_sql("day", "spark")
    assert "FROM members" in health_events_sql("sender", members="members")
    for bad, field in (({"by": "nope"}, "by"), ({"dialect": "oracle"}, "dialect")):
        with pytest.raises(ct.InvalidInputError, match=f"{field}=") as caught:
            health_events_sql(**{"by": "sender", **bad})
        assert caught.value.field == field
    with pytest.raises(ct.InvalidInputError, match="members: expected the name of a table"):
        health_events_sql("sender", members=pd.DataFrame())


def test_a_folder_without_an_export_is_named(tmp_path):
    with pytest.raises(ct.InvalidInputError, match="holds no traffic export"):
        read_traffic(tmp_path)


def test_the_health_of_rows_counted_by_hand_is_traffic_health_s(account, tmp_path):
    """health_sql run outside the toolkit (DuckDB by hand, as a cluster user runs it), its
    rows given to health_from_counts with the pools' frame: the same table as
    traffic_health over the dataset, and a window or rows that do not fit are named."""
    import duckdb

    from commstoolkit.analysis import health_from_counts

    client, _, start, end = account
    folder = tmp_path / "t"
    export_traffic(client, start, end, folder)
    begin = pd.Timestamp(start + timedelta(days=2))
    window = (begin, pd.Timestamp(end))
    previous = begin - (window[1] - begin)
    pools = ct.load_pools(client)
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"CREATE VIEW traffic AS SELECT * FROM read_parquet('{folder}/*/*.parquet')")
        for by in ("pool", "sender"):
            sql = health_sql(by).replace("?", "CAST(? AS TIMESTAMPTZ)")
            counts = con.execute(sql, [w.isoformat() for w in (*window, previous)]).df()
            mine = health_from_counts(counts, by, (begin.isoformat(), end), pools)
            want = traffic_health(open_traffic(folder), by, start=window[0], end=window[1])
            pd.testing.assert_frame_equal(mine, want, check_exact=False, rtol=1e-12)
            assert mine.attrs == want.attrs and mine["messages"].sum() > 0
    assert set(mine["channel"]) == {"SMS"}  # the sender table's labels came through
    with pytest.raises(ct.InvalidInputError) as caught:
        health_from_counts(counts.drop(columns="rated"), "sender", window)
    assert caught.value.field == "counts" and "rated" in str(caught.value)
    with pytest.raises(ct.InvalidInputError) as caught:
        health_from_counts(counts, "sender", begin)
    assert caught.value.field == "window"
    with pytest.raises(ct.InvalidInputError) as caught:
        health_from_counts(counts, "sender", window, pools=["East"])
    assert caught.value.field == "pools"
    with pytest.raises(ct.InvalidInputError) as caught:
        health_from_counts(counts, "sender", window, event_counts=counts)
    assert caught.value.field == "event_counts" and "part" in str(caught.value)
