"""The db-benchmark groupby (q1-q10) and join (q1-q5) questions, one entry per question:
its id, its text as the benchmark names it, the SQL that Sluice and DuckDB run, the
answer columns whose sums are the check values (the benchmark's `chk`), and the Polars
(lazy) and pandas forms. The Polars and pandas forms take the loaded tables and return
the answer; they import nothing at module level, so the driver can import this file
without loading Polars or pandas.
"""
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    sql: str
    chk: tuple  # answer columns summed for the check, besides the row count
    polars: Callable  # (pl, tables: name -> LazyFrame) -> LazyFrame
    pandas: Callable  # (pd, tables: name -> DataFrame) -> DataFrame


# --- groupby -------------------------------------------------------------------------

def _pl_by(keys, aggs):
    return lambda pl, t: t["x"].group_by(keys).agg(aggs(pl))


def _pd_by(pd, x, keys, **named):
    return x.groupby(keys, observed=True, sort=False, dropna=False, as_index=False).agg(**named)


def _pl_q8(pl, t):
    return (t["x"].drop_nulls("v3").group_by("id6")
            .agg(pl.col("v3").top_k(2).alias("largest2_v3")).explode("largest2_v3"))


def _pd_q7(pd, t):
    g = _pd_by(pd, t["x"], "id3", v1=("v1", "max"), v2=("v2", "min"))
    return pd.DataFrame({"id3": g["id3"], "range_v1_v2": g["v1"] - g["v2"]})


def _pd_q8(pd, t):
    x = t["x"]
    return (x.loc[x["v3"].notna(), ["id6", "v3"]].sort_values("v3", ascending=False)
            .groupby("id6", sort=False, dropna=False).head(2).rename(columns={"v3": "largest2_v3"}))


def _pd_q9(pd, t):
    # Pearson r^2 per group from per-group sums (vectorized; the same formula as corr()).
    x = t["x"]
    x = x.loc[x["v1"].notna() & x["v2"].notna(), ["id2", "id4", "v1", "v2"]]
    a, b = x["v1"].astype("float64"), x["v2"].astype("float64")
    s = pd.DataFrame({"id2": x["id2"], "id4": x["id4"], "a": a, "b": b, "ab": a * b, "aa": a * a, "bb": b * b})
    g = _pd_by(pd, s, ["id2", "id4"], n=("a", "size"), a=("a", "sum"), b=("b", "sum"), ab=("ab", "sum"),
               aa=("aa", "sum"), bb=("bb", "sum"))
    cov = g["ab"] - g["a"] * g["b"] / g["n"]
    var_a = g["aa"] - g["a"] ** 2 / g["n"]
    var_b = g["bb"] - g["b"] ** 2 / g["n"]
    return pd.DataFrame({"id2": g["id2"], "id4": g["id4"], "r2": cov ** 2 / (var_a * var_b)})


