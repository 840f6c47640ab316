#!/bin/sh
# cli_flow.sh - flows on the `made` command line: `made toy moons`, `made train
# --flow maf:K` with permutations, batch norm, scales, standardisation and
# conditions; IAF training and --share-weights; eval, logprob, sample and info
# (with the training record) on flow files; the same model for any thread
# count; Ctrl-C and --resume giving the same file, byte for byte (MAF, and IAF
# with shared weights); bad options and data with their exit codes.
#
# Run from the repository root:  MADE=bin/made sh tests/cli/cli_flow.sh
# Prints "cli_flow: N passed, N failed" last; exits non-zero on any failure.
set -u

bgpid=
# on_exit runs when the script ends (tests/harness.sh), so it expands then.
# shellcheck disable=SC2016
on_exit='[ -n "$bgpid" ] && kill "$bgpid" 2>/dev/null'
# shellcheck source=tests/harness.sh
. "$(dirname "$0")/../harness.sh"
harness_start cli_flow

# ---- data ---------------------------------------------------------------------
expect_rc 0 "toy moons" toy moons -n 600 -o "$T/moons.csv" --seed 1
expect_rc 0 "toy moons again" toy moons -n 600 -o "$T/moons2.csv" --seed 1
if cmp -s "$T/moons.csv" "$T/moons2.csv"; then ok; else bad "toy moons: same seed, different data"; fi
lines=$(wc -l < "$T/moons.csv")
if [ "$lines" -eq 600 ]; then ok; else bad "toy moons: $lines rows, want 600"; fi
expect_rc 2 "toy: unknown set" toy circles -n 10 -o "$T/x.csv"
expect_rc 2 "toy: no -o" toy moons -n 10
awk -F, '{ printf "%.3f\n", $1 + $2 }' "$T/moons.csv" > "$T/cond.csv"

# ---- train, eval, logprob, sample, info ---------------------------------------
F="$T/maf.safetensors"
OPTS="--flow maf:3 --hidden 16,16 --epochs 3 --batch-size 50 --seed 2 --quiet"
# shellcheck disable=SC2086
expect_rc 0 "train maf:3" train "$T/moons.csv" -o "$F" $OPTS --batch-norm --val-fraction 0.1
expect_rc 0 "eval" eval "$F" "$T/moons.csv"
expect_in "$T/out" "bits/dim (600 examples, 2 dims" "eval output"
expect_rc 0 "eval --json" eval "$F" "$T/moons.csv" --json
expect_in "$T/out" '"dims":2' "eval --json"
expect_rc 0 "logprob" logprob "$F" "$T/moons.csv" -o "$T/lp.csv"
n=$(wc -l < "$T/lp.csv")
if [ "$n" -eq 600 ]; then ok; else bad "logprob: $n lines, want 600"; fi
expect_rc 0 "sample" sample "$F" -n 20 -o "$T/s.csv" --seed 4
expect_rc 0 "sample again" sample "$F" -n 20 -o "$T/s2.csv" --seed 4
if cmp -s "$T/s.csv" "$T/s2.csv"; then ok; else bad "sample: same seed, different samples"; fi
expect_rc 0 "info" info "$F"
expect_in "$T/out" "maf flow, 3 layers" "info"
expect_in "$T/out" "batch norm on" "info"
expect_in "$T/out" "training:           3 epochs run, kept epoch" "info: the training record"
expect_in "$T/out" "validation NLL:" "info: the training record"
expect_rc 0 "info --json" info "$F" --json
expect_in "$T/out" '"flow":"maf","num_layers":3' "info --json"
expect_in "$T/out" '"record":{"binarize":null,"epochs_run":3,' "info --json: the training record"
expect_in "$T/out" '"share_weights":false' "info --json: share_weights"
expect_rc 1 "sample --naive on a flow" sample "$F" -n 2 -o "$T/s3.csv" --naive

# Threads change nothing.
# shellcheck disable=SC2086
expect_rc 0 "train with 2 threads" train "$T/moons.csv" -o "$T/maf2.safetensors" $OPTS --batch-norm \
  --val-fraction 0.1 --threads 2
if cmp -s "$F" "$T/maf2.safetensors"; then ok; else bad "--threads 2 gives another model"; fi

