# harness.sh - what the CLI test scripts (tests/cli/*.sh) share, as harness.h
# is for the test programs: the made under test, a temp directory, the counts
# and the summary line tests/run.sh adds up. A script sources it, then starts:
#
#     . "$(dirname "$0")/../harness.sh"
#     harness_start cli_x       # MADE (absolute path), T (temp dir), counters
#     ... ok / bad / skip / check / same / expect_rc / expect_in ...
#     harness_summary           # "cli_x: N passed, N failed[, N skipped]"; the status
#
# T is removed when the script ends; INT and TERM end it (status 1). A script
# that leaves something else behind (a background job, a mount) sets on_exit
# to the command that undoes it, which runs first.

# harness_start NAME: MADE (default bin/made) made absolute and checked to be
# an executable, counters at 0, T a new temp directory.
harness_start() {
  harness_name=$1
  MADE=${MADE:-bin/made}
  case $MADE in /*) ;; *) MADE=$(pwd)/$MADE ;; esac
  passed=0
  failed=0
  skipped=0
  on_exit=${on_exit:-}
  if [ ! -x "$MADE" ]; then
    echo "FAIL: $MADE is not an executable (build with make, or set MADE=)" >&2
    echo "$harness_name: 0 passed, 1 failed"
    exit 1
  fi
  T=$(mktemp -d "${TMPDIR:-/tmp}/made_$harness_name.XXXXXX") || exit 1
  trap harness_cleanup EXIT
  trap 'exit 1' INT TERM
}

# Runs on exit: the script's on_exit, then T goes (made readable first: some
# cases take permissions away).
harness_cleanup() {
  eval "$on_exit"
  chmod -R u+rwx "$T" 2> /dev/null
  rm -rf "$T"
}

ok() { passed=$((passed + 1)); }

# bad DESCRIPTION: a failed check, shown with the first lines of $T/err.
bad() {
  failed=$((failed + 1))
  echo "FAIL: $*" >&2
  if [ -s "$T/err" ]; then sed 's/^/    stderr: /' "$T/err" | head -n 6 >&2; fi
}

# skip DESCRIPTION: a check that could not run here (never counted as passed).
skip() {
  skipped=$((skipped + 1))
  echo "SKIP: $*" >&2
}

# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() {
  d=$1
  shift
  if "$@"; then ok; else bad "$d"; fi
}

# same A B DESCRIPTION: files A and B exist and are byte-identical.
same() {
  if [ -f "$1" ] && [ -f "$2" ] && cmp -s "$1" "$2"; then ok; else bad "$3: $(basename "$1") and $(basename "$2") differ"; fi
}

# sanitizer_report FILE: FILE holds a sanitizer report (SANITIZE=1 builds).
sanitizer_report() {
  grep -q -E 'Sanitizer|runtime error:' "$1"
}

# run ARGS...: runs made, stdout in $T/out, stderr in $T/err, status in $rc.
# A sanitizer report (SANITIZE=1 builds exit 1 on one) is a failure, and rc 99.
# (cli_kernel's run and the made functions of other scripts run made their way.)
run() {
  "$MADE" "$@" > "$T/out" 2> "$T/err"
  rc=$?
  if sanitizer_report "$T/err"; then
    bad "sanitizer report from: made $*"
    rc=99
  fi
}

# expect_rc WANT DESC ARGS...: made ARGS exits with status WANT.
expect_rc() {
  want=$1; desc=$2; shift 2
  run "$@"
  if [ "$rc" -eq "$want" ]; then ok; else bad "$desc: exit $rc, want $want (made $*)"; fi
}

# expect_in FILE TEXT DESC: FILE contains TEXT (fixed string).
expect_in() {
  if grep -q -F -e "$2" "$1"; then ok; else bad "$3: '$2' not found in $(basename "$1")"; fi
}

# The summary line (", N skipped" only when a check was skipped); the status
# is 0 when nothing failed.
harness_summary() {
  if [ "$skipped" -gt 0 ]; then echo "$harness_name: $passed passed, $failed failed, $skipped skipped"
  else echo "$harness_name: $passed passed, $failed failed"; fi
  [ "$failed" -eq 0 ]
}
