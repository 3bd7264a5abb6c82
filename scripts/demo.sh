#!/usr/bin/env bash
# The main job, no phone needed: builds rtether, serves a 200 MiB file on the
# host's loopback, and downloads it from inside a fresh network namespace
# through `rtether shell` (relay + device client), where 10.0.2.2 is the host.
# Run as root on Debian 12.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake --preset default >/dev/null
cmake --build --preset default --target rtether

workdir=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$workdir"
}
trap cleanup EXIT

head -c $((200 * 1024 * 1024)) /dev/urandom >"$workdir/payload.bin"
expected=$(sha256sum "$workdir/payload.bin" | cut -d' ' -f1)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$workdir" >/dev/null 2>&1 &
server_pid=$!
for _ in $(seq 50); do
  curl -s -o /dev/null "http://127.0.0.1:$port/" && break
  sleep 0.1
done

echo "Downloading 200 MiB from the host (10.0.2.2:$port) inside an rtether shell:"
build/rtether shell -- sh -c "
  curl -s -o /tmp/rtether-demo.bin -w 'received %{size_download} bytes at %{speed_download} bytes/s\n' \
    http://10.0.2.2:$port/payload.bin &&
  sha256sum /tmp/rtether-demo.bin | cut -d' ' -f1 > /tmp/rtether-demo.sum; rm -f /tmp/rtether-demo.bin"
actual=$(cat /tmp/rtether-demo.sum)
rm -f /tmp/rtether-demo.sum
if [ "$actual" = "$expected" ]; then
  echo "sha256 matches: $expected"
else
  echo "sha256 MISMATCH: expected $expected got $actual" >&2
  exit 1
fi
