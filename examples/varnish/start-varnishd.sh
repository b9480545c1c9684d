#!/bin/sh
# Starts varnishd for this example in the foreground (Ctrl-C stops it). Run from this folder.
# -j none: when run as root, do not switch to the `varnish` user (the files here are root's).
set -eu
cd "$(dirname "$0")"
exec varnishd -F -n "$PWD/varnish-work" -a 127.0.0.1:8092 -T 127.0.0.1:6092 \
  -f "$PWD/boot.vcl" -s malloc,64m -j none
