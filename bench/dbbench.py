"""The db-benchmark ("database-like ops benchmark", h2oai, now duckdblabs) groupby and
join suites: Sluice, DuckDB, Polars and pandas on the same generated data, in one run.

    .venv/bin/python bench/dbbench.py                          # groupby and join at 1e7
    .venv/bin/python bench/dbbench.py --suites join --runs 3 --questions q1,q5
    .venv/bin/python bench/dbbench.py --size 1e8               # pandas is left out there

Engines, per question (see bench/README.md for what each time includes):
  sluice          `sluice sql --table x=... --format parquet --output ans.parquet QUERY`, a
                  fresh process for every run; the time is the process's wall time, so it
                  includes reading the Parquet input and writing the Parquet answer
  duckdb-parquet  DuckDB doing the same work in one process: COPY (QUERY over
                  read_parquet) TO 'ans.parquet'; the apples-to-apples column for Sluice
  sluice-memory   Sluice under the benchmark's rules (below): one `sluice sql -f -` session
                  per suite, tables loaded with CREATE TABLE ... AS first (not timed), a
                  question is CREATE TABLE ans AS QUERY; the like-for-like column for duckdb
  duckdb, polars, pandas
                  the benchmark's rules: data loaded into memory first (not timed), then
                  only the question is timed, its answer materialized in memory
Every question runs --runs times (default 2); every time is recorded. The answers are
checked (row count and the sums of the answer's measure columns, as the benchmark's
chk) against the answer most engines agree on; a disagreement is printed loudly and
that engine's time for the question is marked invalid. A question Sluice cannot run
(unknown function, feature not supported yet) is recorded as "unsupported: <error>".

Output: tables on stdout, bench/results/dbbench_<suite>_<size>.csv, and the chart
bench/results/dbbench_<size>.png (from the CSVs of that size present).
"""
import argparse
import csv
import hashlib
import json
import math
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import dbbench_data  # noqa: E402
from dbbench_questions import SUITES  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench/results"
SLUICE = Path(os.environ.get("SLUICE_BIN", ROOT / "build/release/tools/sluice/sluice"))
PY = sys.executable
ENGINES = ["sluice", "sluice-memory", "duckdb-parquet", "duckdb", "polars", "pandas"]
BASELINES = ["duckdb", "duckdb-parquet", "polars"]
REL_TOL, ABS_TOL = 1e-8, 1e-6  # check values: rows exact, sums to 8 significant digits
# Sluice failures that mean "cannot run this question yet" rather than "broke".
UNSUPPORTED = re.compile(r"not supported|unknown function|unsupported|not implemented", re.I)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def run_process(cmd, timeout, stdout=subprocess.DEVNULL, on_line=None, env=None):
    """Runs cmd; returns (wall seconds, exit code, peak RSS bytes, stderr text). With
    on_line, stdout lines are passed to it as they come. Killed after timeout seconds."""
    with tempfile.TemporaryFile(mode="w+") as err:
        start = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE if on_line else stdout, stderr=err, text=True, env=env)
        killed = []
        timer = threading.Timer(timeout, lambda: (killed.append(1), p.kill()))
        timer.start()
        try:
            if on_line:
                for line in p.stdout:
                    on_line(line)
            _, status, usage = os.wait4(p.pid, 0)
        finally:
            timer.cancel()
        secs = time.perf_counter() - start
        p.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read()
        if killed:
            text += f"\nkilled after the {timeout} s timeout"
        return secs, p.returncode, usage.ru_maxrss * 1024, text


def first_error_line(text):
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    for ln in lines:
        if ln.startswith("error:"):
            return ln[len("error:"):].strip()
    return lines[-1] if lines else "no message"


# --- engines ---------------------------------------------------------------------------


def sluice_chk(path, q):
    import numpy as np
    import pyarrow.parquet as pq
    f = pq.ParquetFile(path)
    table = f.read(columns=list(q.chk))
    sums = {}
    for c in q.chk:
        values = table[c].to_numpy().astype("float64")  # nulls become NaN
        sums[c] = float(np.nansum(values))
    return f.metadata.num_rows, sums


