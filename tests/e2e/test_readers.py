"""Table functions and --table over CSV/JSON/Parquet inputs, compared with DuckDB reading
the same files with equivalent options."""

from __future__ import annotations

import gzip
import json
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from result_compare import compare

TYPES = "id bigint, name varchar, amount double, day date, ok boolean"
DUCK_TYPES = "{'id': 'BIGINT', 'name': 'VARCHAR', 'amount': 'DOUBLE', 'day': 'DATE', 'ok': 'BOOLEAN'}"


def _rows(n, seed):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        name = rng.choice(["plain", "with space", "comma, inside", 'quote " inside', "", "日本", None])
        amount = rng.choice([None, round(rng.uniform(-1e6, 1e6), 2), 0.0, 1e-5])
        day = rng.choice([None, "2024-02-29", "1970-01-01", "1999-12-31"])
        ok = rng.choice([None, True, False])
        out.append((i, name, amount, day, ok))
    return out


def _csv_field(v, delim):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    s = str(v)
    if s == "" or any(c in s for c in (delim, '"', "\n")):
        return '"' + s.replace('"', '""') + '"'
    return s


@pytest.mark.parametrize("delim", [",", "|", "\t", ";"])
@pytest.mark.parametrize("header", [True, False])
@pytest.mark.parametrize("crlf", [False, True])
def test_read_csv_options_match_duckdb(sluice, tmp_path, duck, delim, header, crlf):
    rows = _rows(500, seed=len(delim) + header * 2 + crlf * 4)
    nl = "\r\n" if crlf else "\n"
    lines = ([delim.join(["id", "name", "amount", "day", "ok"])] if header else []) + \
        [delim.join(_csv_field(v, delim) for v in r) for r in rows]
    path = tmp_path / "in.csv"
    path.write_bytes((nl.join(lines) + nl).encode("utf-8"))
    r = sluice.sql(f"SELECT * FROM read_csv('{path}', header => {str(header).lower()}, "
                   f"delim => '{delim}', columns => '{TYPES}') ORDER BY id", threads=2)
    assert r.ok, r.cli.describe()
    ref = duck.sql(f"SELECT * FROM read_csv('{path}', header = {str(header).lower()}, delim = '{delim}', "
                   f"columns = {DUCK_TYPES}, auto_detect = false, quote = '\"', escape = '\"', "
                   f"allow_quoted_nulls = false) ORDER BY id").to_arrow_table()
    diff = compare(r.table, ref, ordered=True, check_names=True)
    assert diff is None, diff


def test_read_csv_inferred_types_match_duckdb(sluice, tmp_path, duck):
    rows = _rows(300, seed=9)
    path = tmp_path / "in.csv"
    path.write_text("id,name,amount,day,ok\n" + "\n".join(",".join(_csv_field(v, ",") for v in r) for r in rows) + "\n")
    r = sluice.sql("SELECT * FROM t ORDER BY id", {"t": path})
    assert r.ok, r.cli.describe()
    ref = duck.sql(f"SELECT * FROM read_csv('{path}', allow_quoted_nulls = false) ORDER BY id").to_arrow_table()
    diff = compare(r.table, ref, ordered=True, check_names=True)
    assert diff is None, diff


def test_compressed_csv(sluice, tmp_path, duck):
    rows = _rows(2000, seed=3)
    text = "id,name,amount,day,ok\n" + "\n".join(",".join(_csv_field(v, ",") for v in r) for r in rows) + "\n"
    path = tmp_path / "in.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write(text)
    r = sluice.sql(f"SELECT count(*) AS n, sum(amount) AS s, count(DISTINCT name) AS d "
                   f"FROM read_csv('{path}', columns => '{TYPES}', header => true)")
    assert r.ok, r.cli.describe()
    ref = duck.sql(f"SELECT count(*) AS n, sum(amount) AS s, count(DISTINCT name) AS d FROM read_csv('{path}', "
                   f"columns = {DUCK_TYPES}, header = true, auto_detect = false, allow_quoted_nulls = false)"
                   ).to_arrow_table()
    assert compare(r.table, ref) is None


def test_read_json_matches_duckdb(sluice, tmp_path, duck):
    rows = _rows(500, seed=4)
    path = tmp_path / "in.jsonl"
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            obj = dict(zip(["id", "name", "amount", "day", "ok"], r))
            if obj["ok"] is None:
                del obj["ok"]                       # missing key = NULL
            f.write(json.dumps(obj, ensure_ascii=False) + "\n")
    r = sluice.sql(f"SELECT * FROM read_json('{path}', columns => '{TYPES}') ORDER BY id")
    assert r.ok, r.cli.describe()
    ref = duck.sql(f"SELECT * FROM read_json('{path}', columns = {DUCK_TYPES}) ORDER BY id").to_arrow_table()
    diff = compare(r.table, ref, ordered=True, check_names=True)
    assert diff is None, diff
    inferred = sluice.sql("SELECT * FROM t ORDER BY id", {"t": path})
    assert inferred.ok, inferred.cli.describe()
    assert [f.name for f in inferred.table.schema] == ["id", "name", "amount", "day", "ok"]


def test_read_parquet_glob_and_hive_partitions(sluice, tmp_path, duck):
    root = tmp_path / "ds"
    for region in ["eu", "us"]:
        for part in range(2):
            d = root / f"region={region}"
            d.mkdir(parents=True, exist_ok=True)
            pq.write_table(pa.table({"id": list(range(part * 100, part * 100 + 100)),
                                     "v": [float(i) for i in range(100)]}), d / f"part-{part}.parquet")
    q = ("SELECT region, count(*) AS n, sum(v) AS s, min(id) AS lo FROM read_parquet('{p}') "
         "GROUP BY region")
    r = sluice.sql(q.format(p=f"{root}/*/*.parquet"))
    assert r.ok, r.cli.describe()
    ref = duck.sql(q.format(p=f"{root}/*/*.parquet").replace("')", "', hive_partitioning = true)")).to_arrow_table()
    diff = compare(r.table, ref, check_names=True)
    assert diff is None, diff


def test_parquet_dictionary_and_plain_string_pages_read_alike(sluice, tmp_path):
    """String columns whose chunk is all dictionary pages are read as dictionary indices
    and expanded by the scan; a chunk whose dictionary overflowed into plain pages (a
    small dictionary page limit) and a plain column are read as they are. Every way
    gives the values pyarrow reads, NULLs included."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(8)
    n = 30_000
    low = pa.array([f"v{x}" for x in rng.integers(0, 40, n)], mask=rng.random(n) < 0.05)
    high = pa.array([f"row-{i}-{'x' * (i % 50)}" for i in range(n)],
                    mask=rng.random(n) < 0.05)
    t = pa.table({"low": low, "high": high, "i": np.arange(n)})
    path = tmp_path / "dict.parquet"
    pq.write_table(t, path, row_group_size=7000, dictionary_pagesize_limit=4096)
    # 7,000 distinct ~30-byte values per row group overflow a 4 KiB dictionary page, so
    # "high" falls back to plain pages; "low" (40 values) stays dictionary-encoded.
    meta = pq.ParquetFile(path).metadata
    assert all(meta.row_group(g).column(0).has_dictionary_page for g in range(meta.num_row_groups))
    for threads in (1, 2):
        ours = sluice.sql_ok("SELECT i, low, high FROM t ORDER BY i", {"t": str(path)},
                             threads=threads)
        assert ours.column("low").to_pylist() == low.to_pylist()
        assert ours.column("high").to_pylist() == high.to_pylist()
        assert ours.schema.field("low").type == pa.string()
