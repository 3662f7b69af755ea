"""Nexmark q5 (hot items) with Python frames: the auctions with the most bids in each
hopping window of 10 s every 2 s. The same query as examples/nexmark/q5.sql.

    .venv/bin/python examples/python/nexmark_q5.py --events 1000000
    .venv/bin/python examples/python/nexmark_q5.py --events -1 --rate 100000 --out out/q5/
"""
from __future__ import annotations

import argparse

import sluice as sl


def hot_items(bids: sl.Frame) -> sl.Frame:
    counts = (bids.hop("date_time", "2s", "10s")
              .group_by("window_start", "auction")
              .agg(sl.count().alias("num")))
    best = counts.group_by("window_start").agg(sl.col("num").max().alias("maxn"))
    return (counts.join(best, on="window_start", condition=sl.col("num") >= sl.col("maxn"))
            .select("auction", "num"))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--events", type=int, default=1_000_000, help="-1: endless")
    p.add_argument("--rate", type=int, default=None, help="events per second")
    p.add_argument("--out", default=None,
                   help="a directory of rolling Parquet files (default: print the rows)")
    args = p.parse_args()
    result = hot_items(sl.nexmark("bid", events=args.events, rate=args.rate))
    if args.out:
        rows = result.run(args.out, format="parquet", roll_interval="10s")
        print(f"{rows:,} rows -> {args.out}")
    else:
        print(result.to_pandas().to_string(index=False))


if __name__ == "__main__":
    main()
