#!/usr/bin/env bash
# Installs the Debian packages rtether needs to build, test and benchmark,
# skipping the apt-get round trip when everything is already there.
set -euo pipefail

packages=(
  cmake ninja-build g++ clang pkg-config
  libgtest-dev libgmock-dev libfmt-dev libcli11-dev libmnl-dev libssl-dev nlohmann-json3-dev
  iproute2 procps curl python3 python3-pytest python3-pytest-timeout
  iperf3 passt slirp4netns iputils-ping adb
  default-jdk-headless
  g++-mingw-w64-x86-64 wine wine64 googletest zip
  dnsmasq-base bind9-dnsutils
  nodejs
  libsystemd-dev systemd man-db groff-base bash-completion dpkg-dev
  prometheus
  openvpn liblzo2-dev liblz4-dev libcap-ng-dev libnl-genl-3-dev
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
# npm (tests/e2e/test_management_tcp.py installs telnet-openvpn with it):
# Debian's package, unless the nodejs installed already brings its own
# (NodeSource's nodejs provides npm and conflicts with Debian's).
command -v npm >/dev/null || missing+=(npm)
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: need root to install packages (run with sudo)" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# tests/e2e/test_openvpn.py runs its own OpenVPN server (Debian's openvpn;
# liblzo2, liblz4, libcap-ng and libnl-genl are what the OpenVPN client
# built from the anchor needs): the package's service must not stay running
# beside it.
if [ -d /run/systemd/system ] && systemctl is-enabled --quiet openvpn.service 2>/dev/null; then
  systemctl disable --now openvpn.service
fi
