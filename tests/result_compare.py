"""Comparing query results from two engines (Sluice vs DuckDB, or vs pandas).

Values are compared by meaning, not by Arrow type, because the engines pick different
result types for the same SQL (DuckDB's sum(BIGINT) is HUGEINT = decimal128(38, 0);
Sluice's is int64):
- integers, decimals and floats are all numbers; when either side is a float the
  comparison allows a relative error of 1e-9 (plus 1e-9 absolute near zero); decimals
  and integers are compared exactly;
- timestamps are compared as instants (a timestamp without a time zone is read as UTC,
  which is what both engines do with TimeZone=UTC), in any unit;
- dates, strings, bools, binary, intervals by value; NULL equals NULL; NaN equals NaN.
Each column's coarse type family (number, string, bool, date, timestamp, ...) must match
too, so a NULL-only column of the wrong kind is still caught.

`compare(actual, expected, ordered=...)` returns None when the results agree, or a
short human-readable diff.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import math
from collections import defaultdict
from typing import Any, List, Optional, Sequence

import pyarrow as pa
import pyarrow.compute as pc

REL_TOL = 1e-9
ABS_TOL = 1e-9

_EPOCH_DATE = _dt.date(1970, 1, 1)
_UNIT_NS = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}


def type_family(t: pa.DataType) -> str:
    if pa.types.is_null(t):
        return "null"
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "number"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "string"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return "binary"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_timestamp(t):
        return "timestamp"
    if pa.types.is_time(t):
        return "time"
    if pa.types.is_duration(t) or pa.types.is_interval(t):
        return "interval"
    if pa.types.is_dictionary(t):
        return type_family(t.value_type)
    return str(t)


def _canon_column(col: pa.ChunkedArray) -> List[Any]:
    """Python values for one column, as ('tag', value) pairs or None for NULL."""
    t = col.type
    if pa.types.is_dictionary(t):
        col = col.cast(t.value_type)
        t = t.value_type
    if pa.types.is_date32(t) or pa.types.is_date64(t):
        # As days since the epoch: Python's date cannot hold year 0 or 10000+.
        days = pc.cast(col.cast(pa.date32()), pa.int32()).to_pylist()
        return [None if v is None else ("d", v) for v in days]
    if pa.types.is_timestamp(t):
        ints = pc.cast(col, pa.int64()).to_pylist()
        f = _UNIT_NS[t.unit]
        return [None if v is None else ("t", v * f) for v in ints]
    if pa.types.is_time(t):
        ints = pc.cast(col, pa.int64()).to_pylist()
        f = _UNIT_NS[t.unit]
        return [None if v is None else ("tm", v * f) for v in ints]
    if pa.types.is_duration(t):
        ints = pc.cast(col, pa.int64()).to_pylist()
        f = _UNIT_NS[t.unit]
        return [None if v is None else ("iv", (0, 0, v * f)) for v in ints]
    values = col.to_pylist()
    out: List[Any] = []
    for v in values:
        out.append(canon_value(v))
    return out


def canon_value(v: Any) -> Any:
    """A plain Python value (as pyarrow's to_pylist or DuckDB's fetchall give) as a pair."""
    if v is None:
        return None
    if isinstance(v, bool):
        return ("b", v)
    if isinstance(v, int):
        return ("n", v)
    if isinstance(v, float):
        return ("f", v)
    if isinstance(v, decimal.Decimal):
        return ("n", v)
    if isinstance(v, str):
        return ("s", v)
    if isinstance(v, (bytes, bytearray)):
        return ("y", bytes(v))
    if isinstance(v, _dt.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=_dt.timezone.utc)
        delta = v - _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
        return ("t", (delta.days * 86400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000)
    if isinstance(v, _dt.date):
        return ("d", (v - _EPOCH_DATE).days)
    if isinstance(v, _dt.time):
        return ("tm", ((v.hour * 60 + v.minute) * 60 + v.second) * 1_000_000_000 + v.microsecond * 1000)
    if isinstance(v, _dt.timedelta):
        return ("iv", (0, 0, (v.days * 86400 + v.seconds) * 1_000_000_000 + v.microseconds * 1000))
    if hasattr(v, "months") and hasattr(v, "days") and hasattr(v, "nanoseconds"):
        return ("iv", (v.months, v.days, v.nanoseconds))
    if isinstance(v, (list, tuple)):
        return ("l", tuple(canon_value(x) for x in v))
    if isinstance(v, dict):
        return ("m", tuple((k, canon_value(x)) for k, x in v.items()))
    return ("?", repr(v))


def table_rows(table: pa.Table) -> List[tuple]:
    cols = [_canon_column(table.column(i)) for i in range(table.num_columns)]
    return list(zip(*cols)) if cols else [()] * table.num_rows


def values_equal(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    ta, va = a
    tb, vb = b
    numeric = ("n", "f")
    if ta in numeric and tb in numeric:
        if ta == "f" or tb == "f":
            x, y = float(va), float(vb)
            if math.isnan(x) or math.isnan(y):
                return math.isnan(x) and math.isnan(y)
            return math.isclose(x, y, rel_tol=REL_TOL, abs_tol=ABS_TOL)
        return va == vb
    if ta != tb:
        return False
    if ta == "l":
        return len(va) == len(vb) and all(values_equal(x, y) for x, y in zip(va, vb))
    return va == vb


def rows_equal(r1: Sequence, r2: Sequence) -> bool:
    return len(r1) == len(r2) and all(values_equal(a, b) for a, b in zip(r1, r2))


def _sort_key(v: Any):
    if v is None:
        return (0, "", 0)
    tag, val = v
    if tag in ("n", "f"):
        x = float(val) if tag == "f" else val
        if isinstance(x, float) and math.isnan(x):
            return (1, "n", float("inf"), 1)
        return (1, "n", x, 0)
    if tag == "l":
        return (1, "l", tuple(_sort_key(x) for x in val))
    return (1, tag, val)


def row_sort_key(row: Sequence):
    return tuple(_sort_key(v) for v in row)


def _exact_part(row: Sequence):
    """The row with numbers blanked out: rows equal up to float tolerance share it."""
    return tuple(("~",) if (v is not None and v[0] in ("n", "f")) else _sort_key(v) for v in row)


def format_value(v: Any) -> str:
    if v is None:
        return "NULL"
    tag, val = v
    if tag == "t":
        secs, ns = divmod(val, 1_000_000_000)
        try:
            d = _dt.datetime(1970, 1, 1) + _dt.timedelta(seconds=secs)
            return d.isoformat(sep=" ") + (f".{ns:09d}".rstrip("0") if ns else "") + "Z"
        except OverflowError:
            return f"ts({val}ns)"
    if tag == "s":
        return repr(val)
    if tag == "d":
        try:
            return (_EPOCH_DATE + _dt.timedelta(days=val)).isoformat()
        except OverflowError:
            return f"date({val} days)"
    if tag == "l":
        return "[" + ", ".join(format_value(x) for x in val) + "]"
    return str(val)


def format_row(row: Sequence) -> str:
    return "(" + ", ".join(format_value(v) for v in row) + ")"


def _multiset_diff(actual: List[tuple], expected: List[tuple]):
    """(only_in_actual, only_in_expected): rows that could not be paired up."""
    buckets_a = defaultdict(list)
    buckets_e = defaultdict(list)
    for r in actual:
        buckets_a[_exact_part(r)].append(r)
    for r in expected:
        buckets_e[_exact_part(r)].append(r)
    only_a: List[tuple] = []
    only_e: List[tuple] = []
    for key in set(buckets_a) | set(buckets_e):
        ra = sorted(buckets_a.get(key, []), key=row_sort_key)
        re_ = sorted(buckets_e.get(key, []), key=row_sort_key)
        if len(ra) == len(re_) and all(rows_equal(x, y) for x, y in zip(ra, re_)):
            continue
        # Sorting can separate rows that are equal within tolerance: pair up greedily.
        unmatched = list(re_)
        for r in ra:
            for i, e in enumerate(unmatched):
                if rows_equal(r, e):
                    del unmatched[i]
                    break
            else:
                only_a.append(r)
        only_e.extend(unmatched)
    return sorted(only_a, key=row_sort_key), sorted(only_e, key=row_sort_key)


def compare(actual: pa.Table, expected: pa.Table, *, ordered: bool = False,
            check_names: bool = False, labels=("sluice", "duckdb"), max_rows: int = 8) -> Optional[str]:
    """None if `actual` and `expected` hold the same rows (in the same order if `ordered`)."""
    la, le = labels
    if actual.num_columns != expected.num_columns:
        return (f"column count differs: {la} {actual.num_columns} {actual.column_names}, "
                f"{le} {expected.num_columns} {expected.column_names}")
    problems = []
    if check_names and actual.column_names != expected.column_names:
        problems.append(f"column names differ: {la} {actual.column_names}, {le} {expected.column_names}")
    for i in range(actual.num_columns):
        fa, fe = type_family(actual.schema.field(i).type), type_family(expected.schema.field(i).type)
        if fa != fe and "null" not in (fa, fe):
            problems.append(f"column {i} ({actual.column_names[i]}): type {actual.schema.field(i).type} "
                            f"({la}) vs {expected.schema.field(i).type} ({le})")
    ra, re_ = table_rows(actual), table_rows(expected)
    if ordered:
        if len(ra) == len(re_) and all(rows_equal(x, y) for x, y in zip(ra, re_)):
            rows_ok = True
        else:
            rows_ok = False
            first = next((i for i, (x, y) in enumerate(zip(ra, re_)) if not rows_equal(x, y)),
                         min(len(ra), len(re_)))
            lo = max(0, first - 1)
            lines = [f"ordered results differ at row {first} ({la} {len(ra)} rows, {le} {len(re_)} rows):"]
            for i in range(lo, min(max(len(ra), len(re_)), first + max_rows)):
                a = format_row(ra[i]) if i < len(ra) else "-"
                e = format_row(re_[i]) if i < len(re_) else "-"
                mark = "  " if (i < len(ra) and i < len(re_) and rows_equal(ra[i], re_[i])) else "! "
                lines.append(f"{mark}row {i}: {la} {a}")
                lines.append(f"{mark}       {le} {e}")
            problems.append("\n".join(lines))
            # Also tell whether only the order is wrong.
            oa, oe = _multiset_diff(ra, re_)
            if not oa and not oe:
                problems.append("(same rows as a multiset: only the order differs)")
    else:
        oa, oe = _multiset_diff(ra, re_)
        rows_ok = not oa and not oe
        if not rows_ok:
            lines = [f"results differ as multisets ({la} {len(ra)} rows, {le} {len(re_)} rows):"]
            for r in oa[:max_rows]:
                lines.append(f"  only in {la}: {format_row(r)}")
            if len(oa) > max_rows:
                lines.append(f"  ... {len(oa) - max_rows} more only in {la}")
            for r in oe[:max_rows]:
                lines.append(f"  only in {le}: {format_row(r)}")
            if len(oe) > max_rows:
                lines.append(f"  ... {len(oe) - max_rows} more only in {le}")
            problems.append("\n".join(lines))
    return "\n".join(problems) if problems else None


def duckdb_answer(duck, tables, query: str) -> pa.Table:
    """`query`'s answer in DuckDB, each of `tables` (name -> Parquet path or glob)
    registered as a view of that name first."""
    for name, path in tables.items():
        duck.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet('{path}')")
    return duck.sql(query).to_arrow_table()


def assert_matches_duckdb(sluice, duck, tables, query: str, *, threads=None,
                          ordered: bool = False) -> pa.Table:
    """Runs `query` in Sluice (each of `tables`, name -> Parquet path or glob, given as
    --table) and in DuckDB (views of the same files), fails the test with the
    difference if the answers differ, and returns Sluice's answer."""
    ours = sluice.sql_ok(query, tables, threads=threads)
    theirs = duckdb_answer(duck, tables, query)
    diff = compare(ours, theirs, ordered=ordered)
    assert diff is None, f"{query}: {diff}"
    return ours



