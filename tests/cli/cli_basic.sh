#!/bin/sh
# cli_basic.sh - the `made` command line against the spec's worked examples
# (../shared/spec/autoregressive-network.md, section 2.5, examples A-J, and the
# parameter counts of section 3), plus help texts, exit codes and error paths.
#
# Run from the repository root:  MADE=bin/made sh tests/cli/cli_basic.sh
# Prints "cli_basic: N passed, N failed" last; exits non-zero on any failure.
# Exit codes under test: 0 success, 1 runtime failure, 2 usage error.
set -u

# shellcheck source=tests/harness.sh
. "$(dirname "$0")/../harness.sh"
harness_start cli_basic

# expect_match FILE ERE DESC
expect_match() {
  if grep -q -E -e "$2" "$1"; then ok; else bad "$3: /$2/ does not match $(basename "$1")"; fi
}

# check_csv FILE ROWS "V1 V2 ..." DESC: FILE has ROWS lines whose comma-separated
# numbers, read in order, equal the expected values within 1e-6.
check_csv() {
  f=$1; rows=$2; want=$3; desc=$4
  if [ ! -f "$f" ]; then bad "$desc: $(basename "$f") was not written"; return; fi
  if msg=$(awk -v want="$want" -v rows="$rows" '
    BEGIN { n = split(want, w, " ") }
    { m = split($0, a, ","); for (i = 1; i <= m; i++) got[++k] = a[i] + 0; lines++ }
    END {
      if (lines != rows) { printf "%d lines, want %d", lines, rows; exit 1 }
      if (k != n) { printf "%d values, want %d", k, n; exit 1 }
      for (i = 1; i <= n; i++) {
        d = got[i] - w[i]; if (d < 0) d = -d
        if (d > 1e-6) { printf "value %d is %.9g, want %.9g", i, got[i], w[i]; exit 1 }
      }
    }' "$f"); then ok; else bad "$desc: $msg"; fi
}

# check_npy_shape FILE "(2, 3, 2)" DESC
check_npy_shape() {
  if [ ! -f "$1" ]; then bad "$3: $(basename "$1") was not written"; return; fi
  if head -c 128 "$1" | tr -d '\000' | grep -a -q -F "'shape': $2"; then ok
  else bad "$3: header of $(basename "$1") lacks 'shape': $2"; fi
}

# no_output DIR DESC: DIR holds no file (no output, no temp file left behind).
no_output() {
  left=$(find "$1" -mindepth 1 | sed 's|.*/||' | tr '\n' ' ')
  if [ -z "$left" ]; then ok; else bad "$2: left files behind: $left"; fi
}

# init_fwd NAME "INIT OPTIONS" X.csv [C.csv]: makes NAME.safetensors and runs
# forward into NAME.csv and NAME.npy.
init_fwd() {
  name=$1; opts=$2; x=$3; c=${4:-}
  # shellcheck disable=SC2086
  run init -o "$T/$name.safetensors" $opts
  if [ "$rc" -ne 0 ]; then bad "$name: made init $opts -> exit $rc"; return; fi
  if [ -n "$c" ]; then
    run forward "$T/$name.safetensors" -i "$x" -c "$c" -o "$T/$name.csv"
    [ "$rc" -eq 0 ] || bad "$name: forward to .csv -> exit $rc"
    run forward "$T/$name.safetensors" -i "$x" -c "$c" -o "$T/$name.npy"
    [ "$rc" -eq 0 ] || bad "$name: forward to .npy -> exit $rc"
  else
    run forward "$T/$name.safetensors" -i "$x" -o "$T/$name.csv"
    [ "$rc" -eq 0 ] || bad "$name: forward to .csv -> exit $rc"
    run forward "$T/$name.safetensors" -i "$x" -o "$T/$name.npy"
    [ "$rc" -eq 0 ] || bad "$name: forward to .npy -> exit $rc"
  fi
}

ONES="--kernel-initializer ones"

# ---- inputs --------------------------------------------------------------------
printf '1,2,3\n' > "$T/x123.csv"
printf '1,2,3\n0.5,-1,2\n' > "$T/x2rows.csv"
printf '1,-2,3,4\n' > "$T/xD.csv"
printf '5\n' > "$T/x5.csv"
printf '1,2,3,4,5\n' > "$T/xH.csv"
printf '1,2\n' > "$T/x12.csv"
printf '0.5\n' > "$T/c05.csv"
printf '1,2,3,4\n' > "$T/x4cols.csv"

# A 1-D .npy input [1, 2, 3] (float32 little-endian, header padded to 128 bytes).
npy_header="{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }"
pad=$((128 - 10 - ${#npy_header} - 1))
{
  printf '\223NUMPY\001\000\166\000'   # magic, version 1.0, header length 118
  printf '%s' "$npy_header"
  printf "%${pad}s\n" ''
  printf '\000\000\200\077\000\000\000\100\000\000\100\100'   # 1.0 2.0 3.0
} > "$T/x1d.npy"

# ---- A: E=3, hidden [4], P=2, left-to-right, equal ------------------------------
init_fwd A "--event-size 3 --params 2 --hidden 4 $ONES" "$T/x123.csv"
check_csv "$T/A.csv" 1 "0 0 2 2 8 8" "example A (biases 0)"
check_npy_shape "$T/A.npy" "(1, 3, 2)" "example A .npy"
init_fwd A1 "--event-size 3 --params 2 --hidden 4 $ONES --bias-initializer ones" "$T/x123.csv"
check_csv "$T/A1.csv" 1 "1 1 5 5 13 13" "example A (biases 1)"
run info "$T/A.safetensors"
if [ "$rc" -eq 0 ]; then ok; else bad "info A -> exit $rc"; fi
expect_match "$T/out" 'input order: *\[1, ?2, ?3\]' "info A shows the input order"
expect_match "$T/out" 'hidden layer 1 *: *\[1, ?1, ?2, ?2\]' "info A shows the hidden degrees"
run info "$T/A.safetensors" --json
expect_in "$T/out" '"degrees":[[1,2,3],[1,1,2,2]]' "info --json A degrees"
expect_in "$T/out" '"num_params":46' "info --json A num_params (4*4 + 5*6)"

# A, rank-1 .npy input -> [E, P]; a batch of rows in a 3-D .npy would keep its axes.
run forward "$T/A.safetensors" -i "$T/x1d.npy" -o "$T/A1d.npy"
if [ "$rc" -eq 0 ]; then ok; else bad "forward on a 1-D .npy -> exit $rc"; fi
check_npy_shape "$T/A1d.npy" "(3, 2)" "rank-1 input gives [E, P]"
run forward "$T/A.safetensors" -i "$T/x1d.npy" -o "$T/A1d.csv"
check_csv "$T/A1d.csv" 1 "0 0 2 2 8 8" "example A from a 1-D .npy"

# ---- B: right-to-left -----------------------------------------------------------
init_fwd B "--event-size 3 --params 2 --hidden 4 --input-order right-to-left $ONES" "$T/x123.csv"
check_csv "$T/B.csv" 1 "16 16 6 6 0 0" "example B"
run info "$T/B.safetensors" --json
expect_in "$T/out" '"degrees":[[3,2,1],[1,1,2,2]]' "info --json B degrees"

# ---- C: explicit order 2,3,1, batch of two rows -----------------------------------
init_fwd C "--event-size 3 --params 2 --hidden 4 --input-order 2,3,1 $ONES" "$T/x2rows.csv"
check_csv "$T/C.csv" 2 "6 6 14 14 0 0 4 4 9 9 0 0" "example C"
check_npy_shape "$T/C.npy" "(2, 3, 2)" "example C .npy"
run info "$T/C.safetensors" --json
expect_in "$T/out" '"degrees":[[2,3,1],[1,1,2,2]]' "info --json C degrees"

# ---- D: E=4, hidden [5, 5], P=1 ------------------------------------------------------
init_fwd Drelu "--event-size 4 --hidden 5,5 --activation relu $ONES" "$T/xD.csv"
check_csv "$T/Drelu.csv" 1 "0 4 8 12" "example D (relu)"
check_npy_shape "$T/Drelu.npy" "(1, 4, 1)" "example D .npy"
init_fwd Dlin "--event-size 4 --hidden 5,5 $ONES" "$T/xD.csv"
check_csv "$T/Dlin.csv" 1 "0 4 4 6" "example D (linear)"
run info "$T/Dlin.safetensors" --json
expect_in "$T/out" '"degrees":[[1,2,3,4],[1,1,2,2,3],[1,1,2,2,3]]' "info --json D degrees"

# ---- E: E=3, no hidden layer, P=2 -------------------------------------------------
init_fwd E "--event-size 3 --params 2 $ONES" "$T/x123.csv"
check_csv "$T/E.csv" 1 "0 0 1 1 3 3" "example E"
init_fwd E2 "--event-size 3 --params 2 --hidden= $ONES" "$T/x123.csv"
check_csv "$T/E2.csv" 1 "0 0 1 1 3 3" "example E with an empty --hidden="

# ---- F: E=1, hidden [2], P=3, biases 0.25 -------------------------------------------
init_fwd F "--event-size 1 --params 3 --hidden 2 $ONES --bias-initializer constant:0.25" "$T/x5.csv"
check_csv "$T/F.csv" 1 "0.75 0.75 0.75" "example F"
check_npy_shape "$T/F.npy" "(1, 1, 3)" "example F .npy"
run info "$T/F.safetensors" --json
expect_in "$T/out" '"degrees":[[1],[0,0]]' "info --json F: E=1 hidden degrees are 0"

# ---- G: 'equal' degrees lifted by the previous layer's minimum ---------------------
run init -o "$T/G.safetensors" --event-size 10 --hidden 3,20
if [ "$rc" -eq 0 ]; then ok; else bad "init G -> exit $rc"; fi
run info "$T/G.safetensors" --json
expect_in "$T/out" '[3,5,7],[3,3,3,3,3,3,3,4,4,5,5,6,6,6,7,7,8,8,9,9]]' "info --json G degrees"

# ---- H: hidden layers smaller than E-1 ----------------------------------------------
init_fwd H "--event-size 5 --hidden 2 $ONES" "$T/xH.csv"
check_csv "$T/H.csv" 1 "0 0 3 9 9" "example H (E=5, hidden [2])"
run info "$T/H.safetensors" --json
expect_in "$T/out" '"degrees":[[1,2,3,4,5],[2,3]]' "info --json H degrees"
run init -o "$T/H9.safetensors" --event-size 9 --hidden 5,5 --input-order right-to-left
run info "$T/H9.safetensors" --json
expect_in "$T/out" '"degrees":[[9,8,7,6,5,4,3,2,1],[2,3,4,6,7],[2,3,4,6,7]]' "info --json H E=9 r2l degrees"

# ---- I: conditional, E=2, C=1, hidden [2], P=2 --------------------------------------
init_fwd Iall "--event-size 2 --params 2 --hidden 2 --conditional-size 1 $ONES" "$T/x12.csv" "$T/c05.csv"
check_csv "$T/Iall.csv" 1 "0.5 0.5 3.5 3.5" "example I (all_layers)"
check_npy_shape "$T/Iall.npy" "(1, 2, 2)" "example I .npy"
init_fwd Ifirst "--event-size 2 --params 2 --hidden 2 --conditional-size 1 --conditional-layers first_layer $ONES" "$T/x12.csv" "$T/c05.csv"
check_csv "$T/Ifirst.csv" 1 "0 0 3 3" "example I (first_layer)"
# One conditioning row broadcasts over a batch of x rows.
printf '1,2\n1,2\n1,2\n' > "$T/x12x3.csv"
run forward "$T/Iall.safetensors" -i "$T/x12x3.csv" -c "$T/c05.csv" -o "$T/Ib.csv"
check_csv "$T/Ib.csv" 3 "0.5 0.5 3.5 3.5 0.5 0.5 3.5 3.5 0.5 0.5 3.5 3.5" "example I broadcast c"

# ---- J: TFP's hard-coded mask tests (as degrees) and numpy-seeded 'random' ---------
run init -o "$T/J1.safetensors" --event-size 3 --params 2 --hidden 4,4
run info "$T/J1.safetensors" --json
expect_in "$T/out" '"degrees":[[1,2,3],[1,1,2,2],[1,1,2,2]]' "J: hidden [4,4] left-to-right"
run init -o "$T/J2.safetensors" --event-size 3 --params 2 --hidden 4,4 --input-order 3,2,1
run info "$T/J2.safetensors" --json
expect_in "$T/out" '"degrees":[[3,2,1],[1,1,2,2],[1,1,2,2]]' "J: hidden [4,4] explicit 3,2,1"
run init -o "$T/J3.safetensors" --event-size 3 --params 2 --hidden 5,3
run info "$T/J3.safetensors" --json
expect_in "$T/out" '"degrees":[[1,2,3],[1,1,1,2,2],[1,1,2]]' "J: hidden [5,3]"
# np.random.seed(s) traces of section 2.2.
for spec in "0:[[3,4,2,1],[2,2,3,1,3,1],[1,1,3,2,3,3]]" \
            "1:[[4,3,1,2],[2,2,1,1,2,1],[2,1,3,2,3,1]]" \
            "42:[[2,4,1,3],[3,1,1,3,2,3],[3,3,3,1,3,2]]"; do
  s=${spec%%:*}; want=${spec#*:}
  run init -o "$T/Jr$s.safetensors" --event-size 4 --hidden 6,6 --input-order random \
      --hidden-degrees random --seed "$s"
  run info "$T/Jr$s.safetensors" --json
  expect_in "$T/out" "\"degrees\":$want" "J: random order and degrees, seed $s"
done
run init -o "$T/Jr3.safetensors" --event-size 3 --hidden 4,4 --input-order random --hidden-degrees random --seed 0
run info "$T/Jr3.safetensors" --json
expect_in "$T/out" '"degrees":[[3,2,1],[2,1,2,2],[2,2,2,2]]' "J: E=3 hidden [4,4] seed 0"
run init -o "$T/Jr5.safetensors" --event-size 5 --hidden 3 --input-order random --hidden-degrees random --seed 0
run info "$T/Jr5.safetensors" --json
expect_in "$T/out" '"degrees":[[3,1,2,4,5],[4,4,4]]' "J: E=5 hidden [3] seed 0"

# ---- parameter counts (section 3) ---------------------------------------------------
for spec in "339:--event-size 4 --params 3 --hidden 10,7,10" \
            "154:--event-size 5 --params 2 --hidden 9" \
            "115:--event-size 9 --params 1 --hidden 5,5 --no-bias" \
            "36:--event-size 3 --params 4 --no-bias" \
            "103:--event-size 4 --params 2 --hidden 5,5"; do
  n=${spec%%:*}; opts=${spec#*:}
  # shellcheck disable=SC2086
  run init -o "$T/count.safetensors" $opts
  if [ "$rc" -eq 0 ]; then ok; else bad "init $opts -> exit $rc"; fi
  run info "$T/count.safetensors" --json
  expect_in "$T/out" "\"num_params\":$n," "num_params of $opts"
  run info "$T/count.safetensors"
  expect_match "$T/out" "parameters: *$n " "info text shows $n parameters"
done

# ---- help ------------------------------------------------------------------------------
expect_rc 0 "made --help" --help
expect_in "$T/out" "init" "made --help lists init"
expect_in "$T/out" "forward" "made --help lists forward"
expect_in "$T/out" "info" "made --help lists info"
expect_rc 0 "made init --help" init --help
for o in output event-size params hidden input-order hidden-degrees activation no-bias \
         kernel-initializer bias-initializer conditional-size conditional-layers seed \
         validate-args masks dist; do
  expect_in "$T/out" "--$o" "init --help mentions --$o"
done
expect_rc 0 "made init -h" init -h
expect_rc 0 "made forward --help" forward --help
for o in input conditional output threads; do
  expect_in "$T/out" "--$o" "forward --help mentions --$o"
done
expect_rc 0 "made info --help" info --help
expect_in "$T/out" "--json" "info --help mentions --json"

# ---- usage errors: exit 2 with a message naming the option -----------------------
U="$T/usage"; mkdir "$U"
usage_err() {  # usage_err PATTERN DESC ARGS...
  pat=$1; desc=$2; shift 2
  run "$@"
  if [ "$rc" -eq 2 ]; then ok; else bad "$desc: exit $rc, want 2 (made $*)"; fi
  expect_match "$T/err" "$pat" "$desc: message"
}
usage_err 'bogus' "unknown option" init -o "$U/m.safetensors" --event-size 3 --bogus
usage_err 'bogus' "unknown option (forward)" forward "$T/A.safetensors" -i "$T/x123.csv" -o "$U/y.npy" --bogus
usage_err 'bogus' "unknown option (info)" info "$T/A.safetensors" --bogus
usage_err 'event-size' "missing value" init -o "$U/m.safetensors" --event-size
usage_err 'output' "missing value for -o" init --event-size 3 -o
usage_err 'event-size' "--event-size 0" init -o "$U/m.safetensors" --event-size 0
usage_err 'event-size' "--event-size -3" init -o "$U/m.safetensors" --event-size -3
usage_err 'event-size' "no --event-size" init -o "$U/m.safetensors"
usage_err 'input[-_]order' "--input-order 0,1,2" init -o "$U/m.safetensors" --event-size 3 --input-order 0,1,2
usage_err 'input[-_]order' "--input-order 1,1,3" init -o "$U/m.safetensors" --event-size 3 --input-order 1,1,3
usage_err 'input[-_]order' "--input-order 1,2" init -o "$U/m.safetensors" --event-size 3 --input-order 1,2
usage_err 'input[-_]order' "--input-order sideways" init -o "$U/m.safetensors" --event-size 3 --input-order sideways
usage_err 'activation' "--activation foo" init -o "$U/m.safetensors" --event-size 3 --activation foo
usage_err 'hidden' "--hidden 4,x" init -o "$U/m.safetensors" --event-size 3 --hidden 4,x
usage_err 'hidden' "--hidden 4,,4" init -o "$U/m.safetensors" --event-size 3 --hidden 4,,4
usage_err 'hidden' "--hidden 0" init -o "$U/m.safetensors" --event-size 3 --hidden 0
usage_err 'hidden-degrees' "--hidden-degrees uniform" init -o "$U/m.safetensors" --event-size 3 --hidden 4 --hidden-degrees uniform
usage_err 'params' "--params 0" init -o "$U/m.safetensors" --event-size 3 --params 0
usage_err 'conditional-layers' "--conditional-layers first_layers" init -o "$U/m.safetensors" --event-size 3 --conditional-size 1 --conditional-layers first_layers
usage_err 'seed' "--seed -1" init -o "$U/m.safetensors" --event-size 3 --seed -1
usage_err 'input|-i' "forward without -i" forward "$T/A.safetensors" -o "$U/y.npy"
usage_err 'threads' "forward --threads 0" forward "$T/A.safetensors" -i "$T/x123.csv" -o "$U/y.npy" --threads 0
usage_err 'verb' "unknown verb" frobnicate
no_output "$U" "usage errors"

# ---- runtime errors: exit 1, no output left behind ---------------------------------
R="$T/runtime"; mkdir "$R"
runtime_err() {  # runtime_err DESC ARGS...
  desc=$1; shift
  run "$@"
  if [ "$rc" -eq 1 ]; then ok; else bad "$desc: exit $rc, want 1 (made $*)"; fi
  if [ -s "$T/err" ]; then ok; else bad "$desc: no message on stderr"; fi
  no_output "$R" "$desc"
}
runtime_err "missing model file" forward "$T/nonexistent.safetensors" -i "$T/x123.csv" -o "$R/y.npy"
runtime_err "a directory as model" forward "$T" -i "$T/x123.csv" -o "$R/y.npy"
head -c 100 "$T/A.safetensors" > "$T/trunc.safetensors"
runtime_err "truncated model file" forward "$T/trunc.safetensors" -i "$T/x123.csv" -o "$R/y.npy"
runtime_err "truncated model file (info)" info "$T/trunc.safetensors"
printf 'not a model at all\n' > "$T/text.safetensors"
runtime_err "text file as model" forward "$T/text.safetensors" -i "$T/x123.csv" -o "$R/y.npy"
runtime_err "X with the wrong last axis" forward "$T/A.safetensors" -i "$T/x4cols.csv" -o "$R/y.npy"
runtime_err "X with the wrong last axis (.csv out)" forward "$T/A.safetensors" -i "$T/x4cols.csv" -o "$R/y.csv"
runtime_err "missing X file" forward "$T/A.safetensors" -i "$T/nonexistent.csv" -o "$R/y.npy"
printf '1,2,oops\n' > "$T/xbad.csv"
runtime_err "X with a non-number" forward "$T/A.safetensors" -i "$T/xbad.csv" -o "$R/y.npy"
runtime_err "conditional model without -c" forward "$T/Iall.safetensors" -i "$T/x12.csv" -o "$R/y.npy"
runtime_err "output into a missing directory" forward "$T/A.safetensors" -i "$T/x123.csv" -o "$R/nodir/y.npy"
runtime_err "init into a missing directory" init -o "$R/nodir/m.safetensors" --event-size 3

# ---- a failed init does not touch an existing model file ----------------------------
cp "$T/A.safetensors" "$T/keep.safetensors"
before=$(cksum < "$T/keep.safetensors")
for bad_opts in "--event-size 0" "--event-size 3 --activation foo" "--event-size 3 --input-order 1,1,3" \
                "--event-size 3 --hidden 4,x" "--event-size 3 --bogus"; do
  # shellcheck disable=SC2086
  run init -o "$T/keep.safetensors" $bad_opts
  if [ "$rc" -eq 2 ]; then ok; else bad "init over an existing file with $bad_opts: exit $rc, want 2"; fi
  after=$(cksum < "$T/keep.safetensors")
  if [ "$before" = "$after" ]; then ok; else bad "init with $bad_opts modified the existing file"; fi
done
# And the untouched file still works.
run forward "$T/keep.safetensors" -i "$T/x123.csv" -o "$T/keep.csv"
check_csv "$T/keep.csv" 1 "0 0 2 2 8 8" "existing model still loads after failed inits"
# A successful init does replace it.
run init -o "$T/keep.safetensors" --event-size 3 --params 2 --hidden 4 --kernel-initializer ones \
    --bias-initializer ones
after=$(cksum < "$T/keep.safetensors")
if [ "$rc" -eq 0 ] && [ "$before" != "$after" ]; then ok; else bad "successful init did not replace the file"; fi

harness_summary
