#!/usr/bin/env bash
# Interop tests: libftcp (ftcp-echo on a DPDK port) against Linux TCP/UDP.
#
# Each run makes its own network namespace with a veth pair: ftcp-echo
# drives one end through DPDK (net_af_xdp by default), the kernel owns the
# other end with a private address that exists only inside the namespace.
# Everything is removed on exit, also on failure or interruption.
#
# usage: tests/interop/interop.sh [af_xdp|af_packet|tap]
# Environment: BULK_MB (default 256); POLL=thread|inline (default: a poll
# thread on the last CPU for af_xdp, inline polling for the others, so both
# ways of driving the stack are exercised).
# Prints "interop <device>: N passed, N failed" and exits non-zero on failure.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${FTCP_ECHO:-$top/build/tools/ftcp-echo}
DEV=${1:-af_xdp}
BULK_MB=${BULK_MB:-256}
NS=ftcp-it-$$
STACK_IP=10.77.0.1
KERNEL_IP=10.77.0.2
WORK=$(mktemp -d /tmp/ftcp-interop.XXXXXX)
ECHO_PID=
passed=0
failed=0

cleanup() {
	[ -n "$ECHO_PID" ] && kill -TERM "$ECHO_PID" 2>/dev/null && wait "$ECHO_PID" 2>/dev/null
	ip netns pids "$NS" 2>/dev/null | xargs -r kill -9 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	ip link del "ftcptap$$" 2>/dev/null
	rm -rf "$WORK" "/var/run/dpdk/ftcp$$"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_ns() { ip netns exec "$NS" "$@"; }
ok() { echo "  ok    $1"; passed=$((passed + 1)); }
bad() { echo "  FAIL  $1"; failed=$((failed + 1)); }
mb_per_s() { awk -v b="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.0f", b / s / 1e6; else print "?" }'; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }

[ -x "$BIN" ] || { echo "interop: $BIN not built (needs libdpdk)"; exit 1; }
command -v ncat >/dev/null || { echo "interop: ncat missing (scripts/deps.sh)"; exit 1; }

ip netns add "$NS" || exit 1
in_ns ip link set lo up
case "$DEV" in
af_xdp | af_packet)
	in_ns ip link add va type veth peer name vb || exit 1
	in_ns ip link set va up
	in_ns ip link set vb up
	in_ns ip addr add "$KERNEL_IP/24" dev vb
	# The kernel would hand over TCP segments with unfilled checksums.
	in_ns ethtool -K vb tx off >/dev/null
	KDEV=vb
	if [ "$DEV" = af_xdp ]; then VDEV="--vdev=net_af_xdp0,iface=va"; else VDEV="--vdev=net_af_packet0,iface=va"; fi
	;;
tap)
	VDEV="--vdev=net_tap0,iface=ftcptap$$"
	KDEV=ftcptap$$
	;;
*)
	echo "interop: unknown device $DEV"
	exit 2
	;;
esac

POLL=${POLL:-$([ "$DEV" = af_xdp ] && echo thread || echo inline)}
CORE_ARGS=()
[ "$POLL" = thread ] && CORE_ARGS=(--core $(($(nproc) - 1)))
EAL="--no-huge --no-shconf -m 1024 --no-pci -l 0 --log-level=3 --file-prefix=ftcp$$ $VDEV"
# Not through in_ns: $! must be ftcp-echo's own pid (ip netns exec execs it).
ip netns exec "$NS" "$BIN" --eal "$EAL" --ip "$STACK_IP/24" "${CORE_ARGS[@]}" --conns 160 --chargen-bytes $((BULK_MB << 20)) \
	>"$WORK/echo.log" 2>&1 &
ECHO_PID=$!
for _ in $(seq 100); do
	grep -q "^ftcp-echo: .* echo 7" "$WORK/echo.log" && break
	kill -0 "$ECHO_PID" 2>/dev/null || break
	sleep 0.1
done
if ! grep -q "^ftcp-echo: .* echo 7" "$WORK/echo.log"; then
	echo "interop: ftcp-echo did not start:"
	grep -v "^libbpf\|^libxdp" "$WORK/echo.log" | tail -5
	exit 1
