"""TPC-H: the 22 queries in Sluice, DuckDB, Polars (and pandas at SF <= 1) over the same
Parquet files, in one run, every answer checked against DuckDB's before a time counts.

    .venv/bin/python bench/tpch.py                         # SF1, 2 runs, all engines
    .venv/bin/python bench/tpch.py --sf 10 --runs 3        # SF10: generates ~3.5 GB first
    .venv/bin/python bench/tpch.py --queries 1,9,18 --engines sluice,duckdb
    SLUICE_BIN=/path/to/sluice .venv/bin/python bench/tpch.py

Engines, per query and run (see bench/README.md, "TPC-H", for what each time includes):
  sluice   `sluice sql --threads N --format parquet --output ans.parquet --table t=... QUERY`,
           a fresh process per run; the time is the process's wall time (start, reading
           the Parquet, the query, writing the small Parquet answer)
  sluice-py  Sluice in-process through its Python package, like DuckDB and Polars here: a
           fresh sl.Session per run, the query's tables registered with read_parquet (timed:
           it reads the footers), the same query text, the answer as an Arrow table; the
           package's module comes from the build tree (make release), not the binary above
  duckdb   a fresh connection per run with one view per table over read_parquet of the
           same files, the same query text, the answer fetched as an Arrow table; the
           apples-to-apples column for Sluice
  polars   the query written in Polars' lazy API (this file) over scan_parquet of the
           same files, .collect() (Polars' default engine unless --polars-engine)
  pandas   the query written in pandas (merge/groupby), reading the columns it needs
           with pyarrow (timed), single-threaded; only at SF <= 1 (--pandas-max-sf)
DuckDB, Polars and pandas each run in a process of their own (this script with
--worker), so their memory and threads stay apart; the engines take turns query by
query and run by run, so a change in the machine's load hits them alike.

Every answer (every run) is compared with DuckDB's first-run answer by
tests/tpch/run_tpch.py's compare (decimals and integers exactly, floats to 1e-9
relative, the ORDER BY columns in order); a disagreement is printed in a
"!!! ANSWER DISAGREEMENT" block, the time is marked invalid and left out of the ratios,
and the script exits non-zero.

Output: a table on stdout (the time of every run, ratios of Sluice to DuckDB and to
Polars, geometric means and totals), bench/results/tpch_sf<SF>.csv and the chart
bench/results/tpch_sf<SF>.png.
"""
import argparse
import csv
import datetime as dt
import hashlib
import json
import math
import os
import queue
import re
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests/tpch"))
import run_tpch  # noqa: E402  (tests/tpch/run_tpch.py: data, query texts, compare)

RESULTS = ROOT / "bench/results"
SLUICE_DEFAULT = ROOT / "build/release/tools/sluice/sluice"
PY = sys.executable
ENGINES = ["sluice", "sluice-py", "duckdb", "polars", "pandas"]
QUERIES = list(range(1, 23))
# The ratio columns: (engine, baseline).
RATIOS = [("sluice", "duckdb"), ("sluice", "polars"), ("sluice-py", "duckdb"), ("sluice-py", "polars"),
          ("polars", "duckdb"), ("pandas", "duckdb")]
UNSUPPORTED = re.compile(r"not supported|unknown function|unsupported|not implemented", re.I)
COLORS = {"sluice": "#d62728", "sluice-py": "#ff9896", "duckdb": "#f2c14e", "polars": "#1f77b4", "pandas": "#8c564b"}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def sf_name(sf):
    return f"sf{sf:g}"


def qid(n):
    return f"q{n:02d}"


# --- Polars: the 22 queries in the lazy API --------------------------------------------
#
# The data keep their types: money, quantities, discounts and taxes are DECIMAL(15,2),
# which Polars reads as Decimal(15, 2). Polars gives a product of two decimals the larger
# of the two scales and rounds (1.55 * 0.07 = 0.11), where SQL keeps the sum of the
# scales (0.1085); so an operand is widened first (`wide`) wherever a product must stay
# exact, as DuckDB's and Sluice's do. With --polars-float every decimal column is cast to
# Float64 at the scan instead (faster, answers then agree to ~1e-12, not exactly), and
# `wide` does nothing.

import polars as pl  # noqa: E402  (imported here: workers set POLARS_MAX_THREADS first, see main)

POLARS_FLOAT = False


def wide(expr, scale):
    """expr as a decimal of `scale` digits, so that a product with it is exact."""
    return expr if POLARS_FLOAT else expr.cast(pl.Decimal(38, scale))


def num(text):
    """A decimal literal as the column it is compared with holds it."""
    return pl.lit(float(text)) if POLARS_FLOAT else pl.lit(Decimal(text))


def as_float(expr):
    return expr.cast(pl.Float64)


def c(name):
    return pl.col(name)


def disc_price():
    """l_extendedprice * (1 - l_discount), exact (scale 4)."""
    return wide(c("l_extendedprice"), 4) * (1 - c("l_discount"))


def pl_q1(t):
    price = disc_price()
    return (t["lineitem"].filter(c("l_shipdate") <= dt.date(1998, 9, 2))
            .group_by("l_returnflag", "l_linestatus")
            .agg(sum_qty=c("l_quantity").sum(), sum_base_price=c("l_extendedprice").sum(),
                 sum_disc_price=price.sum(), sum_charge=(wide(price, 6) * (1 + c("l_tax"))).sum(),
                 avg_qty=c("l_quantity").mean(), avg_price=c("l_extendedprice").mean(),
                 avg_disc=c("l_discount").mean(), count_order=pl.len())
            .sort("l_returnflag", "l_linestatus"))


def pl_q2(t):
    europe = (t["region"].filter(c("r_name") == "EUROPE")
              .join(t["nation"], left_on="r_regionkey", right_on="n_regionkey")
              .join(t["supplier"], left_on="n_nationkey", right_on="s_nationkey"))
    parts = t["part"].filter((c("p_size") == 15) & c("p_type").str.ends_with("BRASS"))
    # Every (part, European supplier) pair; the subquery's minimum is over the same pairs.
    cands = (parts.join(t["partsupp"], left_on="p_partkey", right_on="ps_partkey")
             .join(europe, left_on="ps_suppkey", right_on="s_suppkey"))
    return (cands.filter(c("ps_supplycost") == c("ps_supplycost").min().over("p_partkey"))
            .select("s_acctbal", "s_name", "n_name", "p_partkey", "p_mfgr", "s_address", "s_phone", "s_comment")
            .sort(["s_acctbal", "n_name", "s_name", "p_partkey"], descending=[True, False, False, False])
            .head(100))


def pl_q3(t):
    day = dt.date(1995, 3, 15)
    return (t["customer"].filter(c("c_mktsegment") == "BUILDING")
            .join(t["orders"].filter(c("o_orderdate") < day), left_on="c_custkey", right_on="o_custkey")
            .join(t["lineitem"].filter(c("l_shipdate") > day), left_on="o_orderkey", right_on="l_orderkey")
            .group_by("o_orderkey", "o_orderdate", "o_shippriority")
            .agg(revenue=disc_price().sum())
            .select(c("o_orderkey").alias("l_orderkey"), "revenue", "o_orderdate", "o_shippriority")
            .sort(["revenue", "o_orderdate"], descending=[True, False])
            .head(10))


def pl_q4(t):
    late = t["lineitem"].filter(c("l_commitdate") < c("l_receiptdate"))
    return (t["orders"].filter(c("o_orderdate").is_between(dt.date(1993, 7, 1), dt.date(1993, 10, 1), closed="left"))
            .join(late, left_on="o_orderkey", right_on="l_orderkey", how="semi")
            .group_by("o_orderpriority").agg(order_count=pl.len())
            .sort("o_orderpriority"))


def pl_q5(t):
    asia = (t["region"].filter(c("r_name") == "ASIA")
            .join(t["nation"], left_on="r_regionkey", right_on="n_regionkey"))
    return (t["customer"].join(asia, left_on="c_nationkey", right_on="n_nationkey")
            .join(t["orders"].filter(c("o_orderdate").is_between(dt.date(1994, 1, 1), dt.date(1995, 1, 1),
                                                                 closed="left")),
                  left_on="c_custkey", right_on="o_custkey")
            .join(t["lineitem"], left_on="o_orderkey", right_on="l_orderkey")
            .join(t["supplier"], left_on=["l_suppkey", "c_nationkey"], right_on=["s_suppkey", "s_nationkey"])
            .group_by("n_name").agg(revenue=disc_price().sum())
            .sort("revenue", descending=True))


def pl_q6(t):
    return (t["lineitem"]
            .filter(c("l_shipdate").is_between(dt.date(1994, 1, 1), dt.date(1995, 1, 1), closed="left")
                    & c("l_discount").is_between(num("0.05"), num("0.07"))
                    & (c("l_quantity") < 24))
            .select(revenue=(wide(c("l_extendedprice"), 4) * c("l_discount")).sum()))


