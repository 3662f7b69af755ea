#!/usr/bin/env bash
# Makes the package in python/ importable from .venv, with the extension module that the
# build directory $1 made (a development install: edits to python/sluice/*.py apply at
# once, a rebuild replaces the module). `pip install .` makes a wheel instead.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
module=$(ls "$build"/python/_sluice*.so 2>/dev/null | head -1 || true)
if [ -z "$module" ]; then
  echo "python_dev: no extension module in $build/python (configure with -DSLUICE_PYTHON_MODULE=ON)" >&2
  exit 1
fi
ln -sf "$PWD/$module" python/sluice/
site=$(.venv/bin/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
echo "$PWD/python" > "$site/sluice-dev.pth"
