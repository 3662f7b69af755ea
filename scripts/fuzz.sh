#!/usr/bin/env bash
# Runs the libFuzzer targets built in build/fuzz (`make fuzz`, `make fuzz-regress`).
#
#   scripts/fuzz.sh run [target...]      fuzz each target for $FUZZ_SECONDS (default 60)
#   scripts/fuzz.sh regress [target...]  replay fuzz/<t>/regressions/* once each
#
# Targets: sql csv json (default: all). `run` fuzzes with the working corpus
# build/fuzz/corpus/<t> (new inputs go there) seeded from fuzz/<t>/corpus (read only),
# one process, one job, stopping a target at its first crash; crash/leak/timeout/oom
# inputs are written to build/fuzz/artifacts/<t>/ and the log to build/fuzz/logs/<t>.log.
# Prints per target: executions, executions/s, coverage at start and end, and the
# failing inputs. Exits 1 if any target crashed or reported a sanitizer error.
#
# Environment: FUZZ_SECONDS (per target), FUZZ_ARGS (extra libFuzzer flags, e.g.
# "-seed=1" or "-fork=1 -ignore_crashes=1" to keep going after a crash).
set -uo pipefail
# Seeds kept elsewhere in the repository (read only, never copied).
declare -A extra_seeds=([sql]=tests/tpch/queries)
cd "$(dirname "$0")/.."

mode=${1:-run}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(sql csv json)
BIN=build/fuzz/fuzz
SECONDS_PER_TARGET=${FUZZ_SECONDS:-60}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Arrow buffers from malloc, so ASan sees them (the targets also set this).
export ARROW_DEFAULT_MEMORY_POOL=system

failed=0
for t in "${targets[@]}"; do
  exe=$BIN/fuzz_$t
  if [ ! -x "$exe" ]; then
    echo "fuzz: $exe not built (make fuzz builds it)" >&2
    exit 2
  fi
  dict=()
  [ -f fuzz/$t/$t.dict ] && dict=(-dict=fuzz/$t/$t.dict)
  case $mode in
    run)
      mkdir -p build/fuzz/corpus/$t build/fuzz/artifacts/$t build/fuzz/logs
      log=build/fuzz/logs/$t.log
      before=$(ls build/fuzz/artifacts/$t | wc -l)
      echo "fuzz: fuzz_$t for ${SECONDS_PER_TARGET}s (log: $log)"
      # shellcheck disable=SC2086
      "$exe" build/fuzz/corpus/$t fuzz/$t/corpus ${extra_seeds[$t]:-} "${dict[@]}" \
        -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -timeout=25 -max_len=4096 \
        -print_final_stats=1 -artifact_prefix=build/fuzz/artifacts/$t/ ${FUZZ_ARGS:-} \
        > "$log" 2>&1
      rc=$?
      after=$(ls build/fuzz/artifacts/$t | wc -l)
      start=$(grep -m1 -E '(INITED|INIT) +cov:' "$log" | grep -oE 'cov: [0-9]+ ft: [0-9]+')
      end=$(grep -E '#[0-9]+.*cov:' "$log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+')
      execs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
      rate=$(grep -m1 'stat::average_exec_per_sec' "$log" | awk '{print $2}')
      echo "fuzz: fuzz_$t: exit $rc, ${execs:-?} executions, ${rate:-?} exec/s, start ${start:-?}, end ${end:-?}"
      if [ $rc -ne 0 ] || [ "$after" -gt "$before" ] || grep -qE '^(==[0-9]+==ERROR|SUMMARY: )' "$log"; then
        echo "fuzz: fuzz_$t FAILED; its report:" >&2
        grep -E -A30 '^(==[0-9]+==ERROR|.*runtime error|fuzz_[a-z]+: )' "$log" | head -60 >&2
        grep -E 'Test unit written to' "$log" >&2
        failed=1
      fi
      ;;
    regress)
      inputs=()
      for f in fuzz/$t/regressions/*; do [ -f "$f" ] && inputs+=("$f"); done
      if [ ${#inputs[@]} -eq 0 ]; then
        echo "fuzz: fuzz_$t: no regression inputs"
        continue
      fi
      if "$exe" -rss_limit_mb=2048 -timeout=25 "${inputs[@]}" > build/fuzz/regress-$t.log 2>&1; then
        echo "fuzz: fuzz_$t: ${#inputs[@]} regression inputs pass"
      else
        echo "fuzz: fuzz_$t: a regression input fails:" >&2
        tail -40 build/fuzz/regress-$t.log >&2
        failed=1
      fi
      ;;
    *)
      echo "usage: scripts/fuzz.sh run|regress [sql csv json]" >&2
      exit 2
      ;;
  esac
done
exit $failed
