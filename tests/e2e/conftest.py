"""Fixtures for the CLI end-to-end tests: generated data sets, shared per session."""

from __future__ import annotations

import duckdb
import pytest


@pytest.fixture(scope="session")
def ecommerce_small(sluice, tmp_path_factory):
    """`sluice generate ecommerce --scale 0.01` (100K orders, 5K users, 200 products)."""
    out = tmp_path_factory.mktemp("ecommerce_small")
    r = sluice.cli(["generate", "ecommerce", "--scale", "0.01", "--out", out, "-q"])
    assert r.returncode == 0, r.describe()
    return out


@pytest.fixture(scope="session")
def ecommerce_big(sluice, tmp_path_factory):
    """3M orders: big enough that a sort + Parquet write takes seconds."""
    out = tmp_path_factory.mktemp("ecommerce_big")
    r = sluice.cli(["generate", "ecommerce", "--scale", "0.3", "--out", out, "-q"], timeout=300)
    assert r.returncode == 0, r.describe()
    return out


@pytest.fixture
def duck():
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    yield con
    con.close()