class Sluice:
    """Every question run in a fresh `sluice sql` process."""

    def __init__(self, suite, files, args, workdir):
        self.suite, self.files, self.args = suite, files, args
        self.ans = workdir / "ans.parquet"
        self.info = {"peak_rss": 0}

    def run(self, q, run):
        cmd = [str(SLUICE), "sql", "--format", "parquet", "--output", str(self.ans)]
        for name, path in self.files.items():
            if re.search(rf"\b{name}\b", q.sql):
                cmd += ["--table", f"{name}={path}"]
        if self.args.threads:
            cmd += ["--threads", str(self.args.threads)]
        cmd.append(q.sql)
        secs, code, rss, err = run_process(cmd, self.args.timeout)
        self.info["peak_rss"] = max(self.info["peak_rss"], rss)
        if code != 0:
            msg = first_error_line(err)
            kind = "unsupported" if UNSUPPORTED.search(msg) else "error"
            return {"error": f"{kind}: {msg}" + ("" if kind == "unsupported" else f" (exit {code})")}
        rows, chk = sluice_chk(self.ans, q)
        self.ans.unlink()
        m = re.search(r"·\s*([\d.]+)\s*s\s*·\s*peak memory", err)
        return {"seconds": secs, "rows": rows, "chk": chk, "rss": rss,
                "reported": float(m.group(1)) if m else None}

    def close(self):
        return self.info


class Worker:
    """An engine's own process for the whole suite (bench/dbbench_engines.py): it loads
    the data once, then runs the questions it is sent."""

    def __init__(self, engine, suite, files, args, workdir):
        self.engine, self.suite, self.args = engine, suite, args
        self.info, self.dead = {}, None
        self.err = tempfile.TemporaryFile(mode="w+")
        cmd = [PY, str(ROOT / "bench/dbbench_engines.py"), "--engine", engine, "--suite", suite,
               "--files", json.dumps(files), "--threads", str(args.threads), "--workdir", str(workdir)]
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err, text=True)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        ev = self._next(args.timeout)
        if ev and ev["event"] == "load":
            self.info["load"] = ev["seconds"]
            log(f"  [{suite} {engine}] data loaded in {ev['seconds']:.2f} s")

    def _read(self):
        for line in self.p.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def _next(self, timeout):
        """The next event, or None (and self.dead set) if the process died or timed out."""
        if self.dead:
            return None
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                self.p.kill()
                self.dead = f"no answer within the {timeout} s timeout, killed"
                return None
            if line is None:
                self.p.wait()
                self.err.seek(0)
                self.dead = f"process exited with {self.p.returncode}: {first_error_line(self.err.read())}"
                return None
            try:
                return json.loads(line)
            except ValueError:
                continue  # something the engine printed itself

    def run(self, q, run):
        if not self.dead:
            self.p.stdin.write(json.dumps({"q": q.id, "run": run}) + "\n")
            self.p.stdin.flush()
            ev = self._next(self.args.timeout)
            if ev and ev["event"] == "run":
                return {"seconds": ev["seconds"], "rows": ev["rows"], "chk": ev["chk"]}
            if ev and ev["event"] == "error":
                return {"error": f"error: {ev['error']}"}
        return {"error": f"error: {self.engine} {self.dead}"}

    def close(self):
        if not self.dead:
            try:
                self.p.stdin.write("\n")
                self.p.stdin.flush()
            except OSError:
                pass
            ev = self._next(self.args.timeout)
            if ev and ev["event"] == "done":
                self.info["peak_rss"] = ev["peak_rss"]
        self.p.wait()
        self.err.close()
        return self.info


