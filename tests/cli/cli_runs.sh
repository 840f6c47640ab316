#!/bin/sh
# cli_runs.sh - runs that remember: the checkpoint holds the data options, so
# --resume needs no other option; a repeated option must keep its value;
# --epochs extends a finished run to the bits of a longer one; --init-from
# starts from a model's weights; the model file records its binarize threshold
# (applied by eval and logprob) and how training ended (made info); the end of
# training says which epoch was kept and why it stopped; the checkpoint is
# removed unless --keep-checkpoint; the progress line fits a narrow terminal.
#
# Run from the repository root:  MADE=bin/made sh tests/cli/cli_runs.sh
# Prints "cli_runs: N passed, N failed[, N skipped]" last.
set -u

# shellcheck source=tests/harness.sh
. "$(dirname "$0")/../harness.sh"
harness_start cli_runs

made() { "$MADE" "$@" > "$T/out" 2> "$T/err"; rc=$?; }

cd "$T" || exit 1

# Grey levels in [0, 1): trained with --binarize 0.5.
awk 'BEGIN { s = 5; for (i = 0; i < 240; i++) { l = ""; for (j = 0; j < 6; j++) {
  s = (s * 1103515245 + 12345) % 2147483648; v = (s % 1000) / 1000
  if (j % 2 == 1) v = (v + p) / 2; p = v; l = l (j ? "," : "") v }; print l } }' > grey.csv
OPTS="--dist bernoulli --hidden 8 --batch-size 16 --lr 0.01 --seed 4 --val-fraction 0.25 --binarize 0.5"

# ---- extending a finished run: the bits of a longer run -------------------------------
# shellcheck disable=SC2086
made train grey.csv -o a.safetensors $OPTS --epochs 2 --keep-checkpoint
check "train with --keep-checkpoint" [ "$rc" -eq 0 ]
check "--keep-checkpoint keeps the checkpoint" [ -s a.safetensors.ckpt ]
cp a.safetensors a2.safetensors
# shellcheck disable=SC2086
made train grey.csv -o direct.safetensors $OPTS --epochs 4
check "a plain run" [ "$rc" -eq 0 ]
check "the checkpoint is removed after a successful run" [ ! -e direct.safetensors.ckpt ]
made train grey.csv -o ext.safetensors --resume a.safetensors.ckpt --epochs 4
check "--resume with only --epochs (data options from the checkpoint)" [ "$rc" -eq 0 ]
check "an extended run equals a run started with that many epochs, byte for byte" \
  cmp -s ext.safetensors direct.safetensors
check "the resumed run's checkpoint is removed too" [ ! -e ext.safetensors.ckpt ]
made train grey.csv -o same.safetensors --resume a.safetensors.ckpt
check "--resume of a finished run with no option at all" [ "$rc" -eq 0 ]
check "... gives the finished model" cmp -s same.safetensors a2.safetensors

# ---- repeated options: the same value is accepted, another is an error ------------------
made train grey.csv -o rep.safetensors --resume a.safetensors.ckpt --val-fraction 2.5e-1 \
  --binarize 0.50 --lr 1e-2 --hidden 8 --dist bernoulli --batch-size 16 --seed 4 --keep-checkpoint
