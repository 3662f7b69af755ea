#!/usr/bin/env python3
"""TPC-H data as Parquet, generated once per scale factor and kept in a cache.

    .venv/bin/python scripts/tpch_data.py --sf 0.1 [--sf 1 ...] [--force]

prints the directory of each scale factor, generating what is missing. The layout is

    $CACHE/sf0.1/lineitem/lineitem.1.parquet   (one directory per table, lower-case
    $CACHE/sf0.1/orders/orders.1.parquet        column names as in the spec)
    ...
    $CACHE/sf0.1/manifest.json                  (generator, row counts, sizes, timing)

where $CACHE is $SLUICE_CACHE/tpch if SLUICE_CACHE is set, else ~/.cache/sluice/tpch
(or $XDG_CACHE_HOME/sluice/tpch). The data comes from `tpchgen-cli` (pinned in
requirements-dev.txt, installed into .venv by scripts/setup.sh), which writes the
spec's types directly: integer keys, DECIMAL(15,2) money and quantity columns, DATE
dates, strings. Each scale factor is generated into a temporary directory beside the
final one, checked (schema and row counts) and renamed into place only when complete,
so an interrupted run never leaves a directory that looks finished. Design notes:
docs/design/tpch.md.

Importable: `ensure_data(sf) -> Path` is what tests/tpch/run_tpch.py uses.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pyarrow as pa
import pyarrow.parquet as pq

REPO_ROOT = Path(__file__).resolve().parent.parent

# Bump when the layout or the types of the cached files change: older caches are then
# regenerated instead of being used.
CACHE_FORMAT = 2

GENERATOR = "tpchgen-cli"

TABLES = ["region", "nation", "supplier", "customer", "part", "partsupp", "orders", "lineitem"]

_I64, _I32, _DATE, _STR = pa.int64(), pa.int32(), pa.date32(), pa.string()
_MONEY = pa.decimal128(15, 2)

# The types the cache holds (spec clause 1.4: identifiers and integers as integers,
# decimals as DECIMAL(15,2), dates as DATE, fixed and variable text as strings).
SCHEMAS: Dict[str, List[Tuple[str, pa.DataType]]] = {
    "region": [("r_regionkey", _I64), ("r_name", _STR), ("r_comment", _STR)],
    "nation": [("n_nationkey", _I64), ("n_name", _STR), ("n_regionkey", _I64), ("n_comment", _STR)],
    "supplier": [("s_suppkey", _I64), ("s_name", _STR), ("s_address", _STR), ("s_nationkey", _I64),
                 ("s_phone", _STR), ("s_acctbal", _MONEY), ("s_comment", _STR)],
    "customer": [("c_custkey", _I64), ("c_name", _STR), ("c_address", _STR), ("c_nationkey", _I64),
                 ("c_phone", _STR), ("c_acctbal", _MONEY), ("c_mktsegment", _STR), ("c_comment", _STR)],
    "part": [("p_partkey", _I64), ("p_name", _STR), ("p_mfgr", _STR), ("p_brand", _STR), ("p_type", _STR),
             ("p_size", _I32), ("p_container", _STR), ("p_retailprice", _MONEY), ("p_comment", _STR)],
    "partsupp": [("ps_partkey", _I64), ("ps_suppkey", _I64), ("ps_availqty", _I32),
                 ("ps_supplycost", _MONEY), ("ps_comment", _STR)],
    "orders": [("o_orderkey", _I64), ("o_custkey", _I64), ("o_orderstatus", _STR), ("o_totalprice", _MONEY),
               ("o_orderdate", _DATE), ("o_orderpriority", _STR), ("o_clerk", _STR), ("o_shippriority", _I32),
               ("o_comment", _STR)],
    "lineitem": [("l_orderkey", _I64), ("l_partkey", _I64), ("l_suppkey", _I64), ("l_linenumber", _I32),
                 ("l_quantity", _MONEY), ("l_extendedprice", _MONEY), ("l_discount", _MONEY), ("l_tax", _MONEY),
                 ("l_returnflag", _STR), ("l_linestatus", _STR), ("l_shipdate", _DATE), ("l_commitdate", _DATE),
                 ("l_receiptdate", _DATE), ("l_shipinstruct", _STR), ("l_shipmode", _STR), ("l_comment", _STR)],
}

# Rows per table (spec clause 4.2.5): fixed for region and nation, SF x base otherwise;
# lineitem varies (1..7 lines per order), about 4 per order.
_BASE_ROWS = {"supplier": 10_000, "customer": 150_000, "part": 200_000, "partsupp": 800_000,
              "orders": 1_500_000}


class DataError(RuntimeError):
    pass


def sf_name(sf: float) -> str:
    """'sf0.1', 'sf1', 'sf10': the directory name of a scale factor."""
    return "sf" + format(float(sf), "g")


def cache_root() -> Path:
    env = os.environ.get("SLUICE_CACHE")
    if env:
        return Path(env).expanduser() / "tpch"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "sluice" / "tpch"


def data_dir(sf: float) -> Path:
    return cache_root() / sf_name(sf)


def table_glob(root: Path, table: str) -> str:
    """What `read_parquet` / `--table` take for one table of a scale-factor directory."""
    return str(root / table / "*.parquet")


def generator_binary() -> Path:
    """tpchgen-cli from the virtualenv this Python runs in, else the repo's .venv, else PATH."""
    for cand in (Path(sys.executable).parent / GENERATOR, REPO_ROOT / ".venv" / "bin" / GENERATOR):
        if cand.is_file() and os.access(cand, os.X_OK):
            return cand
    found = shutil.which(GENERATOR)
    if found:
        return Path(found)
    raise DataError(f"{GENERATOR} not found: run scripts/setup.sh (it installs the version pinned in "
                    f"requirements-dev.txt into .venv)")


