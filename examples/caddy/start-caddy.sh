#!/bin/sh
# Starts Caddy for this example in the foreground (Ctrl-C stops it). Run from this folder.
# --resume: Caddy reloads its autosave (every admin API change, so cutover's routes too) after
# a restart, and uses caddy.json only the first time. Debian's caddy-api.service does the same.
set -eu
cd "$(dirname "$0")"
export XDG_CONFIG_HOME="$PWD/caddy-home/config" XDG_DATA_HOME="$PWD/caddy-home/data"
exec caddy run --config caddy.json --resume
