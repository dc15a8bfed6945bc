#!/usr/bin/env bash
# mixed_wait under LD_PRELOAD=libftcp.so: epoll, poll and select over an
# offloaded TCP connection mixed with kernel fds (see mixed_wait.c).
#
# A private network namespace holds a veth pair: libftcp drives one end
# through DPDK (net_af_xdp by default), the kernel owns the other with
# 10.78.0.2, where an echo peer (ncat -e /bin/cat) runs. The program runs
# in the namespace too, once connecting to the peer and once listening on
# the wildcard address (the peer connects to it), each with a poll thread
# and inline. Everything is removed on exit, also on failure or interruption.
#
# usage: tests/preload/mixed_wait.sh [af_xdp|af_packet]
# Environment: BUILD (build directory, default build/), FTCP_CORE (run only
# with this: a CPU number or "inline"; default both ways).
# Prints "preload mixed_wait: N passed, N failed"; exits non-zero on failure.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$top/build}
LIB=${FTCP_PRELOAD:-$BUILD/preload/libftcp.so}
# A sanitizer build of libftcp.so needs its runtime first in the list.
PRELOAD=$LIB
asan_rt=$(ldd "$LIB" 2>/dev/null | awk '/libasan/ { print $3 }')
[ -n "$asan_rt" ] && PRELOAD="$asan_rt:$LIB"
BIN=${MIXED_WAIT:-$BUILD/tests/preload/mixed_wait}
DEV=${1:-af_xdp}
NS=ftcp-mw-$$
STACK_IP=10.78.0.1
KERNEL_IP=10.78.0.2
WORK=$(mktemp -d /tmp/ftcp-mixed-wait.XXXXXX)
PREFIX=ftcpmw$$
PIDS=()
passed=0
failed=0

cleanup() {
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	ip netns pids "$NS" 2>/dev/null | xargs -r kill -9 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$WORK" /var/run/dpdk/"$PREFIX"-*
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_ns() { ip netns exec "$NS" "$@"; }

[ -f "$LIB" ] || { echo "preload mixed_wait: $LIB not built (needs libdpdk)"; exit 1; }
[ -x "$BIN" ] || { echo "preload mixed_wait: $BIN not built"; exit 1; }
command -v ncat >/dev/null || { echo "preload mixed_wait: ncat missing (scripts/deps.sh)"; exit 1; }

ip netns add "$NS" || exit 1
in_ns ip link set lo up
in_ns ip link add va type veth peer name vb || exit 1
in_ns ip link set va up
in_ns ip link set vb up
in_ns ip addr add "$KERNEL_IP/24" dev vb
# The kernel would hand over TCP segments with unfilled checksums.
in_ns ethtool -K vb tx off >/dev/null
case "$DEV" in
af_xdp) VDEV="--vdev=net_af_xdp0,iface=va" ;;
af_packet) VDEV="--vdev=net_af_packet0,iface=va" ;;
*)
	echo "preload mixed_wait: unknown device $DEV"
	exit 2
	;;
esac

if [ -n "${FTCP_CORE:-}" ]; then
	CORES=("$FTCP_CORE")
else
	CORES=("$(($(nproc) - 1))" inline)
fi

# Count the program's check lines; a run that ends without its summary
# (crash, hang) counts as one more failure.
tally() { # log name rc
	local p f
	p=$(grep -c '^  ok ' "$1")
	f=$(grep -c '^  FAIL' "$1")
	sed 's/^/  /' "$1" | grep -v "^  libbpf\|^  libxdp"
	if ! grep -q "^mixed_wait: [0-9]* passed" "$1"; then
		echo "    FAIL  $2: no summary (exit status $3)"
		f=$((f + 1))
	elif [ "$3" != 0 ] && [ "$f" = 0 ]; then
		echo "    FAIL  $2: exit status $3"
		f=$((f + 1))
	fi
	passed=$((passed + p))
	failed=$((failed + f))
}

run=0
for core in "${CORES[@]}"; do
	for mode in connect listen; do
		run=$((run + 1))
		port=$((7000 + run))
		name="$mode, FTCP_CORE=$core"
		log="$WORK/run$run.log"
		EAL="--no-huge --no-shconf -m 1024 --no-pci -l 0 --log-level=3 --file-prefix=$PREFIX-$run $VDEV"
		ENVS=(LD_PRELOAD="$PRELOAD" LSAN_OPTIONS="suppressions=$top/tests/preload/lsan.supp" UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 FTCP_EAL="$EAL" FTCP_IP="$STACK_IP/24" FTCP_CORE="$core")
		echo "preload mixed_wait: run $run: $name ($DEV)"
		if [ "$mode" = connect ]; then
			ip netns exec "$NS" timeout 60 ncat -l -k "$KERNEL_IP" "$port" -e /bin/cat \
				>"$WORK/peer$run.log" 2>&1 &
			peer=$!
			PIDS+=("$peer")
			# In the background, so a signal to this script is not held
			# up until the program ends.
			ip netns exec "$NS" timeout 120 env "${ENVS[@]}" "$BIN" connect "$KERNEL_IP" "$port" \
				"$STACK_IP" >"$log" 2>&1 &
			prog=$!
			PIDS+=("$prog")
			wait "$prog"
			rc=$?
		else
			ip netns exec "$NS" timeout 120 env "${ENVS[@]}" "$BIN" listen "$port" "$STACK_IP" \
				>"$log" 2>&1 &
			prog=$!
			PIDS+=("$prog")
			for _ in $(seq 200); do
				grep -q "^mixed_wait: listening" "$log" && break
				kill -0 "$prog" 2>/dev/null || break
				sleep 0.1
			done
			ip netns exec "$NS" timeout 60 ncat "$STACK_IP" "$port" -e /bin/cat \
				>"$WORK/peer$run.log" 2>&1 &
			peer=$!
			PIDS+=("$peer")
			wait "$prog"
			rc=$?
		fi
		kill "$peer" 2>/dev/null
		wait "$peer" 2>/dev/null
		tally "$log" "$name" "$rc"
	done
done

echo "preload mixed_wait: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
