#!/bin/sh
# The Python package's tests (python/tests) against this build's libmade and
# program. Prints "python: N passed, N failed, N skipped" (without python3,
# numpy or pytest the whole suite is one skipped case; reasons go to stderr).
#
# Under SANITIZE=1 (BUILD=build-san) libmade.so carries AddressSanitizer, so
# its runtime is preloaded and leak checking (Python's own allocations) is off;
# the pip-install test builds a plain library and runs only in the plain pass.
set -u
BUILD=${BUILD:-build}
MADE=${MADE:-bin/made}
PY=${PYTHON:-/usr/bin/python3}
if ! "$PY" -c 'import numpy, pytest' 2>/dev/null; then
  echo "SKIP python: $PY with numpy and pytest is not available" >&2
  echo "python: 0 passed, 0 failed, 1 skipped"
  exit 0
fi
root=$(pwd)
export MADE_LIBRARY="$root/$BUILD/libmade.so" MADE_BIN="$root/$MADE" PYTHONPATH="$root/python"
export PYTHONDONTWRITEBYTECODE=1
case "$BUILD" in
  *san*)
    LD_PRELOAD=$(gcc -print-file-name=libasan.so)
    ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1
    export LD_PRELOAD ASAN_OPTIONS MADE_SKIP_INSTALL_TEST=1 ;;
esac
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT
"$PY" -m pytest -q -rs -p no:cacheprovider "$root/python/tests" > "$out" 2>&1
rc=$?
last=$(grep -E '^(=+ )?[0-9]+ (passed|failed|skipped|error)' "$out" | tail -n 1)
num() { echo "$last" | grep -oE "[0-9]+ $1" | grep -oE '[0-9]+' || echo 0; }
passed=$(num passed); failed=$(num failed); errors=$(num 'errors?'); skipped=$(num skipped)
failed=$((failed + errors))
grep -E '^SKIPPED' "$out" | sed 's/^SKIPPED/SKIP python:/' >&2
if [ "$failed" -ne 0 ] || [ "$rc" -ne 0 ]; then
  tail -n 60 "$out" >&2
  [ "$failed" -eq 0 ] && failed=1
fi
echo "python: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
