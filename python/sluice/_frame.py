"""Lazy frames: a query that runs when its result is asked for."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

import pyarrow as pa

from . import _sluice
from ._expr import Expr, to_expr

if TYPE_CHECKING:  # pragma: no cover
    import pandas
    import polars

    from ._session import Session
    from ._stream import Job

__all__ = ["Frame", "GroupBy"]


def _exprs(items: Iterable[Any], named: Mapping[str, Any] | None = None) -> list:
    out = []
    for item in items:
        if isinstance(item, (list, tuple)):
            out.extend(to_expr(x) for x in item)
        else:
            out.append(to_expr(item))
    for name, value in (named or {}).items():
        out.append(to_expr(value).alias(name))
    return out


def _bound(value: Any, start: bool) -> tuple:
    import datetime as dt

    if value is None:
        return ("unbounded_preceding" if start else "unbounded_following", None)
    if isinstance(value, dt.timedelta):
        micros = (value.days * 86400 + value.seconds) * 1_000_000 + value.microseconds
        if micros == 0:
            return ("current", None)
        return ("preceding" if micros < 0 else "following", ("duration_us", abs(micros)))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"window frame bound: None, a number or a timedelta, not {value!r}")
    if value == 0:
        return ("current", None)
    return ("preceding" if value < 0 else "following", abs(value))


def _frame_spec(frame: tuple | None):
    if frame is None:
        return None
    if len(frame) != 3 or frame[0] not in ("rows", "range"):
        raise ValueError('window frame: ("rows" | "range", start, end)')
    start, end = _bound(frame[1], True), _bound(frame[2], False)
    return (frame[0], start[0], start[1], end[0], end[1])


def _stream_to_table(capsule) -> pa.Table:
    # The engine's batches as they are: no copy (the same libarrow on both sides).
    return pa.RecordBatchReader._import_from_c_capsule(capsule).read_all()


class Frame:
    """A lazy query over tables: methods build a bigger query, actions run it.

    Build one with :func:`sluice.read_parquet`, :func:`sluice.read_csv`,
    :func:`sluice.from_arrow`, :func:`sluice.sql`, ... Methods (``filter``, ``select``,
    ``join``, ...) return a new frame and read nothing; ``collect()``, ``to_pandas()``,
    ``write_parquet()``, ``count()`` and ``explain(analyze=True)`` run it.

    >>> import sluice as sl
    >>> orders = sl.read_parquet("orders.parquet")
    >>> big = orders.filter(sl.col("amount") > 100).select("order_id", "amount")
    >>> table = big.collect()  # a pyarrow.Table

    Frames implement ``__arrow_c_stream__``: ``pa.table(frame)``,
    ``pl.from_arrow(frame)`` and ``duckdb.sql("select * from frame")`` run the query and
    take its rows without copying them.
    """

    __slots__ = ("_f", "_session")

    def __init__(self, f: _sluice.Frame, session: "Session"):
        self._f = f
        self._session = session

    def _wrap(self, f: _sluice.Frame) -> "Frame":
        return Frame(f, self._session)

    def _check(self) -> "Frame":
        error = self._f.error()
        if error is not None:
            raise _sluice.SluiceError(error)
        return self

    # ---- schema ------------------------------------------------------------------------
    @property
    def schema(self) -> pa.Schema:
        """The result's columns and types (no data is read).

        >>> sl.read_parquet("orders.parquet").schema
        """
        return pa.Schema._import_from_c_capsule(self._f.schema())

    @property
    def columns(self) -> list[str]:
        """The result's column names.

        >>> sl.read_parquet("orders.parquet").columns
        """
        return self.schema.names

    def __repr__(self) -> str:
        error = self._f.error()
        if error is not None:
            return f"<sluice.Frame in error: {error}>"
        cols = ", ".join(f"{f.name}: {f.type}" for f in self.schema)
        return f"<sluice.Frame [{cols}]>"

    # ---- building ----------------------------------------------------------------------
    def filter(self, *predicates: Expr) -> "Frame":
        """Rows where every predicate holds: ``frame.filter(sl.col("qty") > 0)``.

        >>> orders.filter(sl.col("amount") > 100, sl.col("status") == "paid")
        """
        if not predicates:
            raise TypeError("filter: at least one predicate")
        f = self._f
        for p in predicates:
            f = f.filter(to_expr(p))
        return self._check_wrap(f)

    def select(self, *exprs: Any, **named: Any) -> "Frame":
        """These columns or expressions only: ``frame.select("id", (sl.col("a") + 1).alias("b"))``.

        Strings are column names; keyword arguments name expressions
        (``select(total=sl.col("a") + sl.col("b"))``).

        >>> orders.select("id", (sl.col("qty") * sl.col("price")).alias("total"))
        """
        return self._check_wrap(self._f.select(_exprs(exprs, named)))

    def with_columns(self, *exprs: Any, **named: Any) -> "Frame":
        """All columns plus these (an expression named like a column replaces it).

        >>> frame.with_columns((sl.col("price") * 1.2).alias("gross"), vat=sl.lit(0.2))
        """
        return self._check_wrap(self._f.with_columns(_exprs(exprs, named)))

    def drop(self, *columns: str) -> "Frame":
        """Without these columns.

        >>> users.drop("password_hash")
        """
        return self._check_wrap(self._f.drop(list(columns)))

    def rename(self, mapping: Mapping[str, str]) -> "Frame":
        """Columns renamed: ``frame.rename({"old": "new"})``.

        >>> users.rename({"uid": "user_id"})
        """
        return self._check_wrap(self._f.rename(list(mapping.items())))

    def group_by(self, *keys: Any) -> "GroupBy":
        """Groups by keys (column names or expressions), for ``.agg(...)``.

        >>> frame.group_by("country").agg(sl.col("amount").sum().alias("revenue"), sl.count())
        """
        return GroupBy(self, _exprs(keys))

    def agg(self, *aggregates: Any, **named: Any) -> "Frame":
        """The whole frame aggregated into one row: ``frame.agg(sl.col("x").max())``.

        >>> orders.agg(sl.count().alias("orders"), sl.col("amount").sum())
        """
        return self._check_wrap(self._f.agg(_exprs(aggregates, named)))

    def join(self, other: "Frame", on: str | Sequence[str] | None = None, *,
             left_on: Any = None, right_on: Any = None, how: str = "inner",
             condition: Expr | None = None) -> "Frame":
        """Joins with another frame of the same session.

        ``on``: columns of the same name on both sides (kept once, as SQL's USING);
        ``left_on``/``right_on``: key columns or expressions of each side (all columns
        kept; clashing right names get the suffix ``_right``). ``how``: inner, left,
        right, full, semi, anti or cross. ``condition``: a further predicate over both
        sides' columns (right names as they come out, suffix included); over two
        streams a condition bounding their event times makes an interval join.

        >>> orders.join(customers, on="customer_id", how="left")
        >>> counts.join(best, on="window_start", condition=sl.col("num") >= sl.col("maxn"))
        """
        if not isinstance(other, Frame):
            raise TypeError(f"join: a sluice.Frame, not {type(other).__name__}")
        if other._session is not self._session:
            raise ValueError("join: both frames must belong to the same session")
        cond = None if condition is None else to_expr(condition)
        if how == "cross":
            if on is not None or left_on is not None or right_on is not None:
                raise TypeError("join: a cross join takes no keys")
            return self._cross_join(other, cond)
        if on is not None:
            if left_on is not None or right_on is not None:
                raise TypeError("join: give on, or left_on and right_on, not both")
            names = [on] if isinstance(on, str) else list(on)
            return self._check_wrap(self._f.join_on(other._f, names, how, cond))
        if left_on is None or right_on is None:
            raise TypeError("join: give on, or left_on and right_on")
        lk = _exprs([left_on]) if not isinstance(left_on, (list, tuple)) else _exprs(left_on)
        rk = _exprs([right_on]) if not isinstance(right_on, (list, tuple)) else _exprs(right_on)
        if len(lk) != len(rk):
            raise ValueError("join: left_on and right_on need as many keys")
        return self._check_wrap(self._f.join_exprs(other._f, lk, rk, how, cond))

    def _cross_join(self, other: "Frame", condition) -> "Frame":
        # Every pair of rows, through SQL (the frame join needs keys); clashing right
        # names get the suffix _right, as in the other joins.
        from ._stream import hidden_name, sql_identifier

        left, right = hidden_name("cross_left"), hidden_name("cross_right")
        self._session._s.register(left, self._f)
        self._session._s.register(right, other._f)
        names = set(self.columns)
        cols = [f"l.{sql_identifier(c)}" for c in self.columns] + [
            f"r.{sql_identifier(c)}"
            + (f" AS {sql_identifier(c + '_right')}" if c in names else "")
            for c in other.columns]
        frame = self._session.sql(
            f"SELECT {', '.join(cols)} FROM {left} l CROSS JOIN {right} r")
        return frame.filter(Expr(condition)) if condition is not None else frame

    def sort(self, by: Any, *more_by: Any, descending: bool | Sequence[bool] = False,
             nulls_last: bool | None = None) -> "Frame":
        """Sorted by keys: ``frame.sort("country", "amount", descending=[False, True])``.

        NULLs come last in ascending order and first in descending order (as in
        PostgreSQL) unless ``nulls_last`` says otherwise.

        >>> orders.sort("country", "amount", descending=[False, True])
        """
        keys = _exprs([by, *more_by])
        desc = [descending] * len(keys) if isinstance(descending, bool) else list(descending)
        if len(desc) != len(keys):
            raise ValueError("sort: descending needs one flag per key")
        nulls_first = [None if nulls_last is None else not nulls_last] * len(keys)
        return self._check_wrap(self._f.sort(keys, desc, nulls_first))

    def limit(self, n: int, offset: int = 0) -> "Frame":
        """The first ``n`` rows (after ``offset``), in the frame's order if sorted.

        >>> orders.sort("amount", descending=True).limit(10)
        """
        return self._check_wrap(self._f.limit(n, offset))

    def head(self, n: int = 5) -> "Frame":
        """The first ``n`` rows.

        >>> orders.head(3).to_pandas()
        """
        return self.limit(n)

    def unique(self) -> "Frame":
        """Distinct rows.

        >>> orders.select("country").unique()
        """
        return self._check_wrap(self._f.distinct())

    def union(self, other: "Frame", *, distinct: bool = False) -> "Frame":
        """The rows of both frames (names from this one); ``distinct`` drops duplicates.

        >>> jan.union(feb)
        """
        if not isinstance(other, Frame) or other._session is not self._session:
            raise ValueError("union: a sluice.Frame of the same session")
        return self._check_wrap(self._f.union(other._f, not distinct))

    def window(self, *functions: Expr, partition_by: Any = None, order_by: Any = None,
               descending: bool | Sequence[bool] = False, nulls_last: bool | None = None,
               frame: tuple | None = None) -> "Frame":
        """Window functions (SQL's OVER): every column, then one per function.

        Functions: :func:`row_number`, :func:`rank`, :func:`dense_rank`,
        :func:`percent_rank`, :func:`cume_dist`, :func:`ntile`, :func:`lag`,
        :func:`lead`, :func:`first_value`, :func:`last_value`, :func:`nth_value`, and the
        aggregates (``sl.col("v").sum()``, ``.mean()``, ``.min()``, ``.max()``,
        ``.count()``, ``sl.count()``), each named by ``.alias``.

        ``frame``: ``("rows" | "range", start, end)`` with None for unbounded, 0 for the
        current row, ``-n`` for n preceding and ``n`` for n following (a ``timedelta``
        for a range over a timestamp); SQL's default frame when absent.

        >>> sales.window(sl.row_number().alias("rn"),
        ...              sl.col("amount").sum().alias("running"),
        ...              partition_by="region", order_by="day")
        >>> prices.window(sl.col("price").mean().alias("avg3"), partition_by="item",
        ...               order_by="ts", frame=("rows", -2, 0))
        """
        if not functions:
            raise TypeError("window: at least one function")
        parts = [] if partition_by is None else _exprs(
            [partition_by] if not isinstance(partition_by, (list, tuple)) else partition_by)
        keys = [] if order_by is None else _exprs(
            [order_by] if not isinstance(order_by, (list, tuple)) else order_by)
        desc = [descending] * len(keys) if isinstance(descending, bool) else list(descending)
        if len(desc) != len(keys):
            raise ValueError("window: descending needs one flag per order_by key")
        nulls_first = [None if nulls_last is None else not nulls_last] * len(keys)
        return self._check_wrap(self._f.window(
            [to_expr(f) for f in functions], parts, keys, desc, nulls_first,
            _frame_spec(frame)))

    # ---- event-time windows --------------------------------------------------------
    def _window(self, kind: str, time_column: str, *intervals: Any,
                allowed_lateness: Any = None) -> "Frame":
        from ._stream import hidden_name, named_args, sql_identifier, sql_interval

        name = hidden_name("window_input")
        self._session._s.register(name, self._f)
        args = ", ".join(sql_interval(i) for i in intervals)
        lateness = named_args(allowed_lateness=allowed_lateness)
        return self._session.sql(
            f"SELECT * FROM {kind}({name}, {sql_identifier(time_column)}, {args}{lateness})")

    def tumble(self, time_column: str, size: Any, *, allowed_lateness: Any = None) -> "Frame":
        """Tumbling event-time windows: adds ``window_start`` and ``window_end``.

        Group by them to aggregate each window, emitted once the watermark passes its
        end (plus ``allowed_lateness``). Sizes: a timedelta, seconds, or ``"10s"``,
        ``"500ms"``, ``"1 minute"``.

        >>> bids.tumble("date_time", "10s").group_by("window_start", "auction") \
        ...     .agg(sl.count().alias("bids"))
        """
        return self._window("TUMBLE", time_column, size, allowed_lateness=allowed_lateness)

    def hop(self, time_column: str, slide: Any, size: Any, *,
            allowed_lateness: Any = None) -> "Frame":
        """Hopping windows of ``size`` every ``slide`` (SQL's HOP(t, ts, slide, size)).

        >>> bids.hop("date_time", "2s", "10s").group_by("window_start").agg(sl.count())
        """
        return self._window("HOP", time_column, slide, size, allowed_lateness=allowed_lateness)

    def session(self, time_column: str, gap: Any, *, allowed_lateness: Any = None) -> "Frame":
        """Session windows: a key's rows each less than ``gap`` after the previous one
        (group by the key and ``window_start``/``window_end``).

        >>> bids.session("date_time", "5s").group_by("bidder", "window_start").agg(sl.count())
        """
        return self._window("SESSION", time_column, gap, allowed_lateness=allowed_lateness)

    # ---- sinks that run in the background -----------------------------------------
    def start(self, target: str, *, format: str | None = None, brokers: str | None = None,
              key: str | None = None, value_format: str | None = None,
              roll_rows: int | None = None, roll_interval: Any = None,
              compression: str | None = None,
              partition_by: str | Sequence[str] | None = None) -> "Job":
        """Starts the query into a sink and returns at once with a :class:`Job`.

        ``target`` is a file or directory (format from ``format`` or the extension;
        ``roll_rows``/``roll_interval`` roll part files of a stream into a directory, each
        published when finished) or, with ``format="kafka"``, a topic (``brokers``,
        ``key``: the column whose text keys messages, ``value_format``: json or csv).

        >>> job = counts.start("out/counts/", format="parquet", roll_interval="1 minute")
        >>> job = counts.start("counts", format="kafka", brokers="127.0.0.1:9092", key="auction")
        """
        from ._stream import Job, hidden_name, sql_identifier, sql_interval, sql_string, word

        name = hidden_name("job_input")
        self._session._s.register(name, self._f)
        # COPY's options, each given one written as SQL takes it.
        given = [
            ("FORMAT", format, lambda v: word(v, "format")),
            ("BROKERS", brokers, sql_string),
            ("KEY", key, sql_string),
            ("VALUE_FORMAT", value_format, lambda v: word(v, "value_format")),
            ("ROLL_ROWS", roll_rows, lambda v: str(int(v))),
            ("ROLL_INTERVAL", roll_interval, lambda v: sql_interval(v)[len("INTERVAL "):]),
            ("COMPRESSION", compression, lambda v: word(v, "compression")),
        ]
        opts = [f"{name} {write(value)}" for name, value, write in given if value is not None]
        if partition_by:
            parts = [partition_by] if isinstance(partition_by, str) else list(partition_by)
            opts.append("PARTITION_BY (" + ", ".join(sql_identifier(p) for p in parts) + ")")
        statement = f"COPY (SELECT * FROM {name}) TO {sql_string(str(target))}"
        if opts:
            statement += " (" + ", ".join(opts) + ")"
        return Job(self._session._s.start(statement))

    def run(self, target: str, **options: Any) -> int:
        """Runs the query into a sink until its input ends (:meth:`start`'s options),
        returning the rows written. Ctrl-C stops a stream gracefully (the input ends
        there, everything drains and is published) and raises KeyboardInterrupt.

        >>> counts.run("out/counts/", format="parquet", roll_rows=100_000)
        """
        return self.start(target, **options).wait()

    def write_kafka(self, topic: str, *, brokers: str, key: str | None = None,
                    value_format: str = "json") -> int:
        """Runs the query into a Kafka topic (a JSON or CSV message per row, keyed by the
        text of column ``key``); every delivery is confirmed. Returns the rows written.

        >>> alerts.write_kafka("alerts", brokers="127.0.0.1:9092", key="user")
        """
        return self.run(topic, format="kafka", brokers=brokers, key=key,
                        value_format=None if value_format == "json" else value_format)

    def _check_wrap(self, f: _sluice.Frame) -> "Frame":
        # Errors surface at the method that caused them, not at collect().
        return self._wrap(f)._check()

    # ---- running -----------------------------------------------------------------------
    def collect(self) -> pa.Table:
        """Runs the query: its rows as a ``pyarrow.Table`` (the engine's buffers, not a copy).

        Ctrl-C stops the query and raises KeyboardInterrupt.

        >>> table = orders.filter(sl.col("amount") > 0).collect()
        """
        return _stream_to_table(self._f.collect())

    def to_arrow(self) -> pa.Table:
        """Same as :meth:`collect`.

        >>> orders.to_arrow().num_rows
        """
        return self.collect()

    def to_pandas(self, **kwargs: Any) -> "pandas.DataFrame":
        """Runs the query into a pandas DataFrame (``pyarrow.Table.to_pandas`` options).

        >>> df = orders.to_pandas()
        """
        return self.collect().to_pandas(**kwargs)

    def to_polars(self) -> "polars.DataFrame":
        """Runs the query into a Polars DataFrame.

        >>> df = orders.to_polars()
        """
        import polars as pl

        return pl.from_arrow(self.collect())

    def count(self) -> int:
        """Runs the query: its number of rows.

        >>> orders.filter(sl.col("status") == "paid").count()
        """
        return self._f.count()

    def __arrow_c_stream__(self, requested_schema: Any = None):
        """The Arrow PyCapsule stream protocol: runs the query, hands over its batches."""
        return self._f.collect()

    def explain(self, analyze: bool = False) -> str:
        """The logical, optimized and physical plans; ``analyze=True`` runs the query and
        shows rows, time and memory per operator.

        >>> print(orders.group_by("country").agg(sl.count()).explain(analyze=True))
        """
        return self._f.explain(analyze)

    def show(self, n: int = 20) -> None:
        """Runs the query and prints up to ``n`` rows as a table.

        >>> orders.show(5)
        """
        print(self._f.to_string(n))

    def _write(self, fmt: str, path: str, partition_by, compression, row_group_rows,
               header, delimiter) -> int:
        parts = [partition_by] if isinstance(partition_by, str) else list(partition_by or [])
        return self._f.write(fmt, str(path), parts, compression, row_group_rows, header,
                             delimiter)

    def write_parquet(self, path: str, *, partition_by: str | Sequence[str] | None = None,
                      compression: str = "snappy", row_group_rows: int = 1 << 20) -> int:
        """Runs the query into Parquet; returns the rows written.

        A path ending in ``/`` (or ``partition_by``) is a directory of part files. Files
        appear under their names only when the whole write succeeded.

        >>> orders.write_parquet("out/orders/", partition_by="country")
        """
        return self._write("parquet", path, partition_by, compression, row_group_rows,
                           True, ",")

    def write_csv(self, path: str, *, partition_by: str | Sequence[str] | None = None,
                  header: bool = True, delimiter: str = ",") -> int:
        """Runs the query into CSV; returns the rows written.

        >>> orders.write_csv("out/orders.csv", delimiter=";")
        """
        return self._write("csv", path, partition_by, "none", 1 << 20, header, delimiter)

    def write_json(self, path: str, *,
                   partition_by: str | Sequence[str] | None = None) -> int:
        """Runs the query into JSON lines (one object per row); returns the rows written.

        >>> orders.write_json("out/orders.jsonl")
        """
        return self._write("json", path, partition_by, "none", 1 << 20, True, ",")


class GroupBy:
    """``frame.group_by(keys)``: call ``.agg(...)`` to aggregate each group.

    >>> orders.group_by("country").agg(sl.count())
    """

    def __init__(self, frame: Frame, keys: list):
        self._frame = frame
        self._keys = keys

    def agg(self, *aggregates: Any, **named: Any) -> Frame:
        """One row per group: the keys, then the aggregates.

        >>> sales.group_by("region").agg(sl.col("amount").sum().alias("total"), n=sl.count())
        """
        f = self._frame
        return f._check_wrap(f._f.group_agg(self._keys, _exprs(aggregates, named)))