def compare_keyed(duck, actual: pa.Table, expected: pa.Table, keys: Sequence[str], *,
                  labels=("sluice", "duckdb"), max_rows: int = 8) -> Optional[str]:
    """Like compare(ordered=False) for results with a unique key per row, done inside
    DuckDB so that it stays fast for hundreds of thousands of rows: the two tables are
    joined on `keys` (NULL keys match NULL keys) and every other column (matched by
    position) is compared with the same rules (numbers with the relative tolerance when
    either side is a float). Returns None when they agree, else a short diff."""
    la, le = labels
    if actual.num_columns != expected.num_columns:
        return f"column count differs: {la} {actual.column_names}, {le} {expected.column_names}"
    names = [f"c{i}" for i in range(actual.num_columns)]
    a = actual.rename_columns(names)
    e = expected.rename_columns(names)
    key_idx = [expected.column_names.index(k) for k in keys]
    problems = []
    for i in range(actual.num_columns):
        fa, fe = type_family(actual.schema.field(i).type), type_family(expected.schema.field(i).type)
        if fa != fe and "null" not in (fa, fe):
            problems.append(f"column {i}: type {actual.schema.field(i).type} ({la}) vs "
                            f"{expected.schema.field(i).type} ({le})")
    if problems:
        return "\n".join(problems)
    for name, t in (("cmp_actual", a), ("cmp_expected", e)):
        duck.register(name, t)
    try:
        on = " AND ".join(f"x.c{i} IS NOT DISTINCT FROM y.c{i}" for i in key_idx)
        differs = []
        for i in range(actual.num_columns):
            if i in key_idx:
                continue
            x, y = f"x.c{i}", f"y.c{i}"
            floats = any(pa.types.is_floating(t.schema.field(i).type) for t in (actual, expected))
            if floats:
                xd, yd = f"{x}::DOUBLE", f"{y}::DOUBLE"
                same = (f"({x} IS NOT DISTINCT FROM {y} OR (isnan({xd}) AND isnan({yd})) OR "
                        f"abs({xd} - {yd}) <= {REL_TOL} * greatest(abs({xd}), abs({yd})) + {ABS_TOL})")
            else:
                same = f"({x} IS NOT DISTINCT FROM {y})"
            differs.append(f"NOT coalesce({same}, false)")
        cond = " OR ".join(differs) if differs else "false"
        rows = duck.execute(
            f"SELECT x.*, y.* FROM (SELECT *, 1 AS x_present FROM cmp_actual) x "
            f"FULL OUTER JOIN (SELECT *, 1 AS y_present FROM cmp_expected) y ON {on} "
            f"WHERE x_present IS NULL OR y_present IS NULL OR {cond} LIMIT {max_rows}").fetchall()
        dup = duck.execute(
            "SELECT (SELECT count(*) FROM cmp_actual), (SELECT count(*) FROM cmp_expected), "
            f"(SELECT count(*) FROM (SELECT DISTINCT {', '.join(f'c{i}' for i in key_idx)} "
            "FROM cmp_actual))").fetchall()[0]
    finally:
        duck.unregister("cmp_actual")
        duck.unregister("cmp_expected")
    if dup[0] != dup[2]:
        problems.append(f"{la} has {dup[0] - dup[2]} rows with a repeated key")
    if dup[0] != dup[1]:
        problems.append(f"row counts differ: {la} {dup[0]}, {le} {dup[1]}")
    n = actual.num_columns + 1
    for r in rows:
        problems.append(f"  {la}: {r[:n - 1] if r[n - 1] else '-'}\n  {le}: {r[n:2 * n - 1] if r[2 * n - 1] else '-'}")
    return "\n".join(problems) if problems else None


def duckdb_over_arrow(query: str, **tables: pa.Table) -> pa.Table:
    """`query`'s answer in a fresh DuckDB (time zone UTC) over in-memory Arrow tables
    registered under the keyword names."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for name, table in tables.items():
        con.register(name, table)
    return con.sql(query).to_arrow_table()


def assert_same_rows(actual: pa.Table, expected: pa.Table, *, ordered: bool = False) -> None:
    """Fails with the difference unless compare() finds the tables equal."""
    diff = compare(actual, expected, ordered=ordered)
    assert diff is None, diff