def expected_rows(table: str, sf: float) -> Optional[int]:
    if table == "region":
        return 5
    if table == "nation":
        return 25
    base = _BASE_ROWS.get(table)
    return None if base is None else int(base * sf)


def _is_complete(root: Path) -> bool:
    try:
        manifest = json.loads((root / "manifest.json").read_text())
    except (OSError, ValueError):
        return False
    return manifest.get("format") == CACHE_FORMAT


def _same_type(actual: pa.DataType, want: pa.DataType) -> bool:
    # string_view is accepted by the type check but rewritten (see _conform).
    if pa.types.is_string(want):
        return pa.types.is_string(actual) or pa.types.is_large_string(actual) or pa.types.is_string_view(actual)
    return actual == want


def _conform(path: Path, table: str) -> None:
    """Checks one file's columns against SCHEMAS; rewrites it with the spec's types if a type
    differs or the file's stored Arrow schema says string_view.

    tpchgen-cli stores an Arrow schema that marks every string column string_view. In Parquet
    that is the same BYTE_ARRAY (UTF8) column, but Arrow C++'s reader follows the stored
    schema (no option turns that off) and decodes into views, about twice the cost of plain
    strings for Sluice, while DuckDB and Polars ignore it. The cache holds plain-string files,
    as DuckDB's, Spark's or pyarrow's writers make them (docs/design/tpch.md). The row group
    size and the compression stay the generator's."""
    want = SCHEMAS[table]
    meta = pq.read_metadata(path)
    schema = meta.schema.to_arrow_schema()
    names = schema.names
    if names != [n for n, _ in want]:
        raise DataError(f"{path}: columns {names}, expected {[n for n, _ in want]}")
    types_ok = all(_same_type(schema.field(n).type, t) for n, t in want)
    if types_ok and not any(pa.types.is_string_view(schema.field(n).type) for n, _ in want):
        return
    data = pq.read_table(path)
    target = pa.schema([pa.field(n, t, nullable=schema.field(n).nullable) for n, t in want])
    try:
        data = data.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
        raise DataError(f"{path}: cannot convert to the TPC-H types: {e}") from e
    row_group = meta.row_group(0).num_rows if meta.num_row_groups else None
    codec = meta.row_group(0).column(0).compression.lower() if meta.num_row_groups else "snappy"
    tmp = path.with_suffix(".conv.tmp")
    pq.write_table(data, tmp, row_group_size=row_group, compression=codec,
                   store_decimal_as_integer=True)
    os.replace(tmp, path)


