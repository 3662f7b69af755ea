"""Shrink a failing differential case to a few rows, for a tests/sql/ reproduction.

    .venv/bin/python tests/differential/shrink.py --seed 13 --query 4 [--columns id,k,k2]

Rebuilds the seed's tables, keeps the columns the query mentions (or --columns), then
deletes rows (halving chunks, then single rows) as long as Sluice and DuckDB still
disagree, and prints the remaining rows as `load` blocks for a .test file. The tables
keep their layout (number of files, row group size) while shrinking, since some bugs
need several files or row groups; the printed `load` blocks do not have it (note it in
the .test comment, or use `load NAME AS <query>` to make the rows).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from query_generator import generate_queries  # noqa: E402
from random_tables import make_world  # noqa: E402
from result_compare import compare  # noqa: E402
from sluice_cli import Sluice  # noqa: E402
from test_differential import QUERIES_PER_SEED  # noqa: E402

DUCK_TYPES = {
    "int8": "TINYINT", "int16": "SMALLINT", "int32": "INTEGER", "int64": "BIGINT",
    "uint8": "UTINYINT", "uint16": "USMALLINT", "uint32": "UINTEGER", "uint64": "UBIGINT",
    "double": "DOUBLE", "string": "VARCHAR", "bool": "BOOLEAN", "date32[day]": "DATE",
    "timestamp[us]": "TIMESTAMP", "timestamp[us, tz=UTC]": "TIMESTAMPTZ",
}


LAYOUT: dict = {}   # table name -> (files, row_group_size), as the seed made them


def _write(name: str, t: pa.Table, workdir: Path) -> str:
    files, rgs = LAYOUT.get(name, (1, 0))
    kw = {"row_group_size": rgs} if rgs else {}
    d = workdir / name
    if d.exists():
        for f in d.iterdir():
            f.unlink()
    d.mkdir(parents=True, exist_ok=True)
    if files == 1:
        pq.write_table(t, d / "part-0.parquet", **kw)
    else:
        half = t.num_rows // 2
        pq.write_table(t.slice(0, half), d / "part-0.parquet", **kw)
        pq.write_table(t.slice(half), d / "part-1.parquet", **kw)
    return str(d / "*.parquet")


def disagreement(sluice: Sluice, tables: dict, sql: str, ordered: bool, workdir: Path):
    """A description of the disagreement, or None if the engines agree (or DuckDB fails)."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    paths = {}
    for name, t in tables.items():
        p = _write(name, t, workdir)
        paths[name] = p
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{p}')")
    try:
        expected = con.sql(sql).to_arrow_table()
    except duckdb.Error:
        return None
    for threads in (1, 2):
        r = sluice.sql(sql, paths, threads=threads)
        if not r.ok:
            return f"sluice (threads={threads}): {r.error}"
        diff = compare(r.table, expected, ordered=ordered)
        if diff:
            return f"threads={threads}: {diff}"
    return None


def shrink(sluice, tables, sql, ordered, workdir):
    for name in list(tables):
        chunk = max(1, tables[name].num_rows // 2)
        while chunk >= 1:
            i = 0
            while i < tables[name].num_rows:
                t = tables[name]
                trial = dict(tables)
                trial[name] = pa.concat_tables([t.slice(0, i), t.slice(i + chunk)])
                if disagreement(sluice, trial, sql, ordered, workdir):
                    tables = trial
                else:
                    i += chunk
            chunk //= 2
    return tables


def as_load_block(name: str, t: pa.Table) -> str:
    cols = ", ".join(f"{f.name} {DUCK_TYPES.get(str(f.type), str(f.type).upper())}" for f in t.schema)
    lines = [f"load {name}({cols})"]
    for row in t.to_pylist():
        vals = []
        for v in row.values():
            if v is None:
                vals.append("NULL")
            elif isinstance(v, bool):
                vals.append("true" if v else "false")
            elif isinstance(v, str):
                vals.append('"' + v.replace('"', '""') + '"')
            else:
                vals.append(str(v))
        lines.append(",".join(vals))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--query", type=int, required=True)
    ap.add_argument("--columns", help="comma-separated columns to keep (default: those the query names)")
    args = ap.parse_args()
    binary = os.environ.get("SLUICE_BIN") or str(HERE.parents[1] / "build/release/tools/sluice/sluice")
    sluice = Sluice(binary)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        world = make_world(args.seed, work / "world")
        q = generate_queries(world, QUERIES_PER_SEED, args.seed)[args.query]
        print(f"query ({q.template}, ordered={q.ordered}):\n  {q.sql}\n")
        tables = {}
        for t in world.tables:
            if t.name not in q.tables:
                continue
            keep = args.columns.split(",") if args.columns else \
                [c.name for c in t.columns if re.search(rf"\b{re.escape(c.name)}\b", q.sql) or q.sql.count("*")]
            tables[t.name] = t.data.select(keep)
            LAYOUT[t.name] = (t.files, t.row_group_size)
        if not disagreement(sluice, tables, q.sql, q.ordered, work):
            sys.exit("the engines agree on this case: nothing to shrink")
        tables = shrink(sluice, tables, q.sql, q.ordered, work)
        for name, t in tables.items():
            files, rgs = LAYOUT[name]
            print(f"# {name}: {files} file(s), row groups of {rgs or 'default'} rows")
            print(as_load_block(name, t) + "\n")
        print(disagreement(sluice, tables, q.sql, q.ordered, work))


if __name__ == "__main__":
    main()
