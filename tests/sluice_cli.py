"""Driving the `sluice` CLI from tests.

`Sluice(binary)` runs subcommands with stdin closed and a timeout, and returns the exit
status, stdout and stderr. `Sluice.sql()` runs one query with `--format parquet
--output FILE` and reads the exact result back with pyarrow; it never raises for an
engine error (tests decide what an error means), only for a timeout or a crash by
signal, which are always failures.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Optional, Sequence

import pyarrow as pa
import pyarrow.parquet as pq

DEFAULT_TIMEOUT = 120


@dataclass
class CliResult:
    args: list
    returncode: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list:
        return [l for l in self.stderr.splitlines() if l.startswith("error:")]

    def describe(self) -> str:
        return (f"$ {' '.join(map(str, self.args))}\nexit {self.returncode}\n"
                f"--- stdout\n{self.stdout[-4000:]}\n--- stderr\n{self.stderr[-4000:]}")


@dataclass
class SqlResult:
    """Outcome of one `sluice sql` run. `table` is set only when the run succeeded."""

    query: str
    cli: CliResult
    table: Optional[pa.Table] = None

    @property
    def ok(self) -> bool:
        return self.cli.returncode == 0 and self.table is not None

    @property
    def error(self) -> str:
        """The first `error:` line (or the whole stderr if there is none)."""
        lines = self.cli.error_lines
        return lines[0] if lines else self.cli.stderr.strip()

    @property
    def not_supported(self) -> bool:
        return self.cli.returncode != 0 and "not supported" in self.cli.stderr


SUMMARY_RE = re.compile(
    r"rows in (?P<rows_in>\d+)"
    r"(?: \(accepted (?P<accepted>\d+), rejected (?P<rejected>\d+)\))?"
    r" · out (?P<out>\d+)")


@dataclass
class Summary:
    rows_in: int
    accepted: Optional[int]
    rejected: Optional[int]
    out: int


def parse_summary(stderr: str) -> Summary:
    """The summary line the CLI prints to stderr: 'rows in N (accepted A, rejected R) · out M · ...'."""
    matches = list(SUMMARY_RE.finditer(re.sub(r"(?<=\d),(?=\d{3})", "", stderr)))
    if not matches:
        raise AssertionError(f"no summary line in stderr:\n{stderr}")
    m = matches[-1]
    acc = m.group("accepted")
    rej = m.group("rejected")
    return Summary(int(m.group("rows_in")), int(acc) if acc is not None else None,
                   int(rej) if rej is not None else None, int(m.group("out")))


class Sluice:
    def __init__(self, binary: os.PathLike):
        self.binary = Path(binary)

    def cli(self, args: Sequence, *, timeout: float = DEFAULT_TIMEOUT, cwd=None,
            env: Optional[Mapping[str, str]] = None) -> CliResult:
        argv = [str(self.binary)] + [str(a) for a in args]
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        try:
            p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                               timeout=timeout, cwd=cwd, env=full_env)
        except subprocess.TimeoutExpired as e:
            raise AssertionError(f"sluice timed out after {timeout}s: {argv}") from e
        res = CliResult(argv, p.returncode, p.stdout.decode("utf-8", "replace"),
                        p.stderr.decode("utf-8", "replace"))
        if p.returncode < 0:
            # Killed by a signal: a crash (segfault, abort), never an acceptable answer.
            raise AssertionError(f"sluice crashed with signal {-p.returncode}\n{res.describe()}")
        return res

    def sql(self, query: str, tables: Optional[Mapping[str, os.PathLike]] = None, *,
            threads: Optional[int] = None, memory_limit: Optional[str] = None,
            extra: Iterable[str] = (), timeout: float = DEFAULT_TIMEOUT,
            out_dir: Optional[os.PathLike] = None) -> SqlResult:
        """Run `query` and read its exact result (Parquet) back."""
        with tempfile.TemporaryDirectory(dir=out_dir, prefix="sluice-sql-") as tmp:
            out = Path(tmp) / "result.parquet"
            args = ["sql", "--format", "parquet", "--output", out]
            for name, path in (tables or {}).items():
                args += ["--table", f"{name}={path}"]
            if threads is not None:
                args += ["--threads", threads]
            if memory_limit is not None:
                args += ["--memory-limit", memory_limit]
            args += list(extra)
            args.append(query)
            res = self.cli(args, timeout=timeout)
            table = None
            if res.returncode == 0:
                if not out.exists():
                    raise AssertionError(f"sluice exited 0 but wrote no output\n{res.describe()}")
                table = pq.ParquetFile(out).read()
            return SqlResult(query, res, table)

    def sql_ok(self, query: str, tables=None, **kw) -> pa.Table:
        """Like sql(), but an engine error fails the test with its message."""
        r = self.sql(query, tables, **kw)
        if not r.ok:
            raise AssertionError(f"sluice failed on:\n{query}\n{r.cli.describe()}")
        return r.table

    def run_job(self, job: os.PathLike, sets: Optional[Mapping[str, str]] = None, *,
                extra: Iterable[str] = (), timeout: float = DEFAULT_TIMEOUT, cwd=None) -> CliResult:
        args = ["run", job]
        for k, v in (sets or {}).items():
            args += ["--set", f"{k}={v}"]
        args += list(extra)
        return self.cli(args, timeout=timeout, cwd=cwd)
