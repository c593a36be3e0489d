"""The Trino SQL, checked without a Trino server: ``health_sql(by, "trino")``,
``health_events_sql(by, "trino")``, ``findings_sql("trino")`` and ``attempts_sql("trino")``
are parsed with Trino's
grammar by sqlglot (a syntax error, or a construct sqlglot cannot carry over, fails),
transpiled to DuckDB's and run over an exported dataset and its event files; their counts are
the native DuckDB queries' row for row, once Trino's approximate percentile is made the
exact one (Trino has no exact percentile: that difference is Trino's, documented, not the
query's)."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest
import sqlglot
from sqlglot.errors import ErrorLevel

from commstoolkit.analysis import BY, attempts_sql, findings_sql, health_events_sql, health_sql
from commstoolkit.analysis.event_counts import ATTEMPT_KEYS, attempt_tallies, typed_attempts
from commstoolkit.analysis.event_sql import register_events
from commstoolkit.analysis.sql import sql_list


def _in_duckdb(trino_sql: str) -> str:
    """Trino's SQL as DuckDB's: parsed with Trino's grammar, written in DuckDB's."""
    tree = sqlglot.parse_one(trino_sql, read="trino", error_level=ErrorLevel.RAISE)
    return tree.sql(dialect="duckdb", unsupported_level=ErrorLevel.RAISE)


@pytest.fixture(scope="module")
def con(event_history):
    """DuckDB with the tables the queries read: ``traffic`` (the Parquet files), ``events``
    (the sink's files, read as DuckDB's own path reads them) and ``members``."""
    _, members, *_, stream, dataset = event_history
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    files = sql_list(dataset.files())
    connection.execute(f"CREATE VIEW traffic AS SELECT * FROM read_parquet([{files}])")
    register_events(connection, stream)
    connection.register("members", members[["address", "channel", "sender_id"]].astype("string"))
    yield connection
    connection.close()


def _run(con, sql: str, params: list[pd.Timestamp], keys: list[str]) -> pd.DataFrame:
    typed = sql.replace("?", "CAST(? AS TIMESTAMPTZ)")
    rows = con.execute(typed, [p.isoformat() for p in params]).df()
    return rows.sort_values(keys, na_position="first", kind="stable").reset_index(drop=True)


def _window(event_history) -> list[pd.Timestamp]:
    traffic, *_ = event_history
    start, end = traffic.attrs["window"]
    return [start, end]


def _exact(written: str) -> str:
    """The transpiled query with Trino's approximate percentile (DuckDB's ``approx_quantile``
    once transpiled) made the exact one DuckDB's own query uses: then every number must be
    equal, percentiles included."""
    assert "APPROX_QUANTILE(" in written
    return written.replace("APPROX_QUANTILE(", "QUANTILE_CONT(")


@pytest.mark.parametrize("by", list(BY))
def test_trinos_health_sql_counts_what_duckdbs_counts(con, event_history, by):
    start, end = _window(event_history)
    middle = (start + (end - start) / 2).floor("s")
    params = [middle, end, start]
    native = _run(con, health_sql(by, "duckdb"), params, ["group_key", "is_current"])
    written = _exact(_in_duckdb(health_sql(by, "trino")))
    trino = _run(con, written, params, ["group_key", "is_current"])
    pd.testing.assert_frame_equal(trino, native, check_exact=False, rtol=1e-12)
    assert native["messages"].sum() > 0 and not native["is_current"].all()


@pytest.mark.parametrize("by", list(BY))
def test_trinos_event_sql_counts_what_duckdbs_counts(con, event_history, by):
    params = _window(event_history)
    keys = ["part", "group_key", "error_code"]
    native = _run(con, health_events_sql(by, "duckdb", members="members"), params, keys)
    written = _exact(_in_duckdb(health_events_sql(by, "trino", members="members")))
    trino = _run(con, written, params, keys)
    pd.testing.assert_frame_equal(trino, native, check_exact=False, rtol=1e-9)
    assert set(native["part"]) == {"times", "attempts", "codes"}


def test_trinos_findings_sql_tallies_what_duckdbs_tallies(con, event_history):
    start, end = _window(event_history)
    middle = (start + (end - start) / 2).floor("s")
    params = [middle, end - pd.Timedelta("6h"), start, end]
    keys = ["in_window", "recent", "sender_id", "pool_id", "to_country", "hour"]
    native = _run(con, findings_sql("duckdb"), params, keys)
    trino = _run(con, _in_duckdb(findings_sql("trino")), params, keys)
    pd.testing.assert_frame_equal(trino, native)
    assert native["in_window"].any() and not native["in_window"].all()


def test_trinos_attempts_sql_counts_what_duckdbs_and_pandas_count(con, event_history):
    traffic, members, events, *_ = event_history
    params = _window(event_history)
    keys = list(ATTEMPT_KEYS)
    native = _run(con, attempts_sql("duckdb", members="members"), params, keys)
    trino = _run(con, _in_duckdb(attempts_sql("trino", members="members")), params, keys)
    pd.testing.assert_frame_equal(trino, native)
    start, end = params
    current = traffic[(traffic["created_at"] >= start) & (traffic["created_at"] < end)]
    in_pandas = attempt_tallies(current, events, members, lookup_from=traffic)
    pd.testing.assert_frame_equal(typed_attempts(native), in_pandas)
    # The pool whose RCS sender failed and fell back to SMS: its failed attempt, rescued.
    assert in_pandas["failed"].sum() > 0 and in_pandas["rescued"].sum() > 0
