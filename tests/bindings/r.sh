#!/bin/sh
# The R package's tests (r/tests/testthat): installs the package from a copy of
# r/ into $BUILD/r-test (its library built by the repository's Makefile with
# the project's flags) and runs testthat. Prints "r: N passed, N failed, N
# skipped" (expectations and skipped tests; without R or testthat the whole
# suite is one skipped case; reasons go to stderr).
set -u
BUILD=${BUILD:-build}
MADE=${MADE:-bin/made}
if ! command -v Rscript > /dev/null 2>&1 || ! Rscript -e 'library(testthat)' > /dev/null 2>&1; then
  echo "SKIP r: R with testthat is not available" >&2
  echo "r: 0 passed, 0 failed, 1 skipped"
  exit 0
fi
root=$(pwd)
dir="$root/$BUILD/r-test"
rm -rf "$dir" && mkdir -p "$dir/lib" || exit 1
cp -R r "$dir/made" && (cd "$dir/made" && sh ./cleanup)
# A sanitizer build's variables stay out of the package's library build
# (configure clears the rest).
if ! env -u LD_PRELOAD -u MAKEFLAGS -u SANITIZE MADE_SOURCE_DIR="$root" R CMD INSTALL --no-multiarch -l "$dir/lib" \
     "$dir/made" > "$dir/install.log" 2>&1; then
  tail -n 40 "$dir/install.log" >&2
  echo "r: 0 passed, 1 failed, 0 skipped"
  exit 1
fi
MADE_BIN="$root/$MADE" R_LIBS="$dir/lib" Rscript -e '
  suppressPackageStartupMessages({library(testthat); library(made)})
  res <- as.data.frame(test_dir(commandArgs(TRUE)[1], reporter = "summary",
                                stop_on_failure = FALSE))
  failed <- sum(res$failed) + sum(res$error)
  for (i in which(res$skipped > 0)) message(sprintf("SKIP r: %s: %s", res$file[i], res$test[i]))
  cat(sprintf("r: %d passed, %d failed, %d skipped\n", sum(res$passed), failed,
              sum(res$skipped)))
  quit(status = if (failed) 1 else 0)
' "$root/r/tests/testthat" > "$dir/test.log" 2>&1
rc=$?
grep -E '^SKIP r:' "$dir/test.log" >&2
if [ "$rc" -ne 0 ]; then tail -n 60 "$dir/test.log" >&2; fi
line=$(grep -E '^r: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$dir/test.log" | tail -n 1)
[ -n "$line" ] && echo "$line" || echo "r: 0 passed, 1 failed, 0 skipped"
exit $rc
