#!/usr/bin/env bash
# cutover's smoke hook (`hooks: { smoke: examples/pipelines/smoke.sh }` in cutover.yml). cutover
# runs it while the new release is on the idle slot and no live traffic reaches it, with the
# router's preview route in PREVIEW_URL and PREVIEW_HEADER (PREVIEW_CURL_ARGS: the same as curl
# arguments). A non-zero exit aborts the deployment: traffic never leaves the old slot.
#   SMOKE_PATH    what to fetch through the preview route (default /)
#   SMOKE_EXPECT  text the answer must contain (e.g. the release name your app reports)
set -euo pipefail
: "${PREVIEW_URL:?cutover sets PREVIEW_URL for the smoke hook}"
url="${PREVIEW_URL%/}${SMOKE_PATH:-/}"
# Without the header the request would reach the live slot and prove nothing: refuse.
: "${PREVIEW_HEADER:?cutover sets PREVIEW_HEADER for the smoke hook}"
args=(--fail --silent --show-error --max-time 10 --header "$PREVIEW_HEADER")
if ! body="$(curl "${args[@]}" "$url")"; then
  echo "smoke: $url did not answer 2xx through the preview route" >&2
  exit 1
fi
if [ -n "${SMOKE_EXPECT:-}" ] && [[ "$body" != *"$SMOKE_EXPECT"* ]]; then
  echo "smoke: $url answered \"$body\", expected it to contain \"$SMOKE_EXPECT\"" >&2
  exit 1
fi
echo "smoke: ${CUTOVER_RELEASE:-the new release} answers $url through the preview route"
