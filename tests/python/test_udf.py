"""Vectorized Python functions in frames and SQL: answers against pandas, errors that
carry the Python traceback, misuse refused."""
from __future__ import annotations

import random

import pyarrow as pa
import pyarrow.compute as pc
import pytest

import sluice as sl


@pytest.fixture(scope="module")
def table() -> pa.Table:
    rng = random.Random(3)
    n = 20_000
    return pa.table({
        "id": pa.array(range(n), pa.int64()),
        "price": pa.array([rng.uniform(1, 100) if rng.random() > 0.1 else None
                           for _ in range(n)]),
        "vat": pa.array([rng.choice([0.0, 0.07, 0.2]) for _ in range(n)]),
        "name": pa.array([rng.choice(["apple", "Pear", None, "fig"]) for _ in range(n)]),
    })


@sl.udf(return_type=pa.float64())
def gross(price, vat):
    """price * (1 + vat)"""
    return pc.multiply(price, pc.add(vat, 1.0))


@sl.udf(return_type=pa.string(), name="shout")
def _shout(s, suffix):
    return pc.binary_join_element_wise(pc.utf8_upper(s), suffix, "")


def test_udf_in_frames_matches_pandas_over_many_batches(table):
    # Small batches and two threads: the function runs many times, from two threads.
    s = sl.Session(threads=2, batch_rows=1000)
    got = (s.from_arrow(table)
           .select("id", gross("price", "vat").alias("g"), _shout("name", sl.lit("!")).alias("n"))
           .sort("id").to_pandas())
    df = table.to_pandas()
    want = df["price"] * (1 + df["vat"])
    assert got["g"].isna().equals(want.isna())
    assert ((got["g"] - want).abs().fillna(0) < 1e-9).all()
    assert [None if v != v or v is None else v for v in got["n"].tolist()] == [
        None if v is None else v.upper() + "!" for v in table.column("name").to_pylist()]


def test_udf_in_sql_and_in_filters(table):
    got = sl.sql("SELECT count(*) AS n FROM t WHERE gross(price, vat) > 50",
                 t=table).collect().column(0)[0].as_py()
    df = table.to_pandas()
    assert got == int((df["price"] * (1 + df["vat"]) > 50).sum())


def test_exception_fails_the_query_with_the_traceback(table):
    @sl.udf(return_type=pa.int64())
    def fragile(x):
        raise ZeroDivisionError("a bad row")

    with pytest.raises(sl.SluiceError) as e:
        sl.from_arrow(table).select(fragile("id")).collect()
    text = str(e.value)
    assert "Traceback" in text and "fragile" in text and "ZeroDivisionError: a bad row" in text
    # The session is fine afterwards.
    assert sl.from_arrow(table).count() == table.num_rows


def test_wrong_results_are_clear_errors(table):
    @sl.udf(return_type=pa.int64())
    def wrong_type(x):
        return pc.cast(x, pa.float64())

    @sl.udf(return_type=pa.int64())
    def too_short(x):
        return x.slice(1)

    @sl.udf(return_type=pa.int64())
    def not_arrow(x):
        return [1, 2, 3]

    f = sl.from_arrow(table)
    with pytest.raises(sl.SluiceError, match="returned double, declared int64"):
        f.select(wrong_type("id")).collect()
    with pytest.raises(sl.SluiceError, match="values for"):
        f.select(too_short("id")).collect()
    with pytest.raises(sl.SluiceError, match="not an Arrow array"):
        f.select(not_arrow("id")).collect()


def test_misuse_is_refused():
    with pytest.raises(sl.SluiceError, match="built-in"):
        sl.udf(lambda x: x, return_type=pa.int64(), name="lower")
    with pytest.raises(TypeError):
        sl.udf(lambda x: x, return_type="int64")
    with pytest.raises(sl.SluiceError, match="takes 2 arguments"):
        sl.from_arrow(pa.table({"a": [1.0]})).select(gross("a"))


def test_odd_results_and_changes_of_type_are_refused(table):
    class Odd:
        def __arrow_c_array__(self, requested_schema=None):
            return ("not", "capsules", "at all")

    @sl.udf(return_type=pa.int64())
    def odd(x):
        return Odd()

    with pytest.raises(sl.SluiceError, match="odd"):
        sl.from_arrow(table).select(odd("id")).collect()
    # The same name may take another function of the same type, not another type.
    sl.udf(lambda price, vat: pc.multiply(price, 2.0), return_type=pa.float64(), name="gross")
    with pytest.raises(ValueError, match="same type"):
        sl.udf(lambda x: x, return_type=pa.int64(), name="gross")
    sl.udf(gross.fn, return_type=pa.float64(), name="gross")  # back to the original
