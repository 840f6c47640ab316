#!/bin/sh
# cli_outputs.sh - where made's outputs go: "-" for standard output and input,
# outputs that are not regular files (a character device, a FIFO, a symbolic
# link, a directory), unknown output extensions, and output paths checked
# before any work starts.
#
# Special files are ones this test creates itself in a temp directory (never the
# real /dev/null): the character device needs root (mknod), and is skipped,
# reported as skipped, otherwise.
#
# Run from the repository root:  MADE=bin/made sh tests/cli/cli_outputs.sh
# Prints "cli_outputs: N passed, N failed[, N skipped]" last.
set -u

# shellcheck source=tests/harness.sh
. "$(dirname "$0")/../harness.sh"
harness_start cli_outputs

made() { "$MADE" "$@" 2> "$T/err"; rc=$?; }

cd "$T" || exit 1
made init -o m.safetensors --event-size 4 --hidden 8 --dist bernoulli --seed 3
[ "$rc" -eq 0 ] || bad "setup: init -> exit $rc"
printf '1,0,1,0\n0,0,1,1\n1,1,1,0\n' > d.csv
made sample m.safetensors -n 6 --seed 5 -o ref.npy
made sample m.safetensors -n 6 --seed 5 -o ref.csv
made sample m.safetensors -n 4 --seed 5 --png ref.png --image-shape 2x2
made logprob m.safetensors d.csv -o lp.npy
made forward m.safetensors -i d.csv -o y.npy
made eval m.safetensors d.csv > eval.txt

# ---- "-": standard output and standard input ------------------------------------------
made sample m.safetensors -n 6 --seed 5 -o - > got.npy
check "sample -o - writes the .npy to stdout" cmp -s got.npy ref.npy
made sample m.safetensors -n 4 --seed 5 --png - --image-shape 2x2 > got.png
check "sample --png - writes the PNG to stdout" cmp -s got.png ref.png
made logprob m.safetensors - -o - < d.csv > got.npy
check "logprob reads CSV from stdin and writes to stdout" cmp -s got.npy lp.npy
made logprob m.safetensors - -o - < ref.npy > got.npy
made logprob m.safetensors ref.npy -o lp2.npy
check "logprob reads .npy from stdin" cmp -s got.npy lp2.npy
made forward m.safetensors -i - -o - < d.csv > got.npy
check "forward -i - -o -" cmp -s got.npy y.npy
cat d.csv | "$MADE" eval m.safetensors - > got.txt 2> "$T/err"
check "eval reads DATA - from a pipe" cmp -s got.txt eval.txt
made init -o - --event-size 4 --hidden 8 --dist bernoulli --seed 3 > got.safetensors
check "init -o - writes the model to stdout" cmp -s got.safetensors m.safetensors
made sample m.safetensors -n 2 -o - --png -
check "-o - and --png - together are refused" [ "$rc" -eq 2 ]

# ---- a FIFO is written to, not replaced ------------------------------------------------
mkfifo fifo
timeout 20 cat fifo > fifo.out &  # bounded: a regression must not hang the suite
reader=$!
made sample m.safetensors -n 6 --seed 5 -o fifo
wait "$reader"
check "sample -o FIFO exits 0" [ "$rc" -eq 0 ]
check "the FIFO is still a FIFO" [ -p fifo ]
check "the FIFO's reader got the .npy" cmp -s fifo.out ref.npy

# ---- a character device is written to, never replaced (needs root for mknod) ------------
if [ "$(id -u)" = 0 ] && mknod null c 1 3 2> /dev/null; then
  for args in "sample m.safetensors -n 6 -o null" "sample m.safetensors -n 6 -o null.npy" \
              "logprob m.safetensors d.csv -o null" "forward m.safetensors -i d.csv -o null" \
              "init -o null --event-size 3" "sample m.safetensors -n 4 --png null --image-shape 2x2"; do
    case $args in *null.npy*) ln -sf null null.npy ;; esac
    eval "set -- $args"
    made "$@"
    check "made $args exits 0" [ "$rc" -eq 0 ]
    check "made $args: null is still a character device" [ -c null ]
    check "made $args: no temp file left" [ -z "$(ls | grep '\.tmp\.')" ]
  done
  check "the link to the device is still a link" [ -L null.npy ]
