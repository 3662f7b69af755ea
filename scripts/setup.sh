#!/usr/bin/env bash
# Installs what the build and the tests need and is missing: Debian packages and the
# project's virtualenv (.venv) with pinned Python packages. Safe to run repeatedly:
# it does nothing when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  cmake ninja-build g++ make pkg-config ccache clang-format
  libpg-query-dev libyaml-cpp-dev libcli11-dev libfmt-dev
  libgtest-dev libgmock-dev libsimdjson-dev libxxhash-dev libzstd-dev zlib1g-dev
  librdkafka-dev
  maven openjdk-17-jre-headless
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}"
fi

PY=${PYTHON:-python3}
stamp=.venv/.requirements-dev.stamp
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PY" -m venv .venv
fi
if [ ! -f "$stamp" ] || ! cmp -s requirements-dev.txt "$stamp"; then
  echo "setup: installing pinned Python packages into .venv"
  .venv/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt
  cp requirements-dev.txt "$stamp"
fi
# pyarrow ships versioned Arrow libraries; the linker wants unversioned names.
.venv/bin/python -c "import pyarrow; pyarrow.create_library_symlinks()"

# The Kafka broker the tests start (scripts/kafka.sh): its jars, into a cache, once.
bash scripts/kafka.sh fetch
