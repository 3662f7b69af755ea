"""A GROUP BY without windows over an unbounded stream gives an updating result
(operators/updating_aggregate.h): the planner refuses it for sinks that take appended
rows only, and anything but a projection above it, before anything runs. Over bounded
input the same query is a batch GROUP BY. (Upserts into Kafka: test_kafka.py.)"""

from __future__ import annotations

import pytest

ENDLESS = "nexmark('bid', events => -1)"


@pytest.mark.parametrize("query, message", [
    (f"SELECT auction, count(*) AS n FROM {ENDLESS} GROUP BY auction",
     "takes appended rows only"),
    (f"SELECT count(*) AS n FROM {ENDLESS}", "takes appended rows only"),
    (f"SELECT auction, count(*) AS n FROM {ENDLESS} GROUP BY auction HAVING count(*) > 3",
     "Filter over an updating result"),
    (f"SELECT max(n) FROM (SELECT auction, count(*) AS n FROM {ENDLESS} GROUP BY auction) x",
     "Aggregate over an updating result"),
    (f"SELECT count(*) AS n FROM {ENDLESS} GROUP BY auction",
     "without all its GROUP BY columns"),
])
def test_refused_at_planning(sluice, tmp_path, query, message):
    # Planning fails at once: an endless source never starts.
    r = sluice.sql(query, timeout=30)
    assert not r.ok
    assert message in r.error, r.error
    out = tmp_path / "x.parquet"
    c = sluice.cli(["sql", "-o", out, query], timeout=30)
    assert c.returncode != 0 and message in c.stderr, c.stderr
    assert not out.exists()


def test_a_file_sink_names_itself(sluice, tmp_path):
    out = tmp_path / "counts.parquet"
    c = sluice.cli(["sql", f"COPY (SELECT auction, count(*) AS n FROM {ENDLESS} "
                           f"GROUP BY auction) TO '{out}' (FORMAT parquet)"], timeout=30)
    assert c.returncode != 0
    assert f"the file sink {out} takes appended rows only" in c.stderr, c.stderr
    assert "TUMBLE" in c.stderr and "Kafka" in c.stderr


def test_bounded_input_is_a_batch_group_by(sluice, duck):
    q = ("SELECT auction, count(*) AS n, sum(price) AS total FROM "
         "nexmark('bid', events => 100000) GROUP BY auction")
    r = sluice.sql(q)
    assert r.ok, r.cli.describe()
    assert r.table.num_rows > 100


def test_explain_shows_the_updating_aggregate(sluice):
    r = sluice.cli(["explain", f"SELECT auction, count(*) AS n FROM {ENDLESS} "
                               "GROUP BY auction"])
    assert r.returncode == 0, r.describe()
    assert "Exchange -> UpdatingAggregate" in r.stdout, r.stdout
