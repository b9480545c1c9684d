#!/usr/bin/env bash
# Runs every test file under test/ with Node's test runner (TypeScript through tsx).
# Pass file paths or folders to run a subset: scripts/run-tests.sh test/store
set -euo pipefail
cd "$(dirname "$0")/.."
targets=("$@")
[ "${#targets[@]}" -eq 0 ] && targets=(test)
mapfile -t files < <(find "${targets[@]}" -name '*.test.ts' | sort)
if [ "${#files[@]}" -eq 0 ]; then
  echo "no test files under ${targets[*]}" >&2
  exit 1
fi
# The spec reporter ends with the failing tests and their errors, so the tail of a CI log names them.
exec node --import tsx --test --test-reporter=spec --test-concurrency="${TEST_CONCURRENCY:-2}" --test-timeout=600000 "${files[@]}"
