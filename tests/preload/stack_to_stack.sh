#!/usr/bin/env bash
# Stack to stack: two unmodified programs, each under libftcp.so in its own
# process, joined by net_memif (shared memory, no kernel network path).
# Both run inside a fresh network namespace holding only loopback, so a
# socket that wrongly fell back to the kernel could not reach anything.
#
# iperf3 client and server (one stream, -R, -P 2), then ncat moving 64 MiB
# each way with sha256 checks, and once more over a trusted link
# (FTCP_TRUSTED_LINK=1: no checksums).
#
# usage: tests/preload/stack_to_stack.sh
# Environment: LIB (libftcp.so to test), FTCP_CORE (default inline: the
# programs' own threads poll, which suits two processes on two cores).
# Prints "preload stack_to_stack: N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
LIB=${LIB:-$top/build/preload/libftcp.so}
NS=ftcp-s2s-$$
SOCK=/tmp/ftcp-s2s-$$.sock # an abstract name (memif's default), not a file
SRV_PREFIX=ftcps2ss$$
CLI_PREFIX=ftcps2sc$$
SRV_IP=10.83.0.1
CLI_IP=10.83.0.2
WORK=$(mktemp -d /tmp/ftcp-s2s.XXXXXX)
SRV_PID=
passed=0
failed=0

