"""Seeded random tables for the differential tests, written to Parquet.

Every table of one seed shares a key domain, so any two of them can be joined:
  id    int64, unique per table, never NULL (the tie-breaker that makes ORDER BY total)
  k     the join/group key: int16/int32/int64 or utf8 (one kind per seed, widths vary
        by table so joins need implicit casts), skewed (a few hot values), with NULLs
  k2    a second, low-cardinality utf8 key (multi-key joins and group-bys)
  c<i>_<kind>  value columns of random kinds (see KINDS)

Values cover the edges the engines disagree on most: type extremes for small integers,
unicode, empty and duplicate strings, -0.0, dates and timestamps across 1900..2100,
all-NULL columns and empty tables. Deliberate limits:
- no NaN in float64 columns (NaN ordering/grouping is a separate topic: not yet), no
  +-inf (variance over inf is engine-specific: NaN vs error);
- int64 value columns stay within +-1e12 so that sums fit in int64 (Sluice sums int64
  in int64 with an overflow error, DuckDB in HUGEINT; overflow is covered in
  tests/sql/aggregates.test). The other integer types use their whole range.

make_world(..., variety=True) (the SQL fuzzer, fuzz_sql.py) adds, from a second random
stream so that the default worlds of test_differential stay exactly as they were: 1-4
files and tiny row groups (morsel boundaries), duplicated rows (equal but for `id`), and
with nan=True also NaN and +-inf in float64 columns (off by default: Sluice compares NaN
as IEEE does, DuckDB as the largest number; see docs/design/fuzz_sql.md).
"""

from __future__ import annotations

import datetime as dt
import decimal
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import pyarrow as pa
import pyarrow.parquet as pq


# kind -> (arrow type, category used by the query generator)
KINDS: Dict[str, tuple] = {
    "i8": (pa.int8(), "int"),
    "i16": (pa.int16(), "int"),
    "i32": (pa.int32(), "int"),
    "i64": (pa.int64(), "int"),
    "u8": (pa.uint8(), "int"),
    "u16": (pa.uint16(), "int"),
    "u32": (pa.uint32(), "int"),
    "u64": (pa.uint64(), "int"),
    "f64": (pa.float64(), "float"),
    "dec": (pa.decimal128(12, 2), "decimal"),
    "str": (pa.string(), "string"),
    "bool": (pa.bool_(), "bool"),
    "date": (pa.date32(), "date"),
    "ts": (pa.timestamp("us"), "ts"),
    "tstz": (pa.timestamp("us", tz="UTC"), "tstz"),
}

VALUE_KINDS = list(KINDS)

STRINGS = [
    "", "a", "A", "b", "abc", "ABC", "abd", "a b", " x ", "x", "héllo", "HÉLLO", "Ünïcödé",
    "日本語", "🙂", "a%b", "a_b", "it's", "100", "-7", "2024-01-01", "zzz", "The quick brown fox",
    "x" * 64, "ab" * 100, "tab\there", "new\nline", "ß", "ǅ",
]
KEY_STRINGS = ["k" + str(i) for i in range(40)] + ["", "K1", "ключ", "🔑"]
K2_STRINGS = ["red", "green", "blue", "", "Red"]

EPOCH = dt.date(1970, 1, 1)
US_PER_DAY = 86_400_000_000
DATE_LO = (dt.date(1900, 1, 1) - EPOCH).days
DATE_HI = (dt.date(2100, 12, 31) - EPOCH).days
SPECIAL_DATES = [dt.date(1970, 1, 1), dt.date(2000, 2, 29), dt.date(1999, 12, 31), dt.date(2024, 1, 1),
                 dt.date(1900, 1, 1), dt.date(2100, 12, 31)]

INT_RANGES = {
    "i8": (-128, 127), "i16": (-32768, 32767), "i32": (-2**31, 2**31 - 1),
    "i64": (-2**63, 2**63 - 1), "u8": (0, 255), "u16": (0, 65535), "u32": (0, 2**32 - 1),
    "u64": (0, 2**64 - 1),
}
# Sums of int64 columns must not overflow in Sluice's int64 sum (DuckDB sums in HUGEINT):
# keep int64 value columns within +-1e12 (extremes are covered in tests/sql).
INT_RANGES["i64"] = (max(INT_RANGES["i64"][0], -10**12), min(INT_RANGES["i64"][1], 10**12))
DECIMAL_EXTREMES = ["9999999999.99", "-9999999999.99", "0.00", "-0.01"]