check "repeating every option with the same value is accepted" [ "$rc" -eq 0 ]
for args in "--val-fraction 0.3|--val-fraction 0.3, but the run in a.safetensors.ckpt was started with --val-fraction 0.25" \
            "--binarize 0.4|--binarize 0.4, but the run in a.safetensors.ckpt was started with --binarize 0.5" \
            "--lr 0.02|--lr 0.02, but the run in a.safetensors.ckpt has --lr 0.01" \
            "--hidden 9|--hidden 9, but the run in a.safetensors.ckpt has --hidden 8" \
            "--optimizer sgd|--optimizer sgd, but the run in a.safetensors.ckpt has --optimizer adam" \
            "--val grey.csv|--val grey.csv, but the run in a.safetensors.ckpt was started without --val"; do
  opt=${args%%|*}
  msg=${args#*|}
  # shellcheck disable=SC2086
  made train grey.csv -o x.safetensors --resume a.safetensors.ckpt $opt
  check "resume with a different $opt: exit 2" [ "$rc" -eq 2 ]
  check "... the message names the option and both values" grep -q -F -- "$msg" "$T/err"
done
check "no model written by the refused resumes" [ ! -e x.safetensors ]

# ---- what the model records, and who uses it ------------------------------------------
made info direct.safetensors
check "info shows the binarize threshold" grep -q "binarize: *0.5" "$T/out"
check "info shows how training ended" grep -q "training: *4 epochs run, kept epoch [1-4], stopped: all epochs run" "$T/out"
made info direct.safetensors --json
check "info --json has the record" grep -q '"record":{"binarize":0.5,"epochs_run":4,"best_epoch":[1-4],"stop":"epochs","train_nll":[0-9.]*,"val_nll":[0-9.]*}' "$T/out"
made eval direct.safetensors grey.csv
check "eval applies the model's binarize threshold" [ "$rc" -eq 0 ]
cp "$T/out" eval1.txt
made eval direct.safetensors grey.csv --binarize 0.5
check "... the same as --binarize 0.5" cmp -s "$T/out" eval1.txt
made logprob direct.safetensors grey.csv -o lp1.npy
made logprob direct.safetensors grey.csv -o lp2.npy --binarize 0.5
check "logprob applies it too" cmp -s lp1.npy lp2.npy

# The end of training: which epoch was kept and why it stopped.
# shellcheck disable=SC2086
made train grey.csv -o p.safetensors --dist bernoulli --hidden 8 --batch-size 16 --lr 0.05 \
  --val-fraction 0.25 --binarize 0.5 --epochs 40 --patience 2
check "train with --patience" [ "$rc" -eq 0 ]
check "the end says which epoch was kept and why (patience)" \
  grep -q "kept epoch [0-9]* of [0-9]* (best validation NLL [0-9.]*, train NLL of the last epoch [0-9.]*); stopped early: no validation improvement for 2 epochs" "$T/err"
made train grey.csv -o n.safetensors --dist bernoulli --hidden 4 --epochs 2 --binarize 0.5
check "the end says the last epoch was kept without validation" \
  grep -q "kept the last epoch, 2 (train NLL [0-9.]*; no validation data to choose another); stopped after all 2 epochs" "$T/err"

# ---- --init-from: a model's weights as the start --------------------------------------
made eval direct.safetensors grey.csv
base=$(cut -d' ' -f1 "$T/out")
made train grey.csv -o ft.safetensors --init-from direct.safetensors --epochs 1 --lr 1e-9 --val-fraction 0.25
check "--init-from trains" [ "$rc" -eq 0 ]
made eval ft.safetensors grey.csv
ft=$(cut -d' ' -f1 "$T/out")
check "--init-from starts from the model's weights (1 epoch at lr 1e-9 changes little: $base vs $ft)" \
  awk -v a="$base" -v b="$ft" 'BEGIN { d = a - b; exit !(d < 1e-4 && d > -1e-4) }'
made info ft.safetensors
check "--init-from keeps the model's binarize threshold" grep -q "binarize: *0.5" "$T/out"
made init -o plain.safetensors --event-size 6 --hidden 8
made train grey.csv -o ft2.safetensors --init-from plain.safetensors --dist bernoulli --epochs 1 --binarize 0.5
check "--init-from a model without a distribution, given --dist" [ "$rc" -eq 0 ]

# ---- the progress line on a narrow terminal ---------------------------------------------
if command -v script > /dev/null 2>&1; then
  COLUMNS=40 script -qec "stty cols 40 2>/dev/null; '$MADE' train grey.csv -o tty.safetensors \
    --dist bernoulli --hidden 8 --epochs 2 --val-fraction 0.25 --binarize 0.5" /dev/null \
    > tty.out 2>&1 < /dev/null
  # The live lines are the ones redrawn with "\r\033[K" that start "epoch N/M [".
  live=$(tr '\r' '\n' < tty.out | sed 's/\x1b\[K//g' | grep -c '^epoch [0-9]*/[0-9]* \[')
  longest=$(tr '\r' '\n' < tty.out | sed 's/\x1b\[K//g' | grep '^epoch [0-9]*/[0-9]* \[' |
    awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }')
  check "the live progress line is drawn on a terminal ($live lines)" [ "$live" -gt 0 ]
  check "it fits a 40-column terminal ($longest columns)" [ "$longest" -le 39 ]
else
  echo "SKIP: no 'script' program for a pseudo-terminal" >&2
  skipped=$((skipped + 1))
fi
made train --help
check "--help explains the progress line's fields" grep -q "ex/s: training examples per second" "$T/out"

harness_summary