def run_suite(suite, files, questions, engines, args, workdir, interleaved):
    """Runs every (question, run) on every engine. Interleaved: all engines' processes
    stay up and take turns question by question, so a change in the machine's load hits
    them alike; otherwise one engine after the other (less memory at once)."""
    runs = {e: {q.id: [] for q in questions} for e in engines}
    infos = {}

    def start(e):
        log(f"{suite}: starting {e}")
        return Sluice(suite, files, args, workdir) if e == "sluice" else Worker(e, suite, files, args, workdir)

    def one(e, runner, q, run):
        if any("error" in r for r in runs[e][q.id]):
            return  # failed already: the next run would fail the same way
        r = runner.run(q, run)
        runs[e][q.id].append(r)
        what = r["error"][:300] if "error" in r else f"{r['seconds']:.3f} s, {r['rows']:,} rows"
        log(f"  [{suite} {e} {q.id} run {run}] {what}")

    if interleaved:
        runners = {e: start(e) for e in engines}
        try:
            for q in questions:
                for run in range(1, args.runs + 1):
                    for e in engines:
                        one(e, runners[e], q, run)
        finally:
            for e, runner in runners.items():
                infos[e] = runner.close()
    else:
        for e in engines:
            runner = start(e)
            try:
                for q in questions:
                    for run in range(1, args.runs + 1):
                        one(e, runner, q, run)
            finally:
                infos[e] = runner.close()
    return runs, infos


# --- answers ---------------------------------------------------------------------------


def same_answer(a, b):
    if a["rows"] != b["rows"]:
        return False
    for c, v in a["chk"].items():
        w = b["chk"].get(c)
        if v is None or w is None:
            if v is not w:
                return False
        elif not math.isclose(v, w, rel_tol=REL_TOL, abs_tol=ABS_TOL):
            return False
    return True


def fmt_answer(r):
    return f"rows {r['rows']:,}  " + "  ".join(f"sum({c})={v!r}" for c, v in r["chk"].items())


def judge(suite, questions, results, engines):
    """Sets results[engine][q]['status'] and 'best'; returns the disagreements found."""
    problems = []
    for q in questions:
        answered = {e: results[e][q.id] for e in engines
                    if q.id in results[e] and results[e][q.id]["runs"]
                    and all("error" not in r for r in results[e][q.id]["runs"])}
        # The reference: the first-run answer the most engines agree with (ties: engine order).
        ref_engine, ref, best_votes = None, None, -1
        for e in ["duckdb", "duckdb-parquet", "polars", "pandas", "sluice", "sluice-memory"]:
            if e not in answered:
                continue
            cand = answered[e]["runs"][0]
            votes = sum(same_answer(cand, other["runs"][0]) for other in answered.values())
            if votes > best_votes:
                ref_engine, ref, best_votes = e, cand, votes
        for e in engines:
            entry = results[e].get(q.id)
            if entry is None:
                continue
            runs = entry["runs"]
            errors = [r["error"] for r in runs if "error" in r]
            if entry.get("status"):
                continue  # skipped
            if errors:
                entry["status"] = errors[0]
                continue
            bad = [i for i, r in enumerate(runs, 1) if not same_answer(r, ref)]
            if bad:
                entry["status"] = f"invalid: answer differs from {ref_engine}'s"
                problems.append((q, e, bad, runs, ref_engine, ref, best_votes, len(answered)))
            else:
                entry["status"] = "ok"
                entry["best"] = min(r["seconds"] for r in runs)
                entry["rows"] = runs[0]["rows"]
    for q, e, bad, runs, ref_engine, ref, votes, n in problems:
        bar = "!" * 100
        print(f"\n{bar}\nANSWER DISAGREEMENT: {suite} {q.id} \"{q.text}\" -- {e} run(s) {bad}; "
              f"its time is marked invalid\n  query: {q.sql}")
        for i in bad:
            print(f"  {e:15} run {i}: {fmt_answer(runs[i - 1])}")
        print(f"  {ref_engine:15} run 1: {fmt_answer(ref)}  (reference: {votes} of {n} engines agree)")
        print(bar)
    return problems


def geomean(xs):
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float("nan")


def summarize(questions, results, engines):
    """Per engine and baseline: per-question ratios, geometric mean, ratio of totals."""
    ratios, summary = {}, {}
    for b in BASELINES:
        if b not in engines:
            continue
        for e in engines:
            common = [q.id for q in questions
                      if results[e].get(q.id, {}).get("best") and results[b].get(q.id, {}).get("best")]
            per_q = {qid: results[e][qid]["best"] / results[b][qid]["best"] for qid in common}
            ratios[(e, b)] = per_q
            tot_e = sum(results[e][qid]["best"] for qid in common)
            tot_b = sum(results[b][qid]["best"] for qid in common)
            summary[(e, b)] = {"geomean": geomean(list(per_q.values())),
                               "total": tot_e / tot_b if tot_b else float("nan"), "n": len(common)}
    return ratios, summary


