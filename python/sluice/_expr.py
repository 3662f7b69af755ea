"""Expressions: ``sl.col("price") * sl.col("qty") > 100``.

An :class:`Expr` is unbound: column names are resolved when a frame method uses it,
and errors (an unknown column, a type mismatch) are raised there, as
:class:`sluice.SluiceError`.
"""
from __future__ import annotations

import builtins as _builtins
import datetime as _dt
import decimal as _decimal
from typing import Any, Iterable

import pyarrow as pa

from . import _sluice

__all__ = [
    "Expr", "col", "lit", "when", "coalesce", "concat", "count", "sum", "mean", "min",
    "max", "median", "all_", "to_expr", "function", "from_epoch", "row_number", "rank",
    "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead", "first_value",
    "last_value", "nth_value",
]

# pyarrow types as the engine's SQL type names (cast, typed literals).
_SIMPLE_TYPES = {
    pa.bool_(): "boolean", pa.int8(): "tinyint", pa.int16(): "smallint",
    pa.int32(): "integer", pa.int64(): "bigint", pa.uint8(): "utinyint",
    pa.uint16(): "usmallint", pa.uint32(): "uinteger", pa.uint64(): "ubigint",
    pa.float32(): "real", pa.float64(): "double", pa.string(): "varchar",
    pa.large_string(): "varchar", pa.binary(): "blob", pa.date32(): "date",
}


def _type_name(t: Any) -> str:
    """A cast target as the engine's type name: a str as it is, or a pyarrow type."""
    if isinstance(t, str):
        return t
    if isinstance(t, pa.DataType):
        if t in _SIMPLE_TYPES:
            return _SIMPLE_TYPES[t]
        if pa.types.is_decimal(t):
            return f"decimal({t.precision},{t.scale})"
        if pa.types.is_timestamp(t):
            return "timestamptz" if t.tz else "timestamp"
    raise TypeError(f"cast: a type name such as 'bigint' or a pyarrow type, not {t!r}")


def _literal(value: Any) -> _sluice.Expr:
    if isinstance(value, Expr):
        return value._e
    if value is None or isinstance(value, (bool, int, float, str)):
        return _sluice.lit(value)
    if isinstance(value, _dt.datetime):
        if value.tzinfo is not None:
            return _sluice.lit_typed(value.isoformat(), "timestamptz")
        return _sluice.lit_typed(value.isoformat(sep=" "), "timestamp")
    if isinstance(value, _dt.date):
        return _sluice.lit_typed(value.isoformat(), "date")
    if isinstance(value, _dt.timedelta):
        # SQL's INTERVAL: whole days as days, the rest in nanoseconds.
        return _sluice.lit_interval(0, value.days,
                                    (value.seconds * 1_000_000 + value.microseconds) * 1000)
    if isinstance(value, _decimal.Decimal):
        if not value.is_finite():
            raise ValueError(f"lit: {value} has no decimal value")
        sign, digits, exponent = value.as_tuple()
        scale = _builtins.max(0, -int(exponent))
        # Digits before the point: those of the coefficient less the scale, or more for
        # a positive exponent (Decimal("1E+3") is 1000).
        whole = _builtins.max(len(digits) - scale + _builtins.max(0, int(exponent)), 1)
        return _sluice.lit_typed(format(value, "f"), f"decimal({whole + scale},{scale})")
    raise TypeError(
        f"lit: None, bool, int, float, str, date, datetime, timedelta or Decimal, not "
        f"{type(value).__name__}")


def to_expr(value: Any, *, str_is_column: bool = True) -> _sluice.Expr:
    """A value as an engine expression: an Expr, a column name (str), or a literal."""
    if isinstance(value, Expr):
        return value._e
    if isinstance(value, str) and str_is_column:
        return _sluice.col(value)
    return _literal(value)


def _operand(value: Any) -> _sluice.Expr:
    # The other side of an operator: a str is a value there (col("city") == "Paris").
    return to_expr(value, str_is_column=False)


