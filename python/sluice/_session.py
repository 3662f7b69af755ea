"""Sessions: the engine's settings and the names SQL can refer to."""
from __future__ import annotations

import os
import re
from typing import Any, Mapping, Sequence

import pyarrow as pa

from . import _sluice
from ._frame import Frame

__all__ = ["Session", "default_session"]

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)?\s*$", re.IGNORECASE)
_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def _bytes(value: int | str) -> int:
    if isinstance(value, int):
        return value
    m = _SIZE.match(value)
    if not m:
        raise ValueError(f"memory_limit: a byte count or a size such as '4GiB', not {value!r}")
    return int(float(m.group(1)) * _UNITS[(m.group(2) or "b").lower()])


def _columns(spec: Mapping[str, Any] | Sequence[tuple[str, Any]] | None) -> list:
    """{"id": "bigint", "ts": pa.timestamp("us")} as (name, SQL type) pairs."""
    from ._expr import _type_name

    if spec is None:
        return []
    items = spec.items() if isinstance(spec, Mapping) else spec
    return [(str(name), _type_name(t)) for name, t in items]


def _arrow_stream(obj: Any):
    """An "arrow_array_stream" capsule of anything Arrow-like."""
    if hasattr(obj, "__arrow_c_stream__"):
        return obj.__arrow_c_stream__()
    if hasattr(obj, "__arrow_c_array__"):  # one record batch
        return pa.Table.from_batches([pa.record_batch(obj)]).__arrow_c_stream__()
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover
        pd = None
    if pd is not None and isinstance(obj, pd.DataFrame):
        return pa.Table.from_pandas(obj, preserve_index=False).__arrow_c_stream__()
    if isinstance(obj, Mapping):
        return pa.table(obj).__arrow_c_stream__()
    raise TypeError(
        "from_arrow: an object with __arrow_c_stream__ or __arrow_c_array__ (pyarrow, "
        f"polars, pandas, duckdb), a pandas DataFrame or a dict of columns, not "
        f"{type(obj).__name__}")