KEY_INT_TYPES = [pa.int16(), pa.int32(), pa.int64()]
FLOAT_SPECIALS = [float("nan"), float("inf"), float("-inf")]


@dataclass
class Column:
    name: str
    kind: str               # key of KINDS, or "key" / "id"
    type: pa.DataType
    category: str           # int, float, decimal, string, bool, date, ts, tstz
    null_rate: float

    def describe(self) -> str:
        return f"{self.name} {self.type} (nulls {self.null_rate:.0%})"


@dataclass
class Table:
    name: str
    columns: List[Column]
    num_rows: int
    path: Optional[Path] = None      # a file, or a glob over a directory of files
    files: int = 1
    row_group_size: int = 0
    data: Optional[pa.Table] = None

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def describe(self) -> str:
        cols = ", ".join(c.describe() for c in self.columns)
        return (f"{self.name}: {self.num_rows} rows, {self.files} file(s), row groups of "
                f"{self.row_group_size or 'default'}; path {self.path}\n    {cols}")


@dataclass
class World:
    """The tables of one seed."""
    seed: int
    key_category: str       # "int" or "string"
    tables: List[Table] = field(default_factory=list)

    def table(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)

    def describe(self, names=None) -> str:
        return "\n".join("  " + t.describe() for t in self.tables if names is None or t.name in names)


def _null_rate(rng: random.Random) -> float:
    return rng.choices([0.0, 0.05, 0.3, 0.8, 1.0], weights=[30, 30, 25, 10, 5])[0]


def _num_rows(rng: random.Random) -> int:
    return rng.choices([0, 1, 2, 5, 40, 200, 700], weights=[6, 4, 4, 8, 30, 35, 13])[0]


def _value(rng: random.Random, kind: str):
    if kind in INT_RANGES:
        lo, hi = INT_RANGES[kind]
        r = rng.random()
        if r < 0.08:
            return rng.choice([lo, hi])
        if r < 0.5:
            return rng.randint(max(lo, -20), min(hi, 20))
        return rng.randint(lo, hi)
    if kind == "f64":
        r = rng.random()
        if r < 0.05:
            return rng.choice([0.0, -0.0])
        if r < 0.4:
            return float(rng.randint(-20, 20))
        return round(rng.uniform(-1e4, 1e4), rng.choice([0, 1, 3]))
    if kind == "dec":
        r = rng.random()
        if r < 0.05:
            return decimal.Decimal(rng.choice(DECIMAL_EXTREMES))
        if r < 0.5:
            return decimal.Decimal(rng.randint(-2000, 2000)) / 100
        return decimal.Decimal(rng.randint(-10**11, 10**11)) / 100
    if kind == "str":
        return rng.choice(STRINGS)
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "date":
        if rng.random() < 0.2:
            return rng.choice(SPECIAL_DATES)
        return EPOCH + dt.timedelta(days=rng.randint(DATE_LO, DATE_HI))
    if kind in ("ts", "tstz"):
        if rng.random() < 0.2:
            day = (rng.choice(SPECIAL_DATES) - EPOCH).days
            us = day * US_PER_DAY + rng.choice([0, 1, 3_600_000_000, US_PER_DAY - 1])
        else:
            us = rng.randint(DATE_LO * US_PER_DAY, DATE_HI * US_PER_DAY)
        return us  # microseconds since the epoch; arrow builds the timestamp
    raise ValueError(kind)


def _skewed_key(rng: random.Random, category: str, domain: int):
    """A few hot keys, a long tail: ~zipf over `domain` values."""
    i = min(int(rng.paretovariate(1.2)) - 1, domain - 1)
    if category == "string":
        return KEY_STRINGS[i % len(KEY_STRINGS)]
    return i