class Expr:
    """A column expression. Build with :func:`col` and :func:`lit`, operators and methods.

    >>> import sluice as sl
    >>> (sl.col("price") * sl.col("qty")).alias("amount")
    """

    __slots__ = ("_e",)

    def __init__(self, e: _sluice.Expr):
        self._e = e

    def __repr__(self) -> str:
        return f"<Expr {self._e!r}>"

    def __bool__(self):
        raise TypeError(
            "an expression has no truth value: combine conditions with & and |, not and/or")

    __hash__ = None  # == builds an expression

    # ---- operators ---------------------------------------------------------------------
    def _bin(self, op: str, other: Any, reverse: bool = False) -> "Expr":
        a, b = self._e, _operand(other)
        if reverse:
            a, b = b, a
        return Expr(_sluice.binary(op, a, b))

    def __add__(self, o): return self._bin("+", o)
    def __radd__(self, o): return self._bin("+", o, True)
    def __sub__(self, o): return self._bin("-", o)
    def __rsub__(self, o): return self._bin("-", o, True)
    def __mul__(self, o): return self._bin("*", o)
    def __rmul__(self, o): return self._bin("*", o, True)
    def __truediv__(self, o): return self._bin("/", o)
    def __rtruediv__(self, o): return self._bin("/", o, True)
    def __mod__(self, o): return self._bin("%", o)
    def __rmod__(self, o): return self._bin("%", o, True)
    def __eq__(self, o): return self._bin("==", o)  # type: ignore[override]
    def __ne__(self, o): return self._bin("!=", o)  # type: ignore[override]
    def __lt__(self, o): return self._bin("<", o)
    def __le__(self, o): return self._bin("<=", o)
    def __gt__(self, o): return self._bin(">", o)
    def __ge__(self, o): return self._bin(">=", o)
    def __and__(self, o): return self._bin("&", o)
    def __rand__(self, o): return self._bin("&", o, True)
    def __or__(self, o): return self._bin("|", o)
    def __ror__(self, o): return self._bin("|", o, True)
    def __invert__(self): return Expr(_sluice.logical_not(self._e))
    def __neg__(self): return Expr(_sluice.negate(self._e))

    # ---- general -----------------------------------------------------------------------
    def alias(self, name: str) -> "Expr":
        """The expression under another output name: ``sl.col("a").alias("b")``.

        >>> sl.col("price").alias("unit_price")
        """
        return Expr(self._e.alias(name))

    def is_null(self) -> "Expr":
        """True where the value is NULL: ``frame.filter(sl.col("email").is_null())``.

        >>> users.filter(sl.col("email").is_null())
        """
        return Expr(self._e.is_null())

    def is_not_null(self) -> "Expr":
        """True where the value is not NULL.

        >>> users.filter(sl.col("email").is_not_null())
        """
        return Expr(self._e.is_not_null())

    def cast(self, dtype: Any, *, strict: bool = True) -> "Expr":
        """The value as another type: ``sl.col("id").cast("bigint")`` or ``.cast(pa.int64())``.

        A value that does not convert fails the query (strict) or becomes NULL
        (``strict=False``, SQL's TRY_CAST).

        >>> sl.col("id").cast("bigint"), sl.col("amount").cast(pa.float64(), strict=False)
        """
        name = _type_name(dtype)
        return Expr(self._e.cast(name) if strict else self._e.try_cast(name))

    def is_in(self, values: Iterable[Any]) -> "Expr":
        """True where the value is one of ``values``: ``sl.col("k").is_in([1, 2])``.

        >>> orders.filter(sl.col("status").is_in(["paid", "shipped"]))
        """
        return Expr(_sluice.isin(self._e, [_operand(v) for v in values]))

    def is_between(self, lower: Any, upper: Any) -> "Expr":
        """``lower <= value <= upper``.

        >>> orders.filter(sl.col("amount").is_between(10, 100))
        """
        return Expr(_sluice.between(self._e, _operand(lower), _operand(upper)))

    def fill_null(self, value: Any) -> "Expr":
        """NULLs replaced by ``value``: ``sl.col("qty").fill_null(0)``.

        >>> sl.col("discount").fill_null(0)
        """
        return Expr(_sluice.call("coalesce", [self._e, _operand(value)]))

    def abs(self) -> "Expr":
        """The absolute value.

        >>> sl.col("delta").abs()
        """
        return Expr(_sluice.call("abs", [self._e]))

    def round(self, decimals: int = 0) -> "Expr":
        """Rounded to ``decimals`` digits: ``sl.col("x").round(2)``.

        >>> sl.col("amount").mean().round(2)
        """
        return Expr(_sluice.call("round", [self._e, _sluice.lit(decimals)]))

    # ---- aggregates --------------------------------------------------------------------
    def _agg(self, name: str, distinct: bool = False) -> "Expr":
        return Expr(_sluice.aggregate(name, [self._e], distinct))

    def sum(self) -> "Expr":
        """The sum over the group: ``frame.group_by("k").agg(sl.col("v").sum())``.

        >>> orders.group_by("country").agg(sl.col("amount").sum())
        """
        return self._agg("sum")

    def mean(self) -> "Expr":
        """The average over the group.

        >>> orders.group_by("country").agg(sl.col("amount").mean().alias("avg"))
        """
        return self._agg("avg")

    def min(self) -> "Expr":
        """The smallest value of the group.

        >>> orders.agg(sl.col("order_date").min())
        """
        return self._agg("min")

    def max(self) -> "Expr":
        """The largest value of the group.

        >>> orders.agg(sl.col("order_date").max())
        """
        return self._agg("max")

    def count(self) -> "Expr":
        """The number of non-NULL values of the group.

        >>> users.agg(sl.col("email").count().alias("with_email"))
        """
        return self._agg("count")

    def n_unique(self) -> "Expr":
        """The number of distinct non-NULL values of the group.

        >>> orders.agg(sl.col("user_id").n_unique().alias("customers"))
        """
        return self._agg("count", distinct=True)

    def median(self) -> "Expr":
        """The median of the group.

        >>> orders.group_by("country").agg(sl.col("amount").median())
        """
        return self._agg("median")

    def std(self) -> "Expr":
        """The sample standard deviation of the group.

        >>> orders.agg(sl.col("amount").std())
        """
        return self._agg("stddev")

    def var(self) -> "Expr":
        """The sample variance of the group.

        >>> orders.agg(sl.col("amount").var())
        """
        return self._agg("variance")

    def first(self) -> "Expr":
        """The group's first value (in input order).

        >>> events.group_by("user").agg(sl.col("page").first())
        """
        return self._agg("first")

    def last(self) -> "Expr":
        """The group's last value (in input order).

        >>> events.group_by("user").agg(sl.col("page").last())
        """
        return self._agg("last")

    # ---- namespaces --------------------------------------------------------------------
    @property
    def str(self) -> "StringMethods":
        """String functions: ``sl.col("name").str.lower()``.

        >>> sl.col("name").str.upper()
        """
        return StringMethods(self)

    @property
    def dt(self) -> "DateTimeMethods":
        """Date and time functions: ``sl.col("ts").dt.year()``.

        >>> sl.col("ts").dt.truncate("hour")
        """
        return DateTimeMethods(self)


