#!/usr/bin/env bash
# The main job: install what is missing, build, and run an unmodified
# iperf3 server under libftcp.so on a virtual NIC (net_af_xdp on one end of
# a veth pair) with the kernel's iperf3 client on the other end, inside a
# private network namespace. Prints iperf3's result and the stack's state,
# then removes everything it made.
#
# usage: scripts/demo.sh [SECONDS] [IPERF3-CLIENT-ARGS...]
#   e.g. scripts/demo.sh 10 -P 4      scripts/demo.sh 5 -R
# Environment: FTCP_CORE (poll thread CPU or "inline"; default: the last CPU).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
scripts/deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null

secs=${1:-5}
[ $# -gt 0 ] && shift
NS=ftcp-demo-$$
PREFIX=ftcpdemo$$
STACK_IP=10.90.0.1
KERNEL_IP=10.90.0.2
LOG=$(mktemp /tmp/ftcp-demo.XXXXXX)
SRV=

cleanup() {
	[ -n "$SRV" ] && kill -TERM "$SRV" 2>/dev/null && sleep 0.5 && kill -9 "$SRV" 2>/dev/null
	ip netns pids "$NS" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$LOG" "/var/run/dpdk/$PREFIX"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" link add va type veth peer name vb
ip -n "$NS" link set va up
ip -n "$NS" link set vb up
ip -n "$NS" addr add "$KERNEL_IP/24" dev vb
# The kernel would hand AF_XDP TCP segments with unfilled checksums.
ip netns exec "$NS" ethtool -K vb tx off >/dev/null

echo "== iperf3 -s under libftcp ($STACK_IP, net_af_xdp on veth va); kernel client on vb ($KERNEL_IP)"
# ip netns exec and ftcp-run both exec: $! is iperf3's own pid.
ip netns exec "$NS" tools/ftcp-run --lib build/preload/libftcp.so \
	--eal "--no-huge --no-shconf -m 512 --no-pci -l 0 --log-level=3 --file-prefix=$PREFIX --vdev=net_af_xdp0,iface=va" \
	--ip "$STACK_IP/24" --dump-dir /tmp \
	-- iperf3 -s -1 --forceflush >"$LOG" 2>&1 &
SRV=$!
for _ in $(seq 150); do
	grep -q "Server listening" "$LOG" && break
	kill -0 "$SRV" 2>/dev/null || { cat "$LOG"; echo "demo: iperf3 under libftcp did not start"; exit 1; }
	sleep 0.1
done
grep -v "^libbpf\|^libxdp" "$LOG" | grep -i "libftcp" || true

ip netns exec "$NS" timeout $((secs + 30)) iperf3 -c "$STACK_IP" -t "$secs" "$@" &
CLI=$!
# Halfway through, the stack's own view (ftcp-stat, like ss -ti).
sleep $(((secs + 1) / 2))
echo "== ftcp-stat $SRV (mid-run)"
FTCP_DUMP_DIR=/tmp build/tools/ftcp-stat "$SRV" sockets 2>&1 | sed -n '1,20p' || true
wait "$CLI"
for _ in $(seq 50); do kill -0 "$SRV" 2>/dev/null || break; sleep 0.1; done
echo "== done: iperf3 under libftcp served one test and exited; namespace removed"
