"""Shared pytest setup for the Python suites under tests/.

The engine under test is the `sluice` CLI binary. It is taken from $SLUICE_BIN, or else
from build/release/tools/sluice/sluice in the repository. A missing binary is an error
(every test fails loudly): a green run without an engine would be a lie.

Tests marked `long` run only with SLUICE_LONG=1 (`make test-long`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TESTS_DIR.parent

# The helper modules (sluice_cli.py, result_compare.py) live next to this file.
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

from kafka_broker import KafkaBroker  # noqa: E402
from sluice_cli import Sluice  # noqa: E402


def _binary_path() -> Path:
    env = os.environ.get("SLUICE_BIN")
    if env:
        return Path(env).expanduser().resolve()
    return REPO_ROOT / "build" / "release" / "tools" / "sluice" / "sluice"


def long_enabled() -> bool:
    return os.environ.get("SLUICE_LONG", "") not in ("", "0")


def pytest_configure(config):
    config.addinivalue_line("markers", "long: slow test; runs only with SLUICE_LONG=1")


def pytest_collection_modifyitems(config, items):
    if long_enabled():
        return
    skip_long = pytest.mark.skip(reason="long test: set SLUICE_LONG=1 to run it")
    for item in items:
        if "long" in item.keywords:
            item.add_marker(skip_long)


def pytest_report_header(config):
    path = _binary_path()
    state = "found" if path.is_file() and os.access(path, os.X_OK) else "MISSING"
    return [f"sluice binary: {path} ({state})", f"SLUICE_LONG={'1' if long_enabled() else '0'}"]


@pytest.fixture(scope="session")
def sluice_bin() -> Path:
    path = _binary_path()
    if not path.is_file() or not os.access(path, os.X_OK):
        pytest.fail(
            f"sluice binary not found or not executable: {path} "
            "(build it with `ninja -C build/release sluice` or set SLUICE_BIN)",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def sluice(sluice_bin) -> Sluice:
    return Sluice(sluice_bin)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def kafka(tmp_path_factory):
    """One broker for the session's Kafka tests, stopped at the end."""
    broker = KafkaBroker(tmp_path_factory.mktemp("kafka"))
    broker.start()
    yield broker
    broker.stop()
