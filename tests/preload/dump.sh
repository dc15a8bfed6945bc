#!/usr/bin/env bash
# Preload dump test: a Python TCP server runs under ftcp-run (libftcp.so on
# net_af_xdp), a kernel client in the same private namespace connects and
# stays connected, and ftcp-stat must show the LISTEN socket, the
# ESTABLISHED connection with the kernel peer's address and port, TCP
# details, and the port's received packets.
#
# usage: tests/preload/dump.sh       (as root; FTCP_BUILD=build dir, default build;
#                                    POLL=thread|inline)
# Prints "preload dump: N passed, N failed" and exits non-zero on failure.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${FTCP_BUILD:-$top/build}
RUN=$BUILD/tools/ftcp-run
STAT=$BUILD/tools/ftcp-stat
PY=$(command -v /usr/bin/python3 || command -v python3)
NS=ftcp-dump-$$
PREFIX=ftcpdump$$
STACK_IP=10.78.0.1
KERNEL_IP=10.78.0.2
PORT=5001
WORK=$(mktemp -d /tmp/ftcp-dump.XXXXXX)
DUMP_DIR=$WORK/run
SRV_PID=
CLI_PID=
passed=0
failed=0

cleanup() {
	[ -n "$CLI_PID" ] && kill "$CLI_PID" 2>/dev/null
	[ -n "$SRV_PID" ] && kill -KILL "$SRV_PID" 2>/dev/null
	ip netns pids "$NS" 2>/dev/null | xargs -r kill -9 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$WORK" "/var/run/dpdk/$PREFIX"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_ns() { ip netns exec "$NS" "$@"; }
ok() { echo "  ok    $1"; passed=$((passed + 1)); }
bad() { echo "  FAIL  $1"; failed=$((failed + 1)); }
# Poll for a condition, at most $1 tenths of a second.
wait_for() {
	local n=$1
	shift
	for _ in $(seq "$n"); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

for f in "$RUN" "$STAT" "$BUILD/preload/libftcp.so"; do
	[ -x "$f" ] || { echo "preload dump: $f not built (needs libdpdk)"; exit 1; }
done
command -v ncat >/dev/null || { echo "preload dump: ncat missing (scripts/deps.sh)"; exit 1; }
[ -n "$PY" ] || { echo "preload dump: python3 missing"; exit 1; }

ip netns add "$NS" || exit 1
in_ns ip link set lo up
in_ns ip link add va type veth peer name vb || exit 1
in_ns ip link set va up
in_ns ip link set vb up
in_ns ip addr add "$KERNEL_IP/24" dev vb
# The kernel would hand over TCP segments with unfilled checksums.
in_ns ethtool -K vb tx off >/dev/null

EAL="--no-huge --no-shconf -m 512 --no-pci -l 0 --log-level=3 --file-prefix=$PREFIX --vdev=net_af_xdp0,iface=va"
# POLL=thread|inline (default: a poll thread on the last CPU if there are two).
CORE=inline
[ "$(nproc)" -ge 2 ] && [ "${POLL:-thread}" = thread ] && CORE=$(($(nproc) - 1))

# Accepts one connection, answers "hi", reads until EOF; SIGTERM ends it
# through a normal exit (atexit handlers run). Bounded by an alarm.
cat >"$WORK/server.py" <<EOF
import os, signal, socket, sys
signal.alarm(60)
mode = sys.argv[1] if len(sys.argv) > 1 else ""
if mode != "default-sigterm":
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("0.0.0.0", $((PORT + 1))))
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", $PORT))
s.listen(4)
print("listening", flush=True)
c, a = s.accept()
print("accepted %s:%d" % a, flush=True)
c.sendall(b"hi\n")
if mode == "exec":
    sys.stdout.flush()
    os.execv("/bin/sh", ["sh", "-c", "echo exec-ok; sleep 2"])
while c.recv(4096):
    pass
print("eof", flush=True)
EOF

: >"$WORK/server.log"
: >"$WORK/client.out"
# Not through in_ns: \$! must be the server's own pid (ip netns exec and
# ftcp-run both exec).
ip netns exec "$NS" "$RUN" --eal "$EAL" --ip "$STACK_IP/24" --core "$CORE" --dump-dir "$DUMP_DIR" \
	-- "$PY" "$WORK/server.py" >"$WORK/server.log" 2>&1 &
SRV_PID=$!
if ! wait_for 150 grep -q "^listening" "$WORK/server.log"; then
	echo "preload dump: the server did not start:"
	grep -v "^libbpf\|^libxdp" "$WORK/server.log" | tail -5
	exit 1
fi
echo "preload dump: server pid $SRV_PID, poll core $CORE"

# 1. The state socket: there, owner-only.
SOCK=$DUMP_DIR/$SRV_PID.sock
if [ -S "$SOCK" ] && [ "$(stat -c %a "$SOCK")" = 600 ]; then
	ok "state socket $SOCK (mode 600)"
else
	bad "state socket: $(find "$DUMP_DIR" -printf '%p %m, ' 2>&1)"
fi

# The kernel client: sends "hello", then holds the connection open while
# this script keeps the fifo open (fd 3; read-write so the open cannot block).
mkfifo "$WORK/client.in"
exec 3<>"$WORK/client.in"
in_ns timeout 60 ncat "$STACK_IP" "$PORT" <"$WORK/client.in" >"$WORK/client.out" 2>&1 &
CLI_PID=$!
echo hello >&3
if wait_for 100 grep -q "^hi" "$WORK/client.out" && wait_for 50 grep -q "^accepted" "$WORK/server.log"; then
	ok "kernel client connected: $(grep '^accepted' "$WORK/server.log")"
else
	bad "kernel client: got '$(cat "$WORK/client.out")', server: $(tr '\n' ' ' <"$WORK/server.log")"
fi
# The kernel's side of the connection, as the stack should see its peer.
KPEER=$(in_ns ss -Htn state established "dst $STACK_IP:$PORT" | awk '{ print $3 }' | head -1)

# 2. The full report.
# "received 6": the ACK of "hello\n" may trail the echo by a pass.
wait_for 30 sh -c "timeout 10 '$STAT' -d '$DUMP_DIR' $SRV_PID sockets | grep -q 'received 6'"
timeout 10 "$STAT" -d "$DUMP_DIR" "$SRV_PID" >"$WORK/all" 2>&1
rc=$?
sed 's/^/    | /' "$WORK/all"
if [ $rc = 0 ] && grep -q "^libftcp pid $SRV_PID (python3" "$WORK/all" &&
	grep -q "driver .*af_xdp" "$WORK/all"; then
	ok "header: pid, program, driver"
else
	bad "header (rc $rc)"
fi
est=$(grep " tcp *ESTABLISHED " "$WORK/all")
if [ -n "$KPEER" ] && echo "$est" | grep -q " $STACK_IP:$PORT *$KPEER "; then
	ok "ESTABLISHED $STACK_IP:$PORT <-> kernel peer $KPEER"
else
	bad "ESTABLISHED line for kernel peer '$KPEER': '$est'"
fi
if echo "$est" | grep -Eq "^  [0-9]+ .* cwnd [1-9][0-9]* .* rtt [0-9]+/[0-9]+us .* mss [1-9][0-9]* .*acked 3 received 6"; then
	ok "TCP details: fd, cwnd, rtt, mss, 3 bytes acked, 6 received"
else
	bad "TCP details: '$est'"
fi
if grep -Eq "^  [0-9]+ +tcp +LISTEN +0\.0\.0\.0:$PORT " "$WORK/all"; then
	ok "LISTEN 0.0.0.0:$PORT"
else
	bad "no LISTEN line for port $PORT"
fi
if grep -Eq "^  [0-9]+ +udp +- +0\.0\.0\.0:$((PORT + 1)) +\*:\* +recvq 0" "$WORK/all"; then
	ok "UDP 0.0.0.0:$((PORT + 1))"
else
	bad "no UDP line for port $((PORT + 1))"
fi
rxp=$(sed -n 's/^  rx packets \([0-9]*\),.*/\1/p' "$WORK/all")
if [ "${rxp:-0}" -gt 0 ]; then ok "port rx packets $rxp"; else bad "port rx packets '${rxp}'"; fi
if grep -Eq "^  tcp_passive_opens +1$" "$WORK/all"; then
	ok "stack counter tcp_passive_opens 1"
else
	bad "stack counters: no tcp_passive_opens 1"
fi

# 3. The parts alone.
timeout 10 "$STAT" -d "$DUMP_DIR" "$SRV_PID" sockets >"$WORK/sockets" 2>&1
timeout 10 "$STAT" -d "$DUMP_DIR" "$SRV_PID" counters >"$WORK/counters" 2>&1
if grep -q ESTABLISHED "$WORK/sockets" && ! grep -q "^port" "$WORK/sockets" &&
	grep -q "^port" "$WORK/counters" && ! grep -q ESTABLISHED "$WORK/counters"; then
	ok "sockets and counters alone"
else
	bad "sockets/counters commands"
fi

# 4. Without a pid: every live program; a stale socket (its pid gone) is removed.
stale=4194000
while kill -0 "$stale" 2>/dev/null; do stale=$((stale + 1)); done
"$PY" -c "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])" "$DUMP_DIR/$stale.sock"
timeout 10 "$STAT" -d "$DUMP_DIR" >"$WORK/list" 2>&1
if grep -q "^libftcp pid $SRV_PID " "$WORK/list" && grep -q "removed .*$stale.sock" "$WORK/list" &&
	[ ! -e "$DUMP_DIR/$stale.sock" ]; then
	ok "no pid: lists the live program, removes the stale socket"
else
	bad "no pid: $(tr '\n' ' ' <"$WORK/list" | cut -c1-300)"
fi

# 5. --watch repeats until interrupted.
FTCP_DUMP_DIR=$DUMP_DIR timeout --preserve-status -s INT 2.5 "$STAT" --watch 1 "$SRV_PID" sockets >"$WORK/watch" 2>&1
rc=$?
n=$(grep -c "^==== " "$WORK/watch")
if [ "$rc" = 0 ] && [ "$n" -ge 2 ]; then ok "--watch 1: $n reports, Ctrl-C ends it"; else bad "--watch: rc $rc, $n reports"; fi

# 6. A clean exit removes the socket. SIGTERM while the client is still
# connected: the program's handler exits through exit(). (Were the client
# gone first, the server would be exiting on its own and the signal could
# find its handler already reset: a default-action death, which leaves
# the socket for ftcp-stat to clean up.)
kill -TERM "$SRV_PID" 2>/dev/null
if wait_for 100 sh -c "! kill -0 $SRV_PID 2>/dev/null" && [ ! -e "$SOCK" ]; then
	ok "exit removes the state socket"
else
	alive=gone
	kill -0 "$SRV_PID" 2>/dev/null && alive=running
	bad "after SIGTERM: server $alive, $DUMP_DIR: $(find "$DUMP_DIR" -name '*.sock' -printf '%f ')server log: $(grep -v "^libbpf\|^libxdp" "$WORK/server.log" | tail -3 | tr '\n' ' ')"
fi
gone_pid=$SRV_PID
kill -KILL "$SRV_PID" 2>/dev/null
wait "$SRV_PID" 2>/dev/null
SRV_PID=
exec 3>&-
kill "$CLI_PID" 2>/dev/null
wait "$CLI_PID" 2>/dev/null
CLI_PID=
if ! timeout 10 "$STAT" -d "$DUMP_DIR" "$gone_pid" >"$WORK/gone" 2>&1; then
	ok "ftcp-stat fails for a program that is gone: $(head -1 "$WORK/gone" | cut -c1-60)..."
else
	bad "ftcp-stat succeeded for a gone pid"
fi

# 7. No state socket possible (a dump dir that cannot be made): a warning
# naming FTCP_DUMP_DIR, and the program runs on.
: >"$WORK/server2.log"
ip netns exec "$NS" "$RUN" --eal "$EAL" --ip "$STACK_IP/24" --core "$CORE" --dump-dir /proc/ftcp-no/dir \
	-- "$PY" "$WORK/server.py" >"$WORK/server2.log" 2>&1 &
SRV_PID=$!
if wait_for 150 grep -q "^listening" "$WORK/server2.log" && grep -q "FTCP_DUMP_DIR" "$WORK/server2.log"; then
	ok "unusable dump dir: $(grep -o 'no state socket.*' "$WORK/server2.log" | cut -c1-70)..., still serving"
else
	bad "unusable dump dir: $(grep -v "^libbpf\|^libxdp" "$WORK/server2.log" | tail -3 | tr '\n' ' ')"
fi
kill -KILL "$SRV_PID" 2>/dev/null
wait "$SRV_PID" 2>/dev/null
SRV_PID=

# 8. SIGTERM at its default action, a kernel client connected: the program
# dies of the signal (not hangs), and the client hears a reset.
: >"$WORK/server3.log"
: >"$WORK/client.out"
ip netns exec "$NS" "$RUN" --eal "$EAL" --ip "$STACK_IP/24" --core "$CORE" --dump-dir "$DUMP_DIR" \
	-- "$PY" "$WORK/server.py" default-sigterm >"$WORK/server3.log" 2>&1 &
SRV_PID=$!
if wait_for 150 grep -q "^listening" "$WORK/server3.log"; then
	in_ns timeout 60 ncat "$STACK_IP" "$PORT" </dev/zero >"$WORK/client.out" 2>&1 &
	CLI_PID=$!
	if wait_for 100 grep -q "^hi" "$WORK/client.out"; then
		kill -TERM "$SRV_PID"
		t0=$(date +%s%N)
		wait_for 50 sh -c "! kill -0 $SRV_PID 2>/dev/null"
		wait "$SRV_PID" 2>/dev/null
		st=$?
		dt=$((($(date +%s%N) - t0) / 1000000))
		wait_for 50 sh -c "! kill -0 $CLI_PID 2>/dev/null"
		if [ "$st" = 143 ] && ! kill -0 "$CLI_PID" 2>/dev/null; then
			ok "default SIGTERM: died of the signal in $dt ms, the client saw: $(tail -1 "$WORK/client.out" | cut -c1-50)"
		else
			bad "default SIGTERM: exit status $st after $dt ms, client $(kill -0 "$CLI_PID" 2>/dev/null && echo still connected || echo gone)"
		fi
	else
		bad "default SIGTERM: the client did not connect"
	fi
else
	bad "default SIGTERM: the server did not start"
fi
kill -KILL "$SRV_PID" "$CLI_PID" 2>/dev/null
wait "$SRV_PID" "$CLI_PID" 2>/dev/null
SRV_PID=
CLI_PID=

# 9. exec from the process that runs the stack: its connection closes in
# order (the client reads "hi" then end of stream, no reset), the new image
# runs, and the state socket is gone.
: >"$WORK/server4.log"
: >"$WORK/client.out"
ip netns exec "$NS" "$RUN" --eal "$EAL" --ip "$STACK_IP/24" --core "$CORE" --dump-dir "$DUMP_DIR" \
	-- "$PY" "$WORK/server.py" exec >"$WORK/server4.log" 2>&1 &
SRV_PID=$!
if wait_for 150 grep -q "^listening" "$WORK/server4.log"; then
	in_ns timeout 20 ncat --recv-only "$STACK_IP" "$PORT" >"$WORK/client.out" 2>&1 &
	CLI_PID=$!
	wait_for 100 sh -c "! kill -0 $CLI_PID 2>/dev/null"
	wait "$CLI_PID" 2>/dev/null
	crc=$?
	if [ "$crc" = 0 ] && [ "$(cat "$WORK/client.out")" = hi ] && wait_for 30 grep -q "^exec-ok" "$WORK/server4.log" &&
		[ ! -e "$DUMP_DIR/$SRV_PID.sock" ]; then
		ok "exec: the client got its data and an orderly close, the new image runs, no state socket left"
	else
		bad "exec: client exit $crc, got '$(tr '\n' ' ' <"$WORK/client.out")'; server: $(grep -v "^libbpf\|^libxdp" "$WORK/server4.log" | tail -3 | tr '\n' ' ')"
	fi
else
	bad "exec: the server did not start"
fi
wait_for 40 sh -c "! kill -0 $SRV_PID 2>/dev/null" # the new image ends by itself
kill -KILL "$SRV_PID" "$CLI_PID" 2>/dev/null
wait "$SRV_PID" "$CLI_PID" 2>/dev/null
SRV_PID=
CLI_PID=

echo "preload dump: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
