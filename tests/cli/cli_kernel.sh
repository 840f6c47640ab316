#!/bin/sh
# cli_kernel.sh - made's two kernel paths give the same bits through the CLI:
# two epochs of training (the demo's settings on small data) write
# byte-identical model files with MADE_KERNEL=portable and MADE_KERNEL=avx2,
# at 1 and 2 threads; eval, logprob, forward and sample agree too. A bad
# MADE_KERNEL value is a clear error. On a CPU without AVX2+FMA the avx2
# comparisons are skipped (counted as one skipped check).
#
# Run from the repository root:  MADE=bin/made sh tests/cli/cli_kernel.sh
# Prints "cli_kernel: N passed, N failed" last.
set -u

# shellcheck source=tests/harness.sh
. "$(dirname "$0")/../harness.sh"
harness_start cli_kernel

# run KERNEL ARGS...: made with MADE_KERNEL=KERNEL; stdout in $T/stdout.
run() {
  k=$1
  shift
  MADE_KERNEL=$k "$MADE" "$@" > "$T/stdout" 2> "$T/err" < /dev/null
  rc=$?
  if sanitizer_report "$T/err"; then bad "sanitizer report: made $*"; fi
  [ "$rc" -eq 0 ] || bad "MADE_KERNEL=$k made $* -> exit $rc"
}

# 1000 rows of 64 correlated binary "pixels" (a noisy Markov chain along the row).
awk 'BEGIN { s = 7; for (i = 0; i < 1000; i++) { line = ""; p = 0;
  for (j = 0; j < 64; j++) { s = (s * 1103515245 + 12345) % 2147483648;
    u = (s % 10000) / 10000; v = (u < (p ? 0.75 : 0.25)) ? 1 : 0; p = v;
    line = line (j ? "," : "") v } print line } }' > "$T/bin.csv"

# ---- a bad value: a clear error, exit status 1, no output file ------------------------
MADE_KERNEL=turbo "$MADE" init -o "$T/bad.safetensors" --event-size 4 > "$T/stdout" 2> "$T/err" < /dev/null
rc=$?
if [ "$rc" -eq 1 ] && grep -q "MADE_KERNEL=turbo" "$T/err" && grep -q "portable" "$T/err" &&
  [ ! -e "$T/bad.safetensors" ]; then ok; else bad "MADE_KERNEL=turbo: exit $rc, $(head -n 1 "$T/err")"; fi

if ! grep -q -w avx2 /proc/cpuinfo 2>/dev/null || ! grep -q -w fma /proc/cpuinfo 2>/dev/null; then
  echo "cli_kernel: skipped the avx2 comparisons: this CPU has no AVX2+FMA" >&2
  skipped=1
  harness_summary
  exit
fi

# ---- two epochs of the demo's training, both paths, 1 and 2 threads -------------------
for k in portable avx2; do
  for t in 1 2; do
    run $k train "$T/bin.csv" -o "$T/m.$k.$t.safetensors" --dist bernoulli --hidden 100 \
      --activation relu --epochs 2 --batch-size 100 --lr 1e-3 --val-fraction 0.05 \
      --patience 3 --seed 0 --threads $t -q
  done
done
same "$T/m.portable.1.safetensors" "$T/m.avx2.1.safetensors" "training, portable vs avx2"
same "$T/m.portable.1.safetensors" "$T/m.avx2.2.safetensors" "training, portable 1 thread vs avx2 2 threads"
same "$T/m.portable.1.safetensors" "$T/m.portable.2.safetensors" "training, portable 1 vs 2 threads"

# ---- the trained model scored, run and sampled on both paths ---------------------------
M=$T/m.avx2.1.safetensors
for k in portable avx2; do
  run $k eval "$M" "$T/bin.csv" --threads 2
  cp "$T/stdout" "$T/eval.$k"
  run $k logprob "$M" "$T/bin.csv" -o "$T/lp.$k.npy"
  run $k forward "$M" -i "$T/bin.csv" -o "$T/fwd.$k.npy" --threads 2
  run $k sample "$M" -n 300 --seed 5 -o "$T/s.$k.npy" --threads 2
done
same "$T/eval.portable" "$T/eval.avx2" "eval"
same "$T/lp.portable.npy" "$T/lp.avx2.npy" "logprob"
same "$T/fwd.portable.npy" "$T/fwd.avx2.npy" "forward"
same "$T/s.portable.npy" "$T/s.avx2.npy" "sample"

harness_summary
