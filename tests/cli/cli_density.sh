#!/bin/sh
# cli_density.sh - the density verbs of the `made` command line: train, eval,
# logprob and sample on a small binary dataset; --log-json; Ctrl-C and --resume
# giving the same model file, byte for byte, as an uninterrupted run; bad data
# and bad options with their exit codes, and no model file left by a failed run.
#
# Run from the repository root:  MADE=bin/made sh tests/cli/cli_density.sh
# Prints "cli_density: N passed, N failed[, N skipped]" last; exits non-zero on any failure.
# Exit codes under test: 0 success, 1 runtime failure, 2 usage error, 130 Ctrl-C.
set -u

bgpid=
# on_exit runs when the script ends (tests/harness.sh), so it expands then.
# shellcheck disable=SC2016
on_exit='[ -n "$bgpid" ] && kill "$bgpid" 2>/dev/null'
# shellcheck source=tests/harness.sh
. "$(dirname "$0")/../harness.sh"
harness_start cli_density

# sanitizer_check FILE WHAT: a sanitizer report (SANITIZE=1 builds) is a failure.
sanitizer_check() {
  if sanitizer_report "$1"; then
    bad "sanitizer report from: $2"
    return 1
  fi
  return 0
}

# absent FILE DESC: FILE does not exist.
absent() {
  if [ -e "$1" ]; then bad "$2: $(basename "$1") was left behind"; else ok; fi
}

# ---- data ---------------------------------------------------------------------
# 200 rows of 6 binary values from a fixed LCG; column 2 copies column 1 and
# column 4 is column 3 XOR column 1, so there is structure to learn.
awk 'BEGIN {
  s = 12345
  for (i = 0; i < 200; i++) {
    for (j = 0; j < 6; j++) {
      s = (s * 1103515245 + 12345) % 2147483648
      v[j] = s >= 1073741824 ? 1 : 0
    }
    v[1] = v[0]; v[3] = (v[2] + v[0]) % 2
    printf "%d,%d,%d,%d,%d,%d\n", v[0], v[1], v[2], v[3], v[4], v[5]
  }
}' > "$T/data.csv"

M=$T/m.safetensors

# ---- train --------------------------------------------------------------------
expect_rc 0 "train" train "$T/data.csv" -o "$M" --dist bernoulli --hidden 16 --epochs 3 --seed 1 --keep-checkpoint \
  --quiet --log-json "$T/log.jsonl"
if [ -s "$M" ]; then ok; else bad "train did not write the model"; fi
if [ -s "$M.ckpt" ]; then ok; else bad "train did not write $(basename "$M").ckpt"; fi
if [ ! -s "$T/out" ]; then ok; else bad "train --quiet printed to stdout"; fi

# --log-json: one JSON object per epoch, epochs 1..3 in order.
if msg=$(awk '
  { n++
    if ($0 !~ /^\{.*\}$/) { printf "line %d is not an object: %s", n, $0; exit 1 }
    if (index($0, "\"epoch\":" n ",") == 0) { printf "line %d lacks \"epoch\":%d", n, n; exit 1 }
    if (index($0, "\"train_nll\":") == 0) { printf "line %d lacks train_nll", n; exit 1 }
  }
  END { if (n != 3) { printf "%d lines, want 3", n; exit 1 } }' "$T/log.jsonl"); then ok
else bad "--log-json: $msg"; fi

# ---- eval ---------------------------------------------------------------------
expect_rc 0 "eval" eval "$M" "$T/data.csv"
# "NLL nats BITS bits/dim (...)", bits = nats / (6 ln 2).
if msg=$(awk 'NR == 1 {
    if (!($1 ~ /^[0-9]+(\.[0-9]+)?$/) || $1 + 0 <= 0) { printf "first field %s", $1; exit 1 }
    if ($2 != "nats" || $4 != "bits/dim") { printf "layout: %s", $0; exit 1 }
    d = $3 - $1 / (6 * log(2)); if (d < 0) d = -d
    if (d > 1e-5) { printf "bits/dim %s for %s nats", $3, $1; exit 1 }
    print $1; n++ }
  END { if (n != 1) { printf "no output"; exit 1 } }' "$T/out"); then ok; nll=$msg
else bad "eval output: $msg"; nll=; fi

expect_rc 0 "eval --json" eval "$M" "$T/data.csv" --json
for key in '"nll_nats":' '"bits_per_dim":' '"examples":200' '"dims":6' '"masks":1'; do
  expect_in "$T/out" "$key" "eval --json"
done
if [ -n "$nll" ] && awk -v want="$nll" '{
    if (!match($0, /"nll_nats":[^,}]*/)) exit 1
    v = substr($0, RSTART + 11, RLENGTH - 11) + 0; d = v - want; if (d < 0) d = -d
    exit d <= 1e-6 ? 0 : 1 }' "$T/out"; then ok
else bad "eval --json nll_nats differs from the text output ($nll)"; fi

