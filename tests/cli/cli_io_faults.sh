#!/bin/sh
# cli_io_faults.sh - the made program writing onto a failing device.
#
# Every file made writes (init's model, train's checkpoint and final model,
# forward's, sample's and logprob's outputs, sample's PNG) is written while
# write(), fsync(), close() or rename() fail, through the LD_PRELOAD shim
# build/tests/libiofail.so (tests/iofail.c; see there for its variables). Each
# run must exit 1 with "made VERB: " + the path + the reason (strerror), and
# leave the output directory exactly as it was: the previous file byte-identical
# (or still absent), no temp file. A checkpoint write failing in the middle of
# training leaves the previous epoch's checkpoint, and resuming from it gives
# the uninterrupted run's model byte for byte.
#
# If a tmpfs can be mounted (root, and the sandbox allows it), the same is
# checked once more on a real, nearly full filesystem (real ENOSPC, no shim);
# if not, that section is reported as skipped.
#
# Run from the repository root:  MADE=bin/made BUILD=build sh tests/cli/cli_io_faults.sh
# Prints "cli_io_faults: N passed, N failed[, N skipped]" last.
set -u

MNT=
# on_exit runs when the script ends (tests/harness.sh), so it expands then.
# shellcheck disable=SC2016
on_exit='if [ -n "$MNT" ]; then umount "$MNT" 2>/dev/null; fi'
# shellcheck source=tests/harness.sh
. "$(dirname "$0")/../harness.sh"
harness_start cli_io_faults

BUILD=${BUILD:-build}
SO=$(pwd)/$BUILD/tests/libiofail.so

if [ ! -x "$MADE" ] || [ ! -f "$SO" ]; then
  echo "FAIL: need $MADE and $SO (make test builds both)" >&2
  echo "cli_io_faults: 0 passed, 1 failed"
  exit 1
fi

# A sanitizer build's runtime must come first among the libraries; the shim is
# preloaded before it, which is harmless but has to be allowed.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

# made ARGS...: a plain run (no fault), status in $rc.
made() {
  "$MADE" "$@" > "$T/stdout" 2> "$T/err"
  rc=$?
}

# faulty "VAR=VALUE ..." ARGS...: runs made with the shim and the variables.
faulty() {
  vars=$1
  shift
  # shellcheck disable=SC2086
  env LD_PRELOAD="$SO" IOFAIL_PATH="$T/out/" $vars "$MADE" "$@" > "$T/stdout" 2> "$T/err"
  rc=$?
}

snapshot() {
  rm -rf "$T/snap"
  cp -a "$T/out" "$T/snap"
}

# expect_io_failure DESC TARGET REASON "VARS" ARGS...: exit 1, a message naming
# TARGET and REASON, $T/out unchanged (previous files identical, no temp files).
expect_io_failure() {
  desc=$1; target=$2; reason=$3; vars=$4
  shift 4
  snapshot
  faulty "$vars" "$@"
  if sanitizer_report "$T/err"; then bad "$desc: sanitizer report"; return; fi
  if [ "$rc" -ne 1 ]; then bad "$desc [$vars]: exit $rc, want 1"; return; fi
  if ! grep -q -F -e "$target" "$T/err"; then bad "$desc [$vars]: message lacks the path $target"; return; fi
  if ! grep -q -F -e "$reason" "$T/err"; then bad "$desc [$vars]: message lacks '$reason'"; return; fi
  if ! grep -q -E '^made [a-z]+: ' "$T/err"; then bad "$desc [$vars]: message lacks 'made VERB: '"; return; fi
  if ! diff -r "$T/snap" "$T/out" > "$T/diff" 2>&1; then
    bad "$desc [$vars]: the output directory changed: $(head -n 3 "$T/diff" | tr '\n' ' ')"
    return
  fi
  ok
}

ENOSPC="No space left on device"
EIO="Input/output error"
EDQUOT="Disk quota exceeded"
EROFS="Read-only file system"

mkdir -p "$T/in" "$T/out" "$T/other" "$T/ref"

# ---- inputs ------------------------------------------------------------------------
# 60 rows of 6 binary values, and real-valued inputs for forward.
awk 'BEGIN { s = 7; for (i = 0; i < 60; i++) { line = "";
  for (j = 0; j < 6; j++) { s = (s * 1103515245 + 12345) % 2147483648;
    line = line (j ? "," : "") (s % 5 < 2 ? 1 : 0) } print line } }' > "$T/in/data.csv"
awk 'BEGIN { for (i = 0; i < 9; i++) { line = "";
  for (j = 0; j < 6; j++) line = line (j ? "," : "") (i - j) / 4; print line } }' > "$T/in/x.csv"
