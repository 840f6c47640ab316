#!/bin/sh
# The programs in examples/ build against the public header only and print
# what their comments promise. Run from the repository root with BUILD set
# (tests/run.sh does).
BUILD=${BUILD:-build}
pass=0; fail=0
check() { if [ "$1" = 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $2" >&2; fi; }

out=$("$BUILD/examples/quickstart" 2>&1); rc=$?
check $rc "quickstart exits 0"
echo "$out" | grep -qx 'x = \[1, 2, 3\] -> \[\[0, 0\], \[2, 2\], \[8, 8\]\]'; check $? "quickstart reproduces spec example A: $out"
echo "$out" | grep -qx 'x = \[0.5, -1, 2\] -> \[\[0, 0\], \[1, 1\], \[0, 0\]\]'; check $? "quickstart second row: $out"

out=$("$BUILD/examples/density" 2>&1); rc=$?
check $rc "density exits 0"
echo "$out" | grep -qx 'fast and naive samplers agree: yes'; check $? "density: samplers agree"
nll=$(echo "$out" | sed -n 's/^NLL \([0-9.]*\) nats.*/\1/p')
awk -v n="$nll" 'BEGIN { exit !(n != "" && n < 3 * log(2) + 0.05) }'; check $? "density: NLL $nll within 0.05 of 3 ln 2"

echo "cli_examples: $pass passed, $fail failed"
[ "$fail" = 0 ]
