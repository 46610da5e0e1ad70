#!/usr/bin/env bash
# Regenerates packages/proto/src/gen from proto/ with buf + protoc-gen-es.
# With --check, generates into a temporary folder and fails if the committed code is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
if [ "${1:-}" = "--check" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  buf generate --template buf.gen.yaml -o "$tmp"
  npx prettier --log-level warn --write "$tmp/packages/proto/src/gen" >/dev/null
  if ! diff -r "$tmp/packages/proto/src/gen" packages/proto/src/gen >/dev/null; then
    echo "packages/proto/src/gen is stale: run 'npm run gen' and commit the result" >&2
    diff -r "$tmp/packages/proto/src/gen" packages/proto/src/gen | head -20 >&2
    exit 1
  fi
  echo "generated code is up to date"
else
  rm -rf packages/proto/src/gen
  buf generate --template buf.gen.yaml
  npx prettier --log-level warn --write packages/proto/src/gen >/dev/null
  echo "generated packages/proto/src/gen"
fi