class StringMethods:
    """``Expr.str``: functions of strings."""

    def __init__(self, e: Expr):
        self._x = e._e

    def _call(self, name: str, *args: Any) -> Expr:
        return Expr(_sluice.call(name, [self._x, *[_operand(a) for a in args]]))

    def lower(self) -> Expr:
        """Lower case: ``sl.col("city").str.lower()``."""
        return self._call("lower")

    def upper(self) -> Expr:
        """Upper case."""
        return self._call("upper")

    def len_chars(self) -> Expr:
        """The length in characters."""
        return self._call("length")

    def strip(self) -> Expr:
        """Without leading and trailing spaces."""
        return self._call("trim")

    def contains(self, substring: str) -> Expr:
        """True where the string contains ``substring`` (literally, not a pattern)."""
        return self._call("contains", substring)

    def starts_with(self, prefix: str) -> Expr:
        """True where the string starts with ``prefix``."""
        return self._call("starts_with", prefix)

    def ends_with(self, suffix: str) -> Expr:
        """True where the string ends with ``suffix``."""
        return self._call("ends_with", suffix)

    def replace(self, old: str, new: str) -> Expr:
        """Every occurrence of ``old`` replaced by ``new``."""
        return self._call("replace", old, new)

    def slice(self, offset: int, length: int | None = None) -> Expr:
        """``length`` characters from ``offset`` (0-based, as in Python and Polars)."""
        if offset >= 0:
            x, start = self._x, offset + 1
        else:  # from the end, as Python and Polars count: the last -offset characters
            x = _sluice.call("reverse", [_sluice.call("substr", [
                _sluice.call("reverse", [self._x]), _sluice.lit(1), _sluice.lit(-offset)])])
            start = 1
        if length is None:
            return Expr(_sluice.call("substr", [x, _sluice.lit(start)]))
        return Expr(_sluice.call("substr", [x, _sluice.lit(start), _sluice.lit(length)]))

    def like(self, pattern: str) -> Expr:
        """SQL LIKE: ``%`` any characters, ``_`` one."""
        return Expr(self._x.like(pattern))


