#!/bin/sh
# soak.sh - long-run soak of training, checkpointing and resuming.
#
# For SOAK_SECONDS (default 300) it runs chains of `made train`: each chain
# starts a run and interrupts it at a random moment with SIGINT (graceful: the
# checkpoint is written, exit 130) or SIGKILL (nothing is cleaned up), then
# resumes from the checkpoint with a random thread count, interrupts that, and
# so on until a run completes. After every interruption the checkpoint on disk
# must load (tests/ckpt_check, which resumes it exactly as --resume does); a
# SIGINT must leave no temp file; and the model a chain finally writes must be
# byte-identical (cmp) to the model of one uninterrupted run.
#
#   sh scripts/soak.sh                        (from the repository root)
#   SOAK_SECONDS=60 SOAK_SEED=1 sh scripts/soak.sh
#
# Prints its figures and "soak: N passed, N failed" last; exit 1 on any failure.
set -u

SOAK_SECONDS=${SOAK_SECONDS:-300}
SOAK_SEED=${SOAK_SEED:-$(date +%s)}
BUILD=${BUILD:-build}
MADE=${MADE:-bin/made}
[ "$BUILD" = build ] || MADE=$BUILD/bin/made
CHECK=$BUILD/tests/ckpt_check

if ! make -s -j2 BUILD="$BUILD" "$MADE" "$CHECK" > /dev/null; then
  echo "soak: build failed"
  echo "soak: 0 passed, 1 failed"
  exit 1
fi
MADE=$(pwd)/$MADE
CHECK=$(pwd)/$CHECK

T=$(mktemp -d "${TMPDIR:-/tmp}/made_soak.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT INT TERM
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() {
  failed=$((failed + 1))
  echo "FAIL: $*"
  [ -s "$T/err" ] && sed 's/^/    stderr: /' "$T/err" | tail -n 3
}

# A seeded generator (shell arithmetic LCG), so a failing soak can be replayed.
state=$((SOAK_SEED % 2147483648))
rnd() { # rnd N: a number in 0..N-1 in $r
  state=$(((state * 1103515245 + 12345) % 2147483648))
  r=$(((state / 65536) % $1))
}

# 5000 rows of 64 correlated binary values; one run takes about 2 s on 2 cores.
awk 'BEGIN { s = 29; for (i = 0; i < 5000; i++) { line = ""; p = 0;
  for (j = 0; j < 64; j++) { s = (s * 1103515245 + 12345) % 2147483648;
    u = (s % 10000) / 10000; v = (u < (p ? 0.75 : 0.3)) ? 1 : 0; p = v;
    line = line (j ? "," : "") v } print line } }' > "$T/data.csv"
TRAIN="--dist bernoulli --hidden 400,400 --input-order random --epochs 12 --batch-size 25 --lr 0.001 --val-fraction 0.1 --patience 3 --seed 5 -q"

now_ms() { echo $(($(date +%s%N) / 1000000)); }
t0=$(now_ms)
# shellcheck disable=SC2086
"$MADE" train "$T/data.csv" -o "$T/ref.safetensors" --checkpoint "$T/ref.ckpt" $TRAIN 2> "$T/err"
[ $? -eq 0 ] || { bad "the uninterrupted reference run failed"; echo "soak: $passed passed, $failed failed"; exit 1; }
ref_ms=$(($(now_ms) - t0))
echo "soak: seed $SOAK_SEED, $SOAK_SECONDS s; one uninterrupted run takes $ref_ms ms"

W=$T/run
mkdir -p "$W"
chains=0; runs=0; sigint=0; sigint_early=0; sigkill=0; loads=0; fresh=0; orphans=0
start=$(date +%s)
while [ $(($(date +%s) - start)) -lt "$SOAK_SECONDS" ]; do
  rm -f "$W"/*
  chains=$((chains + 1))
  resume=0
  while :; do
    runs=$((runs + 1))
    rnd 2; threads=$((r + 1))
    if [ "$resume" = 1 ]; then
      set -- train "$T/data.csv" -o "$W/m.safetensors" --resume "$W/m.ckpt" --val-fraction 0.1 \
        --threads "$threads" -q
    else
      # shellcheck disable=SC2086
      set -- train "$T/data.csv" -o "$W/m.safetensors" --checkpoint "$W/m.ckpt" $TRAIN --threads "$threads"
    fi
    "$MADE" "$@" > /dev/null 2> "$T/err" &
    pid=$!
    # A random moment within (and sometimes past) a whole run. Once the time is
    # up, the chain's last run is left to finish (on a loaded machine runs get
    # slower than the reference and chains longer).
    rnd $((ref_ms * 11 / 10 + 1)); delay=$r
    rnd 2; sig=INT
    [ "$r" = 1 ] && sig=KILL
    if [ $(($(date +%s) - start)) -lt "$SOAK_SECONDS" ]; then
      sleep "$(awk -v ms="$delay" 'BEGIN { printf "%.3f", ms / 1000 }')"
      kill -s "$sig" "$pid" 2> /dev/null
    fi
    { wait "$pid"; } 2> /dev/null # no "Killed" from the shell
    rc=$?
    if [ "$rc" -eq 0 ]; then
      if cmp -s "$W/m.safetensors" "$T/ref.safetensors"; then ok
      else bad "chain $chains: the final model differs from the uninterrupted run's"; fi
      break
    elif [ "$rc" -eq 130 ] && grep -q -F "interrupted; checkpoint written" "$T/err"; then
      sigint=$((sigint + 1))
      left=$(find "$W" -name '*.tmp*' | wc -l)
      if [ "$left" -eq 0 ]; then ok; else bad "chain $chains: SIGINT left $left temp file(s)"; fi
    elif [ "$rc" -eq 130 ]; then
      sigint_early=$((sigint_early + 1)) # before the handler was installed (loading data)
    elif [ "$rc" -eq 137 ]; then
      sigkill=$((sigkill + 1))
      # A kill during a checkpoint write leaves its temp file (nothing can
      # remove it); the checkpoint itself is the previous complete one.
      left=$(find "$W" -name '*.tmp*' | wc -l)
      orphans=$((orphans + left))
      find "$W" -name '*.tmp*' -delete
    else
      bad "chain $chains: made $* -> exit $rc"
      break
    fi
    if [ -e "$W/m.ckpt" ]; then
      if "$CHECK" "$W/m.ckpt" > "$T/check" 2> "$T/err"; then
        ok
        loads=$((loads + 1))
        resume=1
      else
        bad "chain $chains: the checkpoint does not load after SIG$sig"
        break
      fi
    else
      fresh=$((fresh + 1)) # interrupted before the first checkpoint: start again
      resume=0
    fi
  done
done
elapsed=$(($(date +%s) - start))

echo "soak: $elapsed s: $chains chains, $runs runs; interruptions: $sigint SIGINT (checkpoint written), $sigkill SIGKILL, $sigint_early SIGINT before training started"
echo "soak: $loads checkpoints loaded after an interruption; $fresh restarts before any checkpoint; $orphans temp files left by SIGKILL"
echo "soak: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
