#!/bin/sh
# cli_bad_input.sh - made given bad input: a table of invocations, each with the
# exit code it must give (2 usage error, 1 failure) and a substring its message
# must contain. For every one: no crash (exit < 128, no sanitizer report), the
# expected code and message, and the output directory exactly as before - no
# new file, no temp file, every existing output byte-identical.
#
# Cases marked "1u" need file permissions to be enforced: as root they run as
# the user nobody (setpriv, else runuser); if neither can drop privileges they
# are counted as skipped, never as passed.
#
# Run from the repository root:  MADE=bin/made sh tests/cli/cli_bad_input.sh
# Prints "cli_bad_input: N passed, N failed[, N skipped]" last.
set -u

# shellcheck source=tests/harness.sh
. "$(dirname "$0")/../harness.sh"
harness_start cli_bad_input

# Some cases ask for terabytes: under AddressSanitizer malloc must return NULL
# (as the C library does) instead of aborting, so the out-of-memory path runs.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}allocator_may_return_null=1"

made() { "$MADE" "$@" > "$T/stdout" 2> "$T/err" < /dev/null; rc=$?; }

# ---- inputs ------------------------------------------------------------------------
I=$T/in
O=$T/o
mkdir -p "$I" "$O" "$I/dir"
rows() { # rows N COLS KIND: N rows of COLS values; KIND binary or real
  awk -v n="$1" -v c="$2" -v k="$3" 'BEGIN { s = 11; for (i = 0; i < n; i++) { line = "";
    for (j = 0; j < c; j++) { s = (s * 1103515245 + 12345) % 2147483648;
      v = k == "binary" ? s % 2 : (s % 1000) / 250 - 2; line = line (j ? "," : "") v }
    print line } }'
}
rows 20 3 binary > "$I/d.csv"
rows 20 3 real > "$I/dg.csv"
rows 20 4 binary > "$I/d4.csv"
rows 20 2 real > "$I/c2.csv"
rows 3 2 real > "$I/c3rows.csv"
rows 5 3 real > "$I/x.csv"
rows 7 3 binary > "$I/d7.csv"
printf '0,1,1\n1,nan,0\n' > "$I/nan.csv"
printf '0,1,1\n1,0,inf\n' > "$I/inf.csv"
printf '0,1,1\n1,NA,0\n' > "$I/na.csv"
printf '0,1,1\n1,0\n' > "$I/ragged.csv"
printf '0.5,nan\n' > "$I/cnan.csv"
printf 'hello world\nthis is not data\n' > "$I/text.csv"
printf '0,1,2\n1,0,1\n' > "$I/two.csv"
: > "$I/empty.csv"
: > "$I/empty.npy"
printf '0,1,1\n' > "$I/unreadable.csv"
chmod 000 "$I/unreadable.csv"

