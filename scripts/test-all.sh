#!/usr/bin/env bash
# The one command that sets up a fresh machine and runs everything CI runs:
# Debian test dependencies, npm packages (from the lockfile), type-check, lint, format, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
npm ci --no-audit --no-fund
npm run typecheck
npm run lint
npm run format:check
bash scripts/run-tests.sh