# --- report ----------------------------------------------------------------------------


def cell_status(entry):
    if entry is None:
        return "-"
    st = entry.get("status", "")
    if st == "ok":
        return None
    for word in ("unsupported", "invalid", "skipped"):
        if st.startswith(word):
            return word.upper() if word == "invalid" else word
    return "error"


def print_report(suite, meta, questions, results, infos, engines, ratios, summary, args):
    n = meta["n"]
    print(f"\n=== db-benchmark {suite}, {meta['name']}: {n:,} rows"
          f"{', tables ' + ', '.join(f'{r} {v:,}' for r, v in meta['rows'].items()) if suite == 'join' else ''}, "
          f"{meta['parquet_bytes'] / 2**20:,.0f} MiB Parquet; {os.cpu_count()} cores; seconds per run "
          f"({' / '.join(f'run {i}' for i in range(1, args.runs + 1))})")
    print(f"engines run {meta['order']}; machine load average (1 min) {meta['load_avg'][0]:.1f} before, "
          f"{meta['load_avg'][1]:.1f} after\n")
    w = 16
    print(f"{'question':34}" + "".join(f"{e:>{w}}" for e in engines))
    for q in questions:
        line = f"{q.id + ' ' + q.text:34}"
        for e in engines:
            entry = results[e].get(q.id)
            st = cell_status(entry)
            times = " / ".join("%.2f" % r["seconds"] for r in entry["runs"] if "seconds" in r) if entry else ""
            if st is None:
                line += f"{times:>{w}}"
            elif st == "INVALID":
                line += f"{'INVALID ' + times:>{w}}"
            else:
                line += f"{st:>{w}}"
        print(line)
    line = f"{'total, best runs (questions)':34}"
    for e in engines:
        ok = [results[e][q.id]["best"] for q in questions if results[e].get(q.id, {}).get("best")]
        line += f"{f'{sum(ok):.2f} ({len(ok)})':>{w}}"
    print(line)
    loads = ["%.2f" % infos[e]["load"] if "load" in infos.get(e, {}) and e != "duckdb-parquet" else "-"
             for e in engines]
    print(f"{'load into memory (not timed)':34}" + "".join(f"{t:>{w}}" for t in loads))
    rss = ["{:,.0f}".format(infos[e]["peak_rss"] / 2**20) if infos.get(e, {}).get("peak_rss") else "-"
           for e in engines]
    print(f"{'peak RSS MiB (process / max run)':34}" + "".join(f"{t:>{w}}" for t in rss))
    notes = []
    for q in questions:
        for e in engines:
            entry = results[e].get(q.id)
            if entry and entry.get("status", "ok") != "ok":
                notes.append(f"  {q.id} {e}: {entry['status']}")
    if notes:
        print("\n" + "\n".join(notes))
    if "sluice" in engines:
        rep = [(r["seconds"], r["reported"]) for q in questions for r in results["sluice"].get(q.id, {}).get("runs", [])
               if r.get("reported") is not None]
        if rep:
            print(f"\n  sluice's own summary-line times add up to {sum(b for _, b in rep):.2f} s of "
                  f"{sum(a for a, _ in rep):.2f} s process wall time (process start, planning).")

    for b in BASELINES:
        if b not in engines:
            continue
        others = [e for e in engines if e != b]
        print(f"\nratio to {b} (best run / {b}'s best run; < 1 is faster than {b})")
        print(f"{'question':34}" + "".join(f"{e:>{w}}" for e in others))
        for q in questions:
            line = f"{q.id + ' ' + q.text:34}"
            for e in others:
                r = ratios[(e, b)].get(q.id)
                line += f"{(f'{r:.2f}' if r is not None else '-'):>{w}}"
            print(line)
        geo = ["%.2f (%d)" % (summary[(e, b)]["geomean"], summary[(e, b)]["n"]) if summary[(e, b)]["n"] else "-"
               for e in others]
        tot = ["%.2f" % summary[(e, b)]["total"] if summary[(e, b)]["n"] else "-" for e in others]
        print(f"{'geometric mean (questions)':34}" + "".join(f"{t:>{w}}" for t in geo))
        print(f"{'total time ratio (same questions)':34}" + "".join(f"{t:>{w}}" for t in tot))


