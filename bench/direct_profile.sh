#!/bin/bash
# One iperf3 transfer through rtether's direct mode, with the relay's CPU
# and a perf profile of it: what docs/BENCHMARKS.md's "Checksum offload"
# figures came from. Run as root; makes (and deletes) namespace rtprof-PID.
#
#   bench/direct_profile.sh BINARY [download|upload] [SECONDS]
#
# Prints iperf3's sender/receiver lines, the relay's CPU (utime+stime from
# /proc/PID/stat, all its threads) over the 4 s perf records, mid-transfer,
# and perf's top symbols.
set -euo pipefail
binary=$1
direction=${2:-download}
seconds=${3:-8}
reverse=()
[ "$direction" = download ] && reverse=(-R)
ns=rtprof-$$
port=$((5200 + $$ % 700))
work=$(mktemp -d)
relay=""; server=""
# Every step on its own: under set -e a failing one (wait returns the
# relay's SIGTERM status) would end the trap before the namespace goes.
cleanup() {
  if [ -n "$relay" ]; then kill "$relay" 2>/dev/null || true; wait "$relay" 2>/dev/null || true; fi
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up
"$binary" relay --netns "$ns" --mtu 65520 --no-tcp >"$work/relay.log" 2>&1 &
relay=$!
sleep 1
iperf3 -s -1 -B 127.0.0.1 -p "$port" >"$work/server.log" 2>&1 &
server=$!
sleep 0.5
ip netns exec "$ns" iperf3 -c 10.0.2.2 -p "$port" "${reverse[@]}" -t "$seconds" >"$work/client.log" 2>&1 &
client=$!
sleep 2
ticks() { awk '{print $14 + $15}' "/proc/$relay/stat"; }
before=$(ticks)
perf record -g -p "$relay" -o "$work/perf.data" -- sleep 4 >/dev/null 2>&1
after=$(ticks)
wait "$client"
hz=$(getconf CLK_TCK)
grep -E "sender|receiver" "$work/client.log"
echo "relay CPU: $(( (after - before) * 100 / hz / 4 )) % of a core"
perf report -i "$work/perf.data" --no-children --sort sym --stdio 2>/dev/null |
  grep -E "^ +[0-9.]+%" | head -12
