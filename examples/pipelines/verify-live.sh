#!/usr/bin/env bash
# Pipeline step "verify": after the deploy, checks what real clients get at $LIVE_URL. A failure
# here makes the pipeline run rollback.sh (the previous release is still warm: an instant move).
#   LIVE_URL      where the router serves live traffic (required)
#   LIVE_EXPECT   text each answer must contain (e.g. the release name your app reports)
#   LIVE_CHECKS   how many requests (default 10)
set -euo pipefail
: "${LIVE_URL:?set LIVE_URL to where the router serves live traffic}"
for _ in $(seq "${LIVE_CHECKS:-10}"); do
  if ! body="$(curl --fail --silent --show-error --max-time 10 "$LIVE_URL")"; then
    echo "verify: $LIVE_URL did not answer 2xx" >&2
    exit 1
  fi
  if [ -n "${LIVE_EXPECT:-}" ] && [[ "$body" != *"$LIVE_EXPECT"* ]]; then
    echo "verify: $LIVE_URL answered \"$body\", expected it to contain \"$LIVE_EXPECT\"" >&2
    exit 1
  fi
done
echo "verify: $LIVE_URL answers as expected"
