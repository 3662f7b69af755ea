"""The package's surface: documented names, stubs that match the extension."""
from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import sluice as sl

PACKAGE = Path(sl.__file__).parent


def _public_callables():
    for name in sl.__all__:
        obj = getattr(sl, name)
        if callable(obj):
            yield name, obj
        if inspect.isclass(obj):
            for member, value in vars(obj).items():
                if not member.startswith("_") and (callable(value) or
                                                   isinstance(value, property)):
                    yield f"{name}.{member}", value


def test_every_public_name_is_documented_with_an_example():
    missing = [name for name, obj in _public_callables()
               if ">>>" not in (inspect.getdoc(obj) or "")]
    assert not missing, f"no docstring with an example: {missing}"


def test_help_on_join_says_how_to_use_it():
    doc = inspect.getdoc(sl.Frame.join)
    assert "how" in doc and "left_on" in doc and ">>>" in doc


def test_extension_stubs_are_current(tmp_path):
    out = tmp_path / "_sluice.pyi"
    subprocess.run([sys.executable, "-m", "nanobind.stubgen", "-m", "sluice._sluice",
                    "-o", str(out), "-q"], check=True)
    assert out.read_text() == (PACKAGE / "_sluice.pyi").read_text(), (
        "python/sluice/_sluice.pyi is stale: regenerate it with "
        "`.venv/bin/python -m nanobind.stubgen -m sluice._sluice -o python/sluice/_sluice.pyi`")
    assert (PACKAGE / "py.typed").exists()
