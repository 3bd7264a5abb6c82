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
  dante-server tinyproxy
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
  # Packages with a service (dante-server, tinyproxy) must not start it: the
  # tests run their own, with their own config (tests/e2e/proxy_servers.py).
  # policy-rc.d answering 101 ("action forbidden") stops invoke-rc.d and
  # deb-systemd-invoke from starting anything during the install.
  own_policy=false
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    own_policy=true
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  if $own_policy; then rm -f /usr/sbin/policy-rc.d; fi
fi
# Nor may they start at the next boot, or stay running from an earlier
# install without the policy (systemd stops only the unit's own processes).
if command -v systemctl >/dev/null && [ -d /run/systemd/system ] && [ "$(id -u)" -eq 0 ]; then
  for service in danted tinyproxy; do
    if systemctl is-enabled --quiet "$service" 2>/dev/null ||
      systemctl is-active --quiet "$service" 2>/dev/null; then
      systemctl disable --now "$service" >/dev/null 2>&1 || true
    fi
  done
fi

# tests/e2e/test_openvpn.py runs its own OpenVPN server (Debian's openvpn;
# liblzo2, liblz4, libcap-ng and libnl-genl are what the OpenVPN client
# built from the anchor needs): the package's service must not stay running
# beside it.
if [ -d /run/systemd/system ] && systemctl is-enabled --quiet openvpn.service 2>/dev/null; then
  systemctl disable --now openvpn.service
fi
