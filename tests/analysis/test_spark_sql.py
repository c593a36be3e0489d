"""The Spark SQL, run for real: ``health_sql(by, "spark")``, ``health_events_sql(by, "spark")``,
``findings_sql("spark")`` and ``attempts_sql("spark")`` in a local Spark session over an
exported dataset's Parquet files and its events' JSON-lines files (through the views a Spark
user writes: README's), their parameters bound as the README says. Assembled as DuckDB's rows
are, the numbers are the DuckDB and pandas ``traffic_health`` (event columns included),
tallies and attempts of the window.

One Spark session for the module, tuned for a few hundred rows and many small queries:
local, one core, no UI, one shuffle partition, no adaptive execution and no whole-stage code
generation (compiling each query's code took longer than running it), the JVM's quick
compiler only, the views cached once read. Measured here: the session starts in ~10 s, an
event-columns query runs in ~3 s."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from commstoolkit.analysis import (
    BY,
    attempts_sql,
    findings_from_tallies,
    findings_sql,
    health_events_sql,
    health_from_counts,
    health_sql,
    read_traffic,
    traffic_findings,
    traffic_health,
)
from commstoolkit.analysis.event_counts import attempt_tallies, typed_attempts
from commstoolkit.analysis.event_sql import dataset_attempt_tallies
from commstoolkit.analysis.tallies import counted_tallies, dataset_tallies, frame_tallies

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_views(traffic: Path, events: Path) -> list[str]:
    """The README's Spark SQL views, the folders replaced by these tests' own."""
    text = README.read_text(encoding="utf-8")
    start = text.index("```sql\n-- Spark SQL: the views") + len("```sql\n")
    block = text[start : text.index("```", start)]
    block = block.replace("'traffic/'", f"'{traffic}'").replace("'events/'", f"'{events}'")
    statements = [s.strip() for s in re.sub(r"--[^\n]*", "", block).split(";")]
    return [s for s in statements if s]


@pytest.fixture(scope="module")
def spark(event_history):
    """A local Spark session (time zone UTC) with the README's views over the history's
    exported Parquet files and its event files."""
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[1]")
        .appName("commstoolkit-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "512m")
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.sql.codegen.wholeStage", "false")
        .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    _, members, *_, stream, dataset = event_history
    for statement in readme_views(dataset.path, stream):
        session.sql(statement)
    named = members[["address", "channel", "sender_id"]].astype(object)
    rows = named.where(named.notna(), None).itertuples(index=False)
    schema = "address STRING, channel STRING, sender_id STRING"
    session.createDataFrame(list(rows), schema).createOrReplaceTempView("members")
    for view in ("traffic", "events"):
        session.sql(f"CACHE TABLE {view}")
    yield session
    session.stop()


def _rows(spark, sql: str, params: list[pd.Timestamp]) -> pd.DataFrame:
    """The query's rows, its ``?`` bound to the times (Python datetimes, as a user binds them)."""
    answer = spark.sql(sql, args=[p.to_pydatetime() for p in params])
    return pd.DataFrame([row.asDict() for row in answer.collect()], columns=answer.columns)


def _halves(event_history) -> tuple[pd.Timestamp, pd.Timestamp, pd.Timestamp]:
    """The previous window's start, the window's start and end: the dataset's two halves."""
    traffic, *_ = event_history
    first, end = traffic.attrs["window"]
    middle = first + (end - first) / 2
    return first, middle.floor("s"), end


@pytest.mark.parametrize("by", list(BY))
def test_spark_counts_the_health_duckdb_and_pandas_count(spark, event_history, by):
    *_, dataset = event_history
    before, start, end = _halves(event_history)
    counts = _rows(spark, health_sql(by, "spark"), [start, end, before])
    in_spark = health_from_counts(counts, by, (start, end), dataset.pools)
    in_duckdb = traffic_health(dataset, by, start=start, end=end)
    frame = read_traffic(dataset, before, end)
    frame.attrs["window"] = (start, end)
    in_pandas = traffic_health(frame, by)
    pd.testing.assert_frame_equal(in_spark, in_duckdb, check_exact=False, rtol=1e-12)
    pd.testing.assert_frame_equal(in_spark, in_pandas, check_exact=False, rtol=1e-12)
    assert in_spark.attrs == in_pandas.attrs
    # Both windows counted (the middle day is in both).
    assert in_spark["messages"].sum() == len(frame[frame["created_at"] >= start]) > 0
    assert in_spark["prev_rated"].sum() > 0


