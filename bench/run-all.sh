#!/bin/sh
# npm run bench: every benchmark in turn (each also runs alone as npm run bench:<name>).
set -eu
cd "$(dirname "$0")/.."
for name in store api pods cluster dns l4; do
  echo "== bench:$name"
  npm run -s "bench:$name"
done