def generate(sf: float, dest: Path, *, threads: Optional[int] = None, verbose: bool = True) -> dict:
    """Generates scale factor `sf` into the new directory `dest` and returns its manifest."""
    gen = generator_binary()
    version = subprocess.run([str(gen), "--version"], capture_output=True, text=True).stdout.strip()
    parts = max(1, math.ceil(sf))
    argv = [str(gen), "parquet", "--scale-factor", format(float(sf), "g"), "--output-dir", str(dest),
            "--parts", str(parts), "--quiet"]
    if threads:
        argv += ["--num-threads", str(threads)]
    if verbose:
        print(f"tpch: generating SF{sf:g} with {version} into {dest.parent} ...", file=sys.stderr, flush=True)
    t0 = time.monotonic()
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if p.returncode != 0:
        raise DataError(f"{' '.join(argv)} failed with exit {p.returncode}:\n{p.stderr[-4000:]}")
    gen_s = time.monotonic() - t0
    tables = {}
    for table in TABLES:
        files = sorted((dest / table).glob("*.parquet"))
        if not files:
            raise DataError(f"{GENERATOR} wrote no files for {table} under {dest}")
        for f in files:
            _conform(f, table)
        rows = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
        want = expected_rows(table, sf)
        if want is not None and rows != want:
            raise DataError(f"{table}: {rows} rows, expected {want} at SF{sf:g}")
        tables[table] = {"rows": rows, "files": len(files), "bytes": sum(f.stat().st_size for f in files)}
    total_s = time.monotonic() - t0
    manifest = {"format": CACHE_FORMAT, "scale_factor": sf, "generator": version,
                "command": [a for a in argv[1:] if a != str(dest)],
                "generate_seconds": round(gen_s, 2), "total_seconds": round(total_s, 2), "tables": tables}
    (dest / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    if verbose:
        size = sum(t["bytes"] for t in tables.values())
        print(f"tpch: SF{sf:g} done in {total_s:.1f} s ({size / 2**20:.1f} MiB)", file=sys.stderr, flush=True)
    return manifest


def _remove_stale_temps(final: Path, max_age_s: float = 6 * 3600) -> None:
    """Deletes temp directories that interrupted runs left (old enough not to be in use)."""
    now = time.time()
    for pattern in (f".{final.name}.tmp-*", f".{final.name}.old-*"):
        for d in final.parent.glob(pattern):
            try:
                if now - d.stat().st_mtime > max_age_s:
                    shutil.rmtree(d, ignore_errors=True)
            except OSError:
                pass


def ensure_data(sf: float, *, force: bool = False, threads: Optional[int] = None, verbose: bool = True) -> Path:
    """The directory of scale factor `sf`, generating it first if it is missing or stale."""
    final = data_dir(sf)
    if not force and _is_complete(final):
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temps(final)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
    os.chmod(tmp, 0o755)  # mkdtemp makes it owner-only; the data is not secret
    try:
        generate(sf, tmp, threads=threads, verbose=verbose)
        if final.exists():
            if not force and _is_complete(final):
                return final  # another process finished first: keep its copy
            # Stale (older cache format) or --force: move it aside, then delete.
            old = Path(tempfile.mkdtemp(prefix=f".{final.name}.old-", dir=final.parent))
            os.replace(final, old / "data")
            shutil.rmtree(old, ignore_errors=True)
        try:
            os.rename(tmp, final)
        except OSError:
            if _is_complete(final):
                return final  # lost a race with another generator
            raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sf", type=float, action="append", help="scale factor (repeatable; default 0.1)")
    ap.add_argument("--force", action="store_true", help="regenerate even if the cache has it")
    ap.add_argument("--threads", type=int, help="generator threads (default: all cores)")
    args = ap.parse_args(argv)
    try:
        for sf in args.sf or [0.1]:
            print(ensure_data(sf, force=args.force, threads=args.threads))
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
