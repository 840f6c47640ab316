#!/bin/sh
# Writes docs/cli.md from the program's own --help texts, so the reference and
# the program cannot drift (tests/cli/cli_doc.sh checks they agree).
#   sh scripts/gen-cli-doc.sh bin/made > docs/cli.md
set -eu
MADE=${1:-bin/made}
cat <<'HEAD'
# made command-line reference

This page is generated from `made --help` and `made VERB --help`
(`sh scripts/gen-cli-doc.sh bin/made > docs/cli.md`); the test suite checks
that it matches the program.

Exit status for every verb: 0 success, 1 failure while working (files, data,
model), 2 usage error (unknown option, missing or malformed value), 130 for
`made train` interrupted by Ctrl-C after writing its checkpoint.

HEAD
echo '## made'
echo
echo '```'
"$MADE" --help
echo '```'
for verb in init forward info train eval logprob sample toy; do
  echo
  echo "## made $verb"
  echo
  echo '```'
  "$MADE" "$verb" --help
  echo '```'
done
