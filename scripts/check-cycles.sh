#!/bin/sh
# check-cycles.sh - no file of the library or the CLI may depend on itself
# through others. A file's module is its path without the extension
# (src/net/model.c and src/net/model.h are one module). Module a depends on b
# when a includes b's header (#include "..." lines, resolved like the compiler:
# next to the file, then src/ and include/) or when a's object file uses a
# symbol that b's object file defines (nm). Every cycle is printed.
#
#   BUILD=build sh scripts/check-cycles.sh     (run by make test, after the build)
#
# Last line: "cycles: N passed, N failed", one check per module (not on a cycle).
set -u
BUILD=${BUILD:-build}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

files=$(ls src/*/*.c src/*/*.h cli/*.c cli/*.h 2>/dev/null)
# The objects of today's sources only (a stale object of a removed file is not
# part of the program).
objs=
for f in src/*/*.c cli/*.c; do
  o=$BUILD/${f%.c}.o
  [ -f "$o" ] && objs="$objs $o"
done
if [ -z "$objs" ]; then
  echo "no object files under $BUILD/ (build first)" >&2
  echo "cycles: 0 passed, 1 failed"; exit 1
fi

# Include edges: "module module".
for f in $files; do
  dir=${f%/*}
  sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" | while read -r h; do
    for cand in "$dir/$h" "src/$h" "include/$h"; do
      if [ -f "$cand" ]; then echo "${f%.*} ${cand%.*}"; break; fi
    done
  done
done > "$tmp/edges"

# Call edges from the symbol tables: "module module".
for o in $objs; do
  m=${o#"$BUILD"/}; m=${m%.o}
  nm "$o" | awk -v m="$m" '$1 == "U" { print "U", m, $2 } NF == 3 && $2 ~ /^[TDBRVWi]$/ { print "D", m, $3 }'
done > "$tmp/syms"
awk '$1 == "D" { def[$3] = $2 } $1 == "U" { use[++n] = $2 " " $3 }
     END { for (i = 1; i <= n; i++) { split(use[i], a, " "); if (a[2] in def) print a[1], def[a[2]] } }' \
  "$tmp/syms" >> "$tmp/edges"

# A module is on a cycle when it reaches itself; each cycle is printed once
# (from its smallest module).
sort -u "$tmp/edges" | awk '
  $1 != $2 { adj[$1] = adj[$1] " " $2; node[$1]; node[$2] }
  function reach(u, target, path,    n, i, vs) {
    if (u in seen) return 0
    seen[u]
    n = split(adj[u], vs, " ")
    for (i = 1; i <= n; i++) {
      if (vs[i] == target) { found = path " -> " target; return 1 }
      if (reach(vs[i], target, path " -> " vs[i])) return 1
    }
    return 0
  }
  END {
    pass = 0; fail = 0
    for (v in node) {
      delete seen; found = ""
      if (reach(v, v, v)) { fail++; cyc[v] = found } else pass++
    }
    for (v in cyc) {
      first = 1
      n = split(cyc[v], parts, " -> ")
      for (i = 1; i <= n; i++) if (parts[i] < v) first = 0
      if (first) print "cycle: " cyc[v]
    }
    printf "cycles: %d passed, %d failed\n", pass, fail
    exit fail > 0
  }'
