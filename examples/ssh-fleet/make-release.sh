#!/bin/sh
# Packs the demo app as dist/demo-<release>.tgz, the tarball cutover uploads to every host.
set -eu
release=${1:?usage: ./make-release.sh <release>}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/app/app.js" "$here/app/package.json" "$work/"
printf '%s\n' "$release" > "$work/VERSION"
printf '%s\n' "console.log('no migrations for $release');" > "$work/migrate.js"
mkdir -p "$here/dist"
tar -czf "$here/dist/demo-$release.tgz" -C "$work" .
echo "dist/demo-$release.tgz"
