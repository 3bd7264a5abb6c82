#!/usr/bin/env bash
# Cross-builds rtether.exe for 64-bit Windows with Debian's mingw-w64
# (statically linked: no DLL beyond those Windows ships) into
# build-windows/, with its unit tests (run them with
# `ctest --preset windows`, under Wine), and packs the release zip
# build-windows/rtether-windows-x86_64.zip (scripts/package-windows.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

cmake --preset windows >/dev/null
cmake --build --preset windows
echo "built build-windows/rtether.exe"
scripts/package-windows.sh build-windows