def test_spark_tallies_what_duckdb_and_pandas_tally(spark, event_history):
    *_, dataset = event_history
    before, start, end = _halves(event_history)
    recent_from = end - pd.Timedelta("6h")
    rows = _rows(spark, findings_sql("spark"), [start, recent_from, before, end])
    in_spark = counted_tallies(rows, (start, end), dataset.pools)
    in_duckdb = dataset_tallies(dataset, (start, end), recent_from)
    frame = read_traffic(dataset, before, end)
    in_pandas = frame_tallies(frame, (start, end), recent_from)
    pd.testing.assert_frame_equal(in_spark.frame, in_duckdb.frame)
    pd.testing.assert_frame_equal(in_spark.frame, in_pandas.frame)
    assert in_spark.frame["messages"].sum() == len(frame)
    assert in_spark.frame["recent"].any() and not in_spark.frame["recent"].all()
    # The findings of Spark's tallies are the ones DuckDB's dataset gives.
    _, members, *_ = event_history
    found = findings_from_tallies(rows, (start, end), dataset.pools, members, recent="6h")
    want = traffic_findings(dataset, members, start=start, end=end, recent="6h")
    assert [f.text for f in found] == [f.text for f in want]
    assert found.tested == want.tested > 0


@pytest.mark.parametrize("by", list(BY))
def test_spark_counts_the_event_columns_pandas_counts(spark, event_history, by):
    """The README's events view over the sink's files, joined to the traffic in Spark: every
    ev_* number is the one pandas counts from the loaded events (with the members, and by
    sender without them too: the attempts no sender is known for are then unattributed)."""
    traffic, members, events, *_, dataset = event_history
    start, end = traffic.attrs["window"]
    counts = _rows(spark, health_sql(by, "spark"), [start, end, start - (end - start)])
    for given in (members, None) if by == "sender" else (members,):
        table = "members" if given is not None else None
        rows = _rows(spark, health_events_sql(by, "spark", members=table), [start, end])
        in_spark = health_from_counts(
            counts, by, (start, end), dataset.pools, members=given, event_counts=rows
        )
        in_pandas = traffic_health(traffic, by=by, events=events, members=given)
        pd.testing.assert_frame_equal(in_spark, in_pandas, check_exact=False, rtol=1e-9)
        assert in_spark.attrs == in_pandas.attrs
    assert in_spark["ev_messages"].sum() == len(traffic)
    assert in_spark["ev_failed_attempts"].sum() > 0 and in_spark["ev_ttr_n"].sum() > 0


def test_spark_counts_the_attempts_duckdb_and_pandas_count(spark, event_history):
    """The attempts the findings judge (``attempts_sql``) over the README's views: the rows
    DuckDB and pandas count, and ``findings_from_tallies(..., attempts=)`` of Spark's rows
    are ``traffic_findings(dataset, events=)``."""
    traffic, members, events, *_, stream, dataset = event_history
    start, end = traffic.attrs["window"]
    rows = _rows(spark, attempts_sql("spark", members="members"), [start, end])
    in_duckdb = dataset_attempt_tallies(dataset, stream, (start, end), members)
    current = traffic[(traffic["created_at"] >= start) & (traffic["created_at"] < end)]
    in_pandas = attempt_tallies(current, events, members, lookup_from=traffic)
    pd.testing.assert_frame_equal(typed_attempts(rows), in_duckdb)
    pd.testing.assert_frame_equal(typed_attempts(rows), in_pandas)
    assert in_pandas["attempts"].sum() > in_pandas["failed"].sum() > 0
    tallies = _rows(
        spark, findings_sql("spark"), [start, end - pd.Timedelta("6h"), start - (end - start), end]
    )
    # Two days of 150 messages: few attempts per sender, judged from 5 on.
    least = {"recent": "6h", "min_messages": 5}
    found = findings_from_tallies(
        tallies, (start, end), dataset.pools, members, attempts=rows, **least
    )
    want = traffic_findings(dataset, members, events=stream, **least)
    assert [f.text for f in found] == [f.text for f in want]
    assert found.tested == want.tested > traffic_findings(dataset, members, **least).tested
