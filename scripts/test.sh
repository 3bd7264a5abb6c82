#!/usr/bin/env bash
# Builds and runs every test, from nothing, as root on Debian 12:
#  1. the Windows cross-build (mingw-w64): its unit tests under Wine;
#  2. optimised build: unit, engine and end-to-end tests (ctest), with the
#     Windows rtether.exe's end-to-end tests under Wine (tests/e2e/wine/);
#  3. AddressSanitizer + UndefinedBehaviorSanitizer build: the Linux tests;
#  4. libFuzzer targets (clang), each run for FUZZ_SECONDS (default 20).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

echo "== Windows cross-build and its unit tests under Wine =="
scripts/build-windows.sh
# A fresh machine has no Wine prefix: wineboot makes it once, before timed
# tests. Every unit test is a Wine process of its own: one persistent
# wineserver (ours, stopped by its PID with SIGINT, which also ends the
# prefix's Wine services), started once wineboot's own has gone, saves each
# a server start.
WINEDEBUG=-all wineboot --init >/dev/null 2>&1
wineserver --wait
WINEDEBUG=-all wineserver --foreground --persistent &
wineserver_pid=$!
trap 'kill -INT "$wineserver_pid" 2>/dev/null || true' EXIT
# The session's services start now, holding none of ctest's pipes (a test
# that started them would keep its output open until the server ends).
WINEDEBUG=-all wineboot </dev/null >/dev/null 2>&1
ctest --preset windows | tee build-windows/ctest.log
kill -INT "$wineserver_pid" 2>/dev/null || true
wait "$wineserver_pid" 2>/dev/null || true
trap - EXIT

# Peers built from source for the e2e tests (OpenVPN) are built once for
# both Linux builds.
export RTETHER_PEERS_DIR="$PWD/build/peers"

echo "== optimised build and tests =="
cmake --preset default -DRTETHER_WINDOWS_EXE="$PWD/build-windows/rtether.exe" >/dev/null
cmake --build --preset default
ctest --preset default | tee build/ctest.log

echo "== sanitizer build (ASan + UBSan) and tests =="
cmake --preset sanitize >/dev/null
cmake --build --preset sanitize
ctest --preset sanitize | tee build-sanitize/ctest.log

echo "== fuzz targets =="
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz
fuzz_seconds=${FUZZ_SECONDS:-20}
targets=(build-fuzz/fuzz/fuzz_*)
[ -x "${targets[0]}" ] || { echo "no fuzz targets were built" >&2; exit 1; }
for target in "${targets[@]}"; do
  name=$(basename "$target")
  corpus=$(mktemp -d)
  # Seeds kept in the tree (fuzz/corpus/<target>) start the search.
  seeds=fuzz/corpus/${name#fuzz_}
  [ -d "$seeds" ] && cp "$seeds"/* "$corpus"/
  # The framer must see inputs holding whole maximal (64 KiB) packets.
  extra=()
  case "$name" in
    fuzz_stream_framer | fuzz_client_session) extra=(-max_len=140000) ;;
    fuzz_adb_host_protocol) extra=(-max_len=70000) ;; # messages up to 64 KiB
  esac
  echo "-- $name for ${fuzz_seconds}s"
  "$target" -max_total_time="$fuzz_seconds" "${extra[@]}" "$corpus" 2>"build-fuzz/$name.log" ||
    { tail -50 "build-fuzz/$name.log"; rm -rf "$corpus"; exit 1; }
  tail -1 "build-fuzz/$name.log"
  rm -rf "$corpus"
done
# One closing line for every test run here (ctest stops this script on any
# failure, and so does a crashing fuzz target).
tests=$(grep -ho "out of [0-9]*" build-windows/ctest.log build/ctest.log build-sanitize/ctest.log |
  awk '{n += $3} END {print n}')
echo "all tests passed: $tests ctest tests (Windows under Wine, optimised and sanitized) and ${#targets[@]} fuzz targets"
echo "$((tests + ${#targets[@]})) passed, 0 failed"
