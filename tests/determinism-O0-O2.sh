#!/bin/sh
# determinism-O0-O2.sh - an -O0 and an -O2 build of made give the same bits:
# trained model files, eval output, logprob and forward outputs and samples are
# compared byte for byte (cmp). Not part of `make test` (it needs two extra
# builds); .ci/run runs it after the sanitizer pass.
#
# Why this can hold: made is compiled as ISO C11 (-std=c11), under which gcc
# does not contract a*b+c into fused multiply-adds (-ffp-contract=off), the
# x86-64 ABI computes float and double in SSE registers (no x87 excess
# precision), there is no -ffast-math, so -O2 may vectorise loops but never
# reorders a sum; the kernels' fused multiply-adds are explicit (fmaf or FMA
# intrinsics, docs/design.md "Kernels"); libm is the same shared library in both
# builds. docs/testing.md ("Determinism") records what was measured.
#
#   sh tests/determinism-O0-O2.sh            (from the repository root)
#   DET_KEEP=1 ...                           keeps the builds in build/det-O0, build/det-O2
# Prints "determinism-O0-O2: N passed, N failed" last.
set -u

passed=0
failed=0
T=$(mktemp -d "${TMPDIR:-/tmp}/made_det_O0_O2.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT INT TERM
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }

JOBS=${JOBS:-2}
for o in O0 O2; do
  if ! make -s -j"$JOBS" OPT=-$o BUILD=build/det-$o build/det-$o/bin/made > "$T/build-$o.log" 2>&1; then
    tail -n 20 "$T/build-$o.log" >&2
    echo "determinism-O0-O2: 0 passed, 1 failed (the -$o build failed)"
    exit 1
  fi
done
M0=$(pwd)/build/det-O0/bin/made
M2=$(pwd)/build/det-O2/bin/made

# both NAME ARGS...: runs the same command with each build; @OUT@ in the
# arguments becomes $T/NAME.O0 / $T/NAME.O2; stdout goes to $T/NAME.O0.txt etc.
both() {
  name=$1
  shift
  for o in O0 O2; do
    bin=$M0
    [ "$o" = O2 ] && bin=$M2
    args=""
    for a in "$@"; do
      case $a in @OUT@*) a="$T/$name.$o${a#@OUT@}" ;; esac
      args="$args '$a'"
    done
    eval "\"$bin\" $args" > "$T/$name.$o.txt" 2> "$T/$name.$o.err" < /dev/null
    rc=$?
    if [ "$rc" -ne 0 ]; then bad "$name (-$o): exit $rc: $(head -n 2 "$T/$name.$o.err")"; return 1; fi
  done
  return 0
}

# same NAME SUFFIX: the -O0 and -O2 versions of an output are byte-identical.
same() {
  if cmp -s "$T/$1.O0$2" "$T/$1.O2$2"; then ok
  else bad "$1$2: -O0 and -O2 differ ($(cmp "$T/$1.O0$2" "$T/$1.O2$2" 2>&1 | head -n 1))"; fi
}

# ---- data ---------------------------------------------------------------------------
awk 'BEGIN { s = 5; for (i = 0; i < 800; i++) { line = ""; p = 0;
  for (j = 0; j < 24; j++) { s = (s * 1103515245 + 12345) % 2147483648;
    u = (s % 10000) / 10000; v = (u < (p ? 0.8 : 0.3)) ? 1 : 0; p = v;
    line = line (j ? "," : "") v } print line } }' > "$T/bin.csv"
awk 'BEGIN { s = 9; for (i = 0; i < 500; i++) { line = ""; x = 0; c1 = (i % 7) / 7; c2 = (i % 3) - 1;
  for (j = 0; j < 16; j++) { s = (s * 1103515245 + 12345) % 2147483648;
    x = 0.6 * x + c1 + 0.3 * c2 + (s % 1000) / 1000 - 0.5; line = line (j ? "," : "") x }
  print line > "/dev/stdout"; print c1 "," c2 > "/dev/stderr" } }' > "$T/real.csv" 2> "$T/cond.csv"
awk 'BEGIN { s = 3; for (i = 0; i < 400; i++) { line = "";
  for (j = 0; j < 10; j++) { s = (s * 1103515245 + 12345) % 2147483648;
    line = line (j ? "," : "") (s % 4) } print line } }' > "$T/cat.csv"

