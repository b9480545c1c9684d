#!/usr/bin/env bash
# Pipeline step "deploy": `cutover deploy $RELEASE` until the new release serves and the old one
# is warm (standby), or it fails. Without a `cutover server` (and with nginx, HAProxy, Varnish or
# Caddy as the router) the CLI runs the deployment itself: one-shot mode. The smoke test runs as
# cutover's smoke hook (smoke.sh) through the preview route before any live traffic moves.
# The JSON result is kept in $CUTOVER_RESULT (default cutover-deploy.json) for the build's record.
# Exit codes (README "Exit codes"): 0 deployed; 1 failed, traffic on the old slot; 2 usage or
# config; 3 another deployment holds the lock; 4 cutover could not do its job.
set -uo pipefail
: "${RELEASE:?set RELEASE to the release name (e.g. the commit)}"
cutover="${CUTOVER:-npx --no-install cutover}"
result="${CUTOVER_RESULT:-cutover-deploy.json}"

$cutover deploy "$RELEASE" --json > "$result"
code=$?
case "$code" in
  0) echo "deploy: $RELEASE is live; the previous release stays warm for \`cutover rollback\`" ;;
  1) echo "deploy: $RELEASE failed; traffic stayed on (or went back to) the previous release" >&2 ;;
  2) echo "deploy: usage or configuration error; nothing was changed" >&2 ;;
  3) echo "deploy: another deployment holds the lock (see $result); nothing was changed" >&2 ;;
  *) echo "deploy: cutover could not finish (exit $code); where things stand:" >&2
     $cutover status >&2 || true ;;
esac
cat "$result"
exit "$code"
