#!/usr/bin/env bash
# Two libftcp stacks in two processes over net_memif (shared memory): a
# client ftcp-echo sends N MiB to the server's discard port and reads N MiB
# from its chargen port at the same time; both sides' SHA-256 must match
# the pattern. memif needs DPDK's multi-process channel, so each process
# gets a unique --file-prefix instead of --no-shconf.
# Prints "interop memif: N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${FTCP_ECHO:-$top/build/tools/ftcp-echo}
MB=${BULK_MB:-64}
SOCK=/tmp/ftcp-memif-$$.sock
LOG=$(mktemp /tmp/ftcp-memif.XXXXXX)
SRV=
passed=0
failed=0

cleanup() {
	[ -n "$SRV" ] && kill -TERM "$SRV" 2>/dev/null && wait "$SRV" 2>/dev/null
	rm -f "$SOCK" "$LOG"
	rm -rf /var/run/dpdk/ftcpms$$ /var/run/dpdk/ftcpmc$$
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bytes=$((MB << 20))
want=$("$BIN" --pattern "$bytes" | sha256sum | cut -d' ' -f1)
"$BIN" --eal "--no-huge -m 1024 --no-pci -l 0 --log-level=3 --file-prefix=ftcpms$$ --vdev=net_memif0,role=server,socket=$SOCK" \
	--ip 10.80.0.1/24 --chargen-bytes "$bytes" --link-wait-ms 20000 --seconds 120 >"$LOG" 2>&1 &
SRV=$!
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
out=$(timeout 120 "$BIN" --eal "--no-huge -m 1024 --no-pci -l 1 --log-level=3 --file-prefix=ftcpmc$$ --vdev=net_memif0,role=client,socket=$SOCK" \
	--ip 10.80.0.2/24 --connect 10.80.0.1 --client-bytes "$bytes" --seconds 100 2>&1)
rc=$?
for _ in $(seq 50); do grep -q "^chargen: " "$LOG" && grep -q "^discard: " "$LOG" && break; sleep 0.1; done
sent=$(echo "$out" | grep "^client sent")
recv=$(echo "$out" | grep "^client received")
if [ $rc -eq 0 ] && echo "$sent" | grep -q "$bytes bytes sha256 $want" &&
	grep -q "^discard: .* $bytes bytes sha256 $want" "$LOG"; then
	echo "  ok    client -> server ${MB} MiB over memif, sha256 match ($(echo "$sent" | grep -o '[0-9]* MB/s'))"
	passed=$((passed + 1))
else
	echo "  FAIL  client -> server: rc $rc; $sent; $(grep '^discard' "$LOG")"
	failed=$((failed + 1))
fi
if echo "$recv" | grep -q "$bytes bytes sha256 $want" && grep -q "^chargen: .* $bytes bytes" "$LOG"; then
	echo "  ok    server -> client ${MB} MiB over memif, sha256 match ($(echo "$recv" | grep -o '[0-9]* MB/s'))"
	passed=$((passed + 1))
else
	echo "  FAIL  server -> client: $recv"
	failed=$((failed + 1))
fi
echo "interop memif: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
