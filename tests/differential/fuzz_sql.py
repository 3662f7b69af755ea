"""Differential SQL fuzzer: random tables and queries, Sluice against DuckDB, for a time or
a number of queries; every mismatch is minimized into a tests/sql record.

    make fuzz-sql                                  # 5 minutes
    make fuzz-sql FUZZ_SQL_MINUTES=30 [FUZZ_SQL_SEED=42] [SLUICE_BIN=...]
    make fuzz-sql FUZZ_SQL_QUERIES=2000
    .venv/bin/python tests/differential/fuzz_sql.py --minutes 5 [--seed S] [--sluice BIN]
    .venv/bin/python tests/differential/fuzz_sql.py --seed S --replay W:Q      # one case again
    .venv/bin/python tests/differential/fuzz_sql.py --promote build/fuzz-sql/mismatches/003.test

It builds on the differential test (tests/differential/): random_tables.make_world makes
the tables (with variety=True: more files, tiny row groups, duplicated rows; --nan adds
NaN/inf), query_generator.generate_queries the queries (GenOptions: subqueries in
expressions, the sub_* / multi_join templates, more functions; windows once Sluice plans
OVER), shrink.py runs and minimizes cases. Design and workflow: docs/design/fuzz_sql.md.

Each query runs in DuckDB (views over the same Parquet files, one thread, TimeZone UTC)
and in Sluice with --threads 1 and --threads N (N = 2, 3 or 4, per query). Mismatches:
Sluice fails where DuckDB does not (except "not supported yet", counted per kind),
crashes, hangs, or returns other rows (compared with tests/result_compare.py: in order
when the query's ORDER BY is total, as multisets otherwise). A mismatch is
cross-checked against DuckDB over in-memory copies of the tables (DuckDB disagreeing with
itself is a DuckDB bug, reported apart), minimized (shrink.Minimizer) and written to
OUT/mismatches/NNN.test, a tests/sql record, with a line in OUT/mismatches/summary.txt.
Minimized mismatches with the same signature (kind, error message, SQL features of the
minimized query) are reported once; those already in OUT/mismatches are not written
again. The exit status is 1 if the run found any mismatch.

Deterministic for a seed (printed first): world W of seed S has seed world_seed(S, W),
and its queries are always the same; only how many run depends on the time limit.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Dict, List, Optional

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path[:0] = [str(HERE), str(HERE.parent)]

from query_generator import GenOptions, generate_queries, templates_for  # noqa: E402
from random_tables import make_world  # noqa: E402
from result_compare import compare  # noqa: E402
from shrink import (Case, Minimizer, Outcome, as_test_record, duck_connect, duck_run, evaluate,  # noqa: E402
                    verify_record)
from sluice_cli import Sluice  # noqa: E402
import sql_reduce  # noqa: E402

QUERIES_PER_WORLD = 30
WINDOW_PROBE = "SELECT row_number() OVER (ORDER BY 1)"


def world_seed(seed: int, index: int) -> int:
    return (seed * 1_000_003 + index * 7919 + 1) % (2 ** 31)


def sql_features(sql: str) -> List[str]:
    """The shape of a query: its constructs and functions (for grouping mismatches)."""
    toks = sql_reduce.tokenize(sql)
    up = [t.upper() for t in toks]
    feats = set()
    for i, u in enumerate(up):
        prev = up[i - 1] if i else ""
        prev2 = up[i - 2] if i > 1 else ""
        nxt = up[i + 1] if i + 1 < len(up) else ""
        if u == "JOIN":
            kind = prev if prev in ("LEFT", "RIGHT", "FULL", "CROSS", "INNER") else \
                prev2 if prev == "OUTER" else "INNER"
            feats.add(f"{kind.lower()} join")
        elif u == "EXISTS":
            feats.add("not exists" if prev == "NOT" else "exists")
        elif u == "(" and nxt == "SELECT":
            if prev == "IN":
                feats.add("not in (subquery)" if prev2 == "NOT" else "in (subquery)")
            elif prev in ("ANY", "ALL", "SOME"):
                feats.add(f"{prev.lower()} (subquery)")
            elif prev in ("FROM", "JOIN", ","):
                feats.add("derived table")
            elif prev != "EXISTS":
                feats.add("scalar subquery")
        elif u in ("GROUP", "ORDER", "PARTITION") and nxt == "BY":
            feats.add(f"{u.lower()} by")
        elif u in ("HAVING", "DISTINCT", "LIMIT", "OFFSET", "UNION", "INTERSECT", "EXCEPT", "WITH", "OVER",
                   "CASE", "BETWEEN", "LIKE", "ILIKE"):
            feats.add(u.lower())
        elif nxt == "(" and re.match(r"^[A-Z_][A-Z_0-9]*$", u) and u not in sql_reduce.NOT_FUNCTIONS:
            feats.add(u.lower() + "()")
    if "," in toks and re.search(r"\bFROM\s+\w+\s+\w+\s*,", sql, re.I):
        feats.add("comma join")
    return sorted(feats)


class Stats:
    def __init__(self):
        self.queries = 0
        self.by_kind = collections.Counter()
        self.by_template = collections.Counter()
        self.unsupported = collections.Counter()
        self.unsupported_example: Dict[str, str] = {}
        self.duck_errors = collections.Counter()
        self.duck_error_example: Dict[str, str] = {}
        self.mismatch_templates = collections.Counter()
        self.shrink_seconds = 0.0
        self.engine_seconds = 0.0


class Fuzzer:
    def __init__(self, args):
        self.args = args
        self.seed = args.seed
        self.out = Path(args.out)
        self.mdir = self.out / "mismatches"
        self.mdir.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix="fuzz-sql-"))
        self.binary = self._copy_binary(args.sluice)
        self.sluice = Sluice(self.binary)
        self.windows = self._windows_setting(args.windows)
        self.options = GenOptions(subqueries=True, windows=self.windows, extra_functions=True,
                                  avoid=frozenset(a for a in (args.avoid or "").split(",") if a))
        self.stats = Stats()
        self.known = self._existing_signatures()
        self.groups: Dict[str, dict] = {}        # signature -> {file, count, kind, message, features, ...}
        self.presig_count = collections.Counter()
        self.unminimized: List[str] = []
        self.duckdb_suspects: List[str] = []
        self.new_files: List[str] = []
        self.mismatch_events = 0

    # -- setup ------------------------------------------------------------------------------
    def _copy_binary(self, src: str) -> Path:
        """A private copy: the binary under test may be rebuilt while we run."""
        src_p = Path(src)
        if not src_p.is_file():
            sys.exit(f"fuzz-sql: no sluice binary at {src_p} (build it, or set SLUICE_BIN)")
        dst = self.tmp / "sluice"
        for _ in range(5):
            shutil.copy2(src_p, dst)
            ok = subprocess.run([str(dst), "sql", "-q", "--format", "csv", "SELECT 1 AS x"],
                                capture_output=True, stdin=subprocess.DEVNULL, timeout=60).returncode == 0
            if ok:
                return dst
            time.sleep(5)            # probably copied while being written: try again
        sys.exit(f"fuzz-sql: the copy of {src_p} does not run `SELECT 1`")

    def _windows_setting(self, mode: str) -> bool:
        if mode in ("on", "off"):
            return mode == "on"
        r = subprocess.run([str(self.binary), "sql", "-q", "--format", "csv", WINDOW_PROBE],
                           capture_output=True, stdin=subprocess.DEVNULL, timeout=60)
        return r.returncode == 0

    def _existing_signatures(self) -> Dict[str, str]:
        known = {}
        for f in sorted(self.mdir.glob("*.test")):
            for line in f.read_text(encoding="utf-8", errors="replace").splitlines():
                if line.startswith("# signature: "):
                    known[line[len("# signature: "):].strip()] = f.name
        return known

    def _next_number(self) -> int:
        nums = [int(m.group(1)) for f in self.mdir.glob("*.test") if (m := re.match(r"(\d+)\.test$", f.name))]
        return max(nums, default=0) + 1

    def flags(self) -> str:
        return f"--windows {'on' if self.windows else 'off'}" + (" --nan" if self.args.nan else "") + \
            (f" --avoid {self.args.avoid}" if self.args.avoid else "")

    # -- the loop -------------------------------------------------------------------------
    def make_world(self, index: int, root: Path):
        wseed = world_seed(self.seed, index)
        wrng = random.Random(wseed)
        world = make_world(wseed, root, num_tables=wrng.choice([2, 3, 3, 4]), variety=True, nan=self.args.nan)
        queries = generate_queries(world, QUERIES_PER_WORLD, wseed, self.options)
        return wseed, world, queries

    def threads_for(self, wseed: int, qi: int) -> tuple:
        return (1, random.Random(wseed * 31 + qi).choice([2, 2, 3, 4]))

    def run(self) -> int:
        a = self.args
        start = time.monotonic()
        deadline = start + a.minutes * 60 if a.queries is None else float("inf")
        limit = a.queries if a.queries is not None else float("inf")
        print(f"fuzz-sql: seed {self.seed}; sluice {a.sluice} (copied to {self.binary}); "
              f"windows {'on' if self.windows else 'off (OVER does not plan yet)'}"
              f"{'; NaN/inf on' if a.nan else ''}; "
              + (f"{a.queries} queries" if a.queries is not None else f"{a.minutes:g} minutes"), flush=True)
        print(f"fuzz-sql: templates {', '.join(n for n, _ in templates_for(self.options))}", flush=True)
        last_status = start
        index = a.first_world
        try:
            while self.stats.queries < limit and time.monotonic() < deadline:
                root = self.tmp / "worlds"
                wseed, world, queries = self.make_world(index, root)
                paths = {t.name: t.path for t in world.tables}
                con = duck_connect(paths)
                for qi, q in enumerate(queries):
                    if self.stats.queries >= limit or time.monotonic() >= deadline:
                        break
                    t0 = time.monotonic()
                    threads = self.threads_for(wseed, qi)
                    try:
                        o = evaluate(self.sluice, con, q.sql, paths, q.ordered, threads, tmp=self.tmp)
                    except Exception:  # noqa: BLE001
                        o = Outcome("fuzzer_error", traceback.format_exc(), "fuzzer error")
                        print(f"fuzz-sql: internal error on {q.sql}\n{o.detail}", flush=True)
                    self.stats.engine_seconds += time.monotonic() - t0
                    self.count(o, q)
                    if o.mismatch:
                        try:
                            self.on_mismatch(o, q, world, paths, index, qi, deadline)
                        except Exception:  # noqa: BLE001 (a fuzzer bug must not end the run)
                            print("fuzz-sql: internal error while handling the mismatch:\n" +
                                  traceback.format_exc(), flush=True)
                    if time.monotonic() - last_status > a.status_every:
                        last_status = time.monotonic()
                        self.status(start)
                con.close()
                shutil.rmtree(root, ignore_errors=True)
                index += 1
        except KeyboardInterrupt:
            print("\nfuzz-sql: interrupted", flush=True)
        elapsed = time.monotonic() - start
        report = self.report(elapsed, index - a.first_world)
        print(report, flush=True)
        (self.out / f"report-seed{self.seed}.txt").write_text(report + "\n", encoding="utf-8")
        shutil.rmtree(self.tmp, ignore_errors=True)
        return 1 if self.mismatch_events else 0

    def count(self, o: Outcome, q) -> None:
        s = self.stats
        s.queries += 1
        s.by_kind[o.kind] += 1
        s.by_template[q.template] += 1
        if o.kind in ("unsupported", "documented"):
            key = o.message if o.kind == "unsupported" else f"documented: {o.message}"
            s.unsupported[key] += 1
            s.unsupported_example.setdefault(key, q.sql)
        elif o.kind in ("duckdb_error", "duckdb_internal", "duckdb_timeout", "both_error"):
            key = f"{o.kind}: {o.message or o.detail[:100]}"
            s.duck_errors[key] += 1
            s.duck_error_example.setdefault(key, q.sql)
        if o.mismatch:
            s.mismatch_templates[q.template] += 1

    def status(self, start: float) -> None:
        s = self.stats
        el = time.monotonic() - start
        print(f"[{el / 60:5.1f} min] {s.queries} queries ({s.queries / max(el, 1e-9):.1f}/s), "
              f"{self.mismatch_events} mismatches ({len(self.groups)} unique), "
              f"{s.by_kind['unsupported']} not supported, {s.by_kind['documented']} documented "
              f"differences, {s.by_kind['duckdb_error']} rejected by DuckDB",
              flush=True)

    # -- mismatches ------------------------------------------------------------------------
    def on_mismatch(self, o: Outcome, q, world, paths, wi: int, qi: int, deadline: float) -> None:
        a = self.args
        self.mismatch_events += 1
        replay = f"fuzz_sql.py --seed {self.seed} --replay {wi}:{qi} {self.flags()}"
        head = f"{o.kind}" + (f" ({o.message})" if o.kind in ("error", "crash") else "") + \
            (f" with --threads {o.threads}" if o.threads > 1 else "")
        print(f"MISMATCH {head}\n  {replay}\n  {q.sql[:600]}", flush=True)
        cross = self.duck_cross_check(paths, q, o)
        if cross == "duckdb-wrong":
            line = f"{replay}  [{q.template}] DuckDB over Parquet differs from DuckDB over in-memory tables, " \
                   f"which agrees with Sluice: {q.sql}"
            self.duckdb_suspects.append(line)
            with open(self.out / "duckdb_suspects.txt", "a", encoding="utf-8") as f:
                f.write(line + "\n")
            print("  -> DuckDB disagrees with itself and Sluice agrees with in-memory DuckDB: a DuckDB bug",
                  flush=True)
            self.mismatch_events -= 1
            return
        presig = f"{o.kind}|{o.message}|t{int(o.threads > 1)}" + \
            (f"|{q.template}" if o.kind in ("wrong", "order") else "")
        self.presig_count[presig] += 1
        if self.presig_count[presig] > a.max_per_signature or a.no_shrink:
            self.unminimized.append(f"{head} [{q.template}] {replay}")
            with open(self.out / "unminimized.txt", "a", encoding="utf-8") as f:
                f.write(f"{head} [{q.template}] {replay}\n  {q.sql}\n")
            print("  (not minimized: same kind already minimized "
                  f"{a.max_per_signature} times)", flush=True)
            return
        t0 = time.monotonic()
        tables = {t.name: t.data for t in world.tables}
        layout = {t.name: (t.files, t.row_group_size) for t in world.tables}
        case = Case(q.sql, q.ordered, tables, layout)
        work = Path(tempfile.mkdtemp(dir=self.tmp, prefix="shrink-"))
        m = Minimizer(self.sluice, o, work, log=(print if a.verbose else None))
        budget = min(a.shrink_seconds, max(30.0, deadline - time.monotonic() + 30))
        small = m.minimize(case, budget)
        final = m.last or o
        took = time.monotonic() - t0
        self.stats.shrink_seconds += took
        feats = sql_features(small.sql)
        sig = f"{final.kind}|{final.message}|{'threads>1' if final.threads > 1 else 'threads=1'}|{','.join(feats)}"
        rows0 = sum(t.num_rows for t in case.tables.values())
        rows1 = sum(t.num_rows for t in small.tables.values())
        print(f"  minimized in {took:.0f}s ({m.checks} checks): {rows0} -> {rows1} rows, "
              f"{sql_reduce.measure(q.sql)[0]} -> {sql_reduce.measure(small.sql)[0]} tokens\n  {small.sql}",
              flush=True)
        if sig in self.groups:
            self.groups[sig]["count"] += 1
            print(f"  duplicate of {self.groups[sig]['file']}", flush=True)
            shutil.rmtree(work, ignore_errors=True)
            return
        if sig in self.known:
            self.groups[sig] = {"file": self.known[sig], "count": 1, "kind": final.kind, "message": final.message,
                                "threads": final.threads, "features": feats, "sql": small.sql, "old": True,
                                "record": (self.mdir / self.known[sig]).read_text(encoding="utf-8")}
            print(f"  already reported in {self.known[sig]}", flush=True)
            shutil.rmtree(work, ignore_errors=True)
            return
        num = self._next_number()
        name = f"{num:03d}.test"
        detail = [ln for ln in final.detail.splitlines() if ln.strip()][:8]
        comments = [
            f"fuzz-sql {name[:-5]}: {head}",
            f"found by: {replay} (template {q.template})",
            f"original query: {q.sql}",
            f"minimized in {took:.0f}s, {m.checks} checks: {rows0} -> {rows1} rows, "
            f"{sql_reduce.measure(q.sql)[0]} -> {sql_reduce.measure(small.sql)[0]} tokens",
            "what differs:",
            *["  " + ln for ln in detail],
        ]
        text = as_test_record(small, final, comments + [f"signature: {sig}"])
        fails, why = verify_record(self.sluice, text, work)
        text = text.replace(f"# signature: {sig}\n",
                            f"# as a tests/sql record: {'fails' if fails else 'PASSES'} ({why})\n"
                            f"# signature: {sig}\n")
        (self.mdir / name).write_text(text, encoding="utf-8")
        summary = f"{name}  {head}  [{', '.join(feats)}]  {small.sql[:300]}"
        with open(self.mdir / "summary.txt", "a", encoding="utf-8") as f:
            f.write(f"{summary}  (seed {self.seed})\n")
        self.groups[sig] = {"file": name, "count": 1, "kind": final.kind, "message": final.message,
                            "threads": final.threads, "features": feats, "sql": small.sql, "record": text}
        self.new_files.append(name)
        print(f"  -> {self.mdir / name}", flush=True)
        shutil.rmtree(work, ignore_errors=True)

    def duck_cross_check(self, paths, q, o: Outcome) -> str:
        """'consistent', 'duckdb-wrong' (in-memory DuckDB disagrees with DuckDB over
        Parquet and agrees with Sluice) or 'duckdb-inconsistent'."""
        if o.kind not in ("wrong", "order") or o.duck_table is None:
            return "consistent"
        con = duck_connect(paths, in_memory=True)
        try:
            alt, err = duck_run(con, q.sql, 60)
        finally:
            con.close()
        if err is not None or compare(alt, o.duck_table, ordered=q.ordered) is None:
            return "consistent"
        if o.sluice_table is not None and compare(o.sluice_table, alt, ordered=q.ordered) is None:
            return "duckdb-wrong"
        return "duckdb-inconsistent"

    # -- the report -------------------------------------------------------------------------
    def report(self, elapsed: float, worlds: int) -> str:
        s = self.stats
        engine_rate = s.queries / max(s.engine_seconds, 1e-9)
        lines = [
            "",
            "=" * 78,
            f"fuzz-sql report: seed {self.seed}, {self.flags()}",
            f"queries run: {s.queries} over {worlds} worlds in {elapsed:.0f}s: {s.queries / max(elapsed, 1e-9):.2f} "
            f"queries/s overall, {engine_rate:.2f}/s running queries "
            f"(minimizing took {s.shrink_seconds:.0f}s)",
            "outcomes: " + ", ".join(f"{k} {v}" for k, v in s.by_kind.most_common()),
            "templates: " + ", ".join(f"{k} {v}" for k, v in s.by_template.most_common()),
        ]
        if s.mismatch_templates:
            lines.append("mismatches by template: " +
                         ", ".join(f"{k} {v}" for k, v in s.mismatch_templates.most_common()))
        lines.append("")
        lines.append(f"mismatches: {self.mismatch_events} found, {len(self.groups)} unique after minimization "
                     f"({len(self.new_files)} new files in {self.mdir})")
        by_group = collections.defaultdict(list)
        for sig, g in self.groups.items():
            by_group[(g["kind"], g["message"], g["threads"] > 1)].append(g)
        for (kind, msg, thr), gs in sorted(by_group.items(), key=lambda kv: -sum(g["count"] for g in kv[1])):
            lines.append(f"  {kind}{' (' + msg + ')' if kind in ('error', 'crash') else ''}"
                         f"{' with --threads > 1 only' if thr else ''}: {sum(g['count'] for g in gs)}")
            for g in gs:
                lines.append(f"    {g['file']}{' (earlier run)' if g.get('old') else ''} x{g['count']} "
                             f"[{', '.join(g['features'])}]")
                lines.append(f"      {g['sql'][:400]}")
        if self.unminimized:
            lines.append(f"  not minimized (kind already minimized {self.args.max_per_signature} times): "
                         f"{len(self.unminimized)}, listed in {self.out / 'unminimized.txt'}")
        if self.duckdb_suspects:
            lines.append(f"DuckDB disagreeing with itself (Parquet vs in-memory; Sluice agrees with in-memory): "
                         f"{len(self.duckdb_suspects)}, listed in {self.out / 'duckdb_suspects.txt'}")
            for ln in self.duckdb_suspects[:5]:
                lines.append(f"  {ln[:300]}")
        lines.append("")
        lines.append(f"not supported yet (Sluice): {s.by_kind['unsupported']} queries; documented "
                     f"differences (shrink.DOCUMENTED, listed as 'documented: ...'): "
                     f"{s.by_kind['documented']}")
        for k, v in s.unsupported.most_common():
            lines.append(f"  {v:6d}  {k}")
            lines.append(f"          e.g. {s.unsupported_example[k][:200]}")
        if s.duck_errors:
            lines.append(f"rejected or not answered by DuckDB (both_error: by both; the others point at "
                         f"generator problems; not compared): "
                         f"{sum(s.duck_errors.values())}")
            for k, v in s.duck_errors.most_common(10):
                lines.append(f"  {v:6d}  {k[:150]}")
                lines.append(f"          e.g. {s.duck_error_example[k][:200]}")
        lines.append("=" * 78)
        return "\n".join(lines)

    # -- one case -----------------------------------------------------------------------------
    def replay(self, spec: str) -> int:
        wi, qi = (int(x) for x in spec.split(":"))
        root = self.tmp / "worlds"
        wseed, world, queries = self.make_world(wi, root)
        q = queries[qi]
        paths = {t.name: t.path for t in world.tables}
        print(f"world {wi} (seed {wseed}) query {qi} ({q.template}, ordered={q.ordered}):\n  {q.sql}\n")
        print("tables:\n" + world.describe())
        con = duck_connect(paths)
        o = evaluate(self.sluice, con, q.sql, paths, q.ordered, self.threads_for(wseed, qi), tmp=self.tmp)
        print(f"\noutcome: {o.kind} (threads {o.threads}) {o.detail[:3000]}")
        if o.mismatch:
            print(f"DuckDB cross-check: {self.duck_cross_check(paths, q, o)}")
            if not self.args.no_shrink:
                m = Minimizer(self.sluice, o, self.tmp, log=print)
                small = m.minimize(Case(q.sql, q.ordered, {t.name: t.data for t in world.tables},
                                        {t.name: (t.files, t.row_group_size) for t in world.tables}),
                                   self.args.shrink_seconds)
                text = as_test_record(small, m.last or o, [f"replay {wi}:{qi} of seed {self.seed}: {o.kind}"])
                print("\n" + text)
                print(verify_record(self.sluice, text, self.tmp)[1])
        shutil.rmtree(self.tmp, ignore_errors=True)
        return 1 if o.mismatch else 0


def promote(files: List[str], sluice_bin: str) -> int:
    """Append fixed repros to tests/sql/fuzz_regressions.test with unique table names."""
    target = REPO / "tests" / "sql" / "fuzz_regressions.test"
    sluice = Sluice(sluice_bin)
    status = 0
    for f in files:
        text = Path(f).read_text(encoding="utf-8")
        tag = "fz" + hashlib.sha1(text.encode()).hexdigest()[:6]
        names = re.findall(r"^load (\w+)", text, re.M)
        pattern = re.compile(r"'(?:[^']|'')*'|(?<![\w.])(" + "|".join(map(re.escape, names)) + r")\b")

        def rename(line: str) -> str:       # table names outside string literals
            if not names:
                return line
            return pattern.sub(lambda m: f"{tag}_{m.group(1)}" if m.group(1) else m.group(0), line)
        lines = []
        in_sql = False                       # the SQL lines of a query / statement record
        for ln in text.splitlines():
            if ln.startswith("# as a tests/sql record:") or ln.startswith("# signature:"):
                continue
            if ln.startswith("load "):
                ln = re.sub(r"^load (\w+)", lambda m: f"load {tag}_{m.group(1)}", ln)
            elif ln.startswith("query ") or ln.startswith("statement "):
                in_sql = True
            elif not ln.strip() or ln.strip() == "----":
                in_sql = False
            elif in_sql and not ln.startswith("#"):
                ln = rename(ln)
            lines.append(ln)
        new = "\n".join(lines).strip() + "\n"
        with tempfile.TemporaryDirectory() as tmp:
            fails, why = verify_record(sluice, new, Path(tmp))
        if fails:
            print(f"{f}: still fails ({why}); not promoted")
            status = 1
            continue
        with open(target, "a", encoding="utf-8") as out:
            out.write("\n" + new)
        print(f"{f}: passes now; appended to {target} (tables {tag}_*)")
    return status


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, help="default: from the clock (printed)")
    ap.add_argument("--minutes", type=float, default=5.0, help="run this long (default 5)")
    ap.add_argument("--queries", type=int, help="run this many queries instead of a time")
    ap.add_argument("--sluice", default=os.environ.get("SLUICE_BIN") or
                    str(REPO / "build/release/tools/sluice/sluice"), help="the binary (default: $SLUICE_BIN, "
                    "else build/release/tools/sluice/sluice)")
    ap.add_argument("--out", default=str(REPO / "build" / "fuzz-sql"), help="output directory")
    ap.add_argument("--windows", choices=["auto", "on", "off"], default="auto",
                    help="window functions: auto = on if Sluice plans " + WINDOW_PROBE)
    ap.add_argument("--nan", action="store_true", help="NaN and +-inf in float columns (off: see the design doc)")
    ap.add_argument("--avoid", metavar="A,B", help="leave out constructs of open bugs: setop_correlation, "
                    "outer_correlation, scalar_in_lhs (see GenOptions.avoid)")
    ap.add_argument("--shrink-seconds", type=float, default=150, help="time budget per minimization")
    ap.add_argument("--max-per-signature", type=int, default=3,
                    help="minimize at most this many mismatches of one kind/message (/template)")
    ap.add_argument("--no-shrink", action="store_true", help="record mismatches without minimizing")
    ap.add_argument("--first-world", type=int, default=0, help="start at this world index")
    ap.add_argument("--status-every", type=float, default=60, help="seconds between status lines")
    ap.add_argument("--replay", metavar="W:Q", help="run query Q of world W of --seed again (and minimize)")
    ap.add_argument("--promote", nargs="+", metavar="FILE",
                    help="append these repros (fixed now) to tests/sql/fuzz_regressions.test")
    ap.add_argument("-v", "--verbose", action="store_true", help="log the minimizer's steps")
    args = ap.parse_args()
    if args.promote:
        return promote(args.promote, args.sluice)
    if args.seed is None:
        if args.replay:
            ap.error("--replay needs --seed")
        args.seed = int(time.time()) % 1_000_000
    fz = Fuzzer(args)
    if args.replay:
        return fz.replay(args.replay)
    return fz.run()


if __name__ == "__main__":
    sys.exit(main())