cleanup() {
	stop_server
	ip netns pids "$NS" 2>/dev/null | xargs -r kill -9 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$WORK" "/var/run/dpdk/$SRV_PREFIX" "/var/run/dpdk/$CLI_PREFIX"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ok() { echo "  ok    $1"; passed=$((passed + 1)); }
bad() {
	echo "  FAIL  $1"
	failed=$((failed + 1))
	for f in "$WORK/srv.log" "$WORK/cli.log"; do
		[ -f "$f" ] && grep -v "^libbpf\|^libxdp" "$f" | tail -4 | sed 's/^/        /'
	done
}

[ -f "$LIB" ] || { echo "preload stack_to_stack: $LIB not built (needs libdpdk)"; exit 1; }
ip netns add "$NS" || exit 1
ip netns exec "$NS" ip link set lo up

# memif needs DPDK's multi-process channel: a unique --file-prefix per
# process instead of --no-shconf.
eal() { echo "--no-huge -m 1024 --no-pci -l $1 --log-level=3 --file-prefix=$2 --vdev=net_memif0,role=$3,socket=$SOCK"; }
core=${FTCP_CORE:-inline}

# run_ftcp <server|client> PROGRAM ARGS...: exec the program under libftcp
# on its side of the memif link (call it in a subshell: "( run_ftcp ... )",
# so a background one's $! is the program's own pid).
run_ftcp() {
	local side=$1 ip prefix lcore role
	shift
	if [ "$side" = server ]; then
		ip=$SRV_IP prefix=$SRV_PREFIX lcore=0 role=server
	else
		ip=$CLI_IP prefix=$CLI_PREFIX lcore=1 role=client
	fi
	rm -rf "/var/run/dpdk/$prefix"
	exec ip netns exec "$NS" env LD_PRELOAD="$LIB" FTCP_EAL="$(eal $lcore "$prefix" $role)" \
		FTCP_IP="$ip/24" FTCP_CORE="$core" FTCP_LOG="${FTCP_LOG:-1}" FTCP_LINK_WAIT_MS=0 "$@"
}

start_server() {
	local ready=$1
	shift
	(run_ftcp server "$@") >"$WORK/srv.log" 2>&1 &
	SRV_PID=$!
	for _ in $(seq 100); do
		kill -0 "$SRV_PID" 2>/dev/null || return 1
		if [ "$ready" = socket ]; then
			# memif's socket is abstract (DPDK's default): no file.
			ip netns exec "$NS" grep -q "@$SOCK\$" /proc/net/unix && return 0
		else
			grep -q "$ready" "$WORK/srv.log" 2>/dev/null && return 0
		fi
		sleep 0.1
	done
	return 1
}
stop_server() {
	if [ -n "$SRV_PID" ]; then
		kill -TERM "$SRV_PID" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$SRV_PID" 2>/dev/null
		wait "$SRV_PID" 2>/dev/null
		SRV_PID=
	fi
}

iperf_sum() { grep -E "$1\$" "$2" | tail -1 | sed 's/  */ /g'; }

test_iperf3() {
	local args
	for args in "" "-R" "-P 2"; do
		rm -f "$WORK/cli.log"
		if ! start_server "Server listening" iperf3 -s -1 --forceflush; then
			bad "iperf3 -s under libftcp did not start"
			stop_server
			continue
		fi
		if (run_ftcp client timeout 40 iperf3 -c "$SRV_IP" -t 3 $args) >"$WORK/cli.log" 2>&1 &&
			grep -q "receiver$" "$WORK/cli.log"; then
			ok "iperf3 stack to stack ${args:-(1 stream)}: $(iperf_sum receiver "$WORK/cli.log")"
		else
			bad "iperf3 stack to stack ${args:-(1 stream)}"
		fi
		stop_server
	done
}

# 64 MiB through ncat each way; the receiving side hashes what it got.
test_ncat() {
	head -c $((64 << 20)) /dev/urandom >"$WORK/data"
	local want got
	want=$(sha256sum "$WORK/data" | cut -d' ' -f1)

	rm -f "$WORK/got" "$WORK/cli.log"
	start_server socket sh -c "exec ncat -l $SRV_IP 5001 --recv-only > $WORK/got"
	sleep 1 # ncat listens right after the stack starts; give it a moment
	(run_ftcp client timeout 60 ncat --send-only "$SRV_IP" 5001) <"$WORK/data" >"$WORK/cli.log" 2>&1
	for _ in $(seq 100); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.1; done
	got=$(sha256sum "$WORK/got" 2>/dev/null | cut -d' ' -f1)
	if [ "$got" = "$want" ]; then ok "ncat client -> server 64 MiB, sha256 match"; else bad "ncat client -> server: sha256 '$got'"; fi
	stop_server

	rm -f "$WORK/got" "$WORK/cli.log"
	start_server socket sh -c "exec ncat -l $SRV_IP 5002 --send-only < $WORK/data"
	sleep 1
	(run_ftcp client timeout 60 ncat --recv-only "$SRV_IP" 5002) >"$WORK/got" 2>"$WORK/cli.log"
	got=$(sha256sum "$WORK/got" 2>/dev/null | cut -d' ' -f1)
	if [ "$got" = "$want" ]; then ok "ncat server -> client 64 MiB, sha256 match"; else bad "ncat server -> client: sha256 '$got'"; fi
	stop_server
}

# FTCP_TRUSTED_LINK=1 on both ends: no checksums either way, and the data
# still arrives whole. A trusted sender's frames carry no valid checksums:
# an untrusting receiver drops them (and says why in its counters).
test_trusted() {
	local want got drops
	want=$(sha256sum "$WORK/data" | cut -d' ' -f1)
	rm -f "$WORK/got" "$WORK/cli.log"
	export FTCP_TRUSTED_LINK=1
	FTCP_LOG=2 start_server socket sh -c "exec ncat -l $SRV_IP 5003 --recv-only > $WORK/got"
	sleep 1
	(run_ftcp client timeout 60 ncat --send-only "$SRV_IP" 5003) <"$WORK/data" >"$WORK/cli.log" 2>&1
	for _ in $(seq 100); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.1; done
	got=$(sha256sum "$WORK/got" 2>/dev/null | cut -d' ' -f1)
	if [ "$got" = "$want" ] && grep -q "trusted link: no checksums" "$WORK/srv.log"; then
		ok "FTCP_TRUSTED_LINK=1 both ends: 64 MiB, sha256 match"
	else
		bad "FTCP_TRUSTED_LINK=1 both ends: sha256 '$got', banner: $(grep -c 'trusted link: no checksums' "$WORK/srv.log")"
	fi
	stop_server

	unset FTCP_TRUSTED_LINK
	start_server socket sh -c "exec ncat -l $SRV_IP 5004 --recv-only > /dev/null"
	sleep 1
	(export FTCP_TRUSTED_LINK=1; run_ftcp client timeout 6 ncat -w 3 --send-only "$SRV_IP" 5004) </dev/null >"$WORK/cli.log" 2>&1
	drops=$("$top/build/tools/ftcp-stat" "$SRV_PID" all 2>/dev/null | awk '$1 == "drop_ip_cksum" { print $2 }')
	if [ "${drops:-0}" -gt 0 ] && ! grep -q "Connected" "$WORK/cli.log"; then
		ok "a trusted sender's frames are dropped by an untrusting receiver (drop_ip_cksum $drops)"
	else
		bad "trusted sender to untrusting receiver: drop_ip_cksum '${drops:-}', client: $(tail -1 "$WORK/cli.log")"
	fi
	stop_server
}

echo "preload stack_to_stack (net_memif, FTCP_CORE=$core): $LIB"
for prog in iperf3 ncat; do
	if command -v $prog >/dev/null; then "test_$prog"; else bad "$prog not installed (scripts/deps.sh)"; fi
done
command -v ncat >/dev/null && test_trusted
echo "preload stack_to_stack: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
