"""Seeded random SQL over the tables of random_tables.World.

A query is built from typed pieces: ExprGen makes an expression of a wanted category
(int, float, decimal, string, bool, date, ts, tstz) from the columns in scope, literals
and functions; templates (see TEMPLATES) put them into SELECT / WHERE / GROUP BY /
HAVING / joins / DISTINCT / set operations / CTEs / subqueries / ORDER BY ... LIMIT.

Every query says whether its order is defined (`ordered`): only when its ORDER BY is a
total order, which the generator guarantees by ending the ORDER BY with a unique key
(the tables' `id` columns, or every output column for DISTINCT, GROUP BY and set
operations). LIMIT/OFFSET appear only under such an ORDER BY. NULL placement is always
spelled out (NULLS FIRST/LAST) because the engines' defaults differ on purpose (see
tests/sql/order_limit.test).

What the generator avoids, and why (differences in the reference that are not Sluice
bugs; a known Sluice bug may be steered around only while it is listed in known_bugs.py
with a failing reproduction in tests/sql/known_bugs.test):
- division and modulo by a possible zero: the divisor is wrapped in NULLIF(x, 0)
  (Sluice: NULL, DuckDB 2.0: error; tests/sql/arithmetic.test covers both);
- integer overflow: integer arithmetic is done on CAST(x AS BIGINT) of columns other
  than uint64, with small constants (overflow errors are covered in
  tests/sql/arithmetic.test). Where an overflowing cast could happen, when it happens
  depends on evaluation order (DuckDB skips work for LIMIT 0 or an empty join side,
  Sluice does not): both are right, so the generator does not go there;
- sum/avg over uint64 (Sluice sums in int64: DuckDB in HUGEINT);
- comparing timestamp with timestamptz without a cast (Sluice asks for an explicit
  cast on purpose);
- substr with negative positions, casts of floats/timestamps to text (formatting is
  engine-specific);
- string_agg, first, last (order-dependent results);
- date_trunc on a DATE and DATE +/- INTERVAL are wrapped in CAST(... AS DATE): Sluice
  returns DATE, DuckDB TIMESTAMP (tests/sql/temporal.test);
- semi/anti joins via EXISTS / IN (subquery): not supported by Sluice yet.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import List, Optional, Sequence

from random_tables import K2_STRINGS, KEY_STRINGS, STRINGS, Table, World

NUMERIC = ("int", "float", "decimal")
ORDERABLE = ("int", "float", "decimal", "string", "bool", "date", "ts", "tstz")


@dataclass
class Ref:
    """A column in scope: how to write it and what it is."""
    sql: str
    category: str
    kind: str          # random_tables kind ("i8", "str", ...) or "id"/"key"
    samples: list = field(default_factory=list)   # some of its non-NULL values


def sql_literal(value, category: str) -> str:
    """A value taken from the data, as a literal of its category."""
    if category == "int":
        return str(value)
    if category == "float":
        return f"CAST('{value!r}' AS DOUBLE)"
    if category == "decimal":
        return f"CAST('{value}' AS DECIMAL(12,2))"
    if category == "string":
        return sql_string(value)
    if category == "bool":
        return "TRUE" if value else "FALSE"
    if category == "date":
        return f"DATE '{value.isoformat()}'"
    if category == "ts":
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if category == "tstz":
        return f"TIMESTAMPTZ '{value.replace(tzinfo=None).isoformat(sep=' ')}+00'"
    raise ValueError(category)


@dataclass
class Rel:
    """Something to put in FROM: a table, a subquery or a join."""
    sql: str
    refs: List[Ref]
    unique: List[str]          # expressions that together are unique per row
    rows: int                  # an upper bound on the row count (for size control)
    tables: List[str] = field(default_factory=list)


@dataclass
class Query:
    sql: str
    ordered: bool
    template: str
    tables: List[str]


def sql_string(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


class ExprGen:
    def __init__(self, rng: random.Random, refs: Sequence[Ref]):
        self.rng = rng
        self.refs = list(refs)
        self._no_u64 = False

    # -- helpers -----------------------------------------------------------------
    def cols(self, category: str, *, exclude_kinds=()) -> List[Ref]:
        exclude = tuple(exclude_kinds) + (("u64",) if self._no_u64 else ())
        return [r for r in self.refs if r.category == category and r.kind not in exclude]

    def no_u64(self, make):
        """make() without uint64 columns (values beyond int64 overflow CAST(... AS BIGINT))."""
        saved, self._no_u64 = self._no_u64, True
        try:
            return make()
        finally:
            self._no_u64 = saved

    def has(self, category: str) -> bool:
        return bool(self.cols(category))

    def col(self, category: str, **kw) -> Optional[str]:
        c = self.cols(category, **kw)
        return self.rng.choice(c).sql if c else None

    def literal(self, category: str) -> str:
        rng = self.rng
        sampled = [r for r in self.cols(category) if r.samples]
        if sampled and rng.random() < 0.6:
            return sql_literal(rng.choice(rng.choice(sampled).samples), category)
        if category == "int":
            return str(rng.choice([0, 1, 2, 3, -1, 5, 7, 10, 20, 100, -20, 127, -128, 1000]))
        if category == "float":
            return rng.choice(["0.5", "-1.25", "100.0", "2.5e3", "CAST(3.75 AS DOUBLE)", "-0.0"])
        if category == "decimal":
            return rng.choice(["CAST(1.50 AS DECIMAL(12,2))", "CAST(-3.25 AS DECIMAL(12,2))",
                               "CAST(0 AS DECIMAL(12,2))", "CAST(10.05 AS DECIMAL(12,2))"])
        if category == "string":
            return sql_string(rng.choice(STRINGS[:20] + KEY_STRINGS[:5] + K2_STRINGS))
        if category == "bool":
            return rng.choice(["TRUE", "FALSE"])
        if category == "date":
            d = dt.date(rng.choice([1900, 1950, 1970, 2000, 2024, 2100]), rng.randint(1, 12), rng.randint(1, 28))
            return f"DATE '{d.isoformat()}'"
        if category == "ts":
            return f"TIMESTAMP '{rng.choice([1901, 1969, 1970, 2000, 2050])}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)} {rng.randint(10, 23)}:30:00'"
        if category == "tstz":
            return f"TIMESTAMPTZ '{rng.choice([1901, 1969, 1970, 2000, 2050])}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)} {rng.randint(10, 23)}:30:00+00'"
        raise ValueError(category)

    def typed_null(self, category: str) -> str:
        t = {"int": "BIGINT", "float": "DOUBLE", "decimal": "DECIMAL(12,2)", "string": "VARCHAR",
             "bool": "BOOLEAN", "date": "DATE", "ts": "TIMESTAMP", "tstz": "TIMESTAMPTZ"}[category]
        return f"CAST(NULL AS {t})"

    def leaf(self, category: str) -> str:
        c = self.col(category)
        if c is not None and self.rng.random() < 0.85:
            return c
        return self.literal(category)

    # -- expressions by category -------------------------------------------------
    def expr(self, category: str, depth: int = 2) -> str:
        if depth <= 0 or self.rng.random() < 0.35:
            return self.leaf(category)
        return getattr(self, "_" + category)(depth - 1)

    def _common(self, category: str, depth: int) -> Optional[str]:
        """CASE / COALESCE / NULLIF, shared by every category (None: not chosen)."""
        r = self.rng.random()
        if r < 0.08:
            whens = " ".join(f"WHEN {self.pred(depth)} THEN {self.expr(category, depth)}"
                             for _ in range(self.rng.randint(1, 2)))
            els = f" ELSE {self.expr(category, depth)}" if self.rng.random() < 0.7 else ""
            return f"CASE {whens}{els} END"
        if r < 0.14:
            args = [self.expr(category, depth) for _ in range(self.rng.randint(2, 3))]
            return f"coalesce({', '.join(args)})"
        if r < 0.16:
            return f"nullif({self.expr(category, depth)}, {self.expr(category, depth)})"
        if r < 0.19 and category != "bool":
            args = [self.expr(category, depth) for _ in range(self.rng.randint(2, 3))]
            return f"{self.rng.choice(['greatest', 'least'])}({', '.join(args)})"
        if r < 0.21:
            subject = self.comparable_category()
            whens = " ".join(f"WHEN {self.literal(subject)} THEN {self.expr(category, depth)}"
                             for _ in range(self.rng.randint(1, 3)))
            return f"CASE {self.expr(subject, depth)} {whens} ELSE {self.expr(category, depth)} END"
        return None

    def _int(self, d: int) -> str:
        c = self._common("int", d)
        if c:
            return c
        rng = self.rng
        big = lambda: f"CAST({self.no_u64(lambda: self.expr('int', d))} AS BIGINT)"  # noqa: E731
        choice = rng.randrange(10)
        if choice == 0:
            return f"({big()} + {big()})"
        if choice == 1:
            return f"({big()} - {self.no_u64(lambda: self.literal('int'))})"
        if choice == 2:
            return f"({big()} * {rng.choice([2, 3, -1, 10])})"
        if choice == 3:
            return f"({big()} % {rng.choice([2, 3, 5, 7, -3])})"
        if choice == 4:
            return f"abs({big()})"
        if choice == 5 and self.has("string"):
            return f"length({self.expr('string', d)})"
        if choice == 6 and (self.has("date") or self.has("ts")):
            cat = "date" if self.has("date") and (not self.has("ts") or rng.random() < 0.5) else "ts"
            part = rng.choice(["year", "month", "day", "dow", "doy", "quarter", "week"] +
                              (["hour", "minute", "second"] if cat == "ts" else []))
            if rng.random() < 0.5:
                return f"extract({part} FROM {self.expr(cat, d)})"
            return f"date_part('{part}', {self.expr(cat, d)})"
        if choice == 7:
            return f"(-{big()})"
        if choice == 8 and self.has("decimal"):
            return f"CAST(floor({self.expr('decimal', d)}) AS BIGINT)"
        if choice == 9:
            return f"sign({big()})"
        return self.leaf("int")

    def _float(self, d: int) -> str:
        c = self._common("float", d)
        if c:
            return c
        rng = self.rng
        num = lambda: self.expr(rng.choice(NUMERIC), d)  # noqa: E731
        choice = rng.randrange(9)
        if choice == 0:
            return f"({self.expr('float', d)} + {num()})"
        if choice == 1:
            return f"({self.expr('float', d)} * {self.literal('float')})"
        if choice == 2:
            return f"({num()} / NULLIF({num()}, 0))"
        if choice == 3:
            return f"sqrt(abs({self.expr('float', d)}))"
        if choice == 4:
            return f"ln(abs({self.expr('float', d)}) + 1)"
        if choice == 5:
            return f"pow({self.expr('float', d)}, 2)"
        if choice == 6:
            return f"{rng.choice(['floor', 'ceil', 'abs'])}({self.expr('float', d)})"
        if choice == 7:
            return f"round({self.expr('float', d)}, {rng.choice([0, 1, 2])})"
        return f"CAST({self.expr(rng.choice(['int', 'decimal']), d)} AS DOUBLE)"

    def _decimal(self, d: int) -> str:
        c = self._common("decimal", d)
        if c:
            return c
        rng = self.rng
        choice = rng.randrange(6)
        if choice == 0:
            return f"({self.expr('decimal', d)} + {self.expr('decimal', d)})"
        if choice == 1:
            return f"({self.expr('decimal', d)} - {self.literal('decimal')})"
        if choice == 2:
            return f"({self.expr('decimal', d)} * {rng.choice([2, 3, -1])})"
        if choice == 3:
            return f"abs({self.expr('decimal', d)})"
        if choice == 4:
            return f"round({self.expr('decimal', d)}, {rng.choice([0, 1])})"
        if not self.has("int"):
            return self.leaf("decimal")
        return f"CAST({self.no_u64(lambda: self.expr('int', d))} AS DECIMAL(18,2))"

    def _string(self, d: int) -> str:
        c = self._common("string", d)
        if c:
            return c
        rng = self.rng
        s = lambda: self.expr("string", d)  # noqa: E731
        choice = rng.randrange(14)
        if choice == 0:
            return f"{rng.choice(['lower', 'upper', 'trim', 'ltrim', 'rtrim', 'reverse'])}({s()})"
        if choice == 11:
            return f"regexp_replace({s()}, {sql_string(rng.choice(['[aeiou]', 'l+', '^.', '[0-9]']))}, {sql_string(rng.choice(['', '*', '<>']))})"
        if choice == 12 and (self.has("decimal") or self.has("bool")):
            return f"CAST({self.expr('decimal' if self.has('decimal') and rng.random() < 0.5 else 'bool' if self.has('bool') else 'decimal', d)} AS VARCHAR)"
        if choice == 13:
            return f"regexp_extract({s()}, {sql_string('([a-z])([a-z])')}, {rng.choice([0, 1, 2])})"
        if choice == 1:
            return f"substr({s()}, {rng.randint(1, 4)}, {rng.randint(0, 5)})"
        if choice == 2:
            return f"substr({s()}, {rng.randint(1, 3)})"
        if choice == 3:
            return f"replace({s()}, {sql_string(rng.choice(['a', 'l', ' ', 'é']))}, {sql_string(rng.choice(['', 'X', '__']))})"
        if choice == 4:
            return f"({s()} || {s()})"
        if choice == 5:
            return f"concat({s()}, {sql_string('-')}, {s()})"
        if choice == 6:
            return f"split_part({s()}, {sql_string(rng.choice(['a', ' ', 'l', '-']))}, {rng.randint(1, 3)})"
        if choice == 7:
            return f"regexp_extract({s()}, {sql_string(rng.choice(['[a-z]+', '([0-9]+)', 'h(.)l', '^.']))})"
        if choice == 8 and self.has("int"):
            return f"CAST({self.expr('int', d)} AS VARCHAR)"
        if choice == 9 and self.has("date"):
            return f"CAST({self.expr('date', d)} AS VARCHAR)"
        if choice == 10 and self.has("ts"):
            ts = self.expr('ts', d)
            return f"strftime({ts}, {sql_string(rng.choice(['%Y-%m-%d', '%H:%M:%S', '%Y/%m']))})"
        return self.leaf("string")

    def _bool(self, d: int) -> str:
        c = self._common("bool", d)
        if c:
            return c
        # Parenthesized: a predicate used as a value (x = (a < b)) must not chain.
        return f"({self.pred(d)})"

    def _date(self, d: int) -> str:
        c = self._common("date", d)
        if c:
            return c
        rng = self.rng
        choice = rng.randrange(5)
        if choice == 0 and self.has("ts"):
            return f"CAST({self.expr('ts', d)} AS DATE)"
        if choice == 3:
            # DATE + INTERVAL is a DATE in Sluice, a TIMESTAMP in DuckDB: cast back.
            iv = rng.choice(["1 day", "1 month", "1 year", "3 days"])
            return f"CAST(({self.expr('date', d)} {rng.choice(['+', '-'])} INTERVAL '{iv}') AS DATE)"
        if choice == 4:
            return f"({self.expr('date', d)} {rng.choice(['+', '-'])} {rng.choice([1, 7, 30, 365])})"
        if choice == 1:
            return f"CAST(date_trunc('{rng.choice(['month', 'year', 'week', 'quarter'])}', {self.expr('date', d)}) AS DATE)"
        return self.leaf("date")

    def _ts(self, d: int) -> str:
        c = self._common("ts", d)
        if c:
            return c
        rng = self.rng
        choice = rng.randrange(4)
        if choice == 0 and self.has("date"):
            return f"CAST({self.expr('date', d)} AS TIMESTAMP)"
        if choice == 3:
            iv = rng.choice(["1 day", "3 hours", "1 month", "90 minutes", "2 years"])
            return f"({self.expr('ts', d)} {rng.choice(['+', '-'])} INTERVAL '{iv}')"
        if choice == 1:
            return f"date_trunc('{rng.choice(['hour', 'day', 'month', 'minute', 'year'])}', {self.expr('ts', d)})"
        return self.leaf("ts")

    def _tstz(self, d: int) -> str:
        c = self._common("tstz", d)
        if c:
            return c
        r = self.rng.random()
        if r < 0.4:
            return f"date_trunc('{self.rng.choice(['hour', 'day', 'month'])}', {self.expr('tstz', d)})"
        if r < 0.6:
            iv = self.rng.choice(["1 day", "2 hours", "1 month"])
            return f"({self.expr('tstz', d)} {self.rng.choice(['+', '-'])} INTERVAL '{iv}')"
        return self.leaf("tstz")

    # -- predicates ----------------------------------------------------------------
    def comparable_category(self) -> str:
        cats = [c for c in ORDERABLE if self.has(c)]
        return self.rng.choice(cats) if cats else "int"

    def pred(self, depth: int = 2) -> str:
        rng = self.rng
        if depth > 0 and rng.random() < 0.3:
            op = rng.choice(["AND", "OR", "AND", "OR", "NOT"])
            if op == "NOT":
                return f"(NOT {self.pred(depth - 1)})"
            return f"({self.pred(depth - 1)} {op} {self.pred(depth - 1)})"
        d = max(depth - 1, 0)
        choice = rng.randrange(12)
        cat = self.comparable_category()
        if choice <= 3:
            other = cat
            if cat in NUMERIC:
                other = rng.choice(NUMERIC) if rng.random() < 0.4 else cat
            elif cat == "date" and rng.random() < 0.2:
                other = "ts"   # date vs timestamp: both engines widen the date
            op = rng.choice(["=", "<>", "<", "<=", ">", ">="])
            rhs = self.expr(other, d) if rng.random() < 0.5 else self.literal(other)
            return f"{self.expr(cat, d)} {op} {rhs}"
        if choice == 4:
            return f"{self.expr(cat, d)} IS {rng.choice(['', 'NOT '])}NULL"
        if choice == 5:
            items = [self.literal(cat) for _ in range(rng.randint(1, 4))]
            if rng.random() < 0.3:
                items.append("NULL")
            if rng.random() < 0.4 and self.has(cat):
                items.append(self.col(cat))
            neg = rng.choice(["", "NOT "])
            return f"{self.expr(cat, d)} {neg}IN ({', '.join(items)})"
        if choice == 6:
            lo, hi = self.literal(cat), self.literal(cat)
            if cat == "bool":
                return f"{self.expr(cat, d)} IS {rng.choice(['DISTINCT FROM', 'NOT DISTINCT FROM'])} {lo}"
            neg = rng.choice(["", "NOT "])
            return f"{self.expr(cat, d)} {neg}BETWEEN {lo} AND {hi}"
        if choice in (7, 8) and self.has("string"):
            op = rng.choice(["LIKE", "NOT LIKE", "ILIKE", "NOT ILIKE"])
            pat = rng.choice(["a%", "%b%", "_b%", "%", "", "A%", "%é%", "%o", "k1%", "k_", "__", "%e%n%"])
            return f"{self.expr('string', d)} {op} {sql_string(pat)}"
        if choice == 9 and self.has("string"):
            f = rng.choice(["starts_with", "ends_with", "contains", "regexp_matches"])
            arg = rng.choice(["a", "k1", "é", "", "b"]) if f != "regexp_matches" else \
                rng.choice(["^a", "b$", "[0-9]+", "é", "^$", "^k[0-9]$"])
            return f"{f}({self.expr('string', d)}, {sql_string(arg)})"
        if choice == 10 and self.has("bool"):
            b = self.col("bool")
            return rng.choice([b, f"NOT {b}", f"{b} = TRUE", f"{b} IS NOT NULL", f"{b} IS TRUE",
                               f"{b} IS NOT FALSE", f"({self.pred(d)}) IS UNKNOWN"])
        if choice == 11 and cat != "bool":
            a, b = self.expr(cat, d), self.expr(cat, d)
            return f"{a} IS {rng.choice(['DISTINCT FROM', 'NOT DISTINCT FROM'])} {b}"
        return f"{self.expr(cat, d)} {rng.choice(['=', '<', '>='])} {self.literal(cat)}"

    # -- aggregates ----------------------------------------------------------------
    def aggregate(self) -> str:
        rng = self.rng
        choice = rng.randrange(13)
        num_cats = [c for c in NUMERIC if self.has(c)]
        if choice == 0:
            return "count(*)"
        if choice == 1:
            return f"count({self.expr(self.comparable_category(), 1)})"
        if choice == 2:
            return f"count(DISTINCT {self.expr(self.comparable_category(), 1)})"
        if choice in (3, 4) and num_cats:
            arg = self._agg_num_arg(num_cats)
            return f"{rng.choice(['sum', 'avg'])}({arg})"
        if choice in (5, 6):
            cat = self.comparable_category()
            return f"{rng.choice(['min', 'max'])}({self.expr(cat, 1)})"
        if choice in (7, 8) and num_cats:
            f = rng.choice(["stddev_samp", "var_pop", "stddev_pop", "var_samp"])
            return f"{f}({self._agg_num_arg(num_cats)})"
        if choice == 9 and num_cats:
            # DuckDB rounds an interpolated median of a DECIMAL to the input's scale
            # (median of 1.00 and 1.01 is 1.00, Sluice says 1.005): compare over DOUBLE.
            arg = f"CAST({self._agg_num_arg(num_cats)} AS DOUBLE)"
            if rng.random() < 0.6:
                return f"median({arg})"
            return f"quantile_cont({arg}, {rng.choice(['0.25', '0.9', '0.0', '1.0'])})"
        if choice == 10:
            return f"{rng.choice(['bool_and', 'bool_or'])}({self.pred(1)})"
        if choice == 11 and num_cats:
            return f"sum(DISTINCT {self._agg_num_arg(num_cats)})" if rng.random() < 0.3 else \
                f"count(DISTINCT {self.expr(rng.choice(num_cats), 0)})"
        return "count(*)"

    def _agg_num_arg(self, num_cats) -> str:
        cat = self.rng.choice(num_cats)
        if cat == "int":
            c = self.cols("int", exclude_kinds=("u64",))
            if not c:
                return "1"
            if self.rng.random() < 0.7:
                return self.rng.choice(c).sql
            return f"(CAST({self.rng.choice(c).sql} AS BIGINT) * 2)"
        if self.rng.random() < 0.7:
            return self.col(cat)
        return self.expr(cat, 1)


# ---------------------------------------------------------------------------------
# Relations and templates
# ---------------------------------------------------------------------------------

def table_rel(table: Table, alias: str, rng: random.Random, *, max_rows: Optional[int] = None) -> Rel:
    """`table AS alias`, or a subquery keeping at most max_rows rows (WHERE id < n)."""
    refs = []
    for c in table.columns:
        values = [v for v in table.data.column(c.name).to_pylist()[:200] if v is not None]
        samples = rng.sample(values, min(len(values), 12)) if values else []
        refs.append(Ref(f"{alias}.{c.name}", c.category, c.kind, samples))
    if max_rows is not None and table.num_rows > max_rows:
        sql = f"(SELECT * FROM {table.name} WHERE id < {max_rows}) {alias}"
        rows = max_rows
    else:
        sql = f"{table.name} {alias}"
        rows = table.num_rows
    return Rel(sql, refs, [f"{alias}.id"], rows, [table.name])


def order_clause(rng: random.Random, items: Sequence[str]) -> str:
    return ", ".join(f"{it} {rng.choice(['ASC', 'DESC'])} NULLS {rng.choice(['FIRST', 'LAST'])}"
                     for it in items)


def limit_clause(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.4:
        return f" LIMIT {rng.choice([0, 1, 3, 10, 50])}"
    if r < 0.6:
        return f" LIMIT {rng.choice([1, 5, 20])} OFFSET {rng.choice([0, 1, 4, 30])}"
    if r < 0.7:
        return f" OFFSET {rng.choice([1, 10])}"
    return ""


class QueryGen:
    def __init__(self, world: World, rng: random.Random):
        self.world = world
        self.rng = rng

    def table(self) -> Table:
        return self.rng.choice(self.world.tables)

    # -- templates -------------------------------------------------------------
    def t_select(self) -> Query:
        rng = self.rng
        t = self.table()
        rel = table_rel(t, "a", rng)
        g = ExprGen(rng, rel.refs)
        exprs = [g.expr(rng.choice(g_categories(g)), rng.randint(0, 3)) for _ in range(rng.randint(1, 4))]
        select = ["a.id AS id"] + [f"{e} AS e{i}" for i, e in enumerate(exprs)]
        sql = f"SELECT {', '.join(select)} FROM {rel.sql}"
        if rng.random() < 0.7:
            sql += f" WHERE {g.pred(rng.randint(1, 3))}"
        ordered = rng.random() < 0.5
        if ordered:
            keys = [f"e{i}" for i in rng.sample(range(len(exprs)), rng.randint(1, len(exprs)))]
            sql += " ORDER BY " + order_clause(rng, keys + ["id"]) + limit_clause(rng)
        return Query(sql, ordered, "select", rel.tables)

    def t_aggregate(self) -> Query:
        rng = self.rng
        t = self.table()
        rel = table_rel(t, "a", rng)
        g = ExprGen(rng, rel.refs)
        ngroups = rng.choice([0, 1, 1, 2, 3])
        groups = [self._group_expr(g) for _ in range(ngroups)]
        aggs = [g.aggregate() for _ in range(rng.randint(1, 4))]
        select = [f"{e} AS g{i}" for i, e in enumerate(groups)] + [f"{a} AS a{i}" for i, a in enumerate(aggs)]
        sql = f"SELECT {', '.join(select)} FROM {rel.sql}"
        if rng.random() < 0.5:
            sql += f" WHERE {g.pred(2)}"
        if groups:
            sql += " GROUP BY " + ", ".join(groups)
            if rng.random() < 0.3:
                sql += " HAVING " + rng.choice([
                    "count(*) > 1", f"{g.aggregate()} IS NOT NULL", "count(*) >= 2 OR min(a.id) < 10",
                    f"max(a.id) > {rng.randint(0, 100)}"])
        ordered = bool(groups) and rng.random() < 0.6
        if ordered:
            keys = [f"g{i}" for i in range(len(groups))]
            rng.shuffle(keys)
            sql += " ORDER BY " + order_clause(rng, keys) + limit_clause(rng)
        return Query(sql, ordered, "aggregate", rel.tables)

    def _group_expr(self, g: ExprGen) -> str:
        # Never a bare constant: GROUP BY <integer literal> means a column position.
        for _ in range(20):
            e = self._group_expr_once(g)
            if any(r.sql in e for r in g.refs):
                return e
        return g.refs[0].sql

    def _group_expr_once(self, g: ExprGen) -> str:
        rng = self.rng
        r = rng.random()
        key_cols = [x for x in g.refs if x.kind == "key"]
        if r < 0.4 and key_cols:
            return rng.choice(key_cols).sql
        if r < 0.75:
            cat = rng.choice([c for c in ORDERABLE if g.has(c)])
            return g.col(cat)
        return g.expr(rng.choice(["int", "string", "date", "bool"] if g.has("int") else ["string"]), 1)

    def _join_rel(self, kind: Optional[str] = None, max_rows: int = 150):
        """(relation, extra WHERE condition or None): two tables joined on their keys."""
        rng = self.rng
        ta, tb = self.table(), self.table()
        a = table_rel(ta, "a", rng, max_rows=max_rows)
        b = table_rel(tb, "b", rng, max_rows=max_rows)
        kind = kind or rng.choice(["JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN", "INNER JOIN",
                                   "LEFT OUTER JOIN", "FULL OUTER JOIN"])
        conds = ["a.k = b.k"]
        if rng.random() < 0.3:
            conds.append("a.k2 = b.k2")
        if rng.random() < 0.5:
            g = ExprGen(rng, a.refs + b.refs)
            r = rng.random()
            if r < 0.6:
                cat = rng.choice([c for c in ORDERABLE
                                  if any(x.category == c for x in a.refs) and any(x.category == c for x in b.refs)]
                                 or ["int"])
                ga, gb = ExprGen(rng, a.refs), ExprGen(rng, b.refs)
                conds.append(f"{ga.expr(cat, 1)} {rng.choice(['<', '<=', '<>', '>', '='])} {gb.expr(cat, 1)}")
            else:
                side = rng.choice([a, b])
                conds.append(ExprGen(rng, side.refs).pred(1))
        if rng.random() < 0.15 and kind in ("JOIN", "INNER JOIN"):
            # Implicit join: FROM a, b WHERE ...
            return Rel(f"{a.sql}, {b.sql}", a.refs + b.refs, a.unique + b.unique, a.rows * b.rows,
                       a.tables + b.tables), " AND ".join(conds)
        sql = f"{a.sql} {kind} {b.sql} ON {' AND '.join(conds)}"
        return Rel(sql, a.refs + b.refs, a.unique + b.unique, a.rows * b.rows, a.tables + b.tables), None

    def t_join(self) -> Query:
        rng = self.rng
        rel, where = self._join_rel()
        g = ExprGen(rng, rel.refs)
        exprs = [g.expr(g.comparable_category(), rng.randint(0, 2)) for _ in range(rng.randint(1, 3))]
        select = ["a.id AS a_id", "b.id AS b_id"] + [f"{e} AS e{i}" for i, e in enumerate(exprs)]
        preds = [where] if where else []
        if rng.random() < 0.4:
            preds.append(g.pred(2))
        sql = f"SELECT {', '.join(select)} FROM {rel.sql}"
        if preds:
            sql += " WHERE " + " AND ".join(f"({p})" for p in preds)
        ordered = rng.random() < 0.4
        if ordered:
            keys = [f"e{i}" for i in rng.sample(range(len(exprs)), rng.randint(0, len(exprs)))]
            sql += " ORDER BY " + order_clause(rng, keys + ["a_id", "b_id"]) + limit_clause(rng)
        return Query(sql, ordered, "join", rel.tables)

    def t_join_aggregate(self) -> Query:
        rng = self.rng
        rel, where = self._join_rel(max_rows=400)
        g = ExprGen(rng, rel.refs)
        groups = [rng.choice(["a.k", "b.k", "a.k2", "b.k2", "coalesce(a.k2, b.k2)"])
                  for _ in range(rng.choice([0, 1, 2]))]
        groups = list(dict.fromkeys(groups))
        aggs = [g.aggregate() for _ in range(rng.randint(1, 3))]
        select = [f"{e} AS g{i}" for i, e in enumerate(groups)] + [f"{a} AS a{i}" for i, a in enumerate(aggs)]
        sql = f"SELECT {', '.join(select)} FROM {rel.sql}"
        if where:
            sql += f" WHERE {where}"
        if groups:
            sql += " GROUP BY " + ", ".join(groups)
        ordered = bool(groups) and rng.random() < 0.5
        if ordered:
            sql += " ORDER BY " + order_clause(rng, [f"g{i}" for i in range(len(groups))])
        return Query(sql, ordered, "join_aggregate", rel.tables)

    def t_three_way_join(self) -> Query:
        rng = self.rng
        ta, tb, tc = self.table(), self.table(), self.table()
        a, b, c = (table_rel(ta, "a", rng, max_rows=30), table_rel(tb, "b", rng, max_rows=30),
                   table_rel(tc, "c", rng, max_rows=30))
        j1 = rng.choice(["JOIN", "LEFT JOIN", "FULL JOIN", "RIGHT JOIN"])
        j2 = rng.choice(["JOIN", "LEFT JOIN", "FULL JOIN", "RIGHT JOIN"])
        on2 = rng.choice(["b.k2 = c.k2", "a.k = c.k", "b.k = c.k AND a.k2 = c.k2"])
        sql = f"SELECT a.id AS a_id, b.id AS b_id, c.id AS c_id FROM {a.sql} {j1} {b.sql} ON a.k = b.k {j2} {c.sql} ON {on2}"
        ordered = rng.random() < 0.5
        if ordered:
            sql += " ORDER BY " + order_clause(rng, ["a_id", "b_id", "c_id"]) + limit_clause(rng)
        return Query(sql, ordered, "three_way_join", a.tables + b.tables + c.tables)

    def t_distinct(self) -> Query:
        rng = self.rng
        t = self.table()
        rel = table_rel(t, "a", rng)
        g = ExprGen(rng, rel.refs)
        exprs = [g.expr(g.comparable_category(), rng.randint(0, 1)) if rng.random() < 0.5
                 else rng.choice(rel.refs).sql for _ in range(rng.randint(1, 3))]
        select = [f"{e} AS d{i}" for i, e in enumerate(exprs)]
        sql = f"SELECT DISTINCT {', '.join(select)} FROM {rel.sql}"
        if rng.random() < 0.5:
            sql += f" WHERE {g.pred(2)}"
        ordered = rng.random() < 0.5
        if ordered:
            keys = [f"d{i}" for i in range(len(exprs))]
            rng.shuffle(keys)
            sql += " ORDER BY " + order_clause(rng, keys) + limit_clause(rng)
        return Query(sql, ordered, "distinct", rel.tables)

    def t_setop(self) -> Query:
        rng = self.rng
        ta, tb = self.table(), self.table()
        ra, rb = table_rel(ta, "a", rng), table_rel(tb, "b", rng)
        ga, gb = ExprGen(rng, ra.refs), ExprGen(rng, rb.refs)
        common = [c for c in ORDERABLE if ga.has(c) and gb.has(c)]
        cats = [rng.choice(common) for _ in range(rng.randint(1, 2))]
        def branch(gen: ExprGen, rel: Rel) -> str:
            cols = [f"{gen.expr(c, 1)} AS u{i}" for i, c in enumerate(cats)]
            s = f"SELECT {', '.join(cols)} FROM {rel.sql}"
            if rng.random() < 0.6:
                s += f" WHERE {gen.pred(1)}"
            return s
        op = rng.choice(["UNION", "UNION ALL", "UNION ALL", "INTERSECT", "EXCEPT"])
        sql = f"{branch(ga, ra)} {op} {branch(gb, rb)}"
        ordered = rng.random() < 0.5
        if ordered:
            keys = [f"u{i}" for i in range(len(cats))]
            sql += " ORDER BY " + order_clause(rng, keys) + limit_clause(rng)
        return Query(sql, ordered, "setop", ra.tables + rb.tables)

    def t_cte(self) -> Query:
        rng = self.rng
        ta, tb = self.table(), self.table()
        ra = table_rel(ta, "a", rng)
        ga = ExprGen(rng, ra.refs)
        agg = ga.aggregate()
        where = f" WHERE {ga.pred(1)}" if rng.random() < 0.5 else ""
        cte1 = f"agg AS (SELECT a.k AS k, count(*) AS n, {agg} AS v FROM {ra.sql}{where} GROUP BY a.k)"
        rb = table_rel(tb, "b", rng, max_rows=200)
        gb = ExprGen(rng, rb.refs)
        e = gb.expr(gb.comparable_category(), 1)
        cte2 = f"sel AS (SELECT b.id AS id, b.k AS k, {e} AS e FROM {rb.sql} WHERE {gb.pred(1)})"
        join = rng.choice(["JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN"])
        sql = (f"WITH {cte1}, {cte2} SELECT sel.id AS id, agg.k AS k, agg.n AS n, agg.v AS v, sel.e AS e "
               f"FROM agg {join} sel ON agg.k = sel.k")
        ordered = rng.random() < 0.5
        if ordered:
            # agg.k is unique among agg rows and sel.id among sel rows: (k, id) is a total order.
            sql += " ORDER BY " + order_clause(rng, ["k", "id"]) + limit_clause(rng)
        return Query(sql, ordered, "cte", [ta.name, tb.name])

    def t_subquery(self) -> Query:
        rng = self.rng
        t = self.table()
        rel = table_rel(t, "a", rng)
        g = ExprGen(rng, rel.refs)
        cat1 = g.comparable_category()
        inner_cols = [f"a.id AS id", f"a.k AS k", f"{g.expr(cat1, 2)} AS x"]
        num = [c for c in NUMERIC if g.has(c)]
        cat2 = rng.choice(num) if num else "int"
        inner_cols.append(f"{g.expr(cat2, 1)} AS y")
        inner = f"SELECT {', '.join(inner_cols)} FROM {rel.sql}"
        if rng.random() < 0.6:
            inner += f" WHERE {g.pred(1)}"
        inner_refs = [Ref("s.id", "int", "id"), Ref("s.k", self.world.key_category, "key"),
                      Ref("s.x", cat1, "x"), Ref("s.y", cat2, "y")]
        go = ExprGen(rng, inner_refs)
        if rng.random() < 0.5:
            sql = (f"SELECT s.k AS k, count(*) AS n, {go.aggregate()} AS v FROM ({inner}) s "
                   f"WHERE {go.pred(1)} GROUP BY s.k")
            ordered = rng.random() < 0.5
            if ordered:
                sql += " ORDER BY " + order_clause(rng, ["k"]) + limit_clause(rng)
        else:
            sql = f"SELECT s.id AS id, s.x AS x, {go.expr(cat2, 1)} AS z FROM ({inner}) s WHERE {go.pred(2)}"
            ordered = rng.random() < 0.5
            if ordered:
                sql += " ORDER BY " + order_clause(rng, rng.sample(["x", "z"], rng.randint(0, 2)) + ["id"]) + \
                    limit_clause(rng)
        return Query(sql, ordered, "subquery", rel.tables)

    def t_global_aggregate(self) -> Query:
        rng = self.rng
        t = self.table()
        rel = table_rel(t, "a", rng)
        g = ExprGen(rng, rel.refs)
        aggs = [g.aggregate() for _ in range(rng.randint(2, 6))]
        sql = f"SELECT {', '.join(f'{a} AS a{i}' for i, a in enumerate(aggs))} FROM {rel.sql}"
        if rng.random() < 0.5:
            sql += f" WHERE {g.pred(2)}"
        return Query(sql, False, "global_aggregate", rel.tables)


def g_categories(g: ExprGen) -> List[str]:
    return [c for c in ORDERABLE if g.has(c)] or ["int"]


TEMPLATES = [
    ("select", 22), ("aggregate", 20), ("join", 14), ("join_aggregate", 8), ("three_way_join", 4),
    ("distinct", 7), ("setop", 8), ("cte", 6), ("subquery", 7), ("global_aggregate", 6),
]


def generate_queries(world: World, count: int, seed: int) -> List[Query]:
    rng = random.Random(seed * 7919 + 17)
    gen = QueryGen(world, rng)
    names = [n for n, _ in TEMPLATES]
    weights = [w for _, w in TEMPLATES]
    out = []
    for _ in range(count):
        name = rng.choices(names, weights)[0]
        out.append(getattr(gen, "t_" + name)())
    return out