def pl_q7(t):
    two = t["nation"].filter(c("n_name").is_in(["FRANCE", "GERMANY"]))
    supp = t["supplier"].join(two, left_on="s_nationkey", right_on="n_nationkey").select(
        "s_suppkey", supp_nation="n_name")
    cust = t["customer"].join(two, left_on="c_nationkey", right_on="n_nationkey").select(
        "c_custkey", cust_nation="n_name")
    return (t["lineitem"].filter(c("l_shipdate").is_between(dt.date(1995, 1, 1), dt.date(1996, 12, 31)))
            .join(supp, left_on="l_suppkey", right_on="s_suppkey")
            .join(t["orders"], left_on="l_orderkey", right_on="o_orderkey")
            .join(cust, left_on="o_custkey", right_on="c_custkey")
            .filter(c("supp_nation") != c("cust_nation"))
            .group_by("supp_nation", "cust_nation", l_year=c("l_shipdate").dt.year())
            .agg(revenue=disc_price().sum())
            .sort("supp_nation", "cust_nation", "l_year"))


def pl_q8(t):
    america = (t["region"].filter(c("r_name") == "AMERICA")
               .join(t["nation"], left_on="r_regionkey", right_on="n_regionkey"))
    cust = t["customer"].join(america, left_on="c_nationkey", right_on="n_nationkey", how="semi")
    orders = (t["orders"].filter(c("o_orderdate").is_between(dt.date(1995, 1, 1), dt.date(1996, 12, 31)))
              .join(cust, left_on="o_custkey", right_on="c_custkey", how="semi"))
    parts = t["part"].filter(c("p_type") == "ECONOMY ANODIZED STEEL")
    volume = disc_price()
    return (t["lineitem"].join(parts, left_on="l_partkey", right_on="p_partkey", how="semi")
            .join(orders, left_on="l_orderkey", right_on="o_orderkey")
            .join(t["supplier"], left_on="l_suppkey", right_on="s_suppkey")
            .join(t["nation"], left_on="s_nationkey", right_on="n_nationkey")
            .group_by(o_year=c("o_orderdate").dt.year())
            .agg(mkt_share=as_float(pl.when(c("n_name") == "BRAZIL").then(volume).otherwise(0).sum())
                 / as_float(volume.sum()))
            .sort("o_year"))


def pl_q9(t):
    # Polars joins in the order written: from the ~11K green parts outwards (starting from
    # lineitem semi-joined with them instead takes 3-4x as long).
    green = t["part"].filter(c("p_name").str.contains("green", literal=True))
    amount = disc_price() - wide(c("ps_supplycost"), 4) * c("l_quantity")
    return (green.join(t["partsupp"], left_on="p_partkey", right_on="ps_partkey")
            .join(t["supplier"], left_on="ps_suppkey", right_on="s_suppkey")
            .join(t["lineitem"], left_on=["p_partkey", "ps_suppkey"], right_on=["l_partkey", "l_suppkey"])
            .join(t["orders"], left_on="l_orderkey", right_on="o_orderkey")
            .join(t["nation"], left_on="s_nationkey", right_on="n_nationkey")
            .group_by(nation=c("n_name"), o_year=c("o_orderdate").dt.year())
            .agg(sum_profit=amount.sum())
            .sort(["nation", "o_year"], descending=[False, True]))


def pl_q10(t):
    return (t["customer"]
            .join(t["orders"].filter(c("o_orderdate").is_between(dt.date(1993, 10, 1), dt.date(1994, 1, 1),
                                                                 closed="left")),
                  left_on="c_custkey", right_on="o_custkey")
            .join(t["lineitem"].filter(c("l_returnflag") == "R"), left_on="o_orderkey", right_on="l_orderkey")
            .join(t["nation"], left_on="c_nationkey", right_on="n_nationkey")
            .group_by("c_custkey", "c_name", "c_acctbal", "c_phone", "n_name", "c_address", "c_comment")
            .agg(revenue=disc_price().sum())
            .select("c_custkey", "c_name", "revenue", "c_acctbal", "n_name", "c_address", "c_phone", "c_comment")
            .sort("revenue", descending=True)
            .head(20))


def pl_q11(t):
    per_part = (t["partsupp"].join(t["supplier"], left_on="ps_suppkey", right_on="s_suppkey")
                .join(t["nation"].filter(c("n_name") == "GERMANY"), left_on="s_nationkey", right_on="n_nationkey")
                .group_by("ps_partkey").agg(value=(c("ps_supplycost") * c("ps_availqty")).sum()))
    # value > total * 0.0001, written as value * 10000 > total: exact in decimals (Polars
    # would round total * 0.0001 to 4 digits); the total is the sum of the per-part sums.
    return (per_part.filter(c("value") * 10000 > c("value").sum())
            .sort("value", descending=True))


def pl_q12(t):
    urgent = c("o_orderpriority").is_in(["1-URGENT", "2-HIGH"])
    return (t["orders"]
            .join(t["lineitem"].filter(c("l_shipmode").is_in(["MAIL", "SHIP"])
                                       & (c("l_commitdate") < c("l_receiptdate"))
                                       & (c("l_shipdate") < c("l_commitdate"))
                                       & c("l_receiptdate").is_between(dt.date(1994, 1, 1), dt.date(1995, 1, 1),
                                                                       closed="left")),
                  left_on="o_orderkey", right_on="l_orderkey")
            .group_by("l_shipmode")
            .agg(high_line_count=urgent.sum(), low_line_count=(~urgent).sum())
            .sort("l_shipmode"))


def pl_q13(t):
    orders = t["orders"].filter(~c("o_comment").str.contains("special.*requests"))
    return (t["customer"].join(orders, left_on="c_custkey", right_on="o_custkey", how="left")
            .group_by("c_custkey").agg(c_count=c("o_orderkey").count())
            .group_by("c_count").agg(custdist=pl.len())
            .sort(["custdist", "c_count"], descending=[True, True]))


def pl_q14(t):
    price = disc_price()
    return (t["lineitem"].filter(c("l_shipdate").is_between(dt.date(1995, 9, 1), dt.date(1995, 10, 1), closed="left"))
            .join(t["part"], left_on="l_partkey", right_on="p_partkey")
            .select(promo_revenue=100.0 * as_float(pl.when(c("p_type").str.starts_with("PROMO"))
                                                   .then(price).otherwise(0).sum())
                    / as_float(price.sum())))


def pl_q15(t):
    revenue0 = (t["lineitem"]
                .filter(c("l_shipdate").is_between(dt.date(1996, 1, 1), dt.date(1996, 4, 1), closed="left"))
                .group_by("l_suppkey").agg(total_revenue=disc_price().sum()))
    return (revenue0.filter(c("total_revenue") == c("total_revenue").max())
            .join(t["supplier"], left_on="l_suppkey", right_on="s_suppkey")
            .select(c("l_suppkey").alias("s_suppkey"), "s_name", "s_address", "s_phone", "total_revenue")
            .sort("s_suppkey"))


def pl_q16(t):
    complaints = t["supplier"].filter(c("s_comment").str.contains("Customer.*Complaints"))
    parts = t["part"].filter((c("p_brand") != "Brand#45") & ~c("p_type").str.starts_with("MEDIUM POLISHED")
                             & c("p_size").is_in([49, 14, 23, 45, 19, 3, 36, 9]))
    # NOT IN over a subquery of non-null keys is an anti join.
    return (t["partsupp"].join(complaints, left_on="ps_suppkey", right_on="s_suppkey", how="anti")
            .join(parts, left_on="ps_partkey", right_on="p_partkey")
            .group_by("p_brand", "p_type", "p_size").agg(supplier_cnt=c("ps_suppkey").n_unique())
            .sort(["supplier_cnt", "p_brand", "p_type", "p_size"], descending=[True, False, False, False]))


def pl_q17(t):
    parts = t["part"].filter((c("p_brand") == "Brand#23") & (c("p_container") == "MED BOX"))
    lines = t["lineitem"].join(parts, left_on="l_partkey", right_on="p_partkey", how="semi")
    # The correlated subquery's avg(l_quantity) per part is over all the part's lines.
    return (lines.filter(as_float(c("l_quantity")) < 0.2 * c("l_quantity").mean().over("l_partkey"))
            .select(avg_yearly=as_float(c("l_extendedprice").sum()) / 7.0))


def pl_q18(t):
    big = (t["lineitem"].group_by("l_orderkey").agg(quantity=c("l_quantity").sum())
           .filter(c("quantity") > 300))
    # The outer sum(l_quantity) per order is the subquery's per-order sum again.
    return (big.join(t["orders"], left_on="l_orderkey", right_on="o_orderkey")
            .join(t["customer"], left_on="o_custkey", right_on="c_custkey")
            .select("c_name", c("o_custkey").alias("c_custkey"), c("l_orderkey").alias("o_orderkey"), "o_orderdate",
                    "o_totalprice", c("quantity").alias("sum(l_quantity)"))
            .sort(["o_totalprice", "o_orderdate"], descending=[True, False])
            .head(100))


def pl_q19(t):
    def case(brand, containers, lo, size):
        return ((c("p_brand") == brand) & c("p_container").is_in(containers)
                & c("l_quantity").is_between(lo, lo + 10) & c("p_size").is_between(1, size))
    return (t["lineitem"].filter(c("l_shipmode").is_in(["AIR", "AIR REG"])
                                 & (c("l_shipinstruct") == "DELIVER IN PERSON"))
            .join(t["part"], left_on="l_partkey", right_on="p_partkey")
            .filter(case("Brand#12", ["SM CASE", "SM BOX", "SM PACK", "SM PKG"], 1, 5)
                    | case("Brand#23", ["MED BAG", "MED BOX", "MED PKG", "MED PACK"], 10, 10)
                    | case("Brand#34", ["LG CASE", "LG BOX", "LG PACK", "LG PKG"], 20, 15))
            .select(revenue=disc_price().sum()))