made init -o "$T/in/net.safetensors" --event-size 6 --params 2 --hidden 8 --activation tanh --seed 1
[ "$rc" -eq 0 ] || bad "setup: init"
made train "$T/in/data.csv" -o "$T/in/trained.safetensors" --dist bernoulli --hidden 8 --epochs 1 \
  --batch-size 20 --checkpoint "$T/in/trained.ckpt" -q
[ "$rc" -eq 0 ] || bad "setup: train"

# Previous versions of every output, written without faults.
made init -o "$T/out/m.safetensors" --event-size 6 --hidden 8 --seed 5
made forward "$T/in/net.safetensors" -i "$T/in/x.csv" -o "$T/out/y.npy"
made forward "$T/in/net.safetensors" -i "$T/in/x.csv" -o "$T/out/y.csv"
made sample "$T/in/trained.safetensors" -n 30 --seed 1 -o "$T/out/s.npy" --png "$T/out/g.png" --image-shape 2x3
made sample "$T/in/trained.safetensors" -n 30 --seed 1 -o "$T/out/s.csv"
made logprob "$T/in/trained.safetensors" "$T/in/x.csv" --binarize 0.5 -o "$T/out/lp.npy"
made train "$T/in/data.csv" -o "$T/out/final.safetensors" --dist bernoulli --hidden 8 --epochs 1 \
  --batch-size 20 --checkpoint "$T/out/t.ckpt" --seed 9 -q
[ "$rc" -eq 0 ] || bad "setup: previous outputs"
size_of() { wc -c < "$1" | tr -d ' '; }

# faults_for DESC TARGET ARGS...: the whole list of faults for one command whose
# output TARGET (in $T/out) exists already.
faults_for() {
  desc=$1; target=$2
  shift 2
  size=$(size_of "$target")
  expect_io_failure "$desc" "$target" "$ENOSPC" "IOFAIL_WRITE=1" "$@"
  expect_io_failure "$desc" "$target" "$EIO" "IOFAIL_WRITE=2 IOFAIL_ERRNO=EIO" "$@"
  expect_io_failure "$desc" "$target" "$ENOSPC" "IOFAIL_BYTES=0" "$@"
  expect_io_failure "$desc" "$target" "$EDQUOT" "IOFAIL_BYTES=100 IOFAIL_ERRNO=EDQUOT" "$@"
  expect_io_failure "$desc" "$target" "$ENOSPC" "IOFAIL_BYTES=$((size / 2))" "$@"
  expect_io_failure "$desc" "$target" "$EIO" "IOFAIL_FSYNC=1 IOFAIL_ERRNO=EIO" "$@"
  expect_io_failure "$desc" "$target" "$EIO" "IOFAIL_CLOSE=1 IOFAIL_ERRNO=EIO" "$@"
  expect_io_failure "$desc" "$target" "$EROFS" "IOFAIL_RENAME=1 IOFAIL_ERRNO=EROFS" "$@"
  # And onto a target that does not exist yet: it must still not exist.
  mv "$target" "$T/keep"
  expect_io_failure "$desc (new file)" "$target" "$ENOSPC" "IOFAIL_BYTES=10" "$@"
  mv "$T/keep" "$target"
}

faults_for "init" "$T/out/m.safetensors" \
  init -o "$T/out/m.safetensors" --event-size 6 --hidden 8 --seed 6
faults_for "forward .npy" "$T/out/y.npy" \
  forward "$T/in/net.safetensors" -i "$T/in/x.csv" -o "$T/out/y.npy"
faults_for "forward .csv" "$T/out/y.csv" \
  forward "$T/in/net.safetensors" -i "$T/in/x.csv" -o "$T/out/y.csv"
faults_for "sample .npy" "$T/out/s.npy" \
  sample "$T/in/trained.safetensors" -n 30 --seed 2 -o "$T/out/s.npy"
faults_for "sample .csv" "$T/out/s.csv" \
  sample "$T/in/trained.safetensors" -n 30 --seed 2 -o "$T/out/s.csv"
faults_for "logprob" "$T/out/lp.npy" \
  logprob "$T/in/trained.safetensors" "$T/in/x.csv" --binarize 0 -o "$T/out/lp.npy"
# train: the checkpoint (first written after epoch 1) and the final model.
faults_for "train's checkpoint" "$T/out/t.ckpt" \
  train "$T/in/data.csv" -o "$T/other/final.safetensors" --dist bernoulli --hidden 8 --epochs 2 \
  --batch-size 20 --checkpoint "$T/out/t.ckpt" -q
