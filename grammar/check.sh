#!/usr/bin/env bash
# CI check for the tree-sitter grammar (called from .ci/run):
#   1. the generated files are up to date: vocabulary.json, src/scanner_tables.h and the
#      highlights.scm word lists (gen_vocabulary.py --check), and src/ as `tree-sitter generate`
#      writes it from grammar.js (regenerated in a temporary copy and compared);
#   2. the corpus tests in test/corpus pass (`tree-sitter test`).
# Uses the shared CLI wrapper (tree-sitter 0.22.6, ABI 14); override with TREE_SITTER=/path.
# Without a CLI the vocabulary check still runs and the rest is skipped (an error under CI).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ts=${TREE_SITTER:-$here/../../shared/tools/tree-sitter}
python=${PYTHON:-python3}

echo "grammar: generated vocabulary files"
"$python" "$here/gen_vocabulary.py" --check

if [[ ! -x "$ts" ]] && ! command -v "$ts" >/dev/null 2>&1; then
  # The CLI comes from the workplace's shared tools beside the checkout; a plain clone has none.
  if [[ "${CI:-}" == "true" ]]; then
    echo "grammar: no tree-sitter CLI at $ts (set TREE_SITTER=/path/to/tree-sitter)" >&2
    exit 1
  fi
  echo "grammar: no tree-sitter CLI at $ts: skipping the src/ and corpus checks (set TREE_SITTER=/path/to/tree-sitter 0.22.6 to run them)"
  exit 0
fi

echo "grammar: src/ matches grammar.js"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$here/grammar.js" "$here/vocabulary.json" "$tmp/"
mkdir -p "$tmp/src"
cp "$here/src/scanner.c" "$here/src/scanner_tables.h" "$tmp/src/"
(cd "$tmp" && "$ts" generate --no-bindings >/dev/null)
stale=0
for f in parser.c grammar.json node-types.json tree_sitter/parser.h tree_sitter/alloc.h tree_sitter/array.h; do
  if ! cmp -s "$tmp/src/$f" "$here/src/$f"; then
    echo "grammar/src/$f is out of date: run (cd grammar && ../../shared/tools/tree-sitter generate --no-bindings) and commit" >&2
    stale=1
  fi
done
[[ $stale == 0 ]]

echo "grammar: corpus tests"
(cd "$here" && "$ts" test)