# Options: permutation list, scale, standardize, conditions.
# shellcheck disable=SC2086
expect_rc 0 "train with every flow option" train "$T/moons.csv" -o "$T/c.safetensors" $OPTS \
  --permutation 1,0 --scale softclip --standardize -c "$T/cond.csv"
expect_rc 0 "info of the conditional flow" info "$T/c.safetensors"
expect_in "$T/out" "permutation explicit, scale softclip, batch norm off, preprocessing standardize" "info"
expect_rc 0 "eval conditional" eval "$T/c.safetensors" "$T/moons.csv" -c "$T/cond.csv"
expect_rc 1 "eval conditional without -c" eval "$T/c.safetensors" "$T/moons.csv"
head -n 1 "$T/cond.csv" > "$T/cond1.csv"
expect_rc 0 "sample conditional" sample "$T/c.safetensors" -n 5 -o "$T/cs.csv" -c "$T/cond1.csv"

# Dequantised pixels through the logit: densities of the pixel values.
awk -F, '{ a = int(($1 + 1.5) * 60); b = int(($2 + 1) * 90); if (a < 0) a = 0; if (a > 255) a = 255;
           if (b < 0) b = 0; if (b > 255) b = 255; print a "," b }' "$T/moons.csv" > "$T/px.csv"
expect_rc 0 "train --dequantize --logit" train "$T/px.csv" -o "$T/px.safetensors" --flow maf:2 \
  --hidden 16 --dequantize --logit 1e-6 --epochs 2 --quiet
expect_rc 0 "info of the logit flow" info "$T/px.safetensors" --json
expect_in "$T/out" '"preprocess":"logit"' "info --json of the logit flow"
expect_rc 0 "eval of pixels" eval "$T/px.safetensors" "$T/px.csv" --seed 1
expect_rc 0 "sample of pixels" sample "$T/px.safetensors" -n 10 -o "$T/pxs.csv"
if awk -F, '$1 < 0 || $1 > 256 || $2 < 0 || $2 > 256 { bad = 1 } END { exit bad }' "$T/pxs.csv"; then ok
else bad "pixel samples outside [0, 256]"; fi
expect_rc 1 "eval of non-integer pixels" eval "$T/px.safetensors" "$T/moons.csv"
expect_rc 2 "--dequantize without --logit" train "$T/px.csv" -o "$T/b.safetensors" --flow maf:2 --dequantize
expect_rc 2 "--logit with --standardize" train "$T/px.csv" -o "$T/b.safetensors" --flow maf:2 --logit 0.01 --standardize

# IAF: trained by likelihood (the autoregressive direction), same bits for any
# thread count.
IOPTS="--flow iaf:2 --hidden 12 --epochs 2 --batch-size 50 --seed 3 --val-fraction 0.2 --quiet"
# shellcheck disable=SC2086
expect_rc 0 "train iaf:2" train "$T/moons.csv" -o "$T/iaf.safetensors" $IOPTS
# shellcheck disable=SC2086
expect_rc 0 "train iaf:2 with 2 threads" train "$T/moons.csv" -o "$T/iaf2.safetensors" $IOPTS --threads 2
if cmp -s "$T/iaf.safetensors" "$T/iaf2.safetensors"; then ok; else bad "iaf: --threads 2 gives another model"; fi
expect_rc 0 "info of the iaf" info "$T/iaf.safetensors"
expect_in "$T/out" "iaf flow, 2 layers" "info of the iaf"
expect_in "$T/out" "training:           2 epochs run" "info of the iaf: the training record"
expect_rc 0 "eval of the iaf" eval "$T/iaf.safetensors" "$T/moons.csv"

# One network for every layer.
# shellcheck disable=SC2086
expect_rc 0 "train --share-weights" train "$T/moons.csv" -o "$T/sh.safetensors" $OPTS --share-weights
expect_rc 0 "info of the shared flow" info "$T/sh.safetensors" --json
expect_in "$T/out" '"share_weights":true' "info --json of the shared flow"
expect_rc 0 "info of the shared flow" info "$T/sh.safetensors"
expect_in "$T/out" "layer network (one, shared by every layer)" "info of the shared flow"
expect_rc 0 "eval of the shared flow" eval "$T/sh.safetensors" "$T/moons.csv"

