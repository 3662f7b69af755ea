"""Data for the db-benchmark ("database-like ops benchmark") groupby and join suites.

A seeded numpy implementation of the column definitions of the benchmark's two R
generators (groupby-datagen.R and join-datagen.R); the definitions are listed in
bench/README.md. The values are not R's (a different random generator), the
distributions, cardinalities and match ratios are.

    .venv/bin/python bench/dbbench_data.py                 # groupby and join at 1e7
    .venv/bin/python bench/dbbench_data.py --size 1e8      # ~10x the time and disk
    .venv/bin/python bench/dbbench_data.py --suite groupby --nas 5 --sorted 1

Files go to $SLUICE_CACHE/dbbench (default ~/.cache/sluice/dbbench), one directory per
data set named as the benchmark names it, holding Parquet files (and CSV with --csv)
under the benchmark's file names and a meta.json:

    G1_1e7_1e2_0_0/G1_1e7_1e2_0_0.parquet
    J1_1e7_NA_0_0/J1_1e7_NA_0_0.parquet    x       (N rows)
                  J1_1e7_1e1_0_0.parquet   small   (N/1e6 rows)
                  J1_1e7_1e4_0_0.parquet   medium  (N/1e3 rows)
                  J1_1e7_1e7_0_0.parquet   big     (N rows)

A data set is written into a temporary directory beside the final one and renamed
into place when complete, so an interrupted run never leaves half a data set; an
existing complete one is reused (same seed), not regenerated.
"""
import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

GENERATOR_VERSION = 1
DEFAULT_SEED = 108  # the seed the R generators use (set.seed(108)); our stream differs
ROW_GROUP = 1 << 20
CHUNK = 1 << 22  # rows turned into Arrow arrays at a time when writing


def cache_dir() -> Path:
    base = os.environ.get("SLUICE_CACHE")
    return (Path(base) if base else Path.home() / ".cache/sluice") / "dbbench"


def parse_size(text) -> int:
    """'1e7', '10000000', '1E8' -> int; must be a whole number."""
    value = float(text)
    if value != int(value) or value < 1:
        raise argparse.ArgumentTypeError(f"not a positive whole number of rows: {text}")
    return int(value)


def pretty_sci(n: int) -> str:
    """The benchmark's short form of a count: 10000000 -> '1e7', 20 -> '2e1', 5 -> '5e0'."""
    digits = str(int(n))
    head, tail = digits[0], digits[1:]
    if tail.strip("0"):
        raise ValueError(f"{n} has more than one significant digit; the benchmark's names need one")
    return f"{head}e{len(tail)}"


def groupby_name(n, k, nas, sort) -> str:
    return f"G1_{pretty_sci(n)}_{pretty_sci(k)}_{nas}_{sort}"


def join_names(n, nas=0, sort=0) -> dict:
    """Table role -> data set name, as join-datagen.R names its files."""
    names = {"x": f"J1_{pretty_sci(n)}_NA_{nas}_{sort}"}
    for role, div in (("small", 10**6), ("medium", 10**3), ("big", 1)):
        names[role] = f"J1_{pretty_sci(n)}_{pretty_sci(n // div)}_{nas}_{sort}"
    return names


# --- writing ------------------------------------------------------------------------


def id_strings(codes: np.ndarray, width: int | None) -> pa.Array:
    """'id' + the number, zero-padded to width digits ("id%03d") or not ("id%.0f").
    codes <= 0 are NA (null)."""
    mask = codes <= 0
    digits = pc.cast(pa.array(codes, type=pa.int64()), pa.string())
    if width:
        digits = pc.utf8_lpad(digits, width=width, padding="0")
    out = pc.binary_join_element_wise(pa.scalar("id"), digits, "")
    if mask.any():
        out = pc.if_else(pa.array(mask), pa.nulls(len(out), pa.string()), out)
    return out


