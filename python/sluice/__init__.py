"""Sluice: a batch and stream data engine in C++, from Python.

>>> import sluice as sl
>>> orders = sl.read_parquet("orders.parquet")
>>> report = (orders.filter(sl.col("status") == "completed")
...           .group_by("country")
...           .agg(sl.col("amount").sum().alias("revenue"))
...           .sort("revenue", descending=True))
>>> report.collect()  # a pyarrow.Table

Data crosses as Arrow without copies. See docs/python.md.
"""
# pyarrow first: it loads the libarrow the engine is linked against.
import pyarrow as _pyarrow  # noqa: F401

from . import _sluice
from ._expr import (Expr, all_, coalesce, col, concat, count, cume_dist, dense_rank,
                    first_value, from_epoch, function, lag, last_value, lead, lit, max,
                    mean, median, min, nth_value, ntile, percent_rank, rank, row_number,
                    sum, when)
from ._frame import Frame, GroupBy
from ._session import Session, default_session
from ._stream import Job
from ._udf import Function, udf

SluiceError = _sluice.SluiceError
SluiceError.__doc__ = """An engine error: its message names the place (file:line, the
position in SQL) and the reason.

>>> try:
...     sl.read_csv("users.csv", dtypes={"id": "bigint"}).collect()
... except sl.SluiceError as e:
...     print(e)  # ... users.csv:17: ...
"""
SluiceError.__module__ = "sluice"

__all__ = [
    "Expr", "Frame", "Function", "GroupBy", "Job", "Session", "SluiceError", "all_",
    "coalesce", "col", "udf", "nexmark", "ecommerce", "read_kafka",
    "concat", "count", "default_session", "from_arrow", "from_epoch", "from_pandas",
    "function", "lit", "max", "row_number", "rank", "dense_rank", "percent_rank",
    "cume_dist", "ntile", "lag", "lead", "first_value", "last_value", "nth_value",
    "mean", "median", "min", "read_csv", "read_json", "read_parquet", "register", "sql",
    "sum", "when",
]


def read_parquet(path, **options) -> Frame:
    """Parquet files in the default session (:meth:`Session.read_parquet`).

    >>> sl.read_parquet("orders/*.parquet")
    """
    return default_session().read_parquet(path, **options)


def read_csv(path, **options) -> Frame:
    """CSV files in the default session (:meth:`Session.read_csv`).

    >>> sl.read_csv("users.csv", on_error="reject")
    """
    return default_session().read_csv(path, **options)


def read_json(path, **options) -> Frame:
    """JSON lines files in the default session (:meth:`Session.read_json`).

    >>> sl.read_json("events.jsonl.gz")
    """
    return default_session().read_json(path, **options)


def from_arrow(data, name=None) -> Frame:
    """Arrow-like data as a frame in the default session (:meth:`Session.from_arrow`).

    >>> sl.from_arrow(pa.table({"x": [1, 2, 3]})).count()
    """
    return default_session().from_arrow(data, name)


def from_pandas(df, name=None) -> Frame:
    """A pandas DataFrame as a frame in the default session.

    >>> sl.from_pandas(pd.DataFrame({"x": [1, 2]}))
    """
    return default_session().from_pandas(df, name)


def register(name, data) -> None:
    """Names a frame or Arrow-like data for :func:`sql` in the default session.

    >>> sl.register("orders", pa.table({"id": [1]})); sl.sql("SELECT * FROM orders")
    """
    default_session().register(name, data)


def sql(query, **frames) -> Frame:
    """A SQL query in the default session (:meth:`Session.sql`).

    >>> sl.sql("SELECT count(*) FROM read_parquet('orders.parquet')").collect()
    """
    return default_session().sql(query, **frames)


def nexmark(table="bid", **options) -> Frame:
    """Nexmark events as a stream in the default session (:meth:`Session.nexmark`).

    >>> bids = sl.nexmark("bid", events=1_000_000)
    """
    return default_session().nexmark(table, **options)


def ecommerce(table="orders", **options) -> Frame:
    """E-commerce orders as a stream in the default session (:meth:`Session.ecommerce`).

    >>> orders = sl.ecommerce("orders", scale=0.01)
    """
    return default_session().ecommerce(table, **options)


def read_kafka(topic, **options) -> Frame:
    """A Kafka topic as a stream in the default session (:meth:`Session.read_kafka`).

    >>> sl.read_kafka("clicks", brokers="127.0.0.1:9092", columns={"user": "bigint"})
    """
    return default_session().read_kafka(topic, **options)
