"""The e-commerce orders as a stream (connector/ecommerce_input.h): the same orders as
`sluice generate ecommerce` writes, in order with event time order_time; windows over
them and a lookup of the products table, against DuckDB over the generated files, at
one and two threads."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest

import result_compare

SCALE = 0.02  # 200,000 orders over 2025


@pytest.fixture(scope="module")
def files(sluice, tmp_path_factory):
    d = tmp_path_factory.mktemp("ecommerce")
    r = sluice.cli(["generate", "ecommerce", "--scale", SCALE, "--out", d])
    assert r.returncode == 0, r.describe()
    return d


STREAM = f"WITH o AS (SELECT * FROM ecommerce('orders', scale => {SCALE})) "


@pytest.mark.parametrize("threads", [1, 2])
def test_the_stream_is_the_files_orders(sluice, duck, files, threads):
    q = ("SELECT status, count(*) AS n, sum(amount) AS total, min(order_id) AS lo, "
         "max(order_id) AS hi, sum(user_id) AS users, min(order_ts) AS first FROM {t} "
         "GROUP BY status")
    ours = sluice.sql_ok(STREAM + q.format(t="o"), threads=threads)
    theirs = duck.sql(q.format(t=f"read_parquet('{files}/orders/*.parquet')")).to_arrow_table()
    assert result_compare.compare(ours, theirs) is None


@pytest.mark.parametrize("threads", [1, 2])
def test_hourly_revenue_per_category_from_a_lookup_of_products(sluice, duck, files, threads):
    # The stream probes the products table (a hash join built on the file), then
    # tumbling hours over order_time: no order is late.
    q = (STREAM + f", p AS (SELECT * FROM read_parquet('{files}/products.parquet')), "
         "j AS (SELECT o.order_time, o.amount, p.category FROM o JOIN p "
         "ON o.product_id = p.product_id) "
         "SELECT window_start, category, count(*) AS n, sum(amount) AS revenue "
         "FROM TUMBLE(j, order_time, INTERVAL '1' HOUR) GROUP BY window_start, category")
    r = sluice.sql(q, threads=threads)
    assert r.ok, r.cli.describe()
    assert "late rows" not in r.cli.stderr
    theirs = duck.sql(
        f"SELECT time_bucket(INTERVAL 1 HOUR, make_timestamp(o.order_ts * 1000000)) AS "
        f"window_start, p.category, count(*) AS n, sum(o.amount) AS revenue FROM "
        f"read_parquet('{files}/orders/*.parquet') o JOIN "
        f"read_parquet('{files}/products.parquet') p ON o.product_id = p.product_id "
        f"GROUP BY ALL").to_arrow_table()
    assert theirs.num_rows > 5000
    diff = result_compare.compare_keyed(duck, r.table, theirs, ["window_start", "category"])
    assert diff is None, diff


def test_endless_orders_go_on_a_year_later(sluice, tmp_path):
    out = tmp_path / "o.parquet"
    q = ("SELECT order_id, order_time FROM ecommerce('orders', scale => 0.0001, "
         "events => -1, rate => 20000)")
    p = subprocess.Popen([str(sluice.binary), "sql", "--format", "parquet", "--output",
                          str(out), q], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    time.sleep(2)
    assert p.poll() is None
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    import pyarrow.parquet as pq
    t = pq.read_table(out).sort_by("order_id")
    ids = t["order_id"].to_pylist()
    # 1,000 orders a year at this scale: the stream ran past several years, no gap.
    assert len(ids) > 3000 and ids == list(range(1, len(ids) + 1))
    years = {ts.year for ts in t["order_time"].to_pylist()}
    assert {2025, 2026, 2027} <= years, years