def make_world(seed: int, out_dir: Path, num_tables: int = 3, *, variety: bool = False,
               nan: bool = False) -> World:
    rng = random.Random(seed)
    # Everything `variety`/`nan` add comes from vrng: the main stream (and so the default
    # worlds of test_differential) does not change.
    vrng = random.Random(seed * 1_000_003 + 7) if (variety or nan) else None
    key_category = rng.choice(["int", "int", "string"])
    world = World(seed, key_category)
    key_domain = rng.choice([3, 10, 40])
    for ti in range(num_tables):
        name = "t" + str(ti)
        n = _num_rows(rng)
        cols: List[Column] = [Column("id", "id", pa.int64(), "int", 0.0)]
        if key_category == "int":
            ktype = rng.choice(KEY_INT_TYPES)
        else:
            ktype = pa.string()
        cols.append(Column("k", "key", ktype, key_category, rng.choice([0.0, 0.05, 0.2])))
        cols.append(Column("k2", "key", pa.string(), "string", rng.choice([0.0, 0.1])))
        nvals = rng.randint(3, 8)
        for ci in range(nvals):
            kind = rng.choice(VALUE_KINDS)
            atype, cat = KINDS[kind]
            cols.append(Column(f"c{ci}_{kind}", kind, atype, cat, _null_rate(rng)))
        arrays = []
        columns_vals = []
        ids = list(range(n))
        rng.shuffle(ids)
        for c in cols:
            if c.name == "id":
                vals = ids
            elif c.name == "k":
                vals = [None if rng.random() < c.null_rate else _skewed_key(rng, key_category, key_domain)
                        for _ in range(n)]
            elif c.name == "k2":
                vals = [None if rng.random() < c.null_rate else rng.choice(K2_STRINGS) for _ in range(n)]
            else:
                vals = [None if rng.random() < c.null_rate else _value(rng, c.kind) for _ in range(n)]
                if nan and c.kind == "f64" and vrng.random() < 0.5:
                    rate = vrng.choice([0.02, 0.1, 0.3])
                    vals = [vrng.choice(FLOAT_SPECIALS) if v is not None and vrng.random() < rate else v
                            for v in vals]
            columns_vals.append(vals)
        if variety and n >= 2 and vrng.random() < 0.3:
            # Duplicated rows: copy every column but `id` from another row.
            for _ in range(vrng.randint(1, max(1, n // 4))):
                i, j = vrng.randrange(n), vrng.randrange(n)
                for ci, c in enumerate(cols):
                    if c.name != "id":
                        columns_vals[ci][i] = columns_vals[ci][j]
        for c, vals in zip(cols, columns_vals):
            if c.kind in ("ts", "tstz"):
                arrays.append(pa.array(vals, type=pa.int64()).cast(c.type))
            else:
                arrays.append(pa.array(vals, type=c.type))
        data = pa.table(arrays, names=[c.name for c in cols])
        table = Table(name, cols, n, data=data)
        table.row_group_size = rng.choice([0, 0, 50, 128, 1000])
        table.files = 2 if (n >= 40 and rng.random() < 0.25) else 1
        if variety:
            if n >= 2 and vrng.random() < 0.35:
                table.files = vrng.choice([2, 2, 3, 4])
            if vrng.random() < 0.2:
                table.row_group_size = vrng.choice([1, 7, 16] if n <= 50 else [7, 16, 33])
        _write(table, out_dir / f"seed{seed}", even=variety)
        world.tables.append(table)
    return world


def _write(table: Table, dir_: Path, even: bool = False) -> None:
    dir_.mkdir(parents=True, exist_ok=True)
    if table.files == 1:
        path = dir_ / f"{table.name}.parquet"
        write_parquet(table.data, path, 1, table.row_group_size)
        table.path = path
    elif not even:
        kw = {"row_group_size": table.row_group_size} if table.row_group_size else {}
        sub = dir_ / table.name
        sub.mkdir(exist_ok=True)
        half = table.num_rows // 2
        pq.write_table(table.data.slice(0, half), sub / "part-0.parquet", **kw)
        pq.write_table(table.data.slice(half), sub / "part-1.parquet", **kw)
        table.path = sub / "*.parquet"
    else:
        table.path = write_parquet(table.data, dir_ / table.name, table.files, table.row_group_size)


def write_parquet(data: pa.Table, path: Path, files: int = 1, row_group_size: int = 0) -> Path:
    """`data` as one file (`path`), or as `files` files path/part-N.parquet (returns the glob).

    The rows are split in order into files of ceil(rows / files) rows, as the `load ...
    files=N row_group_rows=M` blocks of tests/sql do, so a fuzzer case and its .test
    record have the same layout."""
    kw = {"row_group_size": row_group_size} if row_group_size else {}
    if files == 1:
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(data, path, **kw)
        return path
    path.mkdir(parents=True, exist_ok=True)
    for old in path.glob("part-*.parquet"):
        old.unlink()
    per_file = -(-data.num_rows // files)
    for f in range(files):
        pq.write_table(data.slice(f * per_file, per_file), path / f"part-{f}.parquet", **kw)
    return path / "*.parquet"
