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
# Older cutover versions name the header only in PREVIEW_HEADERS (one per line).
header="${PREVIEW_HEADER:-${PREVIEW_HEADERS:-}}"
header="${header%%$'\n'*}"
args=(--fail --silent --show-error --max-time 10)
[ -n "$header" ] && args+=(--header "$header")
if ! body="$(curl "${args[@]}" "$url")"; then
  echo "smoke: $url did not answer 2xx through the preview route" >&2
  exit 1
fi
if [ -n "${SMOKE_EXPECT:-}" ] && [[ "$body" != *"$SMOKE_EXPECT"* ]]; then
  echo "smoke: $url answered \"$body\", expected it to contain \"$SMOKE_EXPECT\"" >&2
  exit 1
fi
echo "smoke: ${CUTOVER_RELEASE:-the new release} answers $url through the preview route"