else
  skip "character device: mknod needs root"
fi

# ---- a symbolic link: its target is replaced atomically, the link kept ------------------
mkdir real
cp lp.npy real/target.npy
ln -s real/target.npy link.npy
made sample m.safetensors -n 6 --seed 5 -o link.npy
check "sample -o LINK exits 0" [ "$rc" -eq 0 ]
check "the link is still a link" [ -L link.npy ]
check "the link's target holds the samples" cmp -s real/target.npy ref.npy
check "no temp file beside the link or the target" [ -z "$(ls . real | grep '\.tmp\.')" ]
ln -s real/target.png link.png
printf 'old' > real/target.png
made sample m.safetensors -n 4 --seed 5 --png link.png --image-shape 2x2
check "the PNG link is still a link" [ -L link.png ]
check "the PNG link's target holds the image" cmp -s real/target.png ref.png
ln -s real/model.safetensors link.safetensors
made init -o link.safetensors --event-size 4 --hidden 8 --dist bernoulli --seed 3
check "a model saved through a link: link kept" [ -L link.safetensors ]
check "a model saved through a link: target written" cmp -s real/model.safetensors m.safetensors
ln -s real/missing/x.npy dangling.npy
made sample m.safetensors -n 2 -o dangling.npy
check "a dangling link is an error (exit 1)" [ "$rc" -eq 1 ]
check "a dangling link is named" grep -q "dangling.npy" "$T/err"
check "a dangling link stays a link" [ -L dangling.npy ]

# An existing file keeps its permissions when replaced.
cp ref.npy mode.npy
chmod 640 mode.npy
made sample m.safetensors -n 3 -o mode.npy
check "a replaced file keeps its mode" [ "$(stat -c %a mode.npy)" = 640 ]

# ---- a directory is an error, left alone ---------------------------------------------
mkdir adir.npy
made sample m.safetensors -n 2 -o adir.npy
check "-o DIRECTORY exits 1" [ "$rc" -eq 1 ]
check "-o DIRECTORY is named as such" grep -q "adir.npy: is a directory" "$T/err"
check "the directory is still there" [ -d adir.npy ]

# ---- unknown extensions --------------------------------------------------------------
for args in "logprob m.safetensors d.csv -o lp.txt" "sample m.safetensors -n 2 -o s.json" \
            "forward m.safetensors -i d.csv -o y" "sample m.safetensors -n 4 --png s.jpg"; do
  eval "set -- $args"
  made "$@"
  check "made $args exits 2" [ "$rc" -eq 2 ]
  check "made $args names the formats" grep -q -E "\.npy or \.csv|use \.png" "$T/err"
  check "made $args writes nothing" [ ! -e lp.txt ] && [ ! -e s.json ] && [ ! -e y ] && [ ! -e s.jpg ]
done

# ---- outputs checked before the work: the option and the path are named ---------------
made sample m.safetensors -n 50000000 -o nodir/s.npy
check "sample into a missing directory fails at once (exit 1)" [ "$rc" -eq 1 ]
check "... naming -o and the directory problem" \
  grep -q -- "-o nodir/s.npy: cannot create a file there: the directory does not exist" "$T/err"
check "... before sampling" sh -c "! grep -q 'samples in' '$T/err'"
made sample m.safetensors -n 4 -o ok.npy --png nodir/s.png --image-shape 2x2
check "a bad --png path fails before ok.npy is written" [ "$rc" -eq 1 ] && [ ! -e ok.npy ]
check "... naming --png" grep -q -- "--png nodir/s.png" "$T/err"

harness_summary
