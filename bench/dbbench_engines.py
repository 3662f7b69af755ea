"""One engine, one suite, in its own process: the db-benchmark way for DuckDB, Polars
and pandas (and DuckDB over Parquet). bench/dbbench.py starts it, and it loads the data
once; then it runs the questions it is sent on stdin, one JSON line each,
{"q": "q1", "run": 1}, until an empty line or end of input. On stdout, one JSON line
per event:

    {"event": "load", "seconds": ...}                         data loaded (not a question time)
    {"event": "run", "q": "q1", "run": 1, "seconds": ..., "rows": ..., "chk": {...}}
    {"event": "error", "q": "q1", "run": 1, "error": "..."}
    {"event": "done", "peak_rss": bytes}

Engines:
  duckdb          tables loaded into DuckDB's memory first (id1, id2 as ENUM for groupby,
                  as the benchmark's DuckDB solution does); a question is
                  CREATE TABLE ans AS <query> plus its row count
  duckdb-parquet  no load: COPY (<query over read_parquet>) TO 'ans.parquet' -- the same
                  work as `sluice sql --format parquet --output`
  polars          DataFrames read into memory (id1..id3 Categorical for groupby); a
                  question is a lazy query over them, collected
  pandas          DataFrames read into memory (id1..id3 category for groupby); a question
                  is the groupby / merge producing the answer DataFrame
  sluice-memory   one `sluice sql -f -` process fed statements through a pipe: the tables
                  loaded with CREATE TABLE ... AS SELECT * FROM read_parquet(...) first, a
                  question is CREATE TABLE ans AS <query>, timed until sluice has answered
                  it (the db-benchmark rules, as for duckdb; the binary is $SLUICE_BIN)
Only the question is timed; the check values (row count and column sums, NaN skipped
like NULL) are computed after the clock stops, for every run.
"""
import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dbbench_questions import SUITES  # noqa: E402


def emit(**event):
    print(json.dumps(event), flush=True)