# npy FILE 'HEADER DICT' 'DATA (printf format)': a .npy v1.0 file.
npy() {
  h=$2
  total=$((10 + ${#h} + 1))
  pad=$(((64 - total % 64) % 64))
  hlen=$((${#h} + pad + 1))
  {
    printf '\223NUMPY\001\000'
    printf "\\$(printf %03o $((hlen % 256)))\\$(printf %03o $((hlen / 256)))"
    printf '%s' "$h"
    printf "%${pad}s\n" ''
    printf "$3"
  } > "$1"
}
F1='\000\000\200\077'    # 1.0f
F0='\000\000\000\000'    # 0.0f
FNAN='\000\000\300\177'  # NaN
FINF='\000\000\200\177'  # +Inf
npy "$I/ok.npy" "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" "$F1$F0$F1$F0$F0$F1"
npy "$I/nan.npy" "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" "$F1$F0$F1$F0$FNAN$F1"
npy "$I/inf.npy" "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" "$F1$FINF$F1$F0$F0$F1"
npy "$I/object.npy" "{'descr': '|O', 'fortran_order': False, 'shape': (2, 3), }" "$F1$F0$F1$F0$F0$F1$F1$F0$F1$F0$F0$F1"
npy "$I/complex.npy" "{'descr': '<c8', 'fortran_order': False, 'shape': (2, 3), }" "$F1$F0$F1$F0$F0$F1$F1$F0$F1$F0$F0$F1"
npy "$I/fortran.npy" "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }" "$F1$F0$F1$F0$F0$F1"
npy "$I/unicode.npy" "{'descr': '<U4', 'fortran_order': False, 'shape': (2, 3), }" "$F1$F0$F1$F0$F0$F1"
npy "$I/struct.npy" "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2, 3), }" "$F1$F0$F1$F0$F0$F1"
npy "$I/huge.npy" "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4611686018427387904), }" "$F1$F0"
npy "$I/bigrows.npy" "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 3), }" "$F1$F0"
npy "$I/short.npy" "{'descr': '<f4', 'fortran_order': False, 'shape': (100, 3), }" "$F1$F0$F1$F0$F0$F1"
npy "$I/zero.npy" "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }" ""
npy "$I/scalar.npy" "{'descr': '<f4', 'fortran_order': False, 'shape': (), }" "$F1"
printf '\223NUMPY\001\000\020\000{garbage}      \n' > "$I/garbled.npy"
F2='\000\000\000\100'    # 2.0f
F3='\000\000\100\100'    # 3.0f
F25='\000\000\040\100'   # 2.5f
npy "$I/labels.npy" "{'descr': '<f4', 'fortran_order': False, 'shape': (20,), }" "$F1$F0$F1$F0$F1$F0$F1$F0$F1$F0$F1$F0$F1$F0$F1$F0$F1$F0$F1$F0"
npy "$I/order.npy" "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }" "$F3$F1$F2"
npy "$I/order25.npy" "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }" "$F1$F25$F3"
npy "$I/order4.npy" "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }" "$F1$F2$F3$F1"
printf '\211PNG\r\n\032\n\000\000\000\015IHDR' > "$I/img.png"
printf '{"rows": [[0, 1, 1]]}\n' > "$I/d.json"

# Models and a checkpoint.
made init -o "$I/m.safetensors" --event-size 3 --hidden 4 --dist bernoulli --seed 1
made init -o "$I/mc.safetensors" --event-size 3 --hidden 4 --dist gaussian --conditional-size 2
made init -o "$I/mn.safetensors" --event-size 3 --hidden 4
made init -o "$I/mv.safetensors" --event-size 3 --hidden 4 --validate-args
made init -o "$I/mk.safetensors" --event-size 3 --hidden 4 --dist bernoulli --masks 3
made train "$I/d.csv" -o "$I/t.safetensors" --dist bernoulli --hidden 4 --epochs 2 --batch-size 5 \
  --checkpoint "$I/t.ckpt" --keep-checkpoint -q
[ "$rc" -eq 0 ] || bad "setup: train -> exit $rc"
head -c 200 "$I/m.safetensors" > "$I/cut.safetensors"

# Outputs that exist already and must survive every failed run unchanged.
cp "$I/m.safetensors" "$O/old.safetensors"
cp "$I/ok.npy" "$O/old.npy"
cp "$I/d.csv" "$O/old.csv"
cp "$I/t.ckpt" "$O/old.ckpt"
printf 'not really a png' > "$O/old.png"
rm -rf "$T/o.ref"
cp -a "$O" "$T/o.ref"

# ---- the table ---------------------------------------------------------------------
# EXIT|MESSAGE SUBSTRING|ARGUMENTS (expanded by the shell: $I inputs, $O outputs).
# EXIT "1u" is 1, run as an unprivileged user (as root: as nobody).
cat > "$T/table" << 'EOF'
2|unknown verb 'frobnicate'|frobnicate
2|usage: made VERB|
2|unknown option '--frobnicate'|init -o $O/new.safetensors --event-size 3 --frobnicate
2|unknown option '-x'|init -o $O/new.safetensors --event-size 3 -x
2|options are separate|init -o$O/new.safetensors --event-size 3
2|--event-size needs a value|init -o $O/new.safetensors --event-size
2|-o MODEL is required|init --event-size 3
2|--event-size E is required|init -o $O/new.safetensors
2|--event-size: 0 is out of range|init -o $O/new.safetensors --event-size 0
2|--event-size: -3 is out of range|init -o $O/new.safetensors --event-size -3
2|'99999999999999999999' is not an integer|init -o $O/new.safetensors --event-size 99999999999999999999
2|'3.5' is not an integer|init -o $O/new.safetensors --event-size 3.5
2|'' is not an integer|init -o $O/new.safetensors --event-size ''
2|--hidden: 2147483647 is out of range|init -o $O/new.safetensors --event-size 3 --hidden 2147483647,2147483647
2|--hidden: 0 is out of range|init -o $O/new.safetensors --event-size 3 --hidden 4,0
2|not a comma-separated list|init -o $O/new.safetensors --event-size 3 --hidden 4,,4
2|more than 32 entries|init -o $O/new.safetensors --event-size 3 --hidden 1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1
1|out of memory|init -o $O/new.safetensors --event-size 3 --hidden 1000000,1000000
1|out of memory|init -o $O/new.safetensors --event-size 1000000 --hidden 1000000
2|--params: 0 is out of range|init -o $O/new.safetensors --event-size 3 --params 0
2|2 appears twice|init -o $O/new.safetensors --event-size 3 --input-order 1,2,2
2|0 at position 1 is not in 1..3|init -o $O/new.safetensors --event-size 3 --input-order 0,1,2
2|4 at position 3 is not in 1..3|init -o $O/new.safetensors --event-size 3 --input-order 1,2,4
2|2 entries, but --event-size is 3|init -o $O/new.safetensors --event-size 3 --input-order 2,1
2|--input-order: invalid value "sideways"|init -o $O/new.safetensors --event-size 3 --input-order sideways
2|--hidden-degrees: invalid value "fancy"|init -o $O/new.safetensors --event-size 3 --hidden-degrees fancy
2|relux|init -o $O/new.safetensors --event-size 3 --activation relux
2|glorot_unifrom|init -o $O/new.safetensors --event-size 3 --kernel-initializer glorot_unifrom
2|constant:abc|init -o $O/new.safetensors --event-size 3 --bias-initializer constant:abc
2|random_uniform:1,-1|init -o $O/new.safetensors --event-size 3 --kernel-initializer random_uniform:1,-1
2|variance_scaling|init -o $O/new.safetensors --event-size 3 --kernel-initializer variance_scaling:mode=fan_sideways
2|poisson|init -o $O/new.safetensors --event-size 3 --dist poisson
2|categorical:0|init -o $O/new.safetensors --event-size 3 --dist categorical:0
2|categorical:99999999999|init -o $O/new.safetensors --event-size 3 --dist categorical:99999999999
2|mog:-1|init -o $O/new.safetensors --event-size 3 --dist mog:-1
2|--conditional-size: -1 is out of range|init -o $O/new.safetensors --event-size 3 --conditional-size -1
2|some|init -o $O/new.safetensors --event-size 3 --conditional-size 2 --conditional-layers some
2|--seed: -1 is out of range|init -o $O/new.safetensors --event-size 3 --seed -1
2|--seed: 4294967296 is out of range|init -o $O/new.safetensors --event-size 3 --seed 4294967296
2|--masks: 0 is out of range|init -o $O/new.safetensors --event-size 3 --masks 0
2|--masks: 5000 is out of range|init -o $O/new.safetensors --event-size 3 --masks 5000
2|--no-bias takes no value|init -o $O/new.safetensors --event-size 3 --no-bias=1
2|--event-size given twice|init -o $O/new.safetensors --event-size 3 --event-size 4
2|unexpected argument 'extra'|init -o $O/new.safetensors --event-size 3 extra
1|$I/dir|init -o $I/dir --event-size 3
1|$O/missing/m.safetensors: cannot create|init -o $O/missing/m.safetensors --event-size 3
2|missing argument|info
2|unexpected argument|info $I/m.safetensors $I/m.safetensors
1|$I/nope.safetensors: cannot open: No such file or directory|info $I/nope.safetensors
1|is a directory|info $I/dir
1|$I/empty.npy|info $I/empty.npy
1|$I/cut.safetensors|info $I/cut.safetensors
1|$I/d.csv|info $I/d.csv
1|not a made model file|info $I/t.ckpt
1u|Permission denied|info $I/unreadable.csv
2|-i X|forward $I/m.safetensors -o $O/new.npy
1|$I/nope.safetensors|forward $I/nope.safetensors -i $I/x.csv -o $O/new.npy
1|not a made model file|forward $I/t.ckpt -i $I/x.csv -o $O/new.npy
1|$I/ok.npy|forward $I/ok.npy -i $I/x.csv -o $O/new.npy
1|$I/m.safetensors|forward $I/m.safetensors -i $I/m.safetensors -o $O/new.npy
1|$I/d4.csv|forward $I/m.safetensors -i $I/d4.csv -o $O/new.npy
1|not finite|forward $I/m.safetensors -i $I/nan.csv -o $O/new.npy
1|not finite|forward $I/m.safetensors -i $I/inf.csv -o $O/old.npy
1|$I/na.csv|forward $I/m.safetensors -i $I/na.csv -o $O/new.npy
1|$I/ragged.csv|forward $I/m.safetensors -i $I/ragged.csv -o $O/new.npy
1|$I/text.csv|forward $I/m.safetensors -i $I/text.csv -o $O/new.npy
1|$I/empty.csv|forward $I/m.safetensors -i $I/empty.csv -o $O/new.csv
1|$I/empty.npy|forward $I/m.safetensors -i $I/empty.npy -o $O/new.npy
1|is a directory|forward $I/m.safetensors -i $I/dir -o $O/new.npy
1|row 2, column 2|forward $I/mv.safetensors -i $I/nan.npy -o $O/new.npy
1|row 1, column 2|forward $I/mv.safetensors -i $I/inf.npy -o $O/old.npy
1|$I/object.npy|forward $I/m.safetensors -i $I/object.npy -o $O/new.npy
1|$I/complex.npy|forward $I/m.safetensors -i $I/complex.npy -o $O/new.npy
1|$I/fortran.npy|forward $I/m.safetensors -i $I/fortran.npy -o $O/new.npy
1|$I/unicode.npy|forward $I/m.safetensors -i $I/unicode.npy -o $O/new.npy
1|$I/struct.npy|forward $I/m.safetensors -i $I/struct.npy -o $O/new.npy
1|$I/huge.npy|forward $I/m.safetensors -i $I/huge.npy -o $O/new.npy
1|$I/bigrows.npy|forward $I/m.safetensors -i $I/bigrows.npy -o $O/new.npy
1|$I/short.npy|forward $I/m.safetensors -i $I/short.npy -o $O/new.npy
1|$I/garbled.npy|forward $I/m.safetensors -i $I/garbled.npy -o $O/new.npy
1|$I/scalar.npy|forward $I/m.safetensors -i $I/scalar.npy -o $O/new.npy
1|not a conditional model|forward $I/m.safetensors -i $I/x.csv -c $I/c2.csv -o $O/new.npy
1|conditional|forward $I/mc.safetensors -i $I/x.csv -o $O/new.npy
1|do not broadcast|forward $I/mc.safetensors -i $I/x.csv -c $I/c3rows.csv -o $O/new.npy
1|conditional_size is 2|forward $I/mc.safetensors -i $I/x.csv -c $I/x.csv -o $O/new.npy
2|--threads: 0 is out of range|forward $I/m.safetensors -i $I/x.csv -o $O/new.npy --threads 0
1|$O/missing/y.npy|forward $I/m.safetensors -i $I/x.csv -o $O/missing/y.npy
2|--dist is required|train $I/d.csv -o $O/new.safetensors
2|-o MODEL is required|train $I/d.csv --dist bernoulli
2|missing argument|train -o $O/new.safetensors --dist bernoulli
1|$O|train $I/d.csv -o $O --dist bernoulli
1|outside the support of bernoulli|train $I/dg.csv -o $O/new.safetensors --dist bernoulli
1|outside the support of categorical:2|train $I/two.csv -o $O/new.safetensors --dist categorical:2
1|not finite|train $I/nan.csv -o $O/new.safetensors --dist bernoulli
1|not finite|train $I/inf.csv -o $O/new.safetensors --dist gaussian
1|not finite|train $I/nan.npy -o $O/new.safetensors --dist bernoulli
1|not finite|train $I/inf.npy -o $O/old.safetensors --dist gaussian
1|$I/empty.csv|train $I/empty.csv -o $O/new.safetensors --dist bernoulli
1|$I/zero.npy|train $I/zero.npy -o $O/new.safetensors --dist bernoulli
1|is a directory|train $I/dir -o $O/new.safetensors --dist bernoulli
1|$I/m.safetensors|train $I/m.safetensors -o $O/new.safetensors --dist bernoulli
1|$I/huge.npy|train $I/huge.npy -o $O/new.safetensors --dist bernoulli
1|$I/object.npy|train $I/object.npy -o $O/new.safetensors --dist bernoulli
1u|Permission denied|train $I/unreadable.csv -o $O/new.safetensors --dist bernoulli
2|--val-fraction: 1.5 is out of range|train $I/d.csv -o $O/new.safetensors --dist bernoulli --val-fraction 1.5
2|--val-fraction: -0.1 is out of range|train $I/d.csv -o $O/new.safetensors --dist bernoulli --val-fraction -0.1
2|'nan' is not a finite number|train $I/d.csv -o $O/new.safetensors --dist bernoulli --val-fraction nan
1|leaves no validation|train $I/d.csv -o $O/new.safetensors --dist bernoulli --val-fraction 0.001
2|not both|train $I/d.csv -o $O/new.safetensors --dist bernoulli --val-fraction 0.1 --val $I/d.csv
2|--patience needs validation data|train $I/d.csv -o $O/new.safetensors --dist bernoulli --patience 3
1|$I/d4.csv|train $I/d.csv -o $O/new.safetensors --dist bernoulli --val $I/d4.csv
1|outside the support|train $I/d.csv -o $O/new.safetensors --dist bernoulli --val $I/dg.csv
2|--epochs: 0 is out of range|train $I/d.csv -o $O/new.safetensors --dist bernoulli --epochs 0
2|--batch-size: 0 is out of range|train $I/d.csv -o $O/new.safetensors --dist bernoulli --batch-size 0
2|--lr: 0 is out of range|train $I/d.csv -o $O/new.safetensors --dist bernoulli --lr 0
2|'1e400' is not a finite number|train $I/d.csv -o $O/new.safetensors --dist bernoulli --lr 1e400
2|'inf' is not a finite number|train $I/d.csv -o $O/new.safetensors --dist bernoulli --clip-norm inf
2|--momentum: 1 is out of range|train $I/d.csv -o $O/new.safetensors --dist bernoulli --optimizer sgd --momentum 1
2|--optimizer: unknown value "rmsprop"|train $I/d.csv -o $O/new.safetensors --dist bernoulli --optimizer rmsprop
2|step:0:0.5|train $I/d.csv -o $O/new.safetensors --dist bernoulli --lr-schedule step:0:0.5
2|"warmup"|train $I/d.csv -o $O/new.safetensors --dist bernoulli --lr-schedule warmup
2|--threads: 5000 is out of range|train $I/d.csv -o $O/new.safetensors --dist bernoulli --threads 5000
2|'abc' is not a finite number|train $I/d.csv -o $O/new.safetensors --dist bernoulli --binarize abc
2|--conditional-size needs --conditional|train $I/d.csv -o $O/new.safetensors --dist gaussian --conditional-size 2
1|has 3 rows but|train $I/d.csv -o $O/new.safetensors --dist gaussian -c $I/c3rows.csv
1|not finite|train $I/d.csv -o $O/new.safetensors --dist gaussian -c $I/cnan.csv
1|conditional size 3|train $I/dg.csv -o $O/new.safetensors --dist gaussian -c $I/c2.csv --conditional-size 3
1|--val-conditional|train $I/dg.csv -o $O/new.safetensors --dist gaussian -c $I/c2.csv --val $I/x.csv
2|--hidden 8, but the run in $I/t.ckpt has --hidden 4|train $I/d.csv -o $O/new.safetensors --resume $I/t.ckpt --hidden 8
2|--epochs: epochs 1: the run has completed 2 epochs|train $I/d.csv -o $O/new.safetensors --resume $I/t.ckpt --epochs 1
2|--dist gaussian, but the run in $I/t.ckpt has --dist bernoulli|train $I/d.csv -o $O/new.safetensors --resume $I/t.ckpt --dist gaussian
2|--batch-size 7, but the run in $I/t.ckpt has --batch-size 5|train $I/d.csv -o $O/new.safetensors --resume $I/t.ckpt --batch-size 7
2|--val-fraction 0.2, but the run in $I/t.ckpt was started without --val-fraction|train $I/d.csv -o $O/new.safetensors --resume $I/t.ckpt --val-fraction 0.2
2|--init-from starts a new run and --resume continues one|train $I/d.csv -o $O/new.safetensors --resume $I/t.ckpt --init-from $I/m.safetensors
2|--hidden 8, but the model in $I/m.safetensors has --hidden 4|train $I/d.csv -o $O/new.safetensors --init-from $I/m.safetensors --hidden 8
1|$I/d4.csv has 4 values per row, but the model expects 3|train $I/d4.csv -o $O/new.safetensors --init-from $I/m.safetensors
2|the model has no distribution; give --dist|train $I/d.csv -o $O/new.safetensors --init-from $I/mn.safetensors
2|-o - needs --checkpoint CKPT|train $I/d.csv -o - --dist bernoulli
1|-o $O/missing/m.safetensors: cannot create a file there|train $I/d.csv -o $O/missing/m.safetensors --dist bernoulli
1|--checkpoint $O/missing/m.ckpt: cannot create a file there|train $I/d.csv -o $O/new.safetensors --dist bernoulli --checkpoint $O/missing/m.ckpt
1|--log-json $O/missing/log.json: cannot create a file there|train $I/d.csv -o $O/new.safetensors --dist bernoulli --log-json $O/missing/log.json
1|not a made checkpoint|train $I/d.csv -o $O/new.safetensors --resume $I/m.safetensors
1|$I/nope.ckpt|train $I/d.csv -o $O/new.safetensors --resume $I/nope.ckpt
1|$I/d4.csv has 4 values per row, but the model expects 3|train $I/d4.csv -o $O/new.safetensors --resume $I/t.ckpt
1|resume with the same data|train $I/d7.csv -o $O/new.safetensors --resume $I/t.ckpt
2|missing argument|eval $I/m.safetensors
1|no output distribution|eval $I/mn.safetensors $I/d.csv
1|outside the support|eval $I/m.safetensors $I/dg.csv
1|not finite|eval $I/m.safetensors $I/nan.npy
1|--masks 2, but|eval $I/m.safetensors $I/d.csv --masks 2
2|--masks: 0 is out of range|eval $I/m.safetensors $I/d.csv --masks 0
1|the model is conditional|eval $I/mc.safetensors $I/x.csv
1|not conditional|eval $I/m.safetensors $I/d.csv -c $I/c2.csv
1|$I/c3rows.csv has 3 rows|eval $I/mc.safetensors $I/dg.csv -c $I/c3rows.csv
1|$I/d.csv|eval $I/d.csv $I/m.safetensors
1|$I/m.safetensors|eval $I/m.safetensors $I/m.safetensors
2|-o LP is required|logprob $I/m.safetensors $I/d.csv
1|not finite|logprob $I/m.safetensors $I/inf.csv -o $O/old.npy
1|$I/d4.csv|logprob $I/m.safetensors $I/d4.csv -o $O/new.npy
2|-n N is required|sample $I/m.safetensors -o $O/new.npy
2|--num: 0 is out of range|sample $I/m.safetensors -n 0 -o $O/new.npy
2|--num: -5 is out of range|sample $I/m.safetensors -n -5 -o $O/new.npy
2|'1e30' is not an integer|sample $I/m.safetensors -n 1e30 -o $O/new.npy
2|'99999999999999999999' is not an integer|sample $I/m.safetensors -n 99999999999999999999 -o $O/new.npy
2|-o S.npy (or --png GRID.png) is required|sample $I/m.safetensors -n 10
2|--image-shape: "0x3"|sample $I/m.safetensors -n 10 -o $O/new.npy --image-shape 0x3
2|--image-shape: "3"|sample $I/m.safetensors -n 10 -o $O/new.npy --image-shape 3
2|--image-shape: "1x3x"|sample $I/m.safetensors -n 10 -o $O/new.npy --image-shape 1x3x
2|--image-shape: "99999999999x1"|sample $I/m.safetensors -n 10 -o $O/new.npy --image-shape 99999999999x1
1|has 4 pixels, but the event size is 3|sample $I/m.safetensors -n 10 --png $O/new.png --image-shape 2x2
1|is not a square|sample $I/m.safetensors -n 10 --png $O/old.png
1|mask|sample $I/m.safetensors -n 10 -o $O/new.npy --mask 1
2|--mask: -1 is out of range|sample $I/m.safetensors -n 10 -o $O/new.npy --mask -1
2|--seed: -1 is out of range|sample $I/m.safetensors -n 10 -o $O/new.npy --seed -1
1|no output distribution|sample $I/mn.safetensors -n 10 -o $O/new.npy
1|the model is conditional|sample $I/mc.safetensors -n 10 -o $O/new.npy
1|$I/c3rows.csv has 3 rows|sample $I/mc.safetensors -n 10 -o $O/new.npy -c $I/c3rows.csv
1|not finite|sample $I/mc.safetensors -n 10 -o $O/new.npy -c $I/cnan.csv
1|not conditional|sample $I/m.safetensors -n 10 -o $O/new.npy -c $I/c2.csv
1|not a made model file|sample $I/t.ckpt -n 10 -o $O/new.npy
1|$I/d.csv|sample $I/d.csv -n 10 -o $O/new.npy
1|$O/missing/s.npy|sample $I/m.safetensors -n 10 -o $O/missing/s.npy
2|did you mean --epochs?|train $I/d.csv -o $O/new.safetensors --dist bernoulli --epoch 3
2|did you mean --event-size?|init -o $O/new.safetensors --event_size 3
2|did you mean 'train'?|trian $I/d.csv
2|--conditional-layers needs a conditional input (--conditional-size C)|init -o $O/new.safetensors --event-size 3 --conditional-layers first_layer
2|--conditional-layers needs a conditional input (--conditional FILE)|train $I/d.csv -o $O/new.safetensors --dist bernoulli --conditional-layers first_layer
1|$I/ok.npy is a .npy file, not a made model|info $I/ok.npy
1|$I/ok.npy is a .npy file, not a made model|eval $I/ok.npy $I/d.csv
1|$I/d.csv is text (CSV?), not a made model|sample $I/d.csv -n 2 -o $O/new.npy
1|$I/img.png is a PNG image, not a made model|info $I/img.png
1|$I/ok.npy is a .npy file, not a made checkpoint|train $I/d.csv -o $O/new.safetensors --resume $I/ok.npy
1|$I/m.safetensors: a made model, not a data file|eval $I/m.safetensors $I/m.safetensors
1|$I/t.ckpt: a made training checkpoint, not a data file|train $I/t.ckpt -o $O/new.safetensors --dist bernoulli
1|$I/img.png: a PNG image, not a data file|eval $I/m.safetensors $I/img.png
1|$I/d.json: JSON text, not a data file|forward $I/m.safetensors -i $I/d.json -o $O/new.npy
1|a training checkpoint; continue it with made train --resume|info $I/t.ckpt
1|$I/labels.npy is a 1-D vector of 20 values; conditional inputs need one row per example|eval $I/mc.safetensors $I/dg.csv -c $I/labels.npy
1|$I/labels.npy is a 1-D vector of 20 values|train $I/dg.csv -o $O/new.safetensors --dist gaussian -c $I/labels.npy
2|unknown output format '.txt' (use .npy or .csv|logprob $I/m.safetensors $I/d.csv -o $O/lp.txt
2|unknown output format '.npz'|sample $I/m.safetensors -n 2 -o $O/s.npz
2|no extension to tell the format|forward $I/m.safetensors -i $I/x.csv -o $O/y
2|unknown output format '.jpg' (use .png|sample $I/m.safetensors -n 2 --png $O/s.jpg
1|-o $O: is a directory|logprob $I/m.safetensors $I/d.csv -o $O
1|entry 2 is 2.5, not a 1-based position|init -o $O/new.safetensors --event-size 3 --input-order $I/order25.npy
1|has 4 entries, but the event size is 3|init -o $O/new.safetensors --event-size 3 --input-order $I/order4.npy
1|$I/nope.npy: cannot open|init -o $O/new.safetensors --event-size 3 --input-order $I/nope.npy
2|1 appears twice|init -o $O/new.safetensors --event-size 4 --input-order $I/order4.npy
EOF

# As root, "1u" cases run as nobody: the directories on their paths must be
# reachable (0711) by that user.
unpriv=
if [ "$(id -u)" = 0 ]; then
  chmod 711 "$T" "$I"
  if setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null; then
    unpriv="setpriv --reuid=65534 --regid=65534 --clear-groups"
  elif runuser -u nobody -- true 2>/dev/null; then
    unpriv="runuser -u nobody --"
  else
    unpriv=none
  fi
fi
count=0
skipped=0
while IFS='|' read -r want text args; do
  count=$((count + 1))
  eval "set -- $args"
  text=$(printf '%s' "$text" | sed "s|\$I|$I|g; s|\$O|$O|g")
  if [ "$want" = 1u ]; then
    want=1
    if [ "$unpriv" = none ]; then
      skipped=$((skipped + 1))
      echo "SKIP made $args: running as root and cannot drop privileges" >&2
      continue
    fi
    # shellcheck disable=SC2086
    $unpriv "$MADE" "$@" > "$T/stdout" 2> "$T/err" < /dev/null; rc=$?
  else
    made "$@"
  fi
  desc="made $args"
  if grep -q -E 'ERROR: [A-Za-z]*Sanitizer|runtime error:|Segmentation|Aborted' "$T/err"; then
    bad "$desc: crashed or sanitizer report"
  elif [ "$rc" -ge 128 ]; then
    bad "$desc: exit $rc (signal)"
  elif [ "$rc" -ne "$want" ]; then
    bad "$desc: exit $rc, want $want"
  elif ! grep -q -F -e "$text" "$T/err"; then
    bad "$desc: message lacks \"$text\""
  elif ! diff -r "$T/o.ref" "$O" > "$T/diff" 2>&1; then
    bad "$desc: the output directory changed: $(head -n 2 "$T/diff" | tr '\n' ' ')"
  else
    ok
  fi
  # Whatever happened, the next case starts from the same outputs.
  if ! diff -r "$T/o.ref" "$O" > /dev/null 2>&1; then rm -rf "$O" && cp -a "$T/o.ref" "$O"; fi
done < "$T/table"

echo "cli_bad_input: $count invocations${unpriv:+ (permission cases as: $unpriv)}" >&2
harness_summary