fi
if [ "$DEV" = tap ]; then
	in_ns ip link set "$KDEV" up
	in_ns ip addr add "$KERNEL_IP/24" dev "$KDEV"
	in_ns ethtool -K "$KDEV" tx off >/dev/null 2>&1
fi
echo "interop $DEV: $(grep '^ftcp-echo:' "$WORK/echo.log" | head -1)"
echo "interop $DEV: $(grep '^ftcp-echo: offloads' "$WORK/echo.log")"

# 1. ping; the kernel resolves the stack's MAC.
if in_ns ping -c 5 -i 0.2 -W 2 "$STACK_IP" >"$WORK/ping" 2>&1 && grep -q " 0% packet loss" "$WORK/ping"; then
	ok "ping: $(grep -o 'rtt.*' "$WORK/ping")"
else
	bad "ping: $(tail -2 "$WORK/ping" | tr '\n' ' ')"
fi
if in_ns ip neigh show "$STACK_IP" | grep -q lladdr; then ok "ARP: $(in_ns ip neigh show "$STACK_IP")"; else bad "ARP: kernel has no entry"; fi

# 2. TCP echo, small.
r=$(echo "hello libftcp" | in_ns timeout 10 ncat "$STACK_IP" 7)
if [ "$r" = "hello libftcp" ]; then ok "TCP echo"; else bad "TCP echo: got '$r'"; fi

# 3. Bulk kernel -> stack (discard reports the SHA-256 of what it read).
head -c $((BULK_MB << 20)) /dev/urandom >"$WORK/in.bin"
want=$(sha256sum "$WORK/in.bin" | cut -d' ' -f1)
t0=$(now)
in_ns timeout 300 ncat --send-only "$STACK_IP" 9 <"$WORK/in.bin"
for _ in $(seq 100); do grep -q "^discard: " "$WORK/echo.log" && break; sleep 0.1; done
secs=$(elapsed "$t0")
got=$(grep "^discard: " "$WORK/echo.log" | tail -1)
if echo "$got" | grep -q "$((BULK_MB << 20)) bytes sha256 $want"; then
	ok "bulk kernel->stack ${BULK_MB} MiB, sha256 match, $(mb_per_s $((BULK_MB << 20)) "$secs") MB/s"
else
	bad "bulk kernel->stack: want $want, got '$got'"
fi

# 4. Bulk stack -> kernel (chargen's pattern, checked against --pattern).
want=$("$BIN" --pattern $((BULK_MB << 20)) | sha256sum | cut -d' ' -f1)
t0=$(now)
got=$(in_ns timeout 300 ncat --recv-only "$STACK_IP" 19 | sha256sum | cut -d' ' -f1)
secs=$(elapsed "$t0")
if [ "$got" = "$want" ]; then
	ok "bulk stack->kernel ${BULK_MB} MiB, sha256 match, $(mb_per_s $((BULK_MB << 20)) "$secs") MB/s"
else
	bad "bulk stack->kernel: want $want, got $got"
fi

# 5. 100 concurrent echo connections, each with its own payload.
pids=()
for i in $(seq 100); do
	head -c 20000 /dev/urandom >"$WORK/c$i.in"
	in_ns timeout 60 ncat "$STACK_IP" 7 <"$WORK/c$i.in" >"$WORK/c$i.out" &
	pids+=($!)
done
wait "${pids[@]}" 2>/dev/null
wait_ok=0
for i in $(seq 100); do cmp -s "$WORK/c$i.in" "$WORK/c$i.out" && wait_ok=$((wait_ok + 1)); done
if [ "$wait_ok" = 100 ]; then ok "100 concurrent echo connections"; else bad "concurrent echo: $wait_ok/100 correct"; fi

# 6. UDP echo.
# ncat -u quits at end of input: keep it open for the reply.
r=$( (echo "udp hello"; sleep 1) | in_ns timeout 5 ncat -u "$STACK_IP" 7 2>/dev/null)
if [ "$r" = "udp hello" ]; then ok "UDP echo"; else bad "UDP echo: got '$r'"; fi

kill -TERM "$ECHO_PID" 2>/dev/null
wait "$ECHO_PID" 2>/dev/null
ECHO_PID=
grep -E "^ftcp-echo: (port|loop)|tcp_retrans_segs|tcp_fast_retransmits|tcp_rto " "$WORK/echo.log" | sed 's/^/  /'
echo "interop $DEV: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
