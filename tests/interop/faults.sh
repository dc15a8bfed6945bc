#!/usr/bin/env bash
# Bulk transfers between libftcp (ftcp-echo over net_af_xdp) and Linux TCP
# through faults, each direction verified by SHA-256 within a time bound:
#   - random drops on the kernel's end of the veth, both directions, with
#     nftables netdev ingress/egress hooks (numgen random mod 1000 < N);
#   - a tbf rate limit on the kernel's end;
#   - libftcp's own fault injector at the device boundary (reordering,
#     duplication, corruption, delay).
# Prints libftcp's recovery counters for each run, and
# "interop faults: N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${FTCP_ECHO:-$top/build/tools/ftcp-echo}
NS=ftcp-if-$$
STACK_IP=10.78.0.1
KERNEL_IP=10.78.0.2
WORK=$(mktemp -d /tmp/ftcp-faults.XXXXXX)
ECHO_PID=
passed=0
failed=0

cleanup() {
	[ -n "$ECHO_PID" ] && kill -TERM "$ECHO_PID" 2>/dev/null && wait "$ECHO_PID" 2>/dev/null
	ip netns pids "$NS" 2>/dev/null | xargs -r kill -9 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$WORK" "/var/run/dpdk/ftcpf$$"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
in_ns() { ip netns exec "$NS" "$@"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

ip netns add "$NS" || exit 1
in_ns ip link set lo up

# A fresh veth pair for every run: an AF_XDP socket of the previous
# ftcp-echo may still hold the old one.
new_link() {
	in_ns ip link del va 2>/dev/null
	in_ns ip link add va type veth peer name vb || return 1
	in_ns ip link set va up
	in_ns ip link set vb up
	in_ns ip addr add "$KERNEL_IP/24" dev vb
	in_ns ethtool -K vb tx off >/dev/null
}

start_echo() { # extra ftcp-echo arguments...
	ip netns exec "$NS" "$BIN" --eal "--no-huge --no-shconf -m 1024 --no-pci -l 0 --log-level=3 --file-prefix=ftcpf$$ --vdev=net_af_xdp0,iface=va" \
		--ip "$STACK_IP/24" --conns 16 "$@" >"$WORK/echo.log" 2>&1 &
	ECHO_PID=$!
	for _ in $(seq 100); do
		grep -q "^ftcp-echo: .* echo 7" "$WORK/echo.log" && return 0
		sleep 0.1
	done
	echo "faults: ftcp-echo did not start"; grep -v "^lib" "$WORK/echo.log" | tail -3
	return 1
}

stop_echo() {
	kill -TERM "$ECHO_PID" 2>/dev/null
	wait "$ECHO_PID" 2>/dev/null
	ECHO_PID=
}

# One fault setting: N MiB kernel->stack (discard) and stack->kernel
# (chargen), each within LIMIT seconds.
run() { # label, MiB, limit seconds, ftcp-echo extra args...
	local label=$1 mb=$2 limit=$3 bytes want got t0 s1 s2 ok=1; shift 3
	bytes=$((mb << 20))
	start_echo --chargen-bytes "$bytes" "$@" || { failed=$((failed + 1)); return; }
	head -c "$bytes" /dev/urandom >"$WORK/in.bin"
	want=$(sha256sum "$WORK/in.bin" | cut -d' ' -f1)
	t0=$(now)
	in_ns timeout "$limit" ncat --send-only "$STACK_IP" 9 <"$WORK/in.bin"
	for _ in $(seq 200); do grep -q "^discard: " "$WORK/echo.log" && break; sleep 0.05; done
	s1=$(elapsed "$t0")
	grep -q "^discard: .* $bytes bytes sha256 $want" "$WORK/echo.log" || ok=0
	want=$("$BIN" --pattern "$bytes" | sha256sum | cut -d' ' -f1)
	t0=$(now)
	got=$(in_ns timeout "$limit" ncat --recv-only "$STACK_IP" 19 | sha256sum | cut -d' ' -f1)
	s2=$(elapsed "$t0")
	[ "$got" = "$want" ] || ok=0
	stop_echo
	local c
	c=$(grep -E "^  tcp_(fast_retransmits|rto|sack_recoveries|tail_loss_probes|lost_retransmits|retrans_segs) " "$WORK/echo.log" |
		awk '{printf "%s %s, ", $1, $2}' | sed 's/tcp_//g; s/, $//')
	if [ $ok = 1 ]; then
		echo "  ok    $label: ${mb} MiB in ${s1} s, out ${s2} s; ${c:-no retransmissions}"
		passed=$((passed + 1))
	else
		echo "  FAIL  $label: ${mb} MiB in ${s1} s, out ${s2} s (limit ${limit} s) sha256 mismatch or timeout; $c"
		failed=$((failed + 1))
	fi
}

nft_drop() { # per mille, on a fresh link
	new_link || return 1
	in_ns nft flush ruleset
	in_ns nft -f - <<NFT || return 1
table netdev ftcp_faults {
	chain in { type filter hook ingress device "vb" priority 0; numgen random mod 1000 < $1 drop; }
	chain out { type filter hook egress device "vb" priority 0; numgen random mod 1000 < $1 drop; }
}
NFT
	in_ns nft list ruleset | grep -q "numgen random mod 1000 < $1 drop"
}

setup_failed() { echo "  FAIL  $1: set-up failed"; failed=$((failed + 1)); }

if nft_drop 10; then run "drop 1% each way (nftables)" 64 120; else setup_failed "drop 1%"; fi
if nft_drop 50; then run "drop 5% each way (nftables)" 8 120; else setup_failed "drop 5%"; fi
if nft_drop 100; then run "drop 10% each way (nftables)" 2 120; else setup_failed "drop 10%"; fi
in_ns nft flush ruleset
if new_link && in_ns tc qdisc add dev vb root tbf rate 100mbit burst 32kb latency 20ms; then
	run "tbf 100 Mbit/s on the kernel's end" 64 60
else
	setup_failed "tbf"
fi
if new_link; then
	run "libftcp injector: reorder 2%, dup 1%, corrupt 0.5%, delay 100 us" 64 90 \
		--faults reorder=0.02,dup=0.01,corrupt=0.005,delay_us=100,seed=7
else
	setup_failed "injector"
fi

echo "interop faults: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