# ---- init with every initializer kind and activation family --------------------------
for init in glorot_uniform he_normal truncated_normal:0,0.2 \
    variance_scaling:scale=2,mode=fan_avg,distribution=untruncated_normal; do
  tag=$(echo "$init" | tr ':,=' '___')
  both "init-$tag" init -o @OUT@.safetensors --event-size 24 --hidden 40,30 --input-order random \
    --hidden-degrees random --kernel-initializer "$init" --bias-initializer random_uniform:-0.1,0.1 \
    --seed 11 && same "init-$tag" .safetensors
done
for act in relu tanh sigmoid elu selu softplus softsign swish gelu exponential hard_sigmoid; do
  both "fwd-$act" init -o @OUT@.safetensors --event-size 16 --hidden 32,32 --activation "$act" \
    --seed 12 --params 3 --conditional-size 2 || continue
  same "fwd-$act" .safetensors
  for o in O0 O2; do
    bin=$M0
    [ "$o" = O2 ] && bin=$M2
    "$bin" forward "$T/fwd-$act.O2.safetensors" -i "$T/real.csv" -c "$T/cond.csv" \
      -o "$T/fwd-$act.$o.npy" 2> "$T/err" || bad "forward $act (-$o): $(head -n 1 "$T/err")"
  done
  same "fwd-$act" .npy
done

# ---- training, scoring and sampling per distribution --------------------------------
# case NAME DATA "TRAIN OPTIONS" "SCORE OPTIONS" "SAMPLE OPTIONS"
train_case() {
  name=$1; data=$2; topts=$3; sopts=$4; smopts=$5
  # shellcheck disable=SC2086
  both "$name" train "$data" -o @OUT@.safetensors --checkpoint @OUT@.ckpt -q $topts || return
  same "$name" .safetensors
  for o in O0 O2; do
    bin=$M0
    [ "$o" = O2 ] && bin=$M2
    model=$T/$name.O2.safetensors   # the same model for both builds: compare the kernels
    # shellcheck disable=SC2086
    "$bin" eval "$model" "$data" $sopts > "$T/$name-eval.$o" 2> "$T/err" || bad "$name eval (-$o)"
    # shellcheck disable=SC2086
    "$bin" logprob "$model" "$data" $sopts -o "$T/$name-lp.$o.npy" 2> "$T/err" || bad "$name logprob (-$o)"
    # shellcheck disable=SC2086
    "$bin" sample "$model" -n 500 --seed 21 $smopts -o "$T/$name-s.$o.npy" 2> "$T/err" || bad "$name sample (-$o)"
    # shellcheck disable=SC2086
    "$bin" sample "$model" -n 500 --seed 21 $smopts --naive -o "$T/$name-sn.$o.npy" 2> "$T/err" || bad "$name sample --naive (-$o)"
  done
  same "$name-eval" ""
  same "$name-lp" .npy
  same "$name-s" .npy
  same "$name-sn" .npy
}

train_case bernoulli "$T/bin.csv" \
  "--dist bernoulli --hidden 64,64 --input-order random --hidden-degrees random --epochs 3 --batch-size 32 --lr 0.01 --val-fraction 0.1 --patience 2 --seed 3 --threads 2" \
  "" ""
train_case masks "$T/bin.csv" \
  "--dist bernoulli --hidden 48 --masks 4 --input-order random --epochs 2 --batch-size 50 --optimizer sgd --lr 0.05 --seed 4" \
  "--masks 4" "--mask 3"
train_case gaussian "$T/real.csv" \
  "--dist gaussian --hidden 32,32 --activation gelu --epochs 3 --batch-size 25 --weight-decay 0.01 --lr-schedule step:1:0.5 --seed 6" \
  "" ""
train_case mog-cond "$T/real.csv" \
  "--dist mog:3 --hidden 48 --activation tanh -c $T/cond.csv --epochs 2 --batch-size 40 --lr 0.005 --clip-norm 5 --lr-schedule cosine --seed 5 --threads 2" \
  "-c $T/cond.csv" "-c $T/cond.csv"
train_case categorical "$T/cat.csv" \
  "--dist categorical:4 --hidden 40 --activation elu --epochs 3 --batch-size 20 --seed 7" \
  "" ""

if [ "${DET_KEEP:-0}" != 1 ]; then rm -rf build/det-O0 build/det-O2; fi
echo "determinism-O0-O2: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