# ---- bad options and data ------------------------------------------------------
expect_rc 2 "--share-weights without --flow" train "$T/moons.csv" -o "$T/b.safetensors" --dist gaussian --share-weights
expect_in "$T/err" "--share-weights applies to flows" "flow option without --flow"
expect_rc 2 "--batch-norm without --flow" train "$T/moons.csv" -o "$T/b.safetensors" --dist gaussian --batch-norm
expect_rc 2 "--flow with --dist" train "$T/moons.csv" -o "$T/b.safetensors" --flow maf:2 --dist gaussian
expect_rc 2 "--flow bad" train "$T/moons.csv" -o "$T/b.safetensors" --flow maf
expect_rc 2 "--flow 0 layers" train "$T/moons.csv" -o "$T/b.safetensors" --flow maf:0
expect_rc 2 "--permutation not a permutation" train "$T/moons.csv" -o "$T/b.safetensors" --flow maf:2 --permutation 0,0
expect_rc 2 "--permutation wrong length" train "$T/moons.csv" -o "$T/b.safetensors" --flow maf:2 --permutation 0,1,2
expect_rc 2 "--scale unknown" train "$T/moons.csv" -o "$T/b.safetensors" --flow maf:2 --scale tanh
expect_rc 1 "batch norm with batches of one" train "$T/moons.csv" -o "$T/b.safetensors" --flow maf:2 --batch-norm --batch-size 1 --quiet
printf '0.5,1\nnan,2\n' > "$T/nan.csv"
expect_rc 1 "NaN in data" train "$T/nan.csv" -o "$T/b.safetensors" --flow maf:2 --quiet
expect_in "$T/err" "row 2, column 1" "NaN message"
if [ -e "$T/b.safetensors" ]; then bad "a failed run left a model file"; else ok; fi

# ---- runs that remember: the note, --epochs on --resume, --keep-checkpoint -----
K="$T/k.safetensors"
KOPTS="--flow maf:2 --hidden 8 --batch-norm --batch-size 50 --seed 3 --val-fraction 0.2 --quiet"
# shellcheck disable=SC2086
expect_rc 0 "flow run of 2 epochs, checkpoint kept" train "$T/moons.csv" -o "$K" $KOPTS --epochs 2 --keep-checkpoint
if [ -f "$K.ckpt" ]; then ok; else bad "--keep-checkpoint: no $K.ckpt after the run"; fi
expect_rc 0 "--resume --epochs 4 with no other option" train "$T/moons.csv" -o "$T/k4r.safetensors" --resume "$K.ckpt" --epochs 4 --quiet
# shellcheck disable=SC2086
expect_rc 0 "flow run of 4 epochs" train "$T/moons.csv" -o "$T/k4.safetensors" $KOPTS --epochs 4
if cmp -s "$T/k4.safetensors" "$T/k4r.safetensors"; then ok
else bad "a flow run extended to 4 epochs differs from a 4-epoch run"; fi
if [ -e "$T/k4.safetensors.ckpt" ]; then bad "checkpoint left after a successful run"; else ok; fi
expect_rc 2 "--resume with a flow option" train "$T/moons.csv" -o "$T/x.safetensors" --resume "$K.ckpt" --batch-norm
expect_in "$T/err" "the flow in the checkpoint holds its settings" "flow option on --resume"
expect_rc 2 "--resume with --share-weights" train "$T/moons.csv" -o "$T/x.safetensors" --resume "$K.ckpt" --share-weights
expect_in "$T/err" "the flow in the checkpoint holds its settings" "--share-weights on --resume"
# The same for an IAF with one shared network: extended by --resume alone.
J="$T/j.safetensors"
JOPTS="--flow iaf:3 --share-weights --hidden 8 --batch-size 50 --seed 4 --val-fraction 0.2 --quiet"
# shellcheck disable=SC2086
expect_rc 0 "iaf run of 2 epochs, checkpoint kept" train "$T/moons.csv" -o "$J" $JOPTS --epochs 2 --keep-checkpoint
expect_rc 0 "iaf --resume --epochs 3" train "$T/moons.csv" -o "$T/j3r.safetensors" --resume "$J.ckpt" --epochs 3 --quiet
# shellcheck disable=SC2086
expect_rc 0 "iaf run of 3 epochs" train "$T/moons.csv" -o "$T/j3.safetensors" $JOPTS --epochs 3
if cmp -s "$T/j3.safetensors" "$T/j3r.safetensors"; then ok
else bad "an iaf run extended to 3 epochs differs from a 3-epoch run"; fi
expect_rc 0 "info of the extended iaf" info "$T/j3r.safetensors"
expect_in "$T/out" "training:           3 epochs run" "the extended run's record"
expect_rc 2 "--resume with a changed --hidden" train "$T/moons.csv" -o "$T/x.safetensors" --resume "$K.ckpt" --hidden 9
expect_in "$T/err" "a repeated option must keep its value" "changed --hidden on --resume"
expect_rc 1 "--resume with a flow model, not a checkpoint" train "$T/moons.csv" -o "$T/x.safetensors" --resume "$K"
expect_in "$T/err" "it is a flow, not a checkpoint" "flow model as --resume"
expect_rc 2 "--init-from with --flow" train "$T/moons.csv" -o "$T/x.safetensors" --flow maf:2 --init-from "$K"
expect_in "$T/err" "does not apply to --flow" "--init-from with --flow"
expect_rc 2 "--init-from a flow" train "$T/moons.csv" -o "$T/x.safetensors" --dist gaussian --init-from "$K"
expect_in "$T/err" "a flow; --init-from starts a MADE" "--init-from a flow file"
expect_rc 1 "flow -o a directory, before training" train "$T/moons.csv" -o "$T" --flow maf:2 --quiet
if [ -e "$T/x.safetensors" ]; then bad "a refused run left a model file"; else ok; fi

