#!/bin/sh
# cli_options.sh - options that take the place of long command lines and tell
# the user what happened: --input-order FILE (the same model as the list on the
# command line, and orders too long for one), and the summary `made init` prints.
#
# Run from the repository root:  MADE=bin/made sh tests/cli/cli_options.sh
# Prints "cli_options: N passed, N failed" last.
set -u

# shellcheck source=tests/harness.sh
. "$(dirname "$0")/../harness.sh"
harness_start cli_options

made() { "$MADE" "$@" 2> "$T/err"; rc=$?; }

cd "$T" || exit 1

# ---- --input-order FILE -------------------------------------------------------------
# The same order as a list, as a one-line CSV, as a one-column CSV and as a .npy
# (written by made itself: forward of a CSV, so no numpy is needed) gives
# byte-identical models.
made init -o list.safetensors --event-size 5 --hidden 7 --seed 2 --input-order 3,5,1,2,4
check "init with --input-order LIST" [ "$rc" -eq 0 ]
printf '3,5,1,2,4\n' > row.csv
printf '3\n5\n1\n2\n4\n' > col.csv
made init -o row.safetensors --event-size 5 --hidden 7 --seed 2 --input-order row.csv
check "--input-order ROW.csv gives the same model" cmp -s row.safetensors list.safetensors
made init -o col.safetensors --event-size 5 --hidden 7 --seed 2 --input-order col.csv
check "--input-order COLUMN.csv gives the same model" cmp -s col.safetensors list.safetensors
# A .npy of the order, float32 little-endian, as np.save writes it.
h="{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }"
pad=$(((64 - (10 + ${#h} + 1) % 64) % 64))
{
  printf '\223NUMPY\001\000'
  printf "\\$(printf %03o $((${#h} + pad + 1)))\\000"
  printf '%s%*s\n' "$h" "$pad" ''
  printf '\000\000\100\100\000\000\240\100\000\000\200\077\000\000\000\100\000\000\200\100'
} > order.npy
made init -o npy.safetensors --event-size 5 --hidden 7 --seed 2 --input-order order.npy
check "--input-order ORDER.npy gives the same model" cmp -s npy.safetensors list.safetensors

# An order too long for a command line (E = 40000 values, about 230 kB of text).
# One hidden unit keeps the model small (no hidden layer would be a 40000 x 40000
# kernel, 6.4 GB).
awk 'BEGIN { for (i = 40000; i >= 1; i--) print i }' > long.csv
made init -o long.safetensors --event-size 40000 --hidden 1 --input-order long.csv
check "--input-order FILE with E = 40000 works" [ "$rc" -eq 0 ]
"$MADE" info long.safetensors --json > long.json 2> "$T/err"
check "... and the model has the reversed order" grep -q '"degrees":\[\[40000,39999,' long.json

# ---- made init says what it built ------------------------------------------------------
made init -o s.safetensors --event-size 4 --hidden 8,6 --dist categorical:3
check "init prints a one-line summary" [ "$(wc -l < "$T/err")" -eq 1 ]
check "... naming the file, the sizes and the distribution" grep -q \
  "made init: wrote s.safetensors: event size 4, hidden 8,6, categorical:3 (3 outputs per dimension), left-to-right order, [0-9]* parameters ([0-9]* unmasked)" "$T/err"

harness_summary
