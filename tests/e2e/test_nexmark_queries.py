"""The Nexmark queries of examples/nexmark/ over the built-in generator (two threads,
its own watermarks) against DuckDB over the same events written to Parquet, with
TUMBLE/HOP spelled out for DuckDB (floor of the epoch, one row per hop window)."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import result_compare

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "nexmark"
EVENTS = 300_000
QUERIES = ["q0", "q1", "q2", "q3", "q4", "q5", "q7", "q8"]


@pytest.fixture(scope="module")
def files(sluice, tmp_path_factory):
    d = tmp_path_factory.mktemp("nexmark_q")
    out = {}
    for table in ("person", "auction", "bid"):
        path = d / f"{table}.parquet"
        r = sluice.cli(["sql", "--threads", "2",
                        f"COPY (SELECT * FROM nexmark('{table}', events => {EVENTS})) TO "
                        f"'{path}' (FORMAT parquet)"])
        assert r.returncode == 0, r.describe()
        out[table] = str(path)
    return out


def seconds(unit_text: str) -> int:
    n = int(re.search(r"'(\d+)'", unit_text).group(1))
    assert "SECOND" in unit_text
    return n * 1_000_000


def for_duckdb(query: str) -> str:
    """TUMBLE(t, c, INTERVAL 'n' SECOND) and HOP(t, c, slide, size) as subqueries."""
    def tumble(m):
        t, c, size = m.group(1), m.group(2), seconds(m.group(3))
        return (f"(SELECT *, make_timestamp(w) AS window_start, make_timestamp(w + {size}) "
                f"AS window_end FROM (SELECT *, floor(epoch_us({c}) / {size})::BIGINT * "
                f"{size} AS w FROM {t}))")

    def hop(m):
        t, c = m.group(1), m.group(2)
        slide, size = seconds(m.group(3)), seconds(m.group(4))
        last = f"floor(epoch_us({c}) / {slide})::BIGINT * {slide}"
        return (f"(SELECT *, make_timestamp(w) AS window_start, make_timestamp(w + {size}) "
                f"AS window_end FROM (SELECT *, unnest(generate_series({last} - "
                f"{size - slide}, {last}, {slide})) AS w FROM {t}))")

    interval = r"(INTERVAL '\d+' SECOND)"
    query = re.sub(rf"TUMBLE\((\w+), (\w+), {interval}\)", tumble, query)
    return re.sub(rf"HOP\((\w+), (\w+), {interval}, {interval}\)", hop, query)


@pytest.mark.parametrize("query", QUERIES)
def test_query_matches_duckdb(sluice, duck, files, query, tmp_path):
    text = (EXAMPLES / f"{query}.sql").read_text()
    sources = (EXAMPLES / "sources.sql").read_text().replace("10000000", str(EVENTS))
    body = "\n".join(l for l in text.splitlines() if not l.startswith("--"))
    out = tmp_path / "out.parquet"
    script = tmp_path / "q.sql"
    script.write_text(f"{sources}\nCOPY ({body.strip().rstrip(';')}) TO '{out}' "
                      "(FORMAT parquet);\n")
    r = sluice.cli(["sql", "--threads", "2", "-f", script])
    assert r.returncode == 0, r.describe()
    ours = pq.read_table(out)
    theirs = result_compare.duckdb_answer(duck, files, for_duckdb(text))
    assert theirs.num_rows > 0
    diff = result_compare.compare(ours, theirs)
    assert diff is None, f"{query}: {diff}"
