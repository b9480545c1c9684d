#!/usr/bin/env bash
# Pipeline step "roll back on failure": moves traffic back to the previous release, still warm
# inside the rollback window (a traffic move, not a redeploy). Run it when a check after the
# deploy fails; a failed `cutover deploy` (exit 1) has already left traffic on the old slot.
set -uo pipefail
cutover="${CUTOVER:-npx --no-install cutover}"
$cutover rollback --json
code=$?
if [ "$code" -eq 0 ]; then
  echo "rollback: traffic is back on the previous release" >&2
else
  echo "rollback: failed (exit $code); where things stand:" >&2
  $cutover status >&2 || true
fi
exit "$code"