class DateTimeMethods:
    """``Expr.dt``: functions of dates and timestamps."""

    def __init__(self, e: Expr):
        self._x = e._e

    def _part(self, field: str) -> Expr:
        return Expr(_sluice.call("date_part", [_sluice.lit(field), self._x]))

    def year(self) -> Expr:
        """The year: ``sl.col("order_date").dt.year()``."""
        return self._part("year")

    def month(self) -> Expr:
        """The month, 1 to 12."""
        return self._part("month")

    def day(self) -> Expr:
        """The day of the month."""
        return self._part("day")

    def hour(self) -> Expr:
        """The hour, 0 to 23."""
        return self._part("hour")

    def minute(self) -> Expr:
        """The minute."""
        return self._part("minute")

    def second(self) -> Expr:
        """The second."""
        return self._part("second")

    def weekday(self) -> Expr:
        """The ISO day of the week, Monday 1 to Sunday 7."""
        return self._part("isodow")

    def truncate(self, unit: str) -> Expr:
        """Rounded down to a unit (year, quarter, month, week, day, hour, minute, second)."""
        return Expr(_sluice.call("date_trunc", [_sluice.lit(unit), self._x]))

    def strftime(self, format: str) -> Expr:
        """Formatted as text with a strftime format: ``.dt.strftime("%Y-%m")``."""
        return Expr(_sluice.call("strftime", [self._x, _sluice.lit(format)]))


def col(name: str) -> Expr:
    """The column ``name``: ``sl.col("price")``.

    >>> sl.col("price") * 1.2
    """
    return Expr(_sluice.col(name))


def lit(value: Any, dtype: Any = None) -> Expr:
    """A literal value: ``sl.lit(3)``, ``sl.lit("text")``, ``sl.lit(None, "date")``.

    >>> sl.lit(dt.date(2024, 1, 1)), sl.lit(None, "bigint")
    """
    e = _literal(value)
    if dtype is not None:
        e = e.cast(_type_name(dtype))
    return Expr(e)


class _When:
    def __init__(self, branches, condition):
        self._branches = branches
        self._condition = condition

    def then(self, value: Any) -> "_Then":
        return _Then(self._branches + [(self._condition, _operand(value))])


class _Then:
    def __init__(self, branches):
        self._branches = branches

    def when(self, condition: Expr) -> _When:
        return _When(self._branches, to_expr(condition))

    def otherwise(self, value: Any) -> Expr:
        return Expr(_sluice.case_when(self._branches, _operand(value)))

    def end(self) -> Expr:
        """No ``otherwise``: NULL where no condition holds."""
        return Expr(_sluice.case_when(self._branches, None))


def when(condition: Expr) -> _When:
    """``sl.when(cond).then(a).when(cond2).then(b).otherwise(c)`` (SQL CASE WHEN).

    >>> sl.when(sl.col("amount") > 100).then("big").otherwise("small")
    """
    return _When([], to_expr(condition))


def coalesce(*exprs: Any) -> Expr:
    """The first non-NULL argument (strings are column names).

    >>> sl.coalesce("nickname", "first_name", sl.lit("?"))
    """
    return Expr(_sluice.call("coalesce", [to_expr(e) for e in exprs]))


def concat(*exprs: Any) -> Expr:
    """The strings joined (strings are column names; ``sl.lit("-")`` for text).

    >>> sl.concat("first_name", sl.lit(" "), "last_name")
    """
    return Expr(_sluice.call("concat", [to_expr(e) for e in exprs]))


def count(column: str | Expr | None = None) -> Expr:
    """``count()``: rows of the group; ``count("x")``: its non-NULL values of x.

    >>> orders.group_by("country").agg(sl.count().alias("orders"))
    """
    if column is None:
        return Expr(_sluice.count_star()).alias("count")
    return Expr(_sluice.aggregate("count", [to_expr(column)], False))


def sum(column: str | Expr) -> Expr:  # noqa: A001 - the name users know
    """``sum("x")``: the sum of x over the group.

    >>> orders.agg(sl.sum("amount"))
    """
    return Expr(to_expr(column)).sum()


def mean(column: str | Expr) -> Expr:
    """The average of a column over the group.

    >>> orders.agg(sl.mean("amount"))
    """
    return Expr(to_expr(column)).mean()


def min(column: str | Expr) -> Expr:  # noqa: A001
    """The smallest value of a column over the group.

    >>> orders.agg(sl.min("amount"))
    """
    return Expr(to_expr(column)).min()


