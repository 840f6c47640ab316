#!/bin/sh
# Runs every test program given as arguments plus the CLI tests (tests/cli/*.sh)
# and the Python and R package tests (tests/bindings/*.sh), and prints the total
# as its last line: "N passed, N failed, N skipped".
# Each program ends with "name: N passed, N failed" or "name: N passed, N
# failed, N skipped"; a skipped case is one that could not reach its condition
# here. It is never counted as passed, and does not fail the run.
set -u
passed=0; failed=0; skipped=0
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
re='^[A-Za-z0-9_.-]+: [0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$'
for t in "$@" tests/cli/*.sh tests/bindings/*.sh; do
  [ -e "$t" ] || continue
  case "$t" in
    *.sh) sh "$t" > "$tmp/out" 2> "$tmp/err" ;;
    *)    "$t" > "$tmp/out" 2> "$tmp/err" ;;
  esac
  rc=$?
  line=$(grep -E "$re" "$tmp/out" | tail -n 1)
  if [ -z "$line" ]; then
    echo "$t: crashed or printed no summary (exit $rc)"; sed 's/^/  /' "$tmp/err" | tail -n 20
    failed=$((failed + 1)); continue
  fi
  p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed.*/\1/')
  f=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed.*/\2/')
  s=0
  case "$line" in *skipped) s=$(echo "$line" | sed -E 's/.*, ([0-9]+) skipped$/\1/') ;; esac
  echo "$line"
  if [ "$f" -ne 0 ] || [ "$rc" -ne 0 ]; then
    sed 's/^/  /' "$tmp/err" | tail -n 40
    [ "$f" -eq 0 ] && f=1
  elif [ "$s" -ne 0 ]; then
    grep -E '^SKIP|skipped' "$tmp/err" | sed 's/^/  /' | tail -n 10
  fi
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
