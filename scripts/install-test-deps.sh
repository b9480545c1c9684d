#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine: the real daemons the router
# contract suites drive, the load generator the benches use, strace (the durable-write test
# watches the directory fsync), Chromium (the dashboard tests drive it with playwright-core),
# and a Docker-compatible engine
# (podman with runc and the CNI dnsname plugin; the tests start their own
# `podman system service`) plus the static busybox the test images are built from, and OpenSSH's
# sshd with iproute2 (the ssh platform's test hosts: network namespaces, tc throttling), and
# Prometheus (the prometheus analysis provider's end-to-end test scrapes cutover with it). Safe to
# run again.
set -euo pipefail

PACKAGES=(nginx-light haproxy varnish caddy wrk socat openssl podman runc strace openssh-server openssh-client iproute2 iproute2 chromium prometheus)
BINARIES=(nginx haproxy varnishd caddy wrk socat openssl podman runc strace sshd ssh-keygen ip tc chromium prometheus)

missing=()
for i in "${!BINARIES[@]}"; do
  command -v "${BINARIES[$i]}" >/dev/null 2>&1 || [ -x "/usr/sbin/${BINARIES[$i]}" ] || missing+=("${PACKAGES[$i]}")
done
# Modules are files, not binaries: nginx's lua module (the nginx router's lua mode).
MODULE_PACKAGES=(libnginx-mod-http-lua)
MODULE_FILES=(/usr/lib/nginx/modules/ngx_http_lua_module.so)
for i in "${!MODULE_FILES[@]}"; do
  [ -f "${MODULE_FILES[$i]}" ] || missing+=("${MODULE_PACKAGES[$i]}")
done
# The test images are FROM scratch with Debian's static busybox (the plain busybox package is dynamic).
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed' || missing+=(busybox-static)
# podman's CNI networks resolve container names only with the dnsname plugin (the reach-by-name layout).
[ -x /usr/lib/cni/dnsname ] || missing+=(golang-github-containernetworking-plugin-dnsname)

# moto (the AWS APIs for the aws-asg platform and the AWS routers) comes with this machine kind's
# Python (moto 5.2.1); neither PyPI nor a Debian package of it is reachable, so say what is wrong.
if ! command -v moto_server >/dev/null 2>&1; then
  echo "moto_server not found: the AWS tests need moto 5.2.1 (pip install 'moto[server]==5.2.1' where PyPI is reachable)" >&2
  exit 1
fi

if [ "${#missing[@]}" -eq 0 ]; then
  echo "test dependencies: all present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "missing: ${missing[*]} — run as root, or: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Installing the packages may start their services; the tests run their own copies.
for service in nginx haproxy varnish caddy ssh prometheus; do
  if command -v systemctl >/dev/null 2>&1; then systemctl stop "$service" >/dev/null 2>&1 || true; fi
done
echo "test dependencies: installed"