GROUPBY = [
    Question("q1", "sum v1 by id1",
             "SELECT id1, sum(v1) AS v1 FROM x GROUP BY id1", ("v1",),
             _pl_by("id1", lambda pl: [pl.col("v1").sum()]),
             lambda pd, t: _pd_by(pd, t["x"], "id1", v1=("v1", "sum"))),
    Question("q2", "sum v1 by id1:id2",
             "SELECT id1, id2, sum(v1) AS v1 FROM x GROUP BY id1, id2", ("v1",),
             _pl_by(["id1", "id2"], lambda pl: [pl.col("v1").sum()]),
             lambda pd, t: _pd_by(pd, t["x"], ["id1", "id2"], v1=("v1", "sum"))),
    Question("q3", "sum v1 mean v3 by id3",
             "SELECT id3, sum(v1) AS v1, avg(v3) AS v3 FROM x GROUP BY id3", ("v1", "v3"),
             _pl_by("id3", lambda pl: [pl.col("v1").sum(), pl.col("v3").mean()]),
             lambda pd, t: _pd_by(pd, t["x"], "id3", v1=("v1", "sum"), v3=("v3", "mean"))),
    Question("q4", "mean v1:v3 by id4",
             "SELECT id4, avg(v1) AS v1, avg(v2) AS v2, avg(v3) AS v3 FROM x GROUP BY id4", ("v1", "v2", "v3"),
             _pl_by("id4", lambda pl: [pl.col("v1", "v2", "v3").mean()]),
             lambda pd, t: _pd_by(pd, t["x"], "id4", v1=("v1", "mean"), v2=("v2", "mean"), v3=("v3", "mean"))),
    Question("q5", "sum v1:v3 by id6",
             "SELECT id6, sum(v1) AS v1, sum(v2) AS v2, sum(v3) AS v3 FROM x GROUP BY id6", ("v1", "v2", "v3"),
             _pl_by("id6", lambda pl: [pl.col("v1", "v2", "v3").sum()]),
             lambda pd, t: _pd_by(pd, t["x"], "id6", v1=("v1", "sum"), v2=("v2", "sum"), v3=("v3", "sum"))),
    # DuckDB's median(x) on a number is quantile_cont(x, 0.5), which the benchmark uses.
    Question("q6", "median v3 sd v3 by id4 id5",
             "SELECT id4, id5, median(v3) AS median_v3, stddev(v3) AS sd_v3 FROM x GROUP BY id4, id5",
             ("median_v3", "sd_v3"),
             _pl_by(["id4", "id5"], lambda pl: [pl.col("v3").median().alias("median_v3"),
                                                pl.col("v3").std().alias("sd_v3")]),
             lambda pd, t: _pd_by(pd, t["x"], ["id4", "id5"], median_v3=("v3", "median"), sd_v3=("v3", "std"))),
    Question("q7", "max v1 - min v2 by id3",
             "SELECT id3, max(v1) - min(v2) AS range_v1_v2 FROM x GROUP BY id3", ("range_v1_v2",),
             _pl_by("id3", lambda pl: [(pl.col("v1").max() - pl.col("v2").min()).alias("range_v1_v2")]),
             _pd_q7),
    Question("q8", "largest two v3 by id6",
             "SELECT id6, largest2_v3 FROM (SELECT id6, v3 AS largest2_v3, row_number() OVER "
             "(PARTITION BY id6 ORDER BY v3 DESC) AS order_v3 FROM x WHERE v3 IS NOT NULL) sub_query "
             "WHERE order_v3 <= 2", ("largest2_v3",),
             _pl_q8, _pd_q8),
    Question("q9", "regression v1 v2 by id2 id4",
             "SELECT id2, id4, pow(corr(v1, v2), 2) AS r2 FROM x GROUP BY id2, id4", ("r2",),
             _pl_by(["id2", "id4"], lambda pl: [(pl.corr("v1", "v2") ** 2).alias("r2")]),
             _pd_q9),
    Question("q10", "sum v3 count by id1:id6",
             "SELECT id1, id2, id3, id4, id5, id6, sum(v3) AS v3, count(*) AS count FROM x "
             "GROUP BY id1, id2, id3, id4, id5, id6", ("v3", "count"),
             _pl_by(["id1", "id2", "id3", "id4", "id5", "id6"],
                    lambda pl: [pl.col("v3").sum(), pl.len().alias("count")]),
             lambda pd, t: _pd_by(pd, t["x"], ["id1", "id2", "id3", "id4", "id5", "id6"],
                                  v3=("v3", "sum"), count=("v3", "size"))),
]

# --- join ----------------------------------------------------------------------------


def _pl_join(right, on, how="inner"):
    return lambda pl, t: t["x"].join(t[right], on=on, how=how)


def _pd_join(right, on, how="inner"):
    return lambda pd, t: t["x"].merge(t[right], on=on, how=how)


JOIN = [
    Question("q1", "small inner on int",
             "SELECT x.*, small.id4 AS small_id4, v2 FROM x JOIN small USING (id1)", ("v1", "v2"),
             _pl_join("small", "id1"), _pd_join("small", "id1")),
    Question("q2", "medium inner on int",
             "SELECT x.*, medium.id1 AS medium_id1, medium.id4 AS medium_id4, medium.id5 AS medium_id5, v2 "
             "FROM x JOIN medium USING (id2)", ("v1", "v2"),
             _pl_join("medium", "id2"), _pd_join("medium", "id2")),
    Question("q3", "medium outer on int",
             "SELECT x.*, medium.id1 AS medium_id1, medium.id4 AS medium_id4, medium.id5 AS medium_id5, v2 "
             "FROM x LEFT JOIN medium USING (id2)", ("v1", "v2"),
             _pl_join("medium", "id2", "left"), _pd_join("medium", "id2", "left")),
    Question("q4", "medium inner on factor",
             "SELECT x.*, medium.id1 AS medium_id1, medium.id2 AS medium_id2, medium.id4 AS medium_id4, v2 "
             "FROM x JOIN medium USING (id5)", ("v1", "v2"),
             _pl_join("medium", "id5"), _pd_join("medium", "id5")),
    Question("q5", "big inner on int",
             "SELECT x.*, big.id1 AS big_id1, big.id2 AS big_id2, big.id4 AS big_id4, big.id5 AS big_id5, "
             "big.id6 AS big_id6, v2 FROM x JOIN big USING (id3)", ("v1", "v2"),
             _pl_join("big", "id3"), _pd_join("big", "id3")),
]

SUITES = {"groupby": GROUPBY, "join": JOIN}
