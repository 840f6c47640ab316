#!/bin/sh
# valgrind.sh - every test program, and the CLI tests that run made many times
# (cli_basic.sh, cli_bad_input.sh), under valgrind memcheck:
#
#   valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
#            --suppressions=tests/valgrind.supp
#
# An invalid read or write, a use of uninitialised memory, or a definite leak
# makes the program exit 99, which the test counts as a failure. The CLI tests
# get MADE= a wrapper script that runs bin/made under valgrind with its
# messages in per-process log files (so the tests' own checks of stderr are
# undisturbed); any non-empty log is a failure and is printed.
#
# Not run by `make test` (it takes minutes); .ci/run runs it after the
# sanitizer pass. From the repository root:
#
#   sh tests/valgrind.sh
#   VALGRIND_JOBS=2          programs run at a time (default 2)
#   VALGRIND_SKIP="a b"      test names to leave out, e.g. "test_grad cli_bad_input"
#   BUILD=build              the build whose programs are checked
#
# Prints "valgrind: N passed, N failed, N skipped" last (the tests' own counts added up,
# plus one failure per program with a valgrind error).
set -u

BUILD=${BUILD:-build}
JOBS=${VALGRIND_JOBS:-2}
SKIP=${VALGRIND_SKIP:-}
ROOT=$(pwd)

if ! command -v valgrind > /dev/null 2>&1; then
  echo "valgrind: not installed (apt-get install valgrind)" >&2
  echo "valgrind: 0 passed, 1 failed"
  exit 1
fi

BIN=bin/made
[ "$BUILD" = build ] || BIN=$BUILD/bin/made
TESTS=$(ls tests/test_*.c | sed "s|tests/\(.*\)\.c|$BUILD/tests/\1|")
# shellcheck disable=SC2086
if ! make -s -j"$JOBS" BUILD="$BUILD" all $TESTS > /dev/null; then
  echo "valgrind: the build failed" >&2
  echo "valgrind: 0 passed, 1 failed"
  exit 1
fi

R=$(mktemp -d "${TMPDIR:-/tmp}/made_valgrind.XXXXXX") || exit 1
trap 'rm -rf "$R"' EXIT INT TERM
mkdir -p "$R/logs"
# valgrind runs one thread at a time, so OpenMP threads spinning at a barrier
# only burn the time slice of the thread they wait for (about 15% of test_dense).
export OMP_WAIT_POLICY=passive
VG="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --num-callers=30 --suppressions=$ROOT/tests/valgrind.supp"

# Private copies of the programs, so that a rebuild while this runs (make in
# another shell) cannot pull them from under valgrind.
mkdir -p "$R/bin"
cp "$BIN" "$R/bin/made"
for t in $TESTS; do cp "$t" "$R/bin/"; done

# made under valgrind, for the CLI tests: one wrapper and log directory each.
for s in cli_basic cli_bad_input; do
  mkdir -p "$R/logs/$s"
  cat > "$R/made-$s" << EOF
#!/bin/sh
exec $VG --log-file=$R/logs/$s/made.%p.log "$R/bin/made" "\$@"
EOF
  chmod +x "$R/made-$s"
done
# cli_bad_input runs its permission cases as the user nobody when root: that
# user must reach the wrapper and the program and write its valgrind logs.
chmod 711 "$R" "$R/logs"
chmod 755 "$R/bin"
chmod 1777 "$R/logs/cli_bad_input"

# One job per line: NAME COMMAND...
: > "$R/jobs"
skipped=""
for t in $TESTS; do
  name=$(basename "$t")
  case " $SKIP " in *" $name "*) skipped="$skipped $name"; continue ;; esac
  echo "$name $VG $R/bin/$name" >> "$R/jobs"
done
for s in cli_basic cli_bad_input; do
  case " $SKIP " in *" $s "*) skipped="$skipped $s"; continue ;; esac
  echo "$s env MADE=$R/made-$s BUILD=$BUILD sh tests/cli/$s.sh" >> "$R/jobs"
done
# The slowest first (seconds measured under valgrind on 2 cores), so that the
# parallel jobs finish together.
awk '{ t["test_grad"] = 390; t["cli_bad_input"] = 240; t["test_dense"] = 215; t["cli_basic"] = 170;
  t["test_density"] = 80; t["test_io_faults"] = 75; print ($1 in t ? t[$1] : 10) " " $0 }' "$R/jobs" |
  sort -s -k1,1nr | cut -d' ' -f2- > "$R/jobs.sorted"

cat > "$R/run1" << 'EOF'
#!/bin/sh
# run1 NAME COMMAND...: runs one job, leaving NAME.out, NAME.err, NAME.rc, NAME.time.
R=$1; name=$2; shift 2
start=$(date +%s)
"$@" > "$R/$name.out" 2> "$R/$name.err"
echo $? > "$R/$name.rc"
echo $(( $(date +%s) - start )) > "$R/$name.time"
EOF

start=$(date +%s)
# shellcheck disable=SC2016
tr '\n' '\0' < "$R/jobs.sorted" | xargs -0 -P "$JOBS" -I{} sh -c 'sh "$0/run1" "$0" $1' "$R" {}

passed=0
failed=0
vskipped=0
while read -r name rest; do
  rc=$(cat "$R/$name.rc" 2> /dev/null || echo 1)
  line=$(grep -E '^[A-Za-z0-9_.-]+: [0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' "$R/$name.out" | tail -n 1)
  p=0
  f=1
  if [ -n "$line" ]; then
    p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed.*/\1/')
    f=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed.*/\2/')
    case "$line" in *skipped) vskipped=$((vskipped + $(echo "$line" | sed -E 's/.*, ([0-9]+) skipped$/\1/'))) ;; esac
  fi
  logs=""
  case $name in cli_*) logs=$(find "$R/logs/$name" -name 'made.*.log' -size +0 | head -n 3) ;; esac
  if [ "$rc" -eq 99 ] || [ -n "$logs" ]; then
    [ "$f" -eq 0 ] && f=1
    echo "$name: valgrind reported errors ($(cat "$R/$name.time") s)"
    grep -E '^==[0-9]+==' "$R/$name.err" | head -n 40 | sed 's/^/  /'
    for l in $logs; do head -n 40 "$l" | sed 's/^/  /'; done
  elif [ "$rc" -ne 0 ] || [ "$f" -ne 0 ] || [ -z "$line" ]; then
    [ "$f" -eq 0 ] && f=1
    echo "$name: failed (exit $rc, ${line:-no summary}, $(cat "$R/$name.time") s)"
    tail -n 20 "$R/$name.err" | sed 's/^/  /'
  else
    echo "$line  ($(cat "$R/$name.time") s)"
  fi
  passed=$((passed + p))
  failed=$((failed + f))
done < "$R/jobs.sorted"

[ -n "$skipped" ] && echo "valgrind: skipped (VALGRIND_SKIP):$skipped"
echo "valgrind: $(( $(date +%s) - start )) s with $JOBS at a time"
echo "valgrind: $passed passed, $failed failed, $vskipped skipped"
[ "$failed" -eq 0 ]
