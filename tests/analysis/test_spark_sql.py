"""The Spark SQL, run for real: ``health_sql(by, "spark")`` and ``findings_sql("spark")`` in a
local Spark session over an exported dataset's Parquet files (the view a Spark user writes,
README's), their parameters bound as the README says. Assembled as DuckDB's rows are, the
numbers are the DuckDB and pandas ``traffic_health`` / tallies of the same window.

One Spark session for the module (local, one core, no UI, one shuffle partition): its JVM
takes most of the time these tests take."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from commstoolkit.analysis import BY, findings_sql, health_sql, read_traffic, traffic_health
from commstoolkit.analysis.sql import counted_health
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
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    *_, stream, dataset = event_history
    for statement in readme_views(dataset.path, stream):
        session.sql(statement)
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
    in_spark = counted_health(counts, by, (start, end), dataset.pools)
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
