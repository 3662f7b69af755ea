"""Parser and checker for the sqllogictest-style files in tests/sql/ (format: tests/sql/README.md).

A file is a list of records separated by blank lines:

  load NAME(col TYPE, ...)          table data as CSV lines (DuckDB types; NULL is NULL,
  1,abc,2.5                         "" is the empty string), up to the next blank line
  load NAME AS <DuckDB query>       table data computed by DuckDB (may continue on the
                                    following lines)
  load NAME files=2 row_group_rows=128 AS ...   (either form) the Parquet layout: the
                                    rows split over N files, M rows per row group
  statement ok [sluice-only]        the SQL must run (in DuckDB too, unless sluice-only)
  statement error [sluice-only]     the SQL must fail in Sluice (and in DuckDB, unless
  <sql>                             sluice-only); an optional '----' section holds text
  ----                              that Sluice's error message must contain
  message
  query TYPES [rowsort|nosort] [duckdb|sluice-only]
  <sql>
  ----
  expected rows, one per line, values separated by tabs (or runs of 2+ spaces)

Each `load` table is written to Parquet by DuckDB; Sluice gets it with --table NAME=path
and DuckDB reads the same file, so both engines see identical typed data.

Expected results never come from Sluice: a `query` block either says `duckdb` (the
expected rows are DuckDB's answer to the same SQL over the same files) or lists rows,
which are then also checked against DuckDB. Only a block marked `sluice-only` skips the
reference, and it must be preceded by a '#' comment saying why (an intended difference
from DuckDB, or a Sluice-only function).
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

import pyarrow as pa

from result_compare import canon_value, compare, format_row, row_sort_key, table_rows, values_equal

TYPE_LETTERS = {
    "I": "integer", "R": "float", "N": "decimal", "T": "string", "B": "bool",
    "D": "date", "S": "timestamp", "V": "interval", "?": "any",
}


class FormatError(Exception):
    pass


@dataclass
class Load:
    name: str
    line: int
    columns: Optional[str] = None     # "a BIGINT, b VARCHAR"
    rows: List[str] = field(default_factory=list)
    query: Optional[str] = None       # load NAME AS <query>
    files: int = 1
    row_group_rows: int = 0           # 0: the writer's default


@dataclass
class Record:
    kind: str                         # "statement" or "query"
    line: int
    sql: str
    expect_error: bool = False
    error_text: Optional[str] = None
    types: str = ""
    sort: str = "nosort"
    reference: str = "check"          # "duckdb", "check" (hand rows checked vs DuckDB), "sluice-only"
    rows: List[List[str]] = field(default_factory=list)
    has_rows: bool = False
    comment: str = ""                 # the '#' lines right above the record


@dataclass
class SqlTestFile:
    path: Path
    loads: List[Load]
    records: List[Record]


def _split_row(line: str, ncols: int) -> List[str]:
    if "\t" in line:
        parts = line.split("\t")
    elif ncols > 1:
        parts = re.split(r" {2,}", line.strip())
        if len(parts) != ncols:
            parts = line.split()
    else:
        parts = [line]
    return parts


def parse_file(path: Path) -> SqlTestFile:
    lines = path.read_text(encoding="utf-8").split("\n")
    loads: List[Load] = []
    records: List[Record] = []
    i = 0
    comment: List[str] = []
    n = len(lines)

    def block(start: int):
        """Lines from start to the next blank line (exclusive), and the index after it."""
        j = start
        while j < n and lines[j].strip() != "":
            j += 1
        return lines[start:j], j

    while i < n:
        raw = lines[i]
        line = raw.strip()
        if not line:
            comment = []
            i += 1
            continue
        if line.startswith("#"):
            comment.append(line[1:].strip())
            i += 1
            continue
        where = f"{path.name}:{i + 1}"
        words = line.split()
        if words[0] == "load":
            opts = r"((?:\s+(?:files|row_group_rows)=\d+)*)"
            m = re.match(r"load\s+(\w+)\s*\((.*)\)" + opts + r"\s*$", line)
            m2 = re.match(r"load\s+(\w+)" + opts + r"\s+AS\s+(.*)$", line, re.I | re.S)
            if m:
                body, j = block(i + 1)
                load = Load(m.group(1), i + 1, columns=m.group(2), rows=body)
                layout = m.group(3)
            elif m2:
                body, j = block(i + 1)
                load = Load(m2.group(1), i + 1, query=" ".join([m2.group(3)] + body))
                layout = m2.group(2)
            else:
                raise FormatError(f"{where}: expected 'load NAME(col TYPE, ...)' or 'load NAME AS query'")
            for key, value in re.findall(r"(\w+)=(\d+)", layout or ""):
                setattr(load, key, int(value))
            if load.files < 1:
                raise FormatError(f"{where}: files must be >= 1")
            loads.append(load)
            i = j
            comment = []
            continue
        if words[0] in ("statement", "query"):
            body, j = block(i + 1)
            if "----" in body:
                k = body.index("----")
                sql_lines, result_lines = body[:k], body[k + 1:]
                has_rows = True
            else:
                sql_lines, result_lines, has_rows = body, [], False
            sql = "\n".join(sql_lines).strip()
            if not sql:
                raise FormatError(f"{where}: record without SQL")
            rec = Record(words[0], i + 1, sql, comment="\n".join(comment))
            flags = words[1:]
            if words[0] == "statement":
                if not flags or flags[0] not in ("ok", "error"):
                    raise FormatError(f"{where}: expected 'statement ok' or 'statement error'")
                rec.expect_error = flags[0] == "error"
                rest = flags[1:]
                if rest and rest != ["sluice-only"]:
                    raise FormatError(f"{where}: unknown statement flags {rest}")
                rec.reference = "sluice-only" if rest else "check"
                if has_rows:
                    if not rec.expect_error:
                        raise FormatError(f"{where}: 'statement ok' takes no '----' section")
                    rec.error_text = "\n".join(result_lines).strip()
            else:
                if not flags:
                    raise FormatError(f"{where}: 'query' needs its column types (e.g. query ITR)")
                rec.types = flags[0]
                bad = [c for c in rec.types if c not in TYPE_LETTERS]
                if bad:
                    raise FormatError(f"{where}: unknown type letters {bad} (use {''.join(TYPE_LETTERS)})")
                for f in flags[1:]:
                    if f in ("rowsort", "nosort"):
                        rec.sort = f
                    elif f in ("duckdb", "sluice-only"):
                        rec.reference = f
                    else:
                        raise FormatError(f"{where}: unknown query flag {f!r}")
                rec.has_rows = has_rows
                if rec.reference != "duckdb" and not has_rows:
                    raise FormatError(f"{where}: query without '----' rows must say 'duckdb'")
                rec.rows = [_split_row(l, len(rec.types)) for l in result_lines]
                for r in rec.rows:
                    if len(r) != len(rec.types):
                        raise FormatError(f"{where}: row {r} has {len(r)} values, types say {len(rec.types)}")
            if rec.reference == "sluice-only" and not rec.comment:
                raise FormatError(f"{where}: a sluice-only record needs a '#' comment above it saying why")
            records.append(rec)
            comment = []
            i = j
            continue
        raise FormatError(f"{where}: cannot parse {line!r}")
    return SqlTestFile(path, loads, records)


# ----------------------------------------------------------------------------------------
# Expected values

def _float_matches(expected: str, actual: float) -> bool:
    """'0.333' matches anything that rounds to it at 3 decimals; full precision is within 1e-9."""
    if expected in ("nan", "NaN"):
        return math.isnan(actual)
    if expected in ("inf", "+inf", "-inf", "Infinity", "-Infinity"):
        return math.isinf(actual) and (actual < 0) == expected.startswith("-")
    exp = float(expected)
    m = re.match(r"^-?\d+\.(\d+)$", expected)
    if m and len(m.group(1)) < 9:
        places = len(m.group(1))
        return abs(actual - exp) <= 0.5 * 10 ** (-places) + 1e-12 * abs(exp)
    return math.isclose(actual, exp, rel_tol=1e-9, abs_tol=1e-12)


def parse_expected(token: str, letter: str):
    """A hand-written value as the canonical pair result_compare uses (None for NULL)."""
    if token == "NULL":
        return None
    if letter == "T":
        return ("s", "" if token == "(empty)" else token)
    if letter == "I":
        return ("n", int(token))
    if letter == "N":
        return ("n", decimal.Decimal(token))
    if letter == "R":
        return ("r", token)
    if letter == "B":
        if token.lower() not in ("true", "false"):
            raise FormatError(f"bad boolean {token!r}")
        return ("b", token.lower() == "true")
    if letter == "D":
        return canon_value(dt.date.fromisoformat(token))
    if letter == "S":
        v = dt.datetime.fromisoformat(token.replace("Z", "+00:00"))
        return canon_value(v)
    if letter == "V":
        m = re.match(r"^(?:(-?\d+)mon)?\s*(?:(-?\d+)d)?\s*(?:(-?[\d.]+)s)?$", token)
        if not m or not any(m.groups()):
            raise FormatError(f"bad interval {token!r}: write e.g. 1mon 2d 3.5s")
        months, days, secs = m.groups()
        return ("iv", (int(months or 0), int(days or 0),
                       int(decimal.Decimal(secs or 0) * 1_000_000_000)))
    if letter == "?":
        return ("raw", token)
    raise FormatError(letter)


def expected_value_matches(expected, actual) -> bool:
    if expected is None or actual is None:
        return expected is None and actual is None
    tag, val = expected
    if tag == "r":
        return actual[0] in ("n", "f") and _float_matches(val, float(actual[1]))
    if tag == "raw":
        return _render(actual) == val
    return values_equal(expected, actual)


def _render(v) -> str:
    if v is None:
        return "NULL"
    tag, val = v
    if tag == "b":
        return "true" if val else "false"
    return str(val)


def check_types(table: pa.Table, types: str) -> Optional[str]:
    if table.num_columns != len(types):
        return f"{table.num_columns} columns {table.column_names}, the types say {len(types)} ({types})"
    bad = []
    for letter, fld in zip(types, table.schema):
        t = fld.type
        ok = {
            "I": pa.types.is_integer(t),
            "R": pa.types.is_floating(t),
            "N": pa.types.is_decimal(t),
            "T": pa.types.is_string(t) or pa.types.is_large_string(t),
            "B": pa.types.is_boolean(t),
            "D": pa.types.is_date(t),
            "S": pa.types.is_timestamp(t),
            "V": pa.types.is_interval(t) or pa.types.is_duration(t),
            "?": True,
        }[letter]
        if not ok and not pa.types.is_null(t):
            bad.append(f"{fld.name}: {t} is not {TYPE_LETTERS[letter]} ({letter})")
    return "; ".join(bad) if bad else None


def compare_with_rows(table: pa.Table, rec: Record) -> Optional[str]:
    """None if `table` holds the record's hand-written rows."""
    expected = [[parse_expected(tok, rec.types[c]) for c, tok in enumerate(row)] for row in rec.rows]
    actual = table_rows(table)

    def row_ok(a, e):
        return len(a) == len(e) and all(expected_value_matches(x, y) for x, y in zip(e, a))

    if rec.sort == "nosort":
        if len(actual) == len(expected) and all(row_ok(a, e) for a, e in zip(actual, expected)):
            return None
    else:
        remaining = list(actual)
        for e in expected:
            for i, a in enumerate(remaining):
                if row_ok(a, e):
                    del remaining[i]
                    break
            else:
                break
        else:
            if not remaining:
                return None
    shown_actual = actual if rec.sort == "nosort" else sorted(actual, key=row_sort_key)
    lines = [f"expected {len(expected)} rows ({rec.sort}):"]
    lines += ["  " + "\t".join(r) for r in rec.rows[:20]]
    lines.append(f"got {len(actual)} rows:")
    lines += ["  " + format_row(r) for r in shown_actual[:20]]
    return "\n".join(lines)


def compare_tables(actual: pa.Table, reference: pa.Table, rec: Record) -> Optional[str]:
    return compare(actual, reference, ordered=rec.sort == "nosort", labels=("sluice", "duckdb"))
