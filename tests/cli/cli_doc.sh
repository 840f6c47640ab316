#!/bin/sh
# docs/cli.md is generated from the program's --help texts; fail when it is stale.
MADE=${MADE:-bin/made}
if sh scripts/gen-cli-doc.sh "$MADE" | cmp -s - docs/cli.md; then
  echo "cli_doc: 1 passed, 0 failed"
else
  echo "docs/cli.md is out of date: run sh scripts/gen-cli-doc.sh bin/made > docs/cli.md" >&2
  echo "cli_doc: 0 passed, 1 failed"
  exit 1
fi