def write_csv(suite, meta, questions, results, infos, engines, ratios, summary, args, size_name, env):
    path = RESULTS / f"dbbench_{suite}_{size_name}.csv"
    fields = (["suite", "size", "data", "question", "text", "engine", "status"]
              + [f"run{i}_s" for i in range(1, args.runs + 1)]
              + ["best_s", "rows", "chk", "sluice_reported_s", "peak_rss_mib"]
              + [f"ratio_vs_{b.replace('-', '_')}" for b in BASELINES] + ["environment"])
    rows = []
    for q in questions:
        for e in engines:
            entry = results[e].get(q.id)
            if entry is None:
                continue
            runs = entry["runs"]
            row = {"suite": suite, "size": size_name, "data": meta["name"], "question": q.id, "text": q.text,
                   "engine": e, "status": entry.get("status", ""), "best_s": f"{entry['best']:.4f}" if entry.get("best") else "",
                   "rows": runs[0].get("rows", "") if runs else "",
                   "chk": json.dumps(runs[0]["chk"]) if runs and "chk" in runs[0] else "",
                   "sluice_reported_s": " ".join(f"{r['reported']:.3f}" for r in runs if r.get("reported") is not None),
                   "peak_rss_mib": (f"{max(r.get('rss', 0) for r in runs) / 2**20:.0f}" if e == "sluice" and runs
                                    and "rss" in runs[0] else
                                    f"{infos.get(e, {}).get('peak_rss', 0) / 2**20:.0f}" if infos.get(e) else "")}
            for i in range(1, args.runs + 1):
                row[f"run{i}_s"] = f"{runs[i - 1]['seconds']:.4f}" if len(runs) >= i and "seconds" in runs[i - 1] else ""
            for b in BASELINES:
                r = ratios.get((e, b), {}).get(q.id)
                row[f"ratio_vs_{b.replace('-', '_')}"] = f"{r:.3f}" if r is not None else ""
            rows.append(row)
    for e in engines:
        for kind in ("geomean", "total"):
            row = {"suite": suite, "size": size_name, "data": meta["name"], "question": kind, "engine": e,
                   "text": "geometric mean of the per-question ratios" if kind == "geomean" else
                   "total best time; ratio columns: ratio of totals over the questions both engines ran"}
            if kind == "total":
                ok = [results[e][q.id]["best"] for q in questions if results[e].get(q.id, {}).get("best")]
                row["best_s"] = f"{sum(ok):.4f}"
                row["status"] = f"{len(ok)} of {len(questions)} questions"
            for b in BASELINES:
                s = summary.get((e, b))
                if s and s["n"] and e != b:
                    row[f"ratio_vs_{b.replace('-', '_')}"] = f"{s[kind]:.3f} ({s['n']})"
            rows.append(row)
        if infos.get(e, {}).get("load") is not None and e != "duckdb-parquet":
            rows.append({"suite": suite, "size": size_name, "data": meta["name"], "question": "load", "engine": e,
                         "text": "loading the data into memory (not part of any question time)",
                         "best_s": f"{infos[e]['load']:.4f}"})
    if rows:
        rows[0]["environment"] = (f"{env}; engines run {meta['order']}; load average (1 min) "
                                  f"{meta['load_avg'][0]:.1f} before, {meta['load_avg'][1]:.1f} after")
    RESULTS.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        wr = csv.DictWriter(f, fieldnames=fields)
        wr.writeheader()
        wr.writerows(rows)
    print(f"\nwritten {path.relative_to(ROOT)}")


