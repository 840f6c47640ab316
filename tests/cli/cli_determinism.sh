#!/bin/sh
# cli_determinism.sh - the same seed gives the same bits: made init (random
# order and degrees, glorot init), made train, eval, logprob, forward and sample
# give byte-identical files and text for --threads 1 and 2, with one and with
# several mask sets, conditional or not; the fast and the naive sampler agree;
# and a training run interrupted with SIGINT (at a random moment) and resumed
# gives the uninterrupted run's model byte for byte.
#
# (Across -O0 and -O2 builds: tests/determinism-O0-O2.sh, run from .ci/run.)
#
# Run from the repository root:  MADE=bin/made sh tests/cli/cli_determinism.sh
# Prints "cli_determinism: N passed, N failed" last.
set -u

# shellcheck source=tests/harness.sh
. "$(dirname "$0")/../harness.sh"
harness_start cli_determinism

# made ARGS...: stdout in $T/stdout, status in $rc; a non-zero status is a failure.
made() {
  "$MADE" "$@" > "$T/stdout" 2> "$T/err" < /dev/null
  rc=$?
  if sanitizer_report "$T/err"; then bad "sanitizer report: made $*"; fi
  [ "$rc" -eq 0 ] || bad "made $* -> exit $rc"
}

# ---- data ---------------------------------------------------------------------------
# 600 rows of 20 correlated binary values (a noisy Markov chain along the row),
# real-valued 20-column data, and 2 conditioning columns.
awk 'BEGIN { s = 5; for (i = 0; i < 600; i++) { line = ""; p = 0;
  for (j = 0; j < 20; j++) { s = (s * 1103515245 + 12345) % 2147483648;
    u = (s % 10000) / 10000; v = (u < (p ? 0.8 : 0.3)) ? 1 : 0; p = v;
    line = line (j ? "," : "") v } print line } }' > "$T/bin.csv"
awk 'BEGIN { s = 9; for (i = 0; i < 400; i++) { line = ""; x = 0; c1 = (i % 7) / 7; c2 = (i % 3) - 1;
  for (j = 0; j < 20; j++) { s = (s * 1103515245 + 12345) % 2147483648;
    x = 0.6 * x + c1 + 0.3 * c2 + (s % 1000) / 1000 - 0.5; line = line (j ? "," : "") x }
  print line > "/dev/stdout"; print c1 "," c2 > "/dev/stderr" } }' > "$T/real.csv" 2> "$T/cond.csv"

# ---- init -----------------------------------------------------------------------------
INIT="--event-size 20 --hidden 64,48 --input-order random --hidden-degrees random --activation tanh --kernel-initializer glorot_uniform --bias-initializer random_normal:0,0.1 --seed 1234"
# shellcheck disable=SC2086
made init -o "$T/i1.safetensors" $INIT
# shellcheck disable=SC2086
made init -o "$T/i2.safetensors" $INIT
same "$T/i1.safetensors" "$T/i2.safetensors" "init twice with one seed"
# shellcheck disable=SC2086
made init -o "$T/i3.safetensors" $INIT --masks 4 --conditional-size 2
# shellcheck disable=SC2086
made init -o "$T/i4.safetensors" $INIT --masks 4 --conditional-size 2
same "$T/i3.safetensors" "$T/i4.safetensors" "init with 4 mask sets, conditional"
made init -o "$T/i5.safetensors" --event-size 20 --hidden 64,48 --input-order random --seed 1235
if cmp -s "$T/i1.safetensors" "$T/i5.safetensors"; then bad "another seed gives the same model"; else ok; fi

# ---- forward: threads 1 and 2 ---------------------------------------------------------
for t in 1 2; do made forward "$T/i1.safetensors" -i "$T/real.csv" -o "$T/f$t.npy" --threads "$t"; done
same "$T/f1.npy" "$T/f2.npy" "forward --threads 1 vs 2"
for t in 1 2; do
  made forward "$T/i3.safetensors" -i "$T/real.csv" -c "$T/cond.csv" -o "$T/fc$t.npy" --threads "$t"
done
same "$T/fc1.npy" "$T/fc2.npy" "conditional forward --threads 1 vs 2"

# ---- train, eval, logprob, sample: threads 1 and 2 --------------------------------------
# run_case NAME DATA "TRAIN OPTIONS" "SCORE OPTIONS" "SAMPLE OPTIONS"
run_case() {
  name=$1; data=$2; topts=$3; sopts=$4; smopts=$5
  for t in 1 2; do
    # shellcheck disable=SC2086
    made train "$data" -o "$T/$name.t$t.safetensors" $topts --threads "$t" -q --checkpoint "$T/$name.t$t.ckpt"
    # shellcheck disable=SC2086
    made eval "$T/$name.t$t.safetensors" "$data" $sopts --threads "$t"
    cp "$T/stdout" "$T/$name.t$t.eval"
    # shellcheck disable=SC2086
    made logprob "$T/$name.t$t.safetensors" "$data" $sopts --threads "$t" -o "$T/$name.t$t.lp.npy"
    # shellcheck disable=SC2086
    made sample "$T/$name.t$t.safetensors" -n 400 --seed 77 $smopts --threads "$t" -o "$T/$name.t$t.s.npy"
  done
  same "$T/$name.t1.safetensors" "$T/$name.t2.safetensors" "$name: trained model, --threads 1 vs 2"
  same "$T/$name.t1.eval" "$T/$name.t2.eval" "$name: eval output, --threads 1 vs 2"
  same "$T/$name.t1.lp.npy" "$T/$name.t2.lp.npy" "$name: logprob, --threads 1 vs 2"
  same "$T/$name.t1.s.npy" "$T/$name.t2.s.npy" "$name: samples, --threads 1 vs 2"
  # shellcheck disable=SC2086
  made sample "$T/$name.t1.safetensors" -n 400 --seed 77 $smopts --naive -o "$T/$name.naive.npy"
  same "$T/$name.t1.s.npy" "$T/$name.naive.npy" "$name: fast vs naive sampler"
  # Training twice in one configuration: the same bits again.
  # shellcheck disable=SC2086
  made train "$data" -o "$T/$name.again.safetensors" $topts -q --checkpoint "$T/$name.again.ckpt"
  same "$T/$name.t1.safetensors" "$T/$name.again.safetensors" "$name: trained twice"
}

