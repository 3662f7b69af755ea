#!/usr/bin/env bash
# Installs what `make fuzz` needs beyond scripts/setup.sh, only when fuzzing is asked
# for: clang, its libFuzzer runtime and llvm-symbolizer (for symbolized stack traces).
# Debian packages; safe to run repeatedly (does nothing when all is present).
#
# libFuzzer (libclang_rt.fuzzer-x86_64.a in clang's resource directory) comes with the
# compiler-rt package of the installed clang version: libclang-rt-N-dev on Debian 12
# (clang 14), part of libclang-common-N-dev on older releases. libfuzzer-N-dev is a
# different thing (the libFuzzer.a for -fsanitize=fuzzer-no-link + custom mains) and is
# not needed.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
updated=0
apt_install() {
  if [ $updated -eq 0 ]; then
    $SUDO apt-get update -q
    updated=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "$@"
}
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

missing=()
for p in clang llvm; do installed "$p" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup_fuzz: installing Debian packages: ${missing[*]}"
  apt_install "${missing[@]}"
fi

fuzzer_lib() { echo "$(clang -print-resource-dir)/lib/linux/libclang_rt.fuzzer-x86_64.a"; }
if [ ! -f "$(fuzzer_lib)" ]; then
  major=$(clang -dumpversion | cut -d. -f1)
  pkg=libclang-rt-${major}-dev
  apt-cache show "$pkg" > /dev/null 2>&1 || { [ $updated -eq 1 ] || { $SUDO apt-get update -q; updated=1; }; }
  apt-cache show "$pkg" > /dev/null 2>&1 || pkg=libclang-common-${major}-dev
  echo "setup_fuzz: installing libFuzzer for clang ${major}: $pkg"
  apt_install "$pkg"
  if [ ! -f "$(fuzzer_lib)" ]; then
    echo "setup_fuzz: libFuzzer not found at $(fuzzer_lib) after installing $pkg" >&2
    exit 1
  fi
fi