def sql_str(path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


class DuckDB:
    def __init__(self, files, suite, threads, workdir, parquet):
        import duckdb
        self.con = duckdb.connect()
        if threads:
            self.con.execute(f"SET threads = {threads}")
        self.parquet = parquet
        self.ans = Path(workdir) / "ans.parquet"
        if parquet:
            for name, path in files.items():
                self.con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet({sql_str(path)})")
            return
        if suite == "groupby":
            src = f"read_parquet({sql_str(files['x'])})"
            for c in ("id1", "id2"):
                self.con.execute(f"CREATE TYPE {c}_enum AS ENUM "
                                 f"(SELECT DISTINCT {c} FROM {src} WHERE {c} IS NOT NULL ORDER BY 1)")
            self.con.execute(f"CREATE TABLE x AS SELECT id1::id1_enum AS id1, id2::id2_enum AS id2, "
                             f"id3, id4, id5, id6, v1, v2, v3 FROM {src}")
        else:
            for name, path in files.items():
                self.con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet({sql_str(path)})")

    def run(self, q):
        if self.parquet:
            self.con.execute(f"COPY ({q.sql}) TO {sql_str(self.ans)} (FORMAT parquet, COMPRESSION snappy)")
        else:
            self.con.execute(f"CREATE TABLE ans AS {q.sql}")
            self.con.execute("SELECT count(*) FROM ans").fetchone()

    def check(self, q):
        src = f"read_parquet({sql_str(self.ans)})" if self.parquet else "ans"
        sums = ", ".join(f"sum(CASE WHEN isnan({c}::DOUBLE) THEN NULL ELSE {c}::DOUBLE END)" for c in q.chk)
        row = self.con.execute(f"SELECT count(*), {sums} FROM {src}").fetchone()
        return row[0], dict(zip(q.chk, row[1:]))

    def drop(self):
        if self.parquet:
            self.ans.unlink(missing_ok=True)
        else:
            self.con.execute("DROP TABLE IF EXISTS ans")


class Polars:
    def __init__(self, files, suite, threads, workdir):
        import polars as pl
        self.pl = pl
        self.tables = {}
        for name, path in files.items():
            df = pl.read_parquet(path)
            if suite == "groupby":
                df = df.with_columns(pl.col("id1", "id2", "id3").cast(pl.Categorical))
            self.tables[name] = df
        self.ans = None

    def run(self, q):
        self.ans = q.polars(self.pl, {n: df.lazy() for n, df in self.tables.items()}).collect()

    def check(self, q):
        pl = self.pl
        row = self.ans.select([pl.col(c).cast(pl.Float64).fill_nan(None).sum() for c in q.chk]).row(0)
        return self.ans.height, dict(zip(q.chk, row))

    def drop(self):
        self.ans = None


class Pandas:
    def __init__(self, files, suite, threads, workdir):
        import pandas as pd
        self.pd = pd
        self.tables = {}
        for name, path in files.items():
            df = pd.read_parquet(path)
            if suite == "groupby":
                for c in ("id1", "id2", "id3"):
                    df[c] = df[c].astype("category")
            self.tables[name] = df
        self.ans = None

    def run(self, q):
        self.ans = q.pandas(self.pd, self.tables)

    def check(self, q):
        return len(self.ans), {c: float(self.ans[c].astype("float64").sum()) for c in q.chk}

    def drop(self):
        self.ans = None


class SluiceMemory:
    """A `sluice sql -f -` session: each statement runs as soon as its ';' arrives, and
    a `SELECT 1 AS ready` after it says when it is done."""

    BINARY = Path(os.environ.get("SLUICE_BIN", Path(__file__).resolve().parent.parent
                                 / "build/release/tools/sluice/sluice"))

    def __init__(self, files, suite, threads, workdir):
        self.files, self.threads = files, threads
        self.p = None
        self.start()

    def start(self):
        cmd = [str(self.BINARY), "sql", "-f", "-", "--format", "jsonl", "-q"]
        if self.threads:
            cmd += ["--threads", str(self.threads)]
        self.err = tempfile.TemporaryFile(mode="w+")
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err,
                                  text=True)
        for name, path in self.files.items():
            self.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet({sql_str(path)})")

    def execute(self, statement):
        """Runs one statement; returns the JSON row of a one-row query, else {}."""
        if self.p is None or self.p.poll() is not None:
            self.start()  # an error ended the last session: a fresh one, tables reloaded
        one_row = statement.lstrip().upper().startswith("SELECT")
        self.p.stdin.write(statement + (";\n" if one_row else ";\nSELECT 1 AS ready;\n"))
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line:
            self.p.wait()
            self.err.seek(0)
            msg = self.err.read().strip().splitlines()
            raise RuntimeError(msg[0] if msg else f"sluice exited with {self.p.returncode}")
        return json.loads(line) if one_row else {}

    def run(self, q):
        self.execute(f"CREATE TABLE ans AS {q.sql}")

    def check(self, q):
        sums = ", ".join(f"sum(CASE WHEN isnan(CAST({c} AS DOUBLE)) THEN NULL ELSE CAST({c} AS DOUBLE) END) AS c{i}"
                         for i, c in enumerate(q.chk))
        row = self.execute(f"SELECT count(*) AS n, {sums} FROM ans")
        return row["n"], {c: row[f"c{i}"] for i, c in enumerate(q.chk)}

    def drop(self):
        if self.p is not None and self.p.poll() is None:
            self.execute("DROP TABLE IF EXISTS ans")

    def close(self):
        if self.p is not None and self.p.poll() is None:
            self.p.stdin.close()
            self.p.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--engine", required=True, choices=["duckdb", "duckdb-parquet", "polars", "pandas", "sluice-memory"])
    ap.add_argument("--suite", required=True, choices=sorted(SUITES))
    ap.add_argument("--files", required=True, help="JSON: table name -> Parquet path")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--workdir", required=True)
    args = ap.parse_args()
    files = json.loads(args.files)
    start = time.perf_counter()
    if args.engine in ("duckdb", "duckdb-parquet"):
        engine = DuckDB(files, args.suite, args.threads, args.workdir, args.engine == "duckdb-parquet")
    elif args.engine == "polars":
        engine = Polars(files, args.suite, args.threads, args.workdir)
    elif args.engine == "sluice-memory":
        engine = SluiceMemory(files, args.suite, args.threads, args.workdir)
    else:
        engine = Pandas(files, args.suite, args.threads, args.workdir)
    emit(event="load", seconds=time.perf_counter() - start)
    questions = {q.id: q for q in SUITES[args.suite]}
    for line in sys.stdin:
        if not line.strip():
            break
        cmd = json.loads(line)
        q, run = questions[cmd["q"]], cmd["run"]
        gc.collect()
        try:
            start = time.perf_counter()
            engine.run(q)
            secs = time.perf_counter() - start
            rows, chk = engine.check(q)
            emit(event="run", q=q.id, run=run, seconds=secs, rows=rows, chk=chk)
        except Exception as e:  # one question failing does not end the suite
            emit(event="error", q=q.id, run=run, error=f"{type(e).__name__}: {e}".strip()[:2000])
        finally:
            try:
                engine.drop()
            except Exception:
                pass
    if hasattr(engine, "close"):
        engine.close()
    # sluice-memory's engine is a child process: the larger of the two peaks.
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    emit(event="done", peak_rss=peak * 1024)


if __name__ == "__main__":
    # Polars reads its thread count once, at import.
    if "--threads" in sys.argv:
        n = sys.argv[sys.argv.index("--threads") + 1]
        if n != "0":
            os.environ["POLARS_MAX_THREADS"] = n
    main()