# ---- Ctrl-C and --resume ------------------------------------------------------
expect_rc 0 "toy moons (large)" toy moons -n 8000 -o "$T/big.csv" --seed 5
# ctrl_c NAME OPTS...: an uninterrupted run, the same run stopped by SIGINT
# after its first epoch and resumed with --resume alone: the same file.
ctrl_c() {
  name=$1; shift
  expect_rc 0 "$name: uninterrupted run" train "$T/big.csv" -o "$T/u.safetensors" "$@" --log-json "$T/u.log"
  rm -f "$T/r.log" "$T/r.safetensors" "$T/r.safetensors.ckpt"
  "$MADE" train "$T/big.csv" -o "$T/r.safetensors" "$@" --log-json "$T/r.log" > "$T/bg.out" 2> "$T/bg.err" &
  bgpid=$!
  i=0
  while [ "$i" -lt 400 ]; do
    if [ -s "$T/r.log" ] || ! kill -0 "$bgpid" 2>/dev/null; then break; fi
    sleep 0.05
    i=$((i + 1))
  done
  kill -INT "$bgpid" 2>/dev/null
  wait "$bgpid"
  bgrc=$?
  bgpid=
  if [ "$bgrc" -eq 0 ]; then
    echo "note: $name: training finished before SIGINT arrived; the resume path was not exercised" >&2
    if cmp -s "$T/u.safetensors" "$T/r.safetensors"; then ok; else bad "$name: two identical runs differ"; fi
  elif [ "$bgrc" -eq 130 ]; then
    ok
    expect_rc 0 "$name: resume" train "$T/big.csv" -o "$T/r.safetensors" --resume "$T/r.safetensors.ckpt" --quiet
    if cmp -s "$T/u.safetensors" "$T/r.safetensors"; then ok
    else bad "$name: resumed flow file differs from the uninterrupted run's"; fi
  else
    cp "$T/bg.err" "$T/err"
    bad "$name: interrupted train: exit $bgrc, want 130"
  fi
}
ctrl_c "maf" --flow maf:4 --hidden 128,128 --batch-norm --batch-size 10 --epochs 3 --seed 1 --quiet
ctrl_c "iaf, shared weights" --flow iaf:3 --share-weights --hidden 64,64 --batch-norm --batch-size 10 \
  --epochs 3 --seed 1 --quiet

harness_summary