run_case bernoulli "$T/bin.csv" \
  "--dist bernoulli --hidden 64,64 --input-order random --hidden-degrees random --epochs 3 --batch-size 32 --lr 0.01 --val-fraction 0.1 --seed 3" \
  "" ""
run_case masks "$T/bin.csv" \
  "--dist bernoulli --hidden 64 --masks 4 --input-order random --resample-every 3 --epochs 2 --batch-size 50 --optimizer sgd --lr 0.05 --seed 4" \
  "--masks 4" "--mask 2"
run_case mog-cond "$T/real.csv" \
  "--dist mog:3 --hidden 48,48 --activation tanh -c $T/cond.csv --epochs 2 --batch-size 40 --lr 0.005 --clip-norm 5 --lr-schedule cosine --seed 5" \
  "-c $T/cond.csv" "-c $T/cond.csv"
run_case gaussian "$T/real.csv" \
  "--dist gaussian --hidden 32 --activation gelu --epochs 2 --batch-size 25 --weight-decay 0.01 --seed 6" \
  "" ""

# ---- interrupted (SIGINT at a random moment) and resumed = uninterrupted ----------------
# A run long enough (a few seconds) to be interrupted mid-way.
awk 'BEGIN { s = 17; for (i = 0; i < 3000; i++) { line = ""; p = 0;
  for (j = 0; j < 40; j++) { s = (s * 1103515245 + 12345) % 2147483648;
    u = (s % 10000) / 10000; v = (u < (p ? 0.7 : 0.35)) ? 1 : 0; p = v;
    line = line (j ? "," : "") v } print line } }' > "$T/big.csv"
TRAIN="--dist bernoulli --hidden 200,200 --epochs 4 --batch-size 20 --lr 0.003 --val-fraction 0.1 --seed 8 --threads 2 -q"
start=$(date +%s%N 2>/dev/null || echo 0)
# shellcheck disable=SC2086
made train "$T/big.csv" -o "$T/ref.safetensors" --checkpoint "$T/ref.ckpt" $TRAIN
end=$(date +%s%N 2>/dev/null || echo 0)
# A random moment within the run (in ms); shorter runs (slow machine, or fast) adapt.
total_ms=$(((end - start) / 1000000))
[ "$total_ms" -gt 50 ] || total_ms=1000
seed=$(od -An -N2 -tu2 /dev/urandom 2>/dev/null | tr -d ' ')
delay_ms=$((total_ms / 10 + (${seed:-1234} % (total_ms * 7 / 10 + 1))))
interrupted=0
for attempt in 1 2 3 4 5; do
  rm -f "$T/int.safetensors" "$T/int.ckpt"
  # shellcheck disable=SC2086
  "$MADE" train "$T/big.csv" -o "$T/int.safetensors" --checkpoint "$T/int.ckpt" $TRAIN \
    > /dev/null 2> "$T/err" &
  pid=$!
  sleep "$(awk -v ms="$delay_ms" 'BEGIN { printf "%.3f", ms / 1000 }')"
  kill -INT "$pid" 2> /dev/null
  wait "$pid"
  rc=$?
  if [ "$rc" -eq 130 ] && grep -q -F "interrupted; checkpoint written" "$T/err"; then
    interrupted=1
    break
  fi
  if [ "$rc" -eq 130 ]; then
    delay_ms=$((delay_ms * 2))   # killed before training started: interrupt later
  else
    delay_ms=$((delay_ms / 3))   # finished first: interrupt earlier
  fi
done
if [ "$interrupted" -eq 1 ]; then
  ok
  echo "note: interrupted after ${delay_ms} ms of a ${total_ms} ms run (attempt $attempt)" >&2
  if [ -e "$T/int.safetensors" ]; then bad "an interrupted run wrote its final model"; else ok; fi
  made train "$T/big.csv" -o "$T/int.safetensors" --resume "$T/int.ckpt" --val-fraction 0.1 --threads 1 -q
  same "$T/ref.safetensors" "$T/int.safetensors" "interrupted (SIGINT) + resumed (with --threads 1) vs uninterrupted"
else
  bad "could not interrupt the training run (last exit $rc)"
fi

harness_summary