def max(column: str | Expr) -> Expr:  # noqa: A001
    """The largest value of a column over the group.

    >>> orders.agg(sl.max("amount"))
    """
    return Expr(to_expr(column)).max()


def median(column: str | Expr) -> Expr:
    """The median of a column over the group.

    >>> orders.agg(sl.median("amount"))
    """
    return Expr(to_expr(column)).median()


def all_() -> Expr:
    """Every column (``*``).

    >>> orders.select(sl.all_())
    """
    return col("*")


def function(name: str, *args: Any) -> Expr:
    """Any SQL scalar function by its name (docs/sql.md), arguments being expressions
    or column names: ``sl.function("greatest", "a", "b")``.

    >>> sl.function("greatest", "a", "b")
    """
    return Expr(_sluice.call(name, [to_expr(a) for a in args]))


def from_epoch(column: str | Expr) -> Expr:
    """Seconds since 1970-01-01 UTC as a timestamp with time zone (SQL to_timestamp).

    >>> sl.from_epoch("created_unix").alias("created_at")
    """
    return Expr(_sluice.call("to_timestamp", [to_expr(column)]))


# ---- window functions (Frame.window) ------------------------------------------------
def _window_call(name: str, *args: Any) -> Expr:
    return Expr(_sluice.call(name, list(args)))


def row_number() -> Expr:
    """1, 2, 3, ... within the partition, in window order (``Frame.window``).

    >>> f.window(sl.row_number().alias("rn"), partition_by="user", order_by="ts")
    """
    return _window_call("row_number")


def rank() -> Expr:
    """The rank within the partition, with gaps after ties (``Frame.window``).

    >>> scores.window(sl.rank().alias("place"), order_by="points", descending=True)
    """
    return _window_call("rank")


def dense_rank() -> Expr:
    """The rank within the partition, without gaps (``Frame.window``).

    >>> scores.window(sl.dense_rank().alias("place"), order_by="points", descending=True)
    """
    return _window_call("dense_rank")


def percent_rank() -> Expr:
    """(rank - 1) / (rows in the partition - 1) (``Frame.window``).

    >>> scores.window(sl.percent_rank().alias("pct"), order_by="points")
    """
    return _window_call("percent_rank")


def cume_dist() -> Expr:
    """The fraction of the partition's rows up to the row's last peer (``Frame.window``).

    >>> scores.window(sl.cume_dist().alias("cd"), order_by="points")
    """
    return _window_call("cume_dist")


def ntile(n: int) -> Expr:
    """The bucket, 1 to n, of n about equal buckets of the partition (``Frame.window``).

    >>> scores.window(sl.ntile(4).alias("quartile"), order_by="points")
    """
    return _window_call("ntile", _sluice.lit(n))


def lag(column: str | Expr, n: int = 1, default: Any = None) -> Expr:
    """The value ``n`` rows before in the partition, or ``default`` (``Frame.window``).

    >>> f.window(sl.lag("price").alias("previous"), partition_by="item", order_by="ts")
    """
    args = [to_expr(column), _sluice.lit(n)]
    if default is not None:
        args.append(_operand(default))
    return _window_call("lag", *args)


def lead(column: str | Expr, n: int = 1, default: Any = None) -> Expr:
    """The value ``n`` rows after in the partition, or ``default`` (``Frame.window``).

    >>> events.window(sl.lead("ts").alias("next_ts"), partition_by="user", order_by="ts")
    """
    args = [to_expr(column), _sluice.lit(n)]
    if default is not None:
        args.append(_operand(default))
    return _window_call("lead", *args)


def first_value(column: str | Expr) -> Expr:
    """The first value of the row's frame (``Frame.window``).

    >>> events.window(sl.first_value("page").alias("entry"), partition_by="user", order_by="ts")
    """
    return _window_call("first_value", to_expr(column))


def last_value(column: str | Expr) -> Expr:
    """The last value of the row's frame (``Frame.window``).

    >>> events.window(sl.last_value("page").alias("exit"), partition_by="user", order_by="ts", frame=("rows", None, None))
    """
    return _window_call("last_value", to_expr(column))


def nth_value(column: str | Expr, n: int) -> Expr:
    """The n-th value (from 1) of the row's frame (``Frame.window``).

    >>> events.window(sl.nth_value("page", 2).alias("second"), partition_by="user", order_by="ts", frame=("rows", None, None))
    """
    return _window_call("nth_value", to_expr(column), _sluice.lit(n))
