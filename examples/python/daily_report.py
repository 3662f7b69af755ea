"""The nightly e-commerce report of examples/ecommerce/daily_report.yaml, in Python.

    .venv/bin/python examples/python/daily_report.py --data data/ecommerce-0.1 --out out/py_report

The same tables as the job: completed orders joined with users and products, then
totals, top products, revenue by category and by country, new users and daily revenue,
each written as Parquet and the main ones printed. The joined orders are computed once
and kept in memory as Arrow (as the job runner keeps a step several sinks read).
"""
from __future__ import annotations

import argparse
import os
import time

import sluice as sl


def report(data: str, out: str, session: sl.Session) -> dict[str, int]:
    orders = session.read_parquet(f"{data}/orders/*.parquet")
    os.makedirs(out, exist_ok=True)
    users = session.read_csv(
        f"{data}/users.csv",
        columns={"user_id": "bigint", "signup_date": "date", "country": "varchar",
                 "user_type": "varchar"},
        on_error="reject", rejects=f"{out}/users.rejects.jsonl")
    products = session.read_parquet(f"{data}/products.parquet")

    ordered_at = sl.from_epoch("order_ts")
    completed = (orders.filter(sl.col("status") == "completed")
                 .select("order_id", "user_id", "product_id", "quantity", "amount",
                         ordered_at.alias("ordered_at"),
                         ordered_at.cast("date").alias("order_date")))
    # LEFT JOIN users: orders of users whose row was rejected stay, country unknown.
    enriched = (completed
                .join(users.select("user_id", "country", "user_type"), on="user_id",
                      how="left")
                .join(products.select("product_id", "product_name", "category"),
                      on="product_id"))
    # Several tables read it: computed once, kept as Arrow.
    enriched = session.from_arrow(enriched.collect(), "enriched")

    def avg_order_value():
        return sl.col("amount").mean().round(2).alias("avg_order_value")

    tables = {
        "totals": enriched.agg(
            sl.count().alias("orders"), sl.col("amount").sum().alias("revenue"),
            avg_order_value(), sl.col("user_id").n_unique().alias("customers")),
        "top_products": (enriched.group_by("product_id", "product_name", "category")
                         .agg(sl.count().alias("orders"),
                              sl.col("amount").sum().alias("revenue"))
                         .sort("revenue", "product_id", descending=[True, False])
                         .limit(10)),
        "by_category": (enriched.group_by("category")
                        .agg(sl.col("amount").sum().alias("revenue"),
                             sl.count().alias("orders"), avg_order_value())
                        .sort("revenue", descending=True)),
        "by_country": (enriched.group_by(sl.col("country").fill_null("unknown")
                                         .alias("country"))
                       .agg(sl.col("amount").sum().alias("revenue"),
                            sl.count().alias("orders"), avg_order_value())
                       .sort("revenue", descending=True)),
        "new_users": users.filter(sl.col("user_type") == "new").agg(
            sl.count().alias("new_users")),
        "daily_revenue": (enriched.group_by("order_date")
                          .agg(sl.count().alias("orders"),
                               sl.col("amount").sum().alias("revenue"))
                          .sort("order_date")),
    }
    written = {}
    for name, frame in tables.items():
        written[name] = frame.write_parquet(f"{out}/{name}.parquet")
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="data/ecommerce-0.1")
    parser.add_argument("--out", default="out/py_daily_report")
    parser.add_argument("--quiet", action="store_true", help="no tables printed")
    args = parser.parse_args()
    session = sl.Session()
    started = time.perf_counter()
    written = report(args.data, args.out, session)
    took = time.perf_counter() - started
    if not args.quiet:
        for name in ("totals", "top_products", "by_category", "by_country", "new_users"):
            print(f"\n{name}")
            session.read_parquet(f"{args.out}/{name}.parquet").show(10)
    rejected = sum(i["rows_rejected"] for i in session.inputs())
    print(f"\n{sum(written.values()):,} rows in {len(written)} tables, {rejected} users "
          f"rejected, {took:.2f} s -> {args.out}/")


if __name__ == "__main__":
    main()