def pl_q20(t):
    forest = t["part"].filter(c("p_name").str.starts_with("forest"))
    shipped = (t["lineitem"]
               .filter(c("l_shipdate").is_between(dt.date(1994, 1, 1), dt.date(1995, 1, 1), closed="left"))
               .group_by("l_partkey", "l_suppkey").agg(quantity=c("l_quantity").sum()))
    # ps_availqty > 0.5 * sum(l_quantity), as 2 * ps_availqty > sum (exact); no shipped
    # lines: the subquery is NULL and the row does not qualify (the inner join drops it).
    excess = (t["partsupp"].join(forest, left_on="ps_partkey", right_on="p_partkey", how="semi")
              .join(shipped, left_on=["ps_partkey", "ps_suppkey"], right_on=["l_partkey", "l_suppkey"])
              .filter(c("ps_availqty") * 2 > c("quantity")))
    return (t["supplier"].join(t["nation"].filter(c("n_name") == "CANADA"), left_on="s_nationkey",
                               right_on="n_nationkey")
            .join(excess, left_on="s_suppkey", right_on="ps_suppkey", how="semi")
            .select("s_name", "s_address")
            .sort("s_name"))


def pl_q21(t):
    late = t["lineitem"].filter(c("l_receiptdate") > c("l_commitdate"))
    # exists l2: the order has another supplier; not exists l3: no other supplier of the
    # order is late, i.e. the late lines of the order all have l1's supplier.
    several = (t["lineitem"].group_by("l_orderkey").agg(n=c("l_suppkey").n_unique())
               .filter(c("n") > 1))
    one_late = late.group_by("l_orderkey").agg(n=c("l_suppkey").n_unique()).filter(c("n") == 1)
    saudi = t["supplier"].join(t["nation"].filter(c("n_name") == "SAUDI ARABIA"), left_on="s_nationkey",
                               right_on="n_nationkey")
    return (late.join(saudi, left_on="l_suppkey", right_on="s_suppkey")
            .join(t["orders"].filter(c("o_orderstatus") == "F"), left_on="l_orderkey", right_on="o_orderkey",
                  how="semi")
            .join(several, on="l_orderkey", how="semi")
            .join(one_late, on="l_orderkey", how="semi")
            .group_by("s_name").agg(numwait=pl.len())
            .sort(["numwait", "s_name"], descending=[True, False])
            .head(100))


def pl_q22(t):
    codes = ["13", "31", "23", "29", "30", "18", "17"]
    cust = (t["customer"].with_columns(cntrycode=c("c_phone").str.slice(0, 2))
            .filter(c("cntrycode").is_in(codes)))
    avg_positive = c("c_acctbal").filter(c("c_acctbal") > 0).mean()
    return (cust.filter(as_float(c("c_acctbal")) > avg_positive)
            .join(t["orders"], left_on="c_custkey", right_on="o_custkey", how="anti")
            .group_by("cntrycode").agg(numcust=pl.len(), totacctbal=c("c_acctbal").sum())
            .sort("cntrycode"))


POLARS = {n: globals()[f"pl_q{n}"] for n in QUERIES if f"pl_q{n}" in globals()}


def polars_tables(paths):
    import polars.selectors as cs
    tables = {}
    for name, path in paths.items():
        lf = pl.scan_parquet(path)
        if POLARS_FLOAT:
            lf = lf.with_columns(cs.decimal().cast(pl.Float64))
        tables[name] = lf
    return tables


# --- pandas ----------------------------------------------------------------------------
#
# Written with DataFrame.merge / groupby, reading only the columns each query needs with
# pyarrow's read_table (part of the timed work: the other engines read the files too).
# Decimals are read as float64 (pandas has no fast decimal type; pyarrow's decimal as
# Python objects would be slower by orders of magnitude), so answers agree with DuckDB's
# to 1e-9, not exactly. Dates become datetime64. pandas is single-threaded.