def write_table(path: Path, n_rows: int, make_chunk, csv: bool):
    """Writes Parquet (and CSV) at path, building Arrow tables chunk by chunk:
    make_chunk(start, stop) -> pa.Table."""
    writer = csv_writer = None
    try:
        for start in range(0, n_rows, CHUNK):
            table = make_chunk(start, min(n_rows, start + CHUNK))
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema, compression="snappy")
                if csv:
                    csv_writer = pacsv.CSVWriter(path.with_suffix(".csv"), table.schema,
                                                    write_options=pacsv.WriteOptions(quoting_style="none"))
            writer.write_table(table, row_group_size=ROW_GROUP)
            if csv_writer:
                csv_writer.write_table(table)
    finally:
        if writer:
            writer.close()
        if csv_writer:
            csv_writer.close()


# --- groupby: groupby-datagen.R -------------------------------------------------------


def generate_groupby(out: Path, n: int, k: int, nas: int, sort: int, seed: int, csv: bool):
    """G1_<N>_<K>_<NAs>_<sorted>: N rows, columns
    id1, id2  'id%03d' of sample(K) (K distinct strings, 'id001'..)
    id3       'id%010d' of sample(N/K) (N/K distinct strings, 'id0000000001'..)
    id4, id5  int in 1..K;  id6 int in 1..N/K
    v1        int in 1..5;  v2 int in 1..15;  v3 double uniform in [0,100) rounded to 6 places.
    With nas > 0: in each id column, nas% of its distinct values become NA (every row
    holding one of them), and nas% of the rows of each of v1, v2, v3 become NA.
    With sort = 1 the rows are ordered by id1, id2, id3 (NAs first)."""
    if n % k:
        raise SystemExit(f"N={n} must be a multiple of K={k}")
    rng = np.random.default_rng(seed)
    nk = n // k
    i32 = np.int32
    cols = {
        "id1": rng.integers(1, k + 1, n, dtype=i32),
        "id2": rng.integers(1, k + 1, n, dtype=i32),
        "id3": rng.integers(1, nk + 1, n, dtype=i32),
        "id4": rng.integers(1, k + 1, n, dtype=i32),
        "id5": rng.integers(1, k + 1, n, dtype=i32),
        "id6": rng.integers(1, nk + 1, n, dtype=i32),
        "v1": rng.integers(1, 6, n, dtype=i32),
        "v2": rng.integers(1, 16, n, dtype=i32),
        "v3": np.round(rng.random(n) * 100.0, 6),
    }
    valid = {}
    if nas:
        for name in ("id1", "id2", "id3", "id4", "id5", "id6"):
            distinct = np.unique(cols[name])
            n_na = int(len(distinct) * nas / 100)
            if n_na:
                gone = rng.choice(distinct, n_na, replace=False)
                cols[name][np.isin(cols[name], gone)] = 0  # 0 = NA
        n_na = int(n * nas / 100)
        for name in ("v1", "v2", "v3"):
            if n_na:
                mask = np.ones(n, dtype=bool)
                mask[rng.choice(n, n_na, replace=False)] = False
                valid[name] = mask
    if sort:
        order = np.lexsort((cols["id3"], cols["id2"], cols["id1"]))  # last key is primary
        cols = {name: c[order] for name, c in cols.items()}
        valid = {name: m[order] for name, m in valid.items()}

    def chunk(a, b):
        arrays = {
            "id1": id_strings(cols["id1"][a:b], 3),
            "id2": id_strings(cols["id2"][a:b], 3),
            "id3": id_strings(cols["id3"][a:b], 10),
        }
        for name in ("id4", "id5", "id6"):
            c = cols[name][a:b]
            arrays[name] = pa.array(c, mask=(c == 0) if nas else None)
        for name in ("v1", "v2", "v3"):
            m = valid.get(name)
            arrays[name] = pa.array(cols[name][a:b], mask=None if m is None else ~m[a:b])
        return pa.table(arrays)

    name = groupby_name(n, k, nas, sort)
    write_table(out / f"{name}.parquet", n, chunk, csv)
    return {name: n}


