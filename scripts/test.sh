#!/bin/sh
# The one test command: `npm test` runs it, and so does CI through .ci/run.
#   npm test                          every test/**/*.test.ts
#   npm test -- test/host/profile.test.ts [--test-name-pattern=...]
# Arguments that end in .test.ts (or name a directory) pick the files; other arguments are
# passed to `node --test` as options (give them as --option=value). With no file arguments every
# test file runs.
set -eu

cd "$(dirname "$0")/.."

say() { printf 'test: %s\n' "$*"; }

# Arguments first, so a mistyped path fails at once rather than after install and typecheck.
# Node 20's --test does not expand globs itself, so the shell finds the files. Test file names
# never contain spaces, so splitting find's output into words is safe.
options=""
files=""
for arg in "$@"; do
  case "$arg" in
    -*) options="$options $arg" ;;
    *)
      if [ -d "$arg" ]; then
        files="$files $(find "$arg" -type f -name '*.test.ts' | LC_ALL=C sort | tr '\n' ' ')"
      elif [ -f "$arg" ]; then
        files="$files $arg"
      else
        printf 'test: error: %s: no such test file or directory (give paths like test/host/profile.test.ts)\n' "$arg" >&2
        exit 2
      fi
      ;;
  esac
done
if [ -z "$(printf '%s' "$files" | tr -d ' ')" ]; then
  files=$(find test -type f -name '*.test.ts' | LC_ALL=C sort | tr '\n' ' ')
fi
[ -n "$(printf '%s' "$files" | tr -d ' ')" ] || { printf 'test: error: no test/**/*.test.ts files found\n' >&2; exit 1; }

# A clean checkout has no node_modules: install and build first (idempotent when present).
sh scripts/setup.sh all

say "typecheck (tsc -p tsconfig.json --noEmit)"
npx tsc -p tsconfig.json --noEmit

say "node --test$options $(printf '%s' "$files" | wc -w) files"
# shellcheck disable=SC2086
exec node --import ./scripts/ts-loader.mjs --test --test-reporter=spec $options $files