def pandas_reader(paths):
    """read(table, columns) -> DataFrame: decimals as float64, dates as datetime64."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    def read(table, columns):
        t = pq.read_table(str(Path(paths[table]).parent), columns=columns)  # the table's directory
        cols = []
        for f in t.schema:
            col = t[f.name]
            if pa.types.is_decimal(f.type):
                col = col.cast(pa.float64())
            elif pa.types.is_string_view(f.type):
                col = col.cast(pa.large_string())
            cols.append(col)
        return pa.table(cols, names=t.column_names).to_pandas(date_as_object=False)
    return read


def day(text):
    import pandas as pd
    return pd.Timestamp(text)


def pd_revenue(df):
    return df.l_extendedprice * (1 - df.l_discount)


def pd_q1(read):
    li = read("lineitem", ["l_returnflag", "l_linestatus", "l_quantity", "l_extendedprice", "l_discount", "l_tax",
                           "l_shipdate"])
    li = li[li.l_shipdate <= day("1998-09-02")]
    li = li.assign(disc_price=pd_revenue(li))
    li = li.assign(charge=li.disc_price * (1 + li.l_tax))
    return (li.groupby(["l_returnflag", "l_linestatus"], as_index=False)
            .agg(sum_qty=("l_quantity", "sum"), sum_base_price=("l_extendedprice", "sum"),
                 sum_disc_price=("disc_price", "sum"), sum_charge=("charge", "sum"),
                 avg_qty=("l_quantity", "mean"), avg_price=("l_extendedprice", "mean"),
                 avg_disc=("l_discount", "mean"), count_order=("l_quantity", "size"))
            .sort_values(["l_returnflag", "l_linestatus"]))


def pd_q2(read):
    region, nation = read("region", ["r_regionkey", "r_name"]), read("nation", ["n_nationkey", "n_name", "n_regionkey"])
    supplier = read("supplier", ["s_suppkey", "s_name", "s_address", "s_nationkey", "s_phone", "s_acctbal",
                                 "s_comment"])
    part = read("part", ["p_partkey", "p_mfgr", "p_size", "p_type"])
    ps = read("partsupp", ["ps_partkey", "ps_suppkey", "ps_supplycost"])
    europe = (region[region.r_name == "EUROPE"].merge(nation, left_on="r_regionkey", right_on="n_regionkey")
              .merge(supplier, left_on="n_nationkey", right_on="s_nationkey"))
    part = part[(part.p_size == 15) & part.p_type.str.endswith("BRASS")]
    j = (part.merge(ps, left_on="p_partkey", right_on="ps_partkey")
         .merge(europe, left_on="ps_suppkey", right_on="s_suppkey"))
    j = j[j.ps_supplycost == j.groupby("p_partkey").ps_supplycost.transform("min")]
    return (j.sort_values(["s_acctbal", "n_name", "s_name", "p_partkey"], ascending=[False, True, True, True])
            .head(100)[["s_acctbal", "s_name", "n_name", "p_partkey", "p_mfgr", "s_address", "s_phone", "s_comment"]])


def pd_q3(read):
    cust = read("customer", ["c_custkey", "c_mktsegment"])
    orders = read("orders", ["o_orderkey", "o_custkey", "o_orderdate", "o_shippriority"])
    li = read("lineitem", ["l_orderkey", "l_extendedprice", "l_discount", "l_shipdate"])
    d = day("1995-03-15")
    j = (cust[cust.c_mktsegment == "BUILDING"][["c_custkey"]]
         .merge(orders[orders.o_orderdate < d], left_on="c_custkey", right_on="o_custkey")
         .merge(li[li.l_shipdate > d], left_on="o_orderkey", right_on="l_orderkey"))
    j = j.assign(revenue=pd_revenue(j))
    g = j.groupby(["l_orderkey", "o_orderdate", "o_shippriority"], as_index=False).revenue.sum()
    return (g.sort_values(["revenue", "o_orderdate"], ascending=[False, True])
            .head(10)[["l_orderkey", "revenue", "o_orderdate", "o_shippriority"]])


def pd_q4(read):
    orders = read("orders", ["o_orderkey", "o_orderdate", "o_orderpriority"])
    li = read("lineitem", ["l_orderkey", "l_commitdate", "l_receiptdate"])
    o = orders[(orders.o_orderdate >= day("1993-07-01")) & (orders.o_orderdate < day("1993-10-01"))]
    late = li[li.l_commitdate < li.l_receiptdate].l_orderkey.unique()
    o = o[o.o_orderkey.isin(late)]
    return (o.groupby("o_orderpriority", as_index=False).agg(order_count=("o_orderkey", "size"))
            .sort_values("o_orderpriority"))


def pd_q5(read):
    region, nation = read("region", ["r_regionkey", "r_name"]), read("nation", ["n_nationkey", "n_name", "n_regionkey"])
    cust = read("customer", ["c_custkey", "c_nationkey"])
    orders = read("orders", ["o_orderkey", "o_custkey", "o_orderdate"])
    li = read("lineitem", ["l_orderkey", "l_suppkey", "l_extendedprice", "l_discount"])
    supplier = read("supplier", ["s_suppkey", "s_nationkey"])
    o = orders[(orders.o_orderdate >= day("1994-01-01")) & (orders.o_orderdate < day("1995-01-01"))]
    j = (region[region.r_name == "ASIA"].merge(nation, left_on="r_regionkey", right_on="n_regionkey")
         .merge(cust, left_on="n_nationkey", right_on="c_nationkey")
         .merge(o, left_on="c_custkey", right_on="o_custkey")
         .merge(li, left_on="o_orderkey", right_on="l_orderkey")
         .merge(supplier, left_on=["l_suppkey", "c_nationkey"], right_on=["s_suppkey", "s_nationkey"]))
    j = j.assign(revenue=pd_revenue(j))
    return j.groupby("n_name", as_index=False).revenue.sum().sort_values("revenue", ascending=False)


def pd_q6(read):
    import pandas as pd
    li = read("lineitem", ["l_extendedprice", "l_discount", "l_quantity", "l_shipdate"])
    li = li[(li.l_shipdate >= day("1994-01-01")) & (li.l_shipdate < day("1995-01-01"))
            & (li.l_discount >= 0.05) & (li.l_discount <= 0.07) & (li.l_quantity < 24)]
    return pd.DataFrame({"revenue": [(li.l_extendedprice * li.l_discount).sum()]})


def pd_q7(read):
    nation = read("nation", ["n_nationkey", "n_name"])
    supplier = read("supplier", ["s_suppkey", "s_nationkey"])
    cust = read("customer", ["c_custkey", "c_nationkey"])
    orders = read("orders", ["o_orderkey", "o_custkey"])
    li = read("lineitem", ["l_orderkey", "l_suppkey", "l_extendedprice", "l_discount", "l_shipdate"])
    two = nation[nation.n_name.isin(["FRANCE", "GERMANY"])]
    supp = supplier.merge(two, left_on="s_nationkey", right_on="n_nationkey")[["s_suppkey", "n_name"]].rename(
        columns={"n_name": "supp_nation"})
    cust = cust.merge(two, left_on="c_nationkey", right_on="n_nationkey")[["c_custkey", "n_name"]].rename(
        columns={"n_name": "cust_nation"})
    li = li[(li.l_shipdate >= day("1995-01-01")) & (li.l_shipdate <= day("1996-12-31"))]
    j = (li.merge(supp, left_on="l_suppkey", right_on="s_suppkey")
         .merge(orders, left_on="l_orderkey", right_on="o_orderkey")
         .merge(cust, left_on="o_custkey", right_on="c_custkey"))
    j = j[j.supp_nation != j.cust_nation]
    j = j.assign(l_year=j.l_shipdate.dt.year, volume=pd_revenue(j))
    return (j.groupby(["supp_nation", "cust_nation", "l_year"], as_index=False).agg(revenue=("volume", "sum"))
            .sort_values(["supp_nation", "cust_nation", "l_year"]))


def pd_q8(read):
    region, nation = read("region", ["r_regionkey", "r_name"]), read("nation", ["n_nationkey", "n_name", "n_regionkey"])
    part = read("part", ["p_partkey", "p_type"])
    supplier = read("supplier", ["s_suppkey", "s_nationkey"])
    cust = read("customer", ["c_custkey", "c_nationkey"])
    orders = read("orders", ["o_orderkey", "o_custkey", "o_orderdate"])
    li = read("lineitem", ["l_orderkey", "l_partkey", "l_suppkey", "l_extendedprice", "l_discount"])
    america = region[region.r_name == "AMERICA"].merge(nation, left_on="r_regionkey", right_on="n_regionkey")
    cust = cust[cust.c_nationkey.isin(america.n_nationkey)]
    o = orders[(orders.o_orderdate >= day("1995-01-01")) & (orders.o_orderdate <= day("1996-12-31"))]
    o = o[o.o_custkey.isin(cust.c_custkey)]
    j = (part[part.p_type == "ECONOMY ANODIZED STEEL"][["p_partkey"]]
         .merge(li, left_on="p_partkey", right_on="l_partkey")
         .merge(o, left_on="l_orderkey", right_on="o_orderkey")
         .merge(supplier, left_on="l_suppkey", right_on="s_suppkey")
         .merge(nation[["n_nationkey", "n_name"]], left_on="s_nationkey", right_on="n_nationkey"))
    volume = pd_revenue(j)
    j = j.assign(o_year=j.o_orderdate.dt.year, volume=volume, brazil=volume.where(j.n_name == "BRAZIL", 0.0))
    g = j.groupby("o_year", as_index=False)[["brazil", "volume"]].sum()
    g["mkt_share"] = g.brazil / g.volume
    return g[["o_year", "mkt_share"]].sort_values("o_year")


def pd_q9(read):
    part = read("part", ["p_partkey", "p_name"])
    ps = read("partsupp", ["ps_partkey", "ps_suppkey", "ps_supplycost"])
    supplier = read("supplier", ["s_suppkey", "s_nationkey"])
    li = read("lineitem", ["l_orderkey", "l_partkey", "l_suppkey", "l_quantity", "l_extendedprice", "l_discount"])
    orders = read("orders", ["o_orderkey", "o_orderdate"])
    nation = read("nation", ["n_nationkey", "n_name"])
    green = part[part.p_name.str.contains("green", regex=False)][["p_partkey"]]
    j = (green.merge(ps, left_on="p_partkey", right_on="ps_partkey")
         .merge(supplier, left_on="ps_suppkey", right_on="s_suppkey")
         .merge(li, left_on=["p_partkey", "ps_suppkey"], right_on=["l_partkey", "l_suppkey"])
         .merge(orders, left_on="l_orderkey", right_on="o_orderkey")
         .merge(nation, left_on="s_nationkey", right_on="n_nationkey"))
    j = j.assign(nation=j.n_name, o_year=j.o_orderdate.dt.year,
                 amount=pd_revenue(j) - j.ps_supplycost * j.l_quantity)
    return (j.groupby(["nation", "o_year"], as_index=False).agg(sum_profit=("amount", "sum"))
            .sort_values(["nation", "o_year"], ascending=[True, False]))


def pd_q10(read):
    cust = read("customer", ["c_custkey", "c_name", "c_address", "c_nationkey", "c_phone", "c_acctbal", "c_comment"])
    orders = read("orders", ["o_orderkey", "o_custkey", "o_orderdate"])
    li = read("lineitem", ["l_orderkey", "l_extendedprice", "l_discount", "l_returnflag"])
    nation = read("nation", ["n_nationkey", "n_name"])
    o = orders[(orders.o_orderdate >= day("1993-10-01")) & (orders.o_orderdate < day("1994-01-01"))]
    j = (cust.merge(o, left_on="c_custkey", right_on="o_custkey")
         .merge(li[li.l_returnflag == "R"], left_on="o_orderkey", right_on="l_orderkey")
         .merge(nation, left_on="c_nationkey", right_on="n_nationkey"))
    j = j.assign(revenue=pd_revenue(j))
    keys = ["c_custkey", "c_name", "c_acctbal", "c_phone", "n_name", "c_address", "c_comment"]
    g = j.groupby(keys, as_index=False).revenue.sum()
    return (g.sort_values("revenue", ascending=False).head(20)
            [["c_custkey", "c_name", "revenue", "c_acctbal", "n_name", "c_address", "c_phone", "c_comment"]])


def pd_q11(read):
    ps = read("partsupp", ["ps_partkey", "ps_suppkey", "ps_availqty", "ps_supplycost"])
    supplier = read("supplier", ["s_suppkey", "s_nationkey"])
    nation = read("nation", ["n_nationkey", "n_name"])
    j = (ps.merge(supplier, left_on="ps_suppkey", right_on="s_suppkey")
         .merge(nation[nation.n_name == "GERMANY"], left_on="s_nationkey", right_on="n_nationkey"))
    j = j.assign(value=j.ps_supplycost * j.ps_availqty)
    g = j.groupby("ps_partkey", as_index=False).value.sum()
    return g[g.value > g.value.sum() * 0.0001].sort_values("value", ascending=False)


def pd_q12(read):
    orders = read("orders", ["o_orderkey", "o_orderpriority"])
    li = read("lineitem", ["l_orderkey", "l_shipmode", "l_shipdate", "l_commitdate", "l_receiptdate"])
    li = li[li.l_shipmode.isin(["MAIL", "SHIP"]) & (li.l_commitdate < li.l_receiptdate)
            & (li.l_shipdate < li.l_commitdate) & (li.l_receiptdate >= day("1994-01-01"))
            & (li.l_receiptdate < day("1995-01-01"))]
    j = orders.merge(li, left_on="o_orderkey", right_on="l_orderkey")
    urgent = j.o_orderpriority.isin(["1-URGENT", "2-HIGH"])
    j = j.assign(high_line_count=urgent.astype("int64"), low_line_count=(~urgent).astype("int64"))
    return (j.groupby("l_shipmode", as_index=False)[["high_line_count", "low_line_count"]].sum()
            .sort_values("l_shipmode"))


def pd_q13(read):
    cust = read("customer", ["c_custkey"])
    orders = read("orders", ["o_orderkey", "o_custkey", "o_comment"])
    o = orders[~orders.o_comment.str.contains("special.*requests", regex=True)]
    j = cust.merge(o, left_on="c_custkey", right_on="o_custkey", how="left")
    counts = j.groupby("c_custkey").o_orderkey.count()
    g = counts.value_counts().rename_axis("c_count").reset_index(name="custdist")
    return g.sort_values(["custdist", "c_count"], ascending=[False, False])


def pd_q14(read):
    import pandas as pd
    li = read("lineitem", ["l_partkey", "l_extendedprice", "l_discount", "l_shipdate"])
    part = read("part", ["p_partkey", "p_type"])
    li = li[(li.l_shipdate >= day("1995-09-01")) & (li.l_shipdate < day("1995-10-01"))]
    j = li.merge(part, left_on="l_partkey", right_on="p_partkey")
    revenue = pd_revenue(j)
    promo = revenue.where(j.p_type.str.startswith("PROMO"), 0.0).sum()
    return pd.DataFrame({"promo_revenue": [100.0 * promo / revenue.sum()]})


def pd_q15(read):
    li = read("lineitem", ["l_suppkey", "l_extendedprice", "l_discount", "l_shipdate"])
    supplier = read("supplier", ["s_suppkey", "s_name", "s_address", "s_phone"])
    li = li[(li.l_shipdate >= day("1996-01-01")) & (li.l_shipdate < day("1996-04-01"))]
    rev = li.assign(total_revenue=pd_revenue(li)).groupby("l_suppkey", as_index=False).total_revenue.sum()
    top = rev[rev.total_revenue == rev.total_revenue.max()]
    return (supplier.merge(top, left_on="s_suppkey", right_on="l_suppkey")
            [["s_suppkey", "s_name", "s_address", "s_phone", "total_revenue"]].sort_values("s_suppkey"))


def pd_q16(read):
    ps = read("partsupp", ["ps_partkey", "ps_suppkey"])
    part = read("part", ["p_partkey", "p_brand", "p_type", "p_size"])
    supplier = read("supplier", ["s_suppkey", "s_comment"])
    bad = supplier[supplier.s_comment.str.contains("Customer.*Complaints", regex=True)].s_suppkey
    part = part[(part.p_brand != "Brand#45") & ~part.p_type.str.startswith("MEDIUM POLISHED")
                & part.p_size.isin([49, 14, 23, 45, 19, 3, 36, 9])]
    j = ps[~ps.ps_suppkey.isin(bad)].merge(part, left_on="ps_partkey", right_on="p_partkey")
    g = (j.groupby(["p_brand", "p_type", "p_size"], as_index=False)
         .agg(supplier_cnt=("ps_suppkey", "nunique")))
    return g.sort_values(["supplier_cnt", "p_brand", "p_type", "p_size"], ascending=[False, True, True, True])


def pd_q17(read):
    import pandas as pd
    li = read("lineitem", ["l_partkey", "l_quantity", "l_extendedprice"])
    part = read("part", ["p_partkey", "p_brand", "p_container"])
    part = part[(part.p_brand == "Brand#23") & (part.p_container == "MED BOX")][["p_partkey"]]
    j = part.merge(li, left_on="p_partkey", right_on="l_partkey")
    j = j[j.l_quantity < 0.2 * j.groupby("p_partkey").l_quantity.transform("mean")]
    return pd.DataFrame({"avg_yearly": [j.l_extendedprice.sum() / 7.0]})


def pd_q18(read):
    cust = read("customer", ["c_custkey", "c_name"])
    orders = read("orders", ["o_orderkey", "o_custkey", "o_orderdate", "o_totalprice"])
    li = read("lineitem", ["l_orderkey", "l_quantity"])
    q = li.groupby("l_orderkey", as_index=False).l_quantity.sum()
    q = q[q.l_quantity > 300]
    j = (q.merge(orders, left_on="l_orderkey", right_on="o_orderkey")
         .merge(cust, left_on="o_custkey", right_on="c_custkey"))
    j = j.rename(columns={"l_quantity": "sum(l_quantity)"})
    return (j.sort_values(["o_totalprice", "o_orderdate"], ascending=[False, True]).head(100)
            [["c_name", "c_custkey", "o_orderkey", "o_orderdate", "o_totalprice", "sum(l_quantity)"]])


def pd_q19(read):
    import pandas as pd
    li = read("lineitem", ["l_partkey", "l_quantity", "l_extendedprice", "l_discount", "l_shipinstruct",
                           "l_shipmode"])
    part = read("part", ["p_partkey", "p_brand", "p_size", "p_container"])
    li = li[li.l_shipmode.isin(["AIR", "AIR REG"]) & (li.l_shipinstruct == "DELIVER IN PERSON")]
    j = li.merge(part, left_on="l_partkey", right_on="p_partkey")

    def case(brand, containers, lo, size):
        return ((j.p_brand == brand) & j.p_container.isin(containers) & (j.l_quantity >= lo)
                & (j.l_quantity <= lo + 10) & (j.p_size >= 1) & (j.p_size <= size))
    j = j[case("Brand#12", ["SM CASE", "SM BOX", "SM PACK", "SM PKG"], 1, 5)
          | case("Brand#23", ["MED BAG", "MED BOX", "MED PKG", "MED PACK"], 10, 10)
          | case("Brand#34", ["LG CASE", "LG BOX", "LG PACK", "LG PKG"], 20, 15)]
    return pd.DataFrame({"revenue": [pd_revenue(j).sum()]})


def pd_q20(read):
    supplier = read("supplier", ["s_suppkey", "s_name", "s_address", "s_nationkey"])
    nation = read("nation", ["n_nationkey", "n_name"])
    ps = read("partsupp", ["ps_partkey", "ps_suppkey", "ps_availqty"])
    part = read("part", ["p_partkey", "p_name"])
    li = read("lineitem", ["l_partkey", "l_suppkey", "l_quantity", "l_shipdate"])
    forest = part[part.p_name.str.startswith("forest")].p_partkey
    li = li[(li.l_shipdate >= day("1994-01-01")) & (li.l_shipdate < day("1995-01-01"))]
    shipped = li.groupby(["l_partkey", "l_suppkey"], as_index=False).l_quantity.sum()
    j = ps[ps.ps_partkey.isin(forest)].merge(shipped, left_on=["ps_partkey", "ps_suppkey"],
                                             right_on=["l_partkey", "l_suppkey"])
    j = j[j.ps_availqty > 0.5 * j.l_quantity]
    s = supplier.merge(nation[nation.n_name == "CANADA"], left_on="s_nationkey", right_on="n_nationkey")
    return s[s.s_suppkey.isin(j.ps_suppkey)][["s_name", "s_address"]].sort_values("s_name")


def pd_q21(read):
    supplier = read("supplier", ["s_suppkey", "s_name", "s_nationkey"])
    nation = read("nation", ["n_nationkey", "n_name"])
    orders = read("orders", ["o_orderkey", "o_orderstatus"])
    li = read("lineitem", ["l_orderkey", "l_suppkey", "l_commitdate", "l_receiptdate"])
    late = li[li.l_receiptdate > li.l_commitdate][["l_orderkey", "l_suppkey"]]
    several = li.groupby("l_orderkey").l_suppkey.nunique()
    several = several[several > 1].index
    one_late = late.groupby("l_orderkey").l_suppkey.nunique()
    one_late = one_late[one_late == 1].index
    saudi = supplier.merge(nation[nation.n_name == "SAUDI ARABIA"], left_on="s_nationkey", right_on="n_nationkey")
    j = late.merge(saudi, left_on="l_suppkey", right_on="s_suppkey")
    j = j[j.l_orderkey.isin(orders[orders.o_orderstatus == "F"].o_orderkey) & j.l_orderkey.isin(several)
          & j.l_orderkey.isin(one_late)]
    g = j.groupby("s_name", as_index=False).agg(numwait=("l_orderkey", "size"))
    return g.sort_values(["numwait", "s_name"], ascending=[False, True]).head(100)


def pd_q22(read):
    cust = read("customer", ["c_custkey", "c_phone", "c_acctbal"])
    orders = read("orders", ["o_custkey"])
    cust = cust.assign(cntrycode=cust.c_phone.str[:2])
    cust = cust[cust.cntrycode.isin(["13", "31", "23", "29", "30", "18", "17"])]
    avg = cust[cust.c_acctbal > 0].c_acctbal.mean()
    cust = cust[(cust.c_acctbal > avg) & ~cust.c_custkey.isin(orders.o_custkey)]
    return (cust.groupby("cntrycode", as_index=False).agg(numcust=("c_custkey", "size"),
                                                          totacctbal=("c_acctbal", "sum"))
            .sort_values("cntrycode"))


PANDAS = {n: globals()[f"pd_q{n}"] for n in QUERIES if f"pd_q{n}" in globals()}


# --- engine processes --------------------------------------------------------------------


def arrow_answer(engine, df):
    import pyarrow as pa
    if engine in ("duckdb", "sluice-py"):
        return df
    if engine == "polars":
        return df.to_arrow()
    table = pa.Table.from_pandas(df, preserve_index=False)
    for i, f in enumerate(table.schema):
        if pa.types.is_timestamp(f.type):  # the query's dates, read as datetime64
            table = table.set_column(i, f.name, table[f.name].cast(pa.date32()))
    return table


def worker_main(args):
    """One engine's process: reads {"q": n, "run": r, "answer": path} lines from stdin,
    answers with one JSON line per query run on stdout."""
    global POLARS_FLOAT
    POLARS_FLOAT = args.polars_float
    import pyarrow as pa
    paths = run_tpch.table_paths(args.sf)
    out = sys.stdout
    sys.stdout = sys.stderr  # anything an engine prints itself stays off the protocol

    def send(**ev):
        out.write(json.dumps(ev) + "\n")
        out.flush()

    if args.worker == "duckdb":
        import duckdb
    elif args.worker == "sluice-py":
        import sluice as sl
    elif args.worker == "pandas":
        import pandas  # noqa: F401  (imported before the first timed query)
        read = pandas_reader(paths)
    send(event="ready")
    for line in sys.stdin:
        if not line.strip():
            break
        req = json.loads(line)
        n = req["q"]
        try:
            if args.worker == "duckdb":
                con = duckdb.connect()
                con.execute(f"SET threads = {args.threads}")
                for name, path in paths.items():
                    con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{path}')")
                text = run_tpch.query_text(n)
                t0 = time.perf_counter()
                ans = con.sql(text).to_arrow_table()
                secs = time.perf_counter() - t0
                con.close()
            elif args.worker == "sluice-py":
                text = run_tpch.query_text(n)
                t0 = time.perf_counter()
                s = sl.Session(threads=args.threads, memory_limit=args.memory_limit or 0)
                for name, path in paths.items():
                    if re.search(rf"\b{name}\b", text):
                        s.register(name, s.read_parquet(path))
                ans = s.sql(text).to_arrow()
                secs = time.perf_counter() - t0
                del s
            elif args.worker == "polars":
                t0 = time.perf_counter()
                ans = POLARS[n](polars_tables(paths)).collect(engine=args.polars_engine)
                secs = time.perf_counter() - t0
            else:
                t0 = time.perf_counter()
                ans = PANDAS[n](read)
                secs = time.perf_counter() - t0
            table = arrow_answer(args.worker, ans)
            with pa.OSFile(req["answer"], "wb") as sink, pa.ipc.new_file(sink, table.schema) as w:
                w.write_table(table)
            send(event="run", seconds=secs, rows=table.num_rows)
        except Exception as e:  # noqa: BLE001  (reported, the driver decides)
            send(event="error", error=f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
    send(event="done", peak_rss=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)


class Worker:
    """A worker process for DuckDB, Polars or pandas, restarted after a timeout or crash."""

    def __init__(self, engine, args, workdir):
        self.engine, self.args, self.workdir = engine, args, workdir
        self.peak_rss = 0
        self.p = None

    def start(self):
        env = dict(os.environ)
        env["POLARS_MAX_THREADS"] = str(self.args.threads)
        cmd = [PY, str(Path(__file__).resolve()), "--worker", self.engine, "--sf", f"{self.args.sf:g}",
               "--threads", str(self.args.threads), "--polars-engine", self.args.polars_engine]
        if self.args.polars_float:
            cmd.append("--polars-float")
        if self.args.memory_limit:
            cmd += ["--memory-limit", self.args.memory_limit]
        self.err = tempfile.TemporaryFile(mode="w+")
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err, text=True,
                                  env=env)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, args=(self.p, self.lines), daemon=True).start()
        ev = self._next(self.args.timeout)
        if not ev or ev["event"] != "ready":
            raise RuntimeError(f"{self.engine} worker did not start: {self.dead}")

    @staticmethod
    def _read(p, lines):
        for line in p.stdout:
            lines.put(line)
        lines.put(None)

    def _next(self, timeout):
        self.dead = None
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                self.p.kill()
                self.p.wait()
                self.dead = f"no answer within the {timeout:g} s timeout, killed"
                self.p = None
                return None
            if line is None:
                self.p.wait()
                self.err.seek(0)
                tail = [ln for ln in self.err.read().strip().splitlines() if ln.strip()]
                self.dead = f"process exited with {self.p.returncode}: {tail[-1] if tail else 'no message'}"
                self.p = None
                return None
            try:
                return json.loads(line)
            except ValueError:
                continue

    def run(self, n, run):
        if self.p is None:
            self.start()
        answer = self.workdir / f"{self.engine}.arrow"
        self.p.stdin.write(json.dumps({"q": n, "run": run, "answer": str(answer)}) + "\n")
        self.p.stdin.flush()
        ev = self._next(self.args.timeout)
        if ev and ev["event"] == "run":
            import pyarrow as pa
            with pa.memory_map(str(answer)) as src:
                table = pa.ipc.open_file(src).read_all()
            answer.unlink()
            return {"seconds": ev["seconds"], "rows": ev["rows"], "table": table}
        if ev and ev["event"] == "error":
            return {"error": f"error: {ev['error']}"}
        return {"error": f"error: {self.engine} {self.dead}"}

    def close(self):
        if self.p is not None:
            try:
                self.p.stdin.write("\n")
                self.p.stdin.flush()
            except OSError:
                pass
            ev = self._next(60)
            if ev and ev["event"] == "done":
                self.peak_rss = max(self.peak_rss, ev["peak_rss"])
            if self.p is not None:
                self.p.wait()
        return {"peak_rss": self.peak_rss}


def run_process(cmd, timeout):
    """Runs cmd; returns (wall seconds, exit code, peak RSS bytes, stderr text)."""
    with tempfile.TemporaryFile(mode="w+") as err:
        start = time.perf_counter()
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, text=True)
        killed = []
        timer = threading.Timer(timeout, lambda: (killed.append(1), p.kill()))
        timer.start()
        try:
            _, status, usage = os.wait4(p.pid, 0)
        finally:
            timer.cancel()
        secs = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read()
        if killed:
            text += f"\nerror: killed after the {timeout:g} s timeout"
        return secs, code, usage.ru_maxrss * 1024, text


def first_error_line(text):
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    for ln in lines:
        if ln.startswith("error:"):
            return ln[len("error:"):].strip()
    return lines[-1] if lines else "no message"


class Sluice:
    """Every query run in a fresh `sluice sql` process."""

    def __init__(self, binary, args, workdir):
        self.binary, self.args = binary, args
        self.ans = workdir / "sluice.parquet"
        self.paths = run_tpch.table_paths(args.sf)
        self.peak_rss = 0

    def command(self, n, binary=None, answer=None):
        text = run_tpch.query_text(n)
        cmd = [str(binary or self.binary), "sql", "--threads", str(self.args.threads), "--format", "parquet",
               "--output", str(answer or self.ans)]
        if self.args.memory_limit:
            cmd += ["--memory-limit", self.args.memory_limit]
        for name, path in self.paths.items():
            if re.search(rf"\b{name}\b", text):
                cmd += ["--table", f"{name}={path}"]
        return cmd + [text]

    def run(self, n, run):
        import pyarrow.parquet as pq
        secs, code, rss, err = run_process(self.command(n), self.args.timeout)
        self.peak_rss = max(self.peak_rss, rss)
        if code != 0:
            msg = first_error_line(err)
            kind = "unsupported" if UNSUPPORTED.search(msg) else "error"
            return {"error": f"{kind}: {msg}" + ("" if kind == "unsupported" else f" (exit {code})"), "rss": rss}
        table = pq.ParquetFile(self.ans).read()
        self.ans.unlink()
        m = re.search(r"·\s*([\d.]+)\s*s\s*·\s*peak memory", err)
        return {"seconds": secs, "rows": table.num_rows, "table": table, "rss": rss,
                "reported": float(m.group(1)) if m else None}

    def close(self):
        return {"peak_rss": self.peak_rss}


# --- the run -----------------------------------------------------------------------------


def run_all(args, engines, queries, sluice_bin, workdir):
    """Runs every (query, run) on every engine, taking turns; checks each query's answers
    as soon as its runs are done. Returns results[engine][n] and per-engine infos."""
    runners = {}
    for e in engines:
        runners[e] = Sluice(sluice_bin, args, workdir) if e == "sluice" else Worker(e, args, workdir)
    results = {e: {} for e in engines}
    problems = []
    try:
        for n in queries:
            load = os.getloadavg()[0]
            runs = {e: [] for e in engines}
            for run in range(1, args.runs + 1):
                for e in engines:
                    if e == "polars" and n not in POLARS or e == "pandas" and n not in PANDAS:
                        continue
                    if any("error" in r for r in runs[e]):
                        continue  # failed already: the next run would fail the same way
                    r = runners[e].run(n, run)
                    runs[e].append(r)
                    what = r["error"][:300] if "error" in r else f"{r['seconds']:.3f} s, {r['rows']:,} rows"
                    log(f"  [{qid(n)} {e} run {run}] {what}")
            ref = runs["duckdb"][0].get("table") if runs.get("duckdb") else None
            if ref is None:
                ref = run_tpch.run_duckdb(n, args.sf, threads=args.threads)  # reference only, untimed
            for e in engines:
                entry = {"runs": runs[e], "load": load}
                results[e][n] = entry
                if e == "polars" and n not in POLARS or e == "pandas" and n not in PANDAS:
                    entry["status"] = "not written"
                    continue
                errors = [r["error"] for r in runs[e] if "error" in r]
                if errors:
                    entry["status"] = errors[0]
                    continue
                bad = []
                for i, r in enumerate(runs[e], 1):
                    diff = run_tpch.compare(r["table"], ref, n, labels=(e, "duckdb"))
                    if diff:
                        bad.append((i, diff))
                if bad:
                    entry["status"] = f"invalid: answer differs from duckdb's (run {bad[0][0]})"
                    problems.append((n, e, bad))
                    print_disagreement(n, e, bad)
                else:
                    entry["status"] = "ok"
                    entry["best"] = min(r["seconds"] for r in runs[e])
                entry["rows"] = runs[e][0]["rows"]
                for r in runs[e]:
                    r.pop("table", None)
    finally:
        infos = {e: runner.close() for e, runner in runners.items()}
    return results, infos, problems


def print_disagreement(n, e, bad):
    bar = "!" * 100
    print(f"\n{bar}\nANSWER DISAGREEMENT: TPC-H {qid(n)} -- {e} run(s) {[i for i, _ in bad]} differ from duckdb's "
          f"first-run answer; its time is marked invalid")
    lines = bad[0][1].rstrip().splitlines()
    print("  " + "\n  ".join(lines[:30]) + ("\n  ..." if len(lines) > 30 else ""))
    print(bar, flush=True)


def geomean(xs):
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float("nan")


def summarize(queries, results, engines):
    ratios, summary = {}, {}
    for e, b in RATIOS:
        if e not in engines or b not in engines:
            continue
        common = [n for n in queries if results[e][n].get("best") and results[b][n].get("best")]
        per_q = {n: results[e][n]["best"] / results[b][n]["best"] for n in common}
        tot_e = sum(results[e][n]["best"] for n in common)
        tot_b = sum(results[b][n]["best"] for n in common)
        ratios[(e, b)] = per_q
        summary[(e, b)] = {"geomean": geomean(list(per_q.values())), "total": tot_e / tot_b if tot_b else float("nan"),
                           "n": len(common)}
    return ratios, summary


def cell(entry):
    st = entry.get("status", "")
    times = " / ".join("%.2f" % r["seconds"] for r in entry["runs"] if "seconds" in r)
    if st == "ok":
        return times
    if st.startswith("invalid"):
        return "INVALID %.2f" % min(r["seconds"] for r in entry["runs"])  # all runs: in the CSV
    if st.startswith("unsupported"):
        return "unsupported"
    if st == "not written":
        return "not written"
    if st.startswith("skipped"):
        return "skipped"
    return "error"


def print_report(meta, queries, results, infos, engines, ratios, summary, args):
    print(f"\n=== TPC-H {sf_name(args.sf).upper()}: {meta['parquet_mib']:,.0f} MiB Parquet "
          f"(lineitem {meta['lineitem_rows']:,} rows); {os.cpu_count()} cores, --threads {args.threads}; "
          f"seconds per run ({' / '.join(f'run {i}' for i in range(1, args.runs + 1))})")
    print(f"machine load average (1 min): {meta['load'][0]:.2f} before, {meta['load'][1]:.2f} after "
          f"(per query: the load column); engines take turns query by query and run by run\n")
    pairs = [p for p in RATIOS if p in ratios]
    w = max(14, 7 * args.runs + 2)
    head = f"{'query':7}" + "".join(f" {e:>{w}}" for e in engines) + "".join(
        f"{e + '/' + b:>15}" for e, b in pairs) + f"{'load':>6}"
    print(head)
    for n in queries:
        line = f"{qid(n):7}" + "".join(f" {cell(results[e][n]):>{w}}" for e in engines)
        for p in pairs:
            r = ratios[p].get(n)
            line += f"{(f'{r:.2f}' if r is not None else '-'):>15}"
        line += f"{results[engines[0]][n]['load']:>6.1f}"
        print(line)
    line = f"{'geomean':7}" + "".join(f" {'':>{w}}" for _ in engines)
    for p in pairs:
        s = summary[p]
        text = f"{s['geomean']:.2f} ({s['n']})" if s["n"] else "-"
        line += f"{text:>15}"
    print(line)
    line = f"{'total':7}"
    for e in engines:
        ok = [results[e][n]["best"] for n in queries if results[e][n].get("best")]
        text = f"{sum(ok):.2f} ({len(ok)})"
        line += f" {text:>{w}}"
    for p in pairs:
        s = summary[p]
        text = f"{s['total']:.2f}" if s["n"] else "-"
        line += f"{text:>15}"
    print(line)
    rss = ["{:,.0f}".format(infos[e]["peak_rss"] / 2**20) if infos.get(e, {}).get("peak_rss") else "-"
           for e in engines]
    print(f"{'RSS MiB':7}" + "".join(f" {t:>{w}}" for t in rss) + "  (peak, per engine)")
    print("\ngeomean: geometric mean of the per-query ratios (queries both engines answered correctly); "
          "total: sum of best\ntimes (valid queries) per engine, and under the ratios the ratio of the two "
          "totals over the same queries. Ratio < 1: faster.")
    notes = [f"  {qid(n)} {e}: {results[e][n]['status']}" for n in queries for e in engines
             if results[e][n].get("status", "ok") != "ok"]
    if notes:
        print("\n" + "\n".join(notes))
    if "sluice" in engines:
        rep = [(r["seconds"], r["reported"]) for n in queries for r in results["sluice"][n]["runs"]
               if r.get("reported") is not None]
        if rep:
            print(f"\n  sluice's own summary-line times add up to {sum(b for _, b in rep):.2f} s of "
                  f"{sum(a for a, _ in rep):.2f} s process wall time (the rest: process start, planning, exit).")


def write_csv(meta, queries, results, infos, engines, ratios, summary, args, env):
    path = RESULTS / f"tpch_{sf_name(args.sf)}.csv"
    baselines = sorted({b for _, b in RATIOS}, key=ENGINES.index)
    fields = (["suite", "sf", "query", "engine", "status"] + [f"run{i}_s" for i in range(1, args.runs + 1)]
              + ["best_s", "rows", "sluice_reported_s", "peak_rss_mib"] + [f"ratio_vs_{b}" for b in baselines]
              + ["load1", "environment"])
    rows = []
    for n in queries:
        for e in engines:
            entry = results[e][n]
            runs = entry["runs"]
            row = {"suite": "tpch", "sf": f"{args.sf:g}", "query": qid(n), "engine": e, "status": entry["status"],
                   "best_s": f"{entry['best']:.4f}" if entry.get("best") else "", "rows": entry.get("rows", ""),
                   "sluice_reported_s": " ".join(f"{r['reported']:.3f}" for r in runs if r.get("reported") is not None),
                   "peak_rss_mib": (f"{max(r.get('rss', 0) for r in runs) / 2**20:.0f}" if e == "sluice" and runs
                                    else ""),
                   "load1": f"{entry['load']:.2f}"}
            for i in range(1, args.runs + 1):
                row[f"run{i}_s"] = f"{runs[i - 1]['seconds']:.4f}" if len(runs) >= i and "seconds" in runs[i - 1] else ""
            for b in baselines:
                r = ratios.get((e, b), {}).get(n)
                row[f"ratio_vs_{b}"] = f"{r:.3f}" if r is not None else ""
            rows.append(row)
    for e in engines:
        ok = [results[e][n]["best"] for n in queries if results[e][n].get("best")]
        for kind in ("geomean", "total"):
            row = {"suite": "tpch", "sf": f"{args.sf:g}", "query": kind, "engine": e,
                   "status": (f"{len(ok)} of {len(queries)} queries valid" if kind == "total" else
                              "geometric mean of the per-query ratios (queries both engines answered correctly)")}
            if kind == "total":
                row["best_s"] = f"{sum(ok):.4f}"
                row["peak_rss_mib"] = f"{infos.get(e, {}).get('peak_rss', 0) / 2**20:.0f}"
            for b in baselines:
                s = summary.get((e, b))
                if s and s["n"]:
                    row[f"ratio_vs_{b}"] = f"{s[kind]:.3f} ({s['n']})"
            rows.append(row)
    rows.append({"suite": "tpch", "sf": f"{args.sf:g}", "query": "load", "engine": "",
                 "status": "1-minute load average before and after the run",
                 "load1": f"{meta['load'][0]:.2f} {meta['load'][1]:.2f}"})
    rows[0]["environment"] = (f"{env}; load average (1 min) {meta['load'][0]:.2f} before, {meta['load'][1]:.2f} "
                              f"after; command: {meta['command']}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".csv.tmp")
    with open(tmp, "w", newline="") as f:
        wr = csv.DictWriter(f, fieldnames=fields)
        wr.writeheader()
        wr.writerows(rows)
    tmp.replace(path)
    print(f"\nwritten {path.relative_to(ROOT)}")
    return path


def draw_chart(csv_path, sf):
    """Best time per query and engine, log scale (from the CSV), dbbench's style."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    with open(csv_path) as f:
        all_rows = list(csv.DictReader(f))
    rows = [r for r in all_rows if r["query"].startswith("q")]
    if not rows:
        return
    load = next((r["load1"].split() for r in all_rows if r["query"] == "load"), [])
    load = f"{load[0]} before, {load[1]} after" if len(load) == 2 else "?"
    qs = list(dict.fromkeys(r["query"] for r in rows))
    engines = [e for e in ENGINES if any(r["engine"] == e for r in rows)]
    runs = len([k for k in rows[0] if re.fullmatch(r"run\d+_s", k)])
    fig, ax = plt.subplots(figsize=(max(11.0, 0.75 * len(qs) + 2.5), 5.4))
    width = 0.8 / max(1, len(engines))
    times = [float(r["best_s"]) for r in rows if r["best_s"]]
    floor = min(times) / 3 if times else 0.01
    for i, e in enumerate(engines):
        for j, q in enumerate(qs):
            r = next((r for r in rows if r["engine"] == e and r["query"] == q), None)
            x = j + (i - (len(engines) - 1) / 2) * width
            if r and r["best_s"]:
                ax.bar(x, float(r["best_s"]), width, color=COLORS.get(e), label=e if j == 0 else None)
            elif r:
                word = r["status"].split(":")[0]
                label = {"unsupported": "n/a", "invalid": "wrong", "skipped": "skip",
                         "not written": "n/w"}.get(word, "err")
                ax.text(x, floor * 1.15, label, rotation=90, ha="center", va="bottom", fontsize=7,
                        color="#d62728" if word == "invalid" else "#555555")
        ax.bar([], [], color=COLORS.get(e), label=None)
    ax.set_yscale("log")
    ax.set_ylim(bottom=floor)
    ax.set_xticks(range(len(qs)))
    ax.set_xticklabels(qs, fontsize=8)
    ax.set_ylabel("seconds, best run (log scale)")
    ax.grid(axis="y", which="both", alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=9, frameon=False)
    fig.suptitle(f"TPC-H SF{sf:g}, {os.cpu_count()} cores, best of {runs} run(s); every engine reads the same "
                 f"Parquet files and is checked against DuckDB.\nsluice: a fresh process per run (wall time); "
                 f"duckdb, polars{', pandas' if 'pandas' in engines else ''}: in-process time of the query. "
                 f"1-min load average {load}. n/a: Sluice cannot run it; wrong: answer differs", fontsize=9)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    out = RESULTS / f"tpch_{sf_name(sf)}.png"
    fig.savefig(out, dpi=110)
    plt.close(fig)
    print(f"written {out.relative_to(ROOT)}")


