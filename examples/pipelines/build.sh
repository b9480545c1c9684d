#!/usr/bin/env bash
# Pipeline step "build": stages release $RELEASE as a folder under $RELEASES_DIR (default
# releases/), the layout of the process platform's `cwd: releases/${RELEASE}`. It copies
# $APP_SOURCE (default app/), runs $BUILD_COMMAND inside the copy if set (e.g. "npm ci --omit=dev"),
# writes VERSION unless the build made one, and moves the folder into place once it is complete.
set -euo pipefail
: "${RELEASE:?set RELEASE to the release name (e.g. the commit)}"
source_dir="${APP_SOURCE:-app}"
releases_dir="${RELEASES_DIR:-releases}"
target="$releases_dir/$RELEASE"

if [ -e "$target" ]; then
  echo "build: $target exists already; release names are never reused" >&2
  exit 2
fi
mkdir -p "$releases_dir"
staging="$(mktemp -d "$releases_dir/.build-$RELEASE.XXXXXX")"
trap 'rm -rf "$staging"' EXIT
cp -R "$source_dir"/. "$staging"/
if [ -n "${BUILD_COMMAND:-}" ]; then
  (cd "$staging" && bash -c "$BUILD_COMMAND")
fi
[ -e "$staging/VERSION" ] || printf '%s\n' "$RELEASE" > "$staging/VERSION"
mv "$staging" "$target"
trap - EXIT
echo "build: $target ready"