# Threads do not change the result.
run eval "$M" "$T/data.csv" --threads 2
if [ "$rc" -eq 0 ] && [ "$(cut -d' ' -f1 "$T/out")" = "$nll" ]; then ok
else bad "eval --threads 2: exit $rc, '$(cat "$T/out")', want $nll"; fi

# ---- logprob ------------------------------------------------------------------
expect_rc 0 "logprob" logprob "$M" "$T/data.csv" -o "$T/lp.csv"
if [ -n "$nll" ] && msg=$(awk -v want="$nll" '
  { if (NF != 1 || $1 + 0 > 0) { printf "line %d: %s", NR, $0; exit 1 }; s -= $1; n++ }
  END {
    if (n != 200) { printf "%d lines, want 200", n; exit 1 }
    d = s / n - want; if (d < 0) d = -d
    if (d > 1e-4) { printf "mean -log p %.7f, eval says %s", s / n, want; exit 1 }
  }' "$T/lp.csv"); then ok
else bad "logprob: ${msg:-no eval NLL to compare}"; fi

# ---- sample -------------------------------------------------------------------
expect_rc 0 "sample" sample "$M" -n 10 -o "$T/s1.csv" --seed 3
expect_rc 0 "sample again" sample "$M" -n 10 -o "$T/s2.csv" --seed 3
expect_rc 0 "sample --naive" sample "$M" -n 10 -o "$T/s3.csv" --seed 3 --naive
expect_rc 0 "sample --threads 2" sample "$M" -n 10 -o "$T/s4.csv" --seed 3 --threads 2
if cmp -s "$T/s1.csv" "$T/s2.csv"; then ok; else bad "sample: the same seed gave different files"; fi
if cmp -s "$T/s1.csv" "$T/s3.csv"; then ok; else bad "sample --naive differs from the fast sampler"; fi
if cmp -s "$T/s1.csv" "$T/s4.csv"; then ok; else bad "sample --threads 2 differs"; fi
if msg=$(awk -F, '
  { if (NF != 6) { printf "line %d has %d fields", NR, NF; exit 1 }
    for (i = 1; i <= NF; i++) if ($i != "0" && $i != "1") { printf "line %d: %s", NR, $0; exit 1 }
    n++ }
  END { if (n != 10) { printf "%d lines, want 10", n; exit 1 } }' "$T/s1.csv"); then ok
else bad "sample values: $msg"; fi
expect_rc 0 "sample another seed" sample "$M" -n 10 -o "$T/s5.csv" --seed 4
if ! cmp -s "$T/s1.csv" "$T/s5.csv"; then ok; else bad "sample: seeds 3 and 4 gave the same file"; fi

expect_rc 0 "sample --png" sample "$M" -n 10 --png "$T/grid.png" --image-shape 2x3
sig=$(od -An -tx1 -N8 "$T/grid.png" 2>/dev/null | tr -d ' \n')
if [ "$sig" = "89504e470d0a1a0a" ]; then ok; else bad "--png: signature '$sig'"; fi
expect_rc 2 "sample --image-shape 2x2x (malformed)" sample "$M" -n 10 --png "$T/g2.png" --image-shape 2x2x
run sample "$M" -n 10 --png "$T/g3.png" --image-shape 2x2
if [ "$rc" -ne 0 ]; then ok; else bad "sample --image-shape 2x2 for a 6-dim model: exit 0"; fi

# ---- Ctrl-C and --resume ------------------------------------------------------
# 8000 rows of 32 values; with 1024 hidden units and batches of 8 an epoch
# takes a noticeable time, so the signal lands in epoch 2 or later.
awk 'BEGIN {
  s = 777
  for (i = 0; i < 8000; i++) {
    line = ""
    for (j = 0; j < 32; j++) {
      s = (s * 1103515245 + 12345) % 2147483648
      v = s >= 1073741824 ? 1 : 0
      if (j % 4 == 1) v = prev
      prev = v
      line = line (j ? "," : "") v
    }
    print line
  }
}' > "$T/big.csv"
OPTS="--dist bernoulli --hidden 1024 --batch-size 8 --epochs 4 --seed 1 --quiet"

# shellcheck disable=SC2086
expect_rc 0 "uninterrupted run" train "$T/big.csv" -o "$T/u.safetensors" $OPTS --log-json "$T/u.log"

# The signal must land while training runs: if training finished first, the
# attempt is repeated; if it never lands, the resume case is reported as
# skipped (never as passed).
skipped=0
for attempt in 1 2 3; do
  rm -f "$T/r.safetensors" "$T/r.safetensors.ckpt" "$T/r.log"
  # shellcheck disable=SC2086
  "$MADE" train "$T/big.csv" -o "$T/r.safetensors" $OPTS --log-json "$T/r.log" > "$T/bg.out" 2> "$T/bg.err" &
  bgpid=$!
  i=0
  while [ "$i" -lt 400 ]; do   # at most ~20 s
    if [ -s "$T/r.log" ] || ! kill -0 "$bgpid" 2>/dev/null; then break; fi
    sleep 0.05
    i=$((i + 1))
  done
  kill -INT "$bgpid" 2>/dev/null
  wait "$bgpid"
  bgrc=$?
  bgpid=
  sanitizer_check "$T/bg.err" "interrupted train"
  [ "$bgrc" -eq 0 ] || break
  echo "note: attempt $attempt: training finished before SIGINT arrived; retrying" >&2
done
if [ "$bgrc" -eq 0 ]; then
  echo "SKIP Ctrl-C and --resume: training finished before SIGINT arrived in 3 attempts" >&2
  skipped=1
elif [ "$bgrc" -eq 130 ]; then
  ok
  expect_in "$T/bg.err" "checkpoint written to $T/r.safetensors.ckpt" "interrupted train message"
  absent "$T/r.safetensors" "interrupted train"
  expect_rc 0 "resume" train "$T/big.csv" -o "$T/r.safetensors" --resume "$T/r.safetensors.ckpt" \
    --quiet --log-json "$T/r.log"
  if cmp -s "$T/u.safetensors" "$T/r.safetensors"; then ok
  else bad "resumed model file differs from the uninterrupted run's"; fi
  # The interrupted run's lines plus the resumed run's: epochs 1..4, once each.
  got=$(sed 's/^{"epoch":\([0-9]*\),.*/\1/' "$T/r.log" | tr '\n' ' ')
  if [ "$got" = "1 2 3 4 " ]; then ok; else bad "--log-json across the resume: epochs '$got'"; fi
  expect_rc 0 "eval of the resumed model" eval "$T/r.safetensors" "$T/big.csv"
else
  cp "$T/bg.err" "$T/err"
  bad "interrupted train: exit $bgrc, want 130"
fi

# ---- bad data -----------------------------------------------------------------
printf '0,1,0\n1,0.5,0\n' > "$T/half.csv"
printf '0,1,0\n1,NA,0\n' > "$T/na.csv"
printf '0,1,0\n' > "$T/w3.csv"
B=$T/bad.safetensors

expect_rc 1 "bernoulli data with 0.5" train "$T/half.csv" -o "$B" --dist bernoulli --quiet
expect_in "$T/err" "row 2" "0.5 in the data"
expect_in "$T/err" "column 2" "0.5 in the data"
absent "$B" "train on data with 0.5"
absent "$B.ckpt" "train on data with 0.5"

expect_rc 1 "data with an NA cell" train "$T/na.csv" -o "$B" --dist bernoulli --quiet
expect_in "$T/err" "row 2" "NA in the data"
expect_in "$T/err" "column 2" "NA in the data"
absent "$B" "train on data with NA"

printf '0,1,2\n2,3,1\n' > "$T/cat3.csv"
expect_rc 1 "categorical:3 data with a 3" train "$T/cat3.csv" -o "$B" --dist categorical:3 --quiet
expect_in "$T/err" "row 2, column 2" "3 in categorical:3 data"
absent "$B" "train on categorical data with a 3"
run train "$T/data.csv" -o "$B" --dist categorical:2 --quiet --epochs 1 --hidden 4
if [ "$rc" -eq 0 ]; then ok; else bad "categorical:2 on 0/1 data: exit $rc"; fi
rm -f "$B" "$B.ckpt"

expect_rc 1 "eval with the wrong width" eval "$M" "$T/w3.csv"
expect_in "$T/err" "6" "eval with the wrong width names the expected width"
expect_rc 1 "logprob with the wrong width" logprob "$M" "$T/w3.csv" -o "$T/lpw.csv"
absent "$T/lpw.csv" "logprob with the wrong width"
expect_rc 1 "eval on data with 0.5" eval "$M" "$T/half.csv"

# ---- bad options --------------------------------------------------------------
expect_rc 2 "--dist missing" train "$T/data.csv" -o "$B" --quiet
expect_rc 2 "--dist foo" train "$T/data.csv" -o "$B" --dist foo --quiet
expect_in "$T/err" "foo" "--dist foo names the value"
expect_rc 2 "--val-fraction 1.5" train "$T/data.csv" -o "$B" --dist bernoulli --val-fraction 1.5 --quiet
expect_rc 2 "--patience without validation" train "$T/data.csv" -o "$B" --dist bernoulli --patience 2 --quiet
expect_rc 2 "--resume with --hidden" train "$T/data.csv" -o "$B" --resume "$M.ckpt" --hidden 4 --quiet
expect_rc 2 "-o missing" train "$T/data.csv" --dist bernoulli --quiet
expect_rc 1 "--resume from a missing checkpoint" train "$T/data.csv" -o "$B" --resume "$T/none.ckpt" --quiet
expect_rc 1 "--resume on data of another width" train "$T/w3.csv" -o "$B" --resume "$M.ckpt" --quiet
absent "$B" "failed trains"
absent "$B.ckpt" "failed trains"

harness_summary