def environment(sluice_src, sluice_hash, args, engines):
    parts = []
    try:
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        parts.append(f"tree at {head}{' + local changes' if dirty else ''}")
    except (OSError, subprocess.SubprocessError):
        pass
    if sluice_hash:
        parts.append(f"sluice binary {sluice_src}, built "
                     f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(sluice_src.stat().st_mtime))}, "
                     f"sha256 {sluice_hash}")
    for pkg in ("duckdb", "polars", "pandas", "pyarrow"):
        try:
            parts.append(f"{pkg} {metadata.version(pkg)}")
        except metadata.PackageNotFoundError:
            pass
    if "polars" in engines:
        parts.append(f"polars engine {args.polars_engine}, decimals "
                     f"{'as Float64' if args.polars_float else 'exact'}")
    if args.memory_limit:
        parts.append(f"sluice --memory-limit {args.memory_limit}")
    parts.append(f"{os.cpu_count()} cores, threads {args.threads}")
    return "; ".join(parts)


def data_meta(sf):
    root = run_tpch.ensure_data(sf)
    size = sum(p.stat().st_size for p in root.rglob("*.parquet"))
    try:
        rows = json.loads((root / "manifest.json").read_text())["tables"]["lineitem"]["rows"]
    except (OSError, KeyError, ValueError):
        rows = 0
    return {"dir": root, "parquet_mib": size / 2**20, "lineitem_rows": rows}