# --- join: join-datagen.R -------------------------------------------------------------


def split_xlr(rng, n: int):
    """n*1.1 distinct keys 1..1.1n in random order: 0.9n in both sides ('x'), 0.1n on the
    left only ('l'), 0.1n on the right only ('r')."""
    key = rng.permutation(np.arange(1, n + n // 10 + 1, dtype=np.int32))
    nx = n - n // 10
    return {"x": key[:nx], "l": key[nx:n], "r": key[n:]}


def sample_all(rng, values: np.ndarray, size: int) -> np.ndarray:
    """size values drawn from `values` with every one present at least once, shuffled."""
    assert len(values) <= size
    out = np.concatenate([values, rng.choice(values, size - len(values), replace=True)])
    rng.shuffle(out)
    return out


def generate_join(out: Path, n: int, seed: int, csv: bool):
    """J1_<N>: x (N rows) and small / medium / big (N/1e6, N/1e3, N rows).
    Key sets: k1 = split_xlr(N/1e6), k2 = split_xlr(N/1e3), k3 = split_xlr(N).
    x:      id1 = sample_all(k1.x + k1.l, N), id2 likewise from k2, id3 from k3 (so id3 is
            unique), id4/id5/id6 = 'id%.0f' of id1/id2/id3, v1 double in [0,100) to 6 places.
    small:  id1 = sample_all(k1.x + k1.r, N/1e6) (unique), id4, v2.
    medium: id1 (from k1.x + k1.r), id2 = sample_all(k2.x + k2.r, N/1e3) (unique), id4, id5, v2.
    big:    id1, id2 (as above), id3 = sample_all(k3.x + k3.r, N) (unique), id4..id6, v2.
    So 90% of x's rows find a match on id1, id2 or id3 (and on id4..id6)."""
    if n % 10**7:
        raise SystemExit(f"join data needs N a multiple of 1e7 (small has N/1e6 rows, split 0.9/0.1): {n}")
    rng = np.random.default_rng(seed)
    sizes = {"small": n // 10**6, "medium": n // 10**3, "big": n}
    keys = [split_xlr(rng, n // 10**6), split_xlr(rng, n // 10**3), split_xlr(rng, n)]
    lhs = {f"id{i + 1}": sample_all(rng, np.concatenate([key["x"], key["l"]]), n) for i, key in enumerate(keys)}
    rhs_keys = [np.concatenate([key["x"], key["r"]]) for key in keys]
    rhs = {
        "small": {"id1": sample_all(rng, rhs_keys[0], sizes["small"])},
        "medium": {f"id{i + 1}": sample_all(rng, rhs_keys[i], sizes["medium"]) for i in range(2)},
        "big": {f"id{i + 1}": sample_all(rng, rhs_keys[i], sizes["big"]) for i in range(3)},
    }
    lhs["v1"] = np.round(rng.random(n) * 100.0, 6)
    for role in ("small", "medium", "big"):
        rhs[role]["v2"] = np.round(rng.random(sizes[role]) * 100.0, 6)

    def chunker(cols):
        def chunk(a, b):
            arrays = {}
            ids = [c for c in ("id1", "id2", "id3") if c in cols]
            for c in ids:
                arrays[c] = pa.array(cols[c][a:b])
            for c in ids:  # id4 from id1, id5 from id2, id6 from id3
                arrays[f"id{int(c[2]) + 3}"] = id_strings(cols[c][a:b], None)
            for c in ("v1", "v2"):
                if c in cols:
                    arrays[c] = pa.array(cols[c][a:b])
            return pa.table(arrays)

        return chunk

    names = join_names(n)
    write_table(out / f"{names['x']}.parquet", n, chunker(lhs), csv)
    del lhs
    for role in ("small", "medium", "big"):
        write_table(out / f"{names[role]}.parquet", sizes[role], chunker(rhs[role]), csv)
    return {names[r]: (n if r == "x" else sizes[r]) for r in ("x", "small", "medium", "big")}


# --- cache ----------------------------------------------------------------------------


def ensure(suite: str, n: int, k: int = 100, nas: int = 0, sort: int = 0, seed: int = DEFAULT_SEED,
           csv: bool = False, force: bool = False, log=print) -> dict:
    """Generates the suite's data set once; returns its meta (with 'dir' and 'files':
    role -> Parquet path)."""
    if suite == "groupby":
        name = groupby_name(n, k, nas, sort)
        roles = {"x": name}
    elif suite == "join":
        if nas or sort:
            raise SystemExit("join data: only NAs 0 and unsorted (the variant the benchmark runs)")
        roles = join_names(n)
        name = roles["x"]
    else:
        raise SystemExit(f"unknown suite {suite}")
    root = cache_dir()
    final = root / name
    want = {"generator_version": GENERATOR_VERSION, "seed": seed, "csv": csv}
    meta_path = final / "meta.json"
    if final.exists() and not force:
        try:
            meta = json.loads(meta_path.read_text())
            if (meta.get("seed") == seed and meta.get("generator_version") == GENERATOR_VERSION
                    and (meta.get("csv") or not csv)):
                return with_paths(meta, final, roles)
        except (OSError, ValueError):
            pass
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".{name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    log(f"generating {name} ({suite}, {n:,} rows, seed {seed}) into {root} ...")
    start = time.perf_counter()
    try:
        if suite == "groupby":
            rows = generate_groupby(tmp, n, k, nas, sort, seed, csv)
        else:
            rows = generate_join(tmp, n, seed, csv)
        secs = time.perf_counter() - start
        size = sum(p.stat().st_size for p in tmp.iterdir() if p.suffix == ".parquet")
        meta = dict(want, suite=suite, name=name, n=n, k=k, nas=nas, sort=sort, rows=rows,
                    parquet_bytes=size, seconds=round(secs, 2), numpy=np.__version__, pyarrow=pa.__version__)
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
        if final.exists():  # stale (other seed or version) or --force: replace it
            old = root / f".{name}.old-{os.getpid()}"
            final.rename(old)
            shutil.rmtree(old, ignore_errors=True)
        try:
            tmp.rename(final)
        except OSError:  # another process finished the same data set first: keep theirs
            shutil.rmtree(tmp, ignore_errors=True)
            meta = json.loads(meta_path.read_text())
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log(f"generated {name} in {meta['seconds']:.1f} s, {meta['parquet_bytes'] / 2**20:,.0f} MiB of Parquet")
    return with_paths(meta, final, roles)


def with_paths(meta: dict, directory: Path, roles: dict) -> dict:
    meta = dict(meta)
    meta["dir"] = str(directory)
    meta["files"] = {role: str(directory / f"{name}.parquet") for role, name in roles.items()}
    return meta


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suite", default="groupby,join", help="groupby, join or both (comma-separated)")
    ap.add_argument("--size", type=parse_size, default=10**7, help="rows N: 1e7 (default) or 1e8")
    ap.add_argument("--k", type=parse_size, default=100, help="groupby K (default 1e2)")
    ap.add_argument("--nas", type=int, default=0, help="groupby NA percentage (default 0)")
    ap.add_argument("--sorted", type=int, default=0, choices=(0, 1), help="groupby rows sorted by id1..id3")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--csv", action="store_true", help="also write CSV beside the Parquet")
    ap.add_argument("--force", action="store_true", help="regenerate even if present")
    args = ap.parse_args()
    if not 0 <= args.nas <= 100:
        ap.error("--nas is a percentage 0..100")
    for suite in args.suite.split(","):
        meta = ensure(suite, args.size, args.k, args.nas if suite == "groupby" else 0,
                      args.sorted if suite == "groupby" else 0, args.seed, args.csv, args.force)
        print(json.dumps({k: meta[k] for k in ("name", "dir", "rows", "parquet_bytes", "seconds")}))


if __name__ == "__main__":
    sys.exit(main())
