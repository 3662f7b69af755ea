"""Fixtures of the Python API tests."""
from __future__ import annotations

import signal

import pytest


@pytest.fixture
def sigint_raises():
    """SIGINT raises KeyboardInterrupt during the test, whatever the test run inherited:
    a run started in the background of a non-interactive shell (CI) inherits SIGINT
    ignored, and Python then leaves it ignored."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)