def parse_queries(text):
    if text == "all":
        return QUERIES
    return run_tpch._parse_queries([text])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sf", type=float, default=1, help="scale factor: 1 (default) or 10 (generating it takes "
                    "minutes and ~3.5 GB of disk, once); 0.1 for a quick try")
    ap.add_argument("--runs", type=int, default=2, help="runs of every query per engine (default 2)")
    ap.add_argument("--engines", default="sluice,sluice-py,duckdb,polars,pandas")
    ap.add_argument("--queries", default="all", help="e.g. 1,5,18 or 1-6 (default all 22)")
    ap.add_argument("--threads", type=int, default=0, help="threads per engine (default: all cores)")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per query run")
    ap.add_argument("--memory-limit", help="Sluice's --memory-limit (default: Sluice's own, 80%% of RAM)")
    ap.add_argument("--pandas-max-sf", type=float, default=1, help="pandas is skipped above this scale factor")
    ap.add_argument("--polars-engine", default="auto", choices=["auto", "in-memory", "streaming"],
                    help="the engine of Polars' collect() (default auto: Polars' default)")
    ap.add_argument("--polars-float", action="store_true",
                    help="Polars: cast the decimal columns to Float64 at the scan (default: keep decimals, exact)")
    ap.add_argument("--no-chart", action="store_true")
    ap.add_argument("--worker", choices=["sluice-py", "duckdb", "polars", "pandas"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.threads = args.threads or os.cpu_count()
    if args.worker:
        return worker_main(args)

    engines = [e for e in args.engines.split(",") if e]
    for e in engines:
        if e not in ENGINES:
            ap.error(f"unknown engine {e} (engines: {', '.join(ENGINES)})")
    engines = [e for e in ENGINES if e in engines]
    queries = parse_queries(args.queries)
    skipped = {}
    if "pandas" in engines and args.sf > args.pandas_max_sf:
        skipped["pandas"] = f"skipped: pandas only up to SF{args.pandas_max_sf:g} (--pandas-max-sf)"
    run_engines = [e for e in engines if e not in skipped]

    sluice_src = Path(os.environ.get("SLUICE_BIN", SLUICE_DEFAULT)).expanduser().resolve()
    sluice_hash = None
    if "sluice" in engines:
        if not sluice_src.is_file():
            sys.exit(f"no Sluice binary at {sluice_src}: run `make release` or set SLUICE_BIN")
        sluice_hash = hashlib.sha256(sluice_src.read_bytes()).hexdigest()
    command = (f"{'SLUICE_BIN=' + shlex.quote(str(sluice_src)) + ' ' if 'sluice' in engines else ''}"
               f"{shlex.quote(os.path.relpath(PY, ROOT)) if PY.startswith(str(ROOT)) else shlex.quote(PY)} "
               f"bench/tpch.py " + shlex.join(sys.argv[1:])).strip()
    env = environment(sluice_src, sluice_hash[:12] if sluice_hash else None, args, engines)
    print(f"TPC-H {sf_name(args.sf).upper()}, {args.runs} run{'s' if args.runs > 1 else ''} of each of "
          f"{len(queries)} queries; engines "
          f"{', '.join(run_engines)}; {env}")
    print(f"reproduce (from {ROOT}): {command}", flush=True)

    log(f"data: TPC-H SF{args.sf:g} (generated on first use)")
    meta = data_meta(args.sf)
    meta["command"] = command
    log(f"data in {meta['dir']}: {meta['parquet_mib']:,.0f} MiB")
    # Others may rebuild build/release while this runs: every Sluice run uses one copy of
    # the binary taken now (its libraries are found by absolute RUNPATH).
    workdir = Path(tempfile.mkdtemp(prefix="sluice-tpch-"))
    snapshot = None
    try:
        if "sluice" in engines:
            snapshot = workdir / "sluice"
            shutil.copy2(sluice_src, snapshot)
            if hashlib.sha256(snapshot.read_bytes()).hexdigest() != sluice_hash:
                sys.exit(f"{sluice_src} changed while it was copied; run again")
        load_before = os.getloadavg()[0]
        results, infos, problems = run_all(args, run_engines, queries, snapshot, workdir)
        meta["load"] = (load_before, os.getloadavg()[0])
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    for e, why in skipped.items():
        results[e] = {n: {"runs": [], "status": why, "load": results[run_engines[0]][n]["load"]} for n in queries}
    ratios, summary = summarize(queries, results, engines)
    print_report(meta, queries, results, infos, engines, ratios, summary, args)
    csv_path = write_csv(meta, queries, results, infos, engines, ratios, summary, args, env)
    if not args.no_chart:
        draw_chart(csv_path, args.sf)
    print(f"reproduce (from {ROOT}): {command}")
    if problems:
        print(f"\n{len(problems)} ANSWER DISAGREEMENT(S): see the !!! blocks above; those times are invalid")
        return 1
    errors = [(n, e) for e in run_engines for n in queries
              if results[e][n]["status"].startswith("error")]
    if errors:
        print(f"\n{len(errors)} query run(s) failed with an error: "
              + ", ".join(f"{qid(n)} {e}" for n, e in errors))
        return 1
    return 0


if __name__ == "__main__":
    # Polars reads POLARS_MAX_THREADS when it is imported (at the top of this file): the
    # driver starts each worker with it set in the environment.
    sys.exit(main())