if [ -e "$T/other/final.safetensors" ]; then bad "train wrote its model although checkpoints failed"; else ok; fi
faults_for "train's model" "$T/out/final.safetensors" \
  train "$T/in/data.csv" -o "$T/out/final.safetensors" --dist bernoulli --hidden 8 --epochs 2 \
  --batch-size 20 --checkpoint "$T/other/t.ckpt" -q

# sample's PNG is written with stdio (not seen by the shim) and renamed into
# place: the rename failing must be reported with the reason.
expect_io_failure "sample --png" "$T/out/g.png" "$EROFS" "IOFAIL_RENAME=1 IOFAIL_ERRNO=EROFS" \
  sample "$T/in/trained.safetensors" -n 30 --seed 2 --png "$T/out/g.png" --image-shape 2x3

# ---- a checkpoint failing in the middle of training, then resumed ----------------
TRAIN="--dist bernoulli --hidden 8 --epochs 4 --batch-size 8 --lr 0.01 --seed 3 -q"
# shellcheck disable=SC2086
made train "$T/in/data.csv" -o "$T/ref/m.safetensors" --checkpoint "$T/ref/m.ckpt" $TRAIN
[ "$rc" -eq 0 ] || bad "reference run -> exit $rc"
rm -f "$T/out/t.ckpt"
# The 3rd checkpoint's rename (after epoch 3) fails: exit 1, epoch 2's file stays.
# shellcheck disable=SC2086
faulty "IOFAIL_RENAME=3 IOFAIL_ERRNO=EIO" train "$T/in/data.csv" -o "$T/other/mid.safetensors" \
  --checkpoint "$T/out/t.ckpt" $TRAIN
if [ "$rc" -eq 1 ] && grep -q -F "$T/out/t.ckpt" "$T/err" && grep -q -F "$EIO" "$T/err"; then ok
else bad "checkpoint failing after epoch 3: exit $rc"; fi
left=$(ls "$T/out" | grep -c '\.tmp' || true)
if [ "$left" -eq 0 ]; then ok; else bad "temp files left after a failed checkpoint"; fi
made train "$T/in/data.csv" -o "$T/other/mid.safetensors" --resume "$T/out/t.ckpt" -q
if [ "$rc" -eq 0 ] && cmp -s "$T/other/mid.safetensors" "$T/ref/m.safetensors"; then ok
else bad "resuming from the last good checkpoint: exit $rc, or the model differs from the uninterrupted run"; fi

# ---- a real, nearly full filesystem (optional) ------------------------------------
if [ "$(id -u)" = 0 ] && mkdir -p "$T/tiny" && mount -t tmpfs -o size=64k tmpfs "$T/tiny" 2>/dev/null; then
  MNT=$T/tiny
  # Leave about 8 KiB of room.
  dd if=/dev/zero of="$MNT/filler" bs=1024 count=56 2>/dev/null
  made sample "$T/in/trained.safetensors" -n 100 --seed 2 -o "$MNT/s.npy"
  [ "$rc" -eq 0 ] || bad "tmpfs: a small sample that fits -> exit $rc"
  cp "$MNT/s.npy" "$T/s.before"
  for target in s.npy s.csv new.npy; do
    made sample "$T/in/trained.safetensors" -n 3000 --seed 2 -o "$MNT/$target"
    if [ "$rc" -eq 1 ] && grep -q -F "$MNT/$target" "$T/err" && grep -q -F "$ENOSPC" "$T/err"; then ok
    else bad "tmpfs: sample -o $target onto a full filesystem: exit $rc"; fi
  done
  if cmp -s "$MNT/s.npy" "$T/s.before"; then ok; else bad "tmpfs: s.npy changed"; fi
  extra=$(ls "$MNT" | grep -v -x -e filler -e s.npy | tr '\n' ' ')
  if [ -z "$extra" ]; then ok; else bad "tmpfs: files left behind: $extra"; fi
  dd if=/dev/zero of="$MNT/filler2" bs=1024 2>/dev/null   # now completely full
  made sample "$T/in/trained.safetensors" -n 3000 --seed 2 --png "$MNT/g.png" --image-shape 2x3
  if [ "$rc" -eq 1 ] && grep -q -F "$ENOSPC" "$T/err"; then ok
  else bad "tmpfs: --png onto a full filesystem: exit $rc"; fi
  umount "$MNT" && MNT=
else
  echo "SKIP real-filesystem checks: no tmpfs could be mounted (needs root and mount rights)" >&2
  skipped=1
fi

harness_summary
