#!/usr/bin/env bash
# The project's test command (`npm test`): checks prerequisites, type-checks, then runs every test file
# under test/ with Node's built-in test runner. Pass file paths to run only those.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-setup.sh
npx tsc --noEmit -p .
shopt -s globstar nullglob
files=("$@")
[ ${#files[@]} -gt 0 ] || files=(test/**/*.test.ts)
exec node --import tsx --test --test-concurrency=1 "${files[@]}"
