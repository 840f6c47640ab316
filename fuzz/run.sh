#!/bin/sh
# Runs one libFuzzer target for FUZZ_SECONDS (default 60) and prints one line:
#   fuzz_npy: 1234567 executions in 60 s, 333 edges, corpus 186 inputs (21Kb), 0 crashes (exit 0)
#
#   sh fuzz/run.sh BUILD TARGET      (BUILD is where `make fuzz` put fuzz_TARGET)
#
# The working corpus grows in BUILD/corpus/TARGET (fuzz/corpus/TARGET and
# fuzz/crashes/TARGET are read as seeds, never written); crash, leak, timeout
# and out-of-memory inputs land in BUILD/artifacts/TARGET/, the full log in
# BUILD/logs/TARGET.log. Extra libFuzzer flags go in FUZZ_ARGS, e.g.
#   FUZZ_ARGS='-runs=10000000' sh fuzz/run.sh build-fuzz json
# Exit status 1 if the run found anything.
set -u
b=$1 t=$2
seconds=${FUZZ_SECONDS:-60}
case "$t" in
  model) max_len=16384 ;; # a few small models and checkpoints, headers included
  npy)   max_len=4096 ;;
  csv)   max_len=4096 ;;
  idx)   max_len=4096 ;;
  json)  max_len=4096 ;;
  cli)   max_len=1024 ;;
  *) echo "fuzz/run.sh: unknown target '$t'" >&2; exit 2 ;;
esac
bin=$b/fuzz_$t
[ -x "$bin" ] || { echo "fuzz/run.sh: $bin is not built (make fuzz)" >&2; exit 2; }
mkdir -p "$b/corpus/$t" "$b/artifacts/$t" "$b/logs"
set -- -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$b/artifacts/$t/"
[ -f "fuzz/dict/$t.dict" ] && set -- "$@" -dict="fuzz/dict/$t.dict"
# The CLI parsers print every complaint; libFuzzer keeps its own reports.
[ "$t" = cli ] && set -- "$@" -close_fd_mask=3
before=$(ls "$b/artifacts/$t" | wc -l)
start=$(date +%s)
# shellcheck disable=SC2086 # FUZZ_ARGS is a list of flags
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
  "$bin" "$@" ${FUZZ_ARGS:-} "$b/corpus/$t" "fuzz/corpus/$t" "fuzz/crashes/$t" \
  > "$b/logs/$t.log" 2>&1
rc=$?
secs=$(( $(date +%s) - start ))
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$b/logs/$t.log" | tail -n 1)
found=$(( $(ls "$b/artifacts/$t" | wc -l) - before ))
# libFuzzer's last status line: "cov: 1447 ft: 3990 corp: 553/879Kb ..."
cov=$(grep -E '^#[0-9]+' "$b/logs/$t.log" | tail -n 1 | sed -n 's/.*cov: \([0-9]*\).*corp: \([0-9]*\)\/\([0-9a-zA-Z]*\).*/\1 edges, corpus \2 inputs (\3)/p')
echo "fuzz_$t: ${execs:-?} executions in $secs s, ${cov:-no coverage line}, $found crashes (exit $rc)"
if [ "$rc" -eq 72 ] && [ "$found" -eq 0 ]; then
  echo "  interrupted (SIGINT/SIGTERM) before the end; nothing found so far"
  exit 1
fi
if [ "$rc" -ne 0 ] || [ "$found" -ne 0 ]; then
  grep -E 'ERROR|SUMMARY|check failed|Test unit written' "$b/logs/$t.log" | head -n 20 | sed 's/^/  /'
  echo "  inputs: $b/artifacts/$t/   log: $b/logs/$t.log"
  exit 1
fi