class Session:
    """The engine's settings (threads, memory limit) and a catalog for :meth:`sql`.

    >>> s = sl.Session(threads=4, memory_limit="8GiB")
    >>> s.read_parquet("orders/*.parquet").count()

    Queries of one session run one at a time; the module-level functions
    (``sl.read_csv``, ``sl.sql``, ...) use a default session with every core.
    """

    def __init__(self, threads: int = 0, memory_limit: int | str = 0,
                 batch_rows: int = 65536):
        self._s = _sluice.Session.make(threads, _bytes(memory_limit), batch_rows)
        self._anonymous = 0

    def _frame(self, f: _sluice.Frame) -> Frame:
        return Frame(f, self)._check()

    def read_parquet(self, path: str | os.PathLike, *, hive_partitioning: bool = True) -> Frame:
        """Parquet files (a path, a directory or a glob), read lazily.

        >>> sl.read_parquet("data/orders/*.parquet").filter(sl.col("amount") > 0)
        """
        return self._frame(self._s.read_parquet(os.fspath(path), hive_partitioning))

    def read_csv(self, path: str | os.PathLike, *, header: bool = True,
                 delimiter: str = ",", quote: str = '"', escape: str | None = None,
                 columns: Any = None, dtypes: Any = None,
                 null_values: Sequence[str] = ("",), timestamp_format: str = "",
                 compression: str = "auto", infer_rows: int = 10000,
                 on_error: str = "fail", rejects: str | None = None) -> Frame:
        """CSV files, read lazily with the CLI's options.

        ``columns``: the whole schema in file order (``{"id": "bigint", ...}``);
        ``dtypes``: types of some columns over the inferred ones. ``on_error``: a bad
        row fails the query naming ``file:line`` (``"fail"``), is skipped (``"skip"``),
        or goes to a rejects file (``"reject"``; ``rejects`` names it).

        >>> sl.read_csv("events.csv", dtypes={"ts": "timestamp"}, on_error="reject")
        """
        return self._frame(self._s.read_csv(
            os.fspath(path), header, delimiter, quote, escape or "", _columns(columns),
            _columns(dtypes), list(null_values), timestamp_format, compression, infer_rows,
            on_error, rejects or ""))

    def read_json(self, path: str | os.PathLike, *, columns: Any = None, dtypes: Any = None,
                  compression: str = "auto", infer_rows: int = 10000,
                  on_error: str = "fail", rejects: str | None = None) -> Frame:
        """JSON lines files, read lazily (options as :meth:`read_csv`).

        >>> sl.read_json("clicks.jsonl.gz", on_error="skip")
        """
        return self._frame(self._s.read_json(
            os.fspath(path), _columns(columns), _columns(dtypes), compression, infer_rows,
            on_error, rejects or ""))

    def from_arrow(self, data: Any, name: str | None = None) -> Frame:
        """Arrow data as a frame, without copying it: anything with
        ``__arrow_c_stream__`` or ``__arrow_c_array__`` (pyarrow tables and batches,
        Polars and pandas DataFrames, DuckDB relations), or a dict of columns.

        >>> sl.from_arrow(pa.table({"x": [1, 2, 3]}))
        """
        if name is None:
            self._anonymous += 1
            name = f"arrow_{self._anonymous}"
        return self._frame(self._s.from_stream(_arrow_stream(data), name))

    def from_pandas(self, df: Any, name: str | None = None) -> Frame:
        """A pandas DataFrame as a frame (converted to Arrow once; the index is dropped).

        >>> s.from_pandas(pd.DataFrame({"a": [1, 2]}))
        """
        table = pa.Table.from_pandas(df, preserve_index=False)
        return self.from_arrow(table, name)

    def register(self, name: str, data: Any) -> None:
        """Makes a frame (or Arrow-like data) known to :meth:`sql` as ``name``.

        >>> s.register("orders", orders); s.sql("SELECT count(*) FROM orders")
        """
        frame = data if isinstance(data, Frame) else self.from_arrow(data, name)
        if frame._session is not self:
            raise ValueError("register: the frame belongs to another session")
        self._s.register(name, frame._f)

    def sql(self, query: str, **frames: Any) -> Frame:
        """A SQL query as a frame; keyword arguments name frames or Arrow-like data for it.

        >>> sl.sql("SELECT k, sum(v) FROM t GROUP BY k", t=pa.table({"k": [1], "v": [2]}))
        """
        for name, data in frames.items():
            self.register(name, data)
        return self._frame(self._s.sql(query))

    # ---- streams ---------------------------------------------------------------------
    def nexmark(self, table: str = "bid", *, events: int = 10_000_000,
                rate: int | None = None, **options: Any) -> Frame:
        """The Nexmark generator's ``person``, ``auction`` or ``bid`` events as a stream
        with event time ``date_time`` (``events=-1``: endless; ``rate``: events per
        second of wall time; other options as SQL's nexmark(), docs/sql.md).

        >>> bids = sl.nexmark("bid", events=1_000_000)
        """
        from ._stream import named_args, sql_string

        args = named_args(events=events, rate=rate, **options)
        return self.sql(f"SELECT * FROM nexmark({sql_string(table)}{args})")

    def ecommerce(self, table: str = "orders", *, scale: float = 0.1,
                  events: int | None = None, rate: int | None = None,
                  seed: int | None = None, splits: int | None = None) -> Frame:
        """The e-commerce data set's orders as a stream with event time ``order_time``
        (``events=-1``: endless, the year repeating).

        >>> s.ecommerce("orders", scale=0.01).tumble("order_time", "1h")
        """
        from ._stream import named_args, sql_string

        args = named_args(scale=scale, events=events, rate=rate, seed=seed, splits=splits)
        return self.sql(f"SELECT * FROM ecommerce({sql_string(table)}{args})")

    def read_kafka(self, topic: str, *, brokers: str, columns: Any = None,
                   start: str | None = None, stop_at: str | None = None,
                   group_id: str | None = None, value_format: str | None = None,
                   metadata: str | None = None, event_time: str | None = None,
                   watermark: Any = None, idle_timeout: Any = None,
                   on_error: str | None = None, rejects: str | None = None,
                   timeout: Any = None) -> Frame:
        """A Kafka topic as a stream (SQL's read_kafka, docs/sql.md): ``columns`` the
        messages' schema (``{"id": "bigint", "ts": "timestamp"}``), ``start``
        (earliest, latest, committed, a UTC time, ``'0:42,1:17'``), ``stop_at="end"``
        for a bounded read, ``group_id`` to commit offsets after a successful run,
        ``event_time``/``watermark`` for event time, ``on_error``/``rejects`` for bad
        messages (``rejects="kafka:dead-letters"``: a topic).

        >>> clicks = sl.read_kafka("clicks", brokers="127.0.0.1:9092",
        ...                        columns={"user": "bigint", "ts": "timestamp"},
        ...                        event_time="ts", watermark="5s")
        """
        from ._stream import named_args, sql_string

        def interval_text(v):
            from ._stream import sql_interval

            return None if v is None else sql_interval(v)[len("INTERVAL '"):-1]

        args = named_args(brokers=brokers, columns=columns, start=start, stop_at=stop_at,
                          group_id=group_id, value_format=value_format, metadata=metadata,
                          event_time=event_time, watermark=interval_text(watermark),
                          idle_timeout=interval_text(idle_timeout), on_error=on_error,
                          rejects=rejects, timeout=interval_text(timeout))
        return self.sql(f"SELECT * FROM read_kafka({sql_string(topic)}{args})")

    def inputs(self) -> list[dict]:
        """Rows read and rejected per input so far.

        >>> s.inputs()[0]["rows_rejected"]
        """
        return self._s.inputs()


_default: Session | None = None


def default_session() -> Session:
    """The session of the module-level functions (created on first use).

    >>> sl.default_session().inputs()
    """
    global _default
    if _default is None:
        _default = Session()
    return _default