def draw_chart(size_name):
    """Bar chart of best times per question and engine, one panel per suite, from the
    CSVs of this size in bench/results."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    panels = []
    for suite in SUITES:
        path = RESULTS / f"dbbench_{suite}_{size_name}.csv"
        if path.exists():
            with open(path) as f:
                panels.append((suite, [r for r in csv.DictReader(f) if r["question"].startswith("q")]))
    if not panels:
        return
    colors = {"sluice": "#d62728", "sluice-memory": "#ff9896", "duckdb-parquet": "#f2c14e", "duckdb": "#b8860b", "polars": "#1f77b4",
              "pandas": "#8c564b"}
    fig, axes = plt.subplots(1, len(panels), figsize=(max(11.0, 7.5 * len(panels)), 5.4), squeeze=False,
                             gridspec_kw={"width_ratios": [len({r["question"] for r in rows}) for _, rows in panels]})
    for ax, (suite, rows) in zip(axes[0], panels):
        qs = list(dict.fromkeys(r["question"] for r in rows))
        engines = [e for e in ENGINES if any(r["engine"] == e for r in rows)]
        width = 0.8 / max(1, len(engines))
        data = rows[0]["data"] if rows else ""
        times = [float(r["best_s"]) for r in rows if r["best_s"]]
        floor = min(times) / 3 if times else 0.01
        for i, e in enumerate(engines):
            for j, qid in enumerate(qs):
                r = next((r for r in rows if r["engine"] == e and r["question"] == qid), None)
                x = j + (i - (len(engines) - 1) / 2) * width
                if r and r["best_s"]:
                    ax.bar(x, float(r["best_s"]), width, color=colors.get(e), label=e if j == 0 else None)
                elif r:
                    word = r["status"].split(":")[0]
                    label = {"unsupported": "n/a", "invalid": "wrong", "skipped": "skip"}.get(word, "err")
                    ax.text(x, floor * 1.15, label, rotation=90, ha="center", va="bottom", fontsize=7,
                            color="#d62728" if word == "invalid" else "#555555")
            ax.bar([], [], color=colors.get(e), label=None)
        ax.set_yscale("log")
        ax.set_ylim(bottom=floor)
        ax.set_xticks(range(len(qs)))
        texts = {q.id: q.text for q in SUITES[suite]}
        ax.set_xticklabels([f"{q}\n{texts.get(q, '')}" for q in qs], fontsize=7, rotation=35, ha="right")
        ax.set_ylabel("seconds, best run (log scale)")
        ax.set_title(f"{suite}: {data}")
        ax.grid(axis="y", which="both", alpha=0.3)
    legend = {}
    for ax in axes[0]:
        for h, label in zip(*ax.get_legend_handles_labels()):
            legend.setdefault(label, h)
    fig.legend(list(legend.values()), list(legend.keys()), loc="lower center", ncol=len(legend), fontsize=9,
               frameon=False)
    fig.suptitle(f"db-benchmark, {size_name} rows, {os.cpu_count()} cores, best of the runs. sluice and "
                 f"duckdb-parquet: read Parquet, write the answer as Parquet;\nduckdb, polars, pandas: data already "
                 f"in memory, answer kept in memory (the benchmark's rules). n/a: Sluice cannot run it yet",
                 fontsize=9)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    out = RESULTS / f"dbbench_{size_name}.png"
    fig.savefig(out, dpi=110)
    plt.close(fig)
    print(f"written {out.relative_to(ROOT)}")


def environment():
    parts = []
    try:
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        digest = hashlib.sha256(SLUICE.read_bytes()).hexdigest()[:12]
        parts.append(f"sluice at {head}{' + local changes' if dirty else ''}, binary built "
                     f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(SLUICE.stat().st_mtime))} sha256 {digest}")
    except (OSError, subprocess.SubprocessError):
        pass
    for pkg in ("duckdb", "polars", "pandas", "pyarrow"):
        try:
            parts.append(f"{pkg} {metadata.version(pkg)}")
        except metadata.PackageNotFoundError:
            pass
    parts.append(f"{os.cpu_count()} cores")
    return "; ".join(parts)


def main():
    global SLUICE
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suites", default="groupby,join")
    ap.add_argument("--size", default="1e7", help="rows: 1e7 (default) or 1e8")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--engines", default=",".join(ENGINES))
    ap.add_argument("--questions", default="all", help="e.g. q1,q3 (default all)")
    ap.add_argument("--threads", type=int, default=0, help="threads per engine (default: all cores)")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds per question run")
    ap.add_argument("--pandas-max-rows", type=float, default=5e7,
                    help="pandas is skipped above this many rows (it would not fit in memory)")
    ap.add_argument("--order", choices=["auto", "interleaved", "engine"], default="auto",
                    help="interleaved: engines take turns question by question (all loaded at once); "
                         "engine: one engine after the other (less memory). auto: interleaved up to "
                         "--pandas-max-rows rows")
    ap.add_argument("--no-chart", action="store_true")
    args = ap.parse_args()
    n = dbbench_data.parse_size(args.size)
    size_name = dbbench_data.pretty_sci(n)
    engines = [e for e in args.engines.split(",") if e]
    for e in engines:
        if e not in ENGINES:
            ap.error(f"unknown engine {e} (engines: {', '.join(ENGINES)})")
    for suite in args.suites.split(","):
        if suite not in SUITES:
            ap.error(f"unknown suite {suite} (suites: {', '.join(SUITES)})")
    if {"sluice", "sluice-memory"} & set(engines) and not SLUICE.exists():
        sys.exit(f"no Sluice binary at {SLUICE}: run `make` first")
    env = environment()
    print(f"db-benchmark suites {args.suites} at {size_name} rows, {args.runs} runs each; {env}")
    # Others may rebuild build/release while this runs: every Sluice run uses one copy of
    # the binary taken now (its libraries are found by absolute RUNPATH).
    snapshot = Path(tempfile.mkdtemp(prefix="sluice-dbbench-bin-"))
    if {"sluice", "sluice-memory"} & set(engines):
        shutil.copy2(SLUICE, snapshot / "sluice")
        SLUICE = snapshot / "sluice"
        os.environ["SLUICE_BIN"] = str(SLUICE)  # for sluice-memory's worker process
    try:
        disagreements = run_suites(args, n, size_name, engines, env)
    finally:
        shutil.rmtree(snapshot, ignore_errors=True)
    if not args.no_chart:
        draw_chart(size_name)
    if disagreements:
        print(f"\n{disagreements} ANSWER DISAGREEMENT(S): see the !!! blocks above; those times are invalid")
        sys.exit(1)


def run_suites(args, n, size_name, engines, env):
    disagreements = 0
    for suite in args.suites.split(","):
        if suite not in SUITES:
            sys.exit(f"unknown suite {suite} (suites: {', '.join(SUITES)})")
        questions = [q for q in SUITES[suite] if args.questions == "all" or q.id in args.questions.split(",")]
        meta = dbbench_data.ensure(suite, n, log=log)
        log(f"{suite}: data {meta['name']} in {meta['dir']} (generated in {meta['seconds']:.1f} s, "
            f"{meta['parquet_bytes'] / 2**20:,.0f} MiB)")
        files = meta["files"]
        results = {}
        run_engines = []
        for e in engines:
            if e == "pandas" and n > args.pandas_max_rows:
                results[e] = {q.id: {"runs": [], "status": f"skipped: pandas does not fit in memory at "
                                                            f"{size_name} rows"} for q in questions}
                log(f"{suite}: pandas skipped at {size_name} rows (--pandas-max-rows {args.pandas_max_rows:g})")
            else:
                run_engines.append(e)
        interleaved = args.order == "interleaved" or (args.order == "auto" and n <= args.pandas_max_rows)
        workdir = Path(tempfile.mkdtemp(prefix="sluice-dbbench-"))
        load_before = os.getloadavg()
        try:
            runs, infos = run_suite(suite, files, questions, run_engines, args, workdir, interleaved)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        for e in run_engines:
            results[e] = {qid: {"runs": r} for qid, r in runs[e].items()}
        meta["load_avg"] = (load_before[0], os.getloadavg()[0])
        meta["order"] = "interleaved" if interleaved else "one engine after the other"
        problems = judge(suite, questions, results, engines)
        disagreements += len(problems)
        ratios, summary = summarize(questions, results, engines)
        print_report(suite, meta, questions, results, infos, engines, ratios, summary, args)
        write_csv(suite, meta, questions, results, infos, engines, ratios, summary, args, size_name, env)
    return disagreements


if __name__ == "__main__":
    main()
