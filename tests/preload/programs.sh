#!/usr/bin/env bash
# Real, unmodified programs under libftcp.so against kernel peers.
#
# A network namespace with a veth pair: the program runs under LD_PRELOAD
# on one end through DPDK (net_af_xdp by default, net_tap with DEV=tap),
# the kernel's programs use the other end, with private addresses that
# exist only inside the namespace. Every step is bounded in time;
# everything is removed on exit, also on failure or interruption.
#
# usage: tests/preload/programs.sh [all|iperf3|redis|nginx|memcached|sockperf|reuseport]...
# Environment: DEV=af_xdp|tap, FTCP_CORE (default: the poll thread on the
# last CPU), LIB (libftcp.so to test).
# Prints "preload programs <dev>: N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
LIB=${LIB:-$top/build/preload/libftcp.so}
DEV=${DEV:-af_xdp}
NS=ftcp-pp-$$
STACK_IP=10.81.0.1
KERNEL_IP=10.81.0.2
PREFIX=ftcppp$$
WORK=$(mktemp -d /tmp/ftcp-programs.XXXXXX)
SRV_PID=
passed=0
failed=0

cleanup() {
	stop_server
	ip netns pids "$NS" 2>/dev/null | xargs -r kill -9 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	ip link del "ftcppt$$" 2>/dev/null
	rm -rf "$WORK" "/var/run/dpdk/$PREFIX"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_ns() { ip netns exec "$NS" "$@"; }
ok() { echo "  ok    $1"; passed=$((passed + 1)); }
bad() { echo "  FAIL  $1"; failed=$((failed + 1)); [ -f "$WORK/srv.log" ] && grep -v "^libbpf\|^libxdp" "$WORK/srv.log" | tail -5 | sed 's/^/        /'; }

[ -f "$LIB" ] || { echo "preload programs: $LIB not built (needs libdpdk)"; exit 1; }

ip netns add "$NS" || exit 1
in_ns ip link set lo up
case "$DEV" in
af_xdp)
	in_ns ip link add va type veth peer name vb || exit 1
	in_ns ip link set va up
	in_ns ip link set vb up
	in_ns ip addr add "$KERNEL_IP/24" dev vb
	in_ns ethtool -K vb tx off >/dev/null
	VDEV="--vdev=net_af_xdp0,iface=va"
	;;
tap)
	VDEV="--vdev=net_tap0,iface=ftcppt$$"
	;;
*) echo "preload programs: unknown DEV $DEV"; exit 2 ;;
esac
export FTCP_EAL="--no-huge --no-shconf -m 512 --no-pci -l 0 --log-level=3 --file-prefix=$PREFIX $VDEV"
export FTCP_IP="$STACK_IP/24" FTCP_LOG=${FTCP_LOG:-1}

# Start "$@" under libftcp in the namespace; wait until it listens on tcp
# port $PORT (checked by connecting from the kernel side).
start_server() {
	local port=$1
	shift
	rm -rf "/var/run/dpdk/$PREFIX"
	ip netns exec "$NS" env LD_PRELOAD="$LIB" "$@" >"$WORK/srv.log" 2>&1 &
	SRV_PID=$!
	if [ "$DEV" = tap ]; then
		for _ in $(seq 100); do in_ns ip link show "ftcppt$$" >/dev/null 2>&1 && break; sleep 0.1; done
		in_ns ip link set "ftcppt$$" up 2>/dev/null
		in_ns ip addr add "$KERNEL_IP/24" dev "ftcppt$$" 2>/dev/null
		in_ns ethtool -K "ftcppt$$" tx off >/dev/null 2>&1
	fi
	for _ in $(seq 100); do
		kill -0 "$SRV_PID" 2>/dev/null || return 1
		[ "$port" = 0 ] && { sleep 1; return 0; }
		# A one-shot server (iperf3 -s -1) must not see a probe connection.
		if [ "${port#log:}" != "$port" ]; then
			grep -q "${port#log:}" "$WORK/srv.log" 2>/dev/null && return 0
			sleep 0.1
			continue
		fi
		in_ns timeout 1 ncat -z "$STACK_IP" "$port" 2>/dev/null && return 0
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
	rm -rf "/var/run/dpdk/$PREFIX"
}

# iperf3's summary "sender"/"receiver" line: bitrate and retransmits.
iperf_sum() { grep -E "$1\$" "$2" | tail -1 | sed 's/  */ /g'; }

test_iperf3() {
	local args
	for args in "" "-P 4" "-R" "-u -b 1G -l 1400"; do
		if ! start_server "log:Server listening" iperf3 -s -1 --forceflush; then bad "iperf3 -s did not start"; stop_server; continue; fi
		if in_ns timeout 30 iperf3 -c "$STACK_IP" -t 3 $args >"$WORK/cli.log" 2>&1; then
			ok "iperf3 server, kernel client ${args:-(1 stream)}: $(iperf_sum receiver "$WORK/cli.log")"
		else
			bad "iperf3 ${args:-(1 stream)}: $(tail -2 "$WORK/cli.log" | tr '\n' ' ')"
		fi
		stop_server
	done
	# The client under libftcp, the server in the kernel (on the veth: the
	# tap interface only exists while a stack runs).
	[ "$DEV" = tap ] && return
	in_ns iperf3 -s -1 -B "$KERNEL_IP" >"$WORK/ksrv.log" 2>&1 &
	local kp=$!
	sleep 0.5
	rm -rf "/var/run/dpdk/$PREFIX"
	if in_ns timeout 30 env LD_PRELOAD="$LIB" iperf3 -c "$KERNEL_IP" -t 3 >"$WORK/cli.log" 2>&1; then
		ok "iperf3 client under libftcp, kernel server: $(iperf_sum sender "$WORK/cli.log")"
	else
		bad "iperf3 client: $(tail -3 "$WORK/cli.log" | tr '\n' ' ')"
	fi
	kill "$kp" 2>/dev/null
	wait "$kp" 2>/dev/null
}

test_redis() {
	if ! start_server 6379 redis-server --port 6379 --bind 0.0.0.0 --protected-mode no --save "" --appendonly no; then
		bad "redis-server did not start"
		stop_server
		return
	fi
	if [ "$(in_ns timeout 5 redis-cli -h "$STACK_IP" set ftcpkey hello)" = OK ] &&
		[ "$(in_ns timeout 5 redis-cli -h "$STACK_IP" get ftcpkey)" = hello ]; then
		ok "redis-cli set/get"
	else
		bad "redis-cli set/get"
	fi
	if in_ns timeout 120 redis-benchmark -h "$STACK_IP" -q -n 100000 -c 50 -t set,get >"$WORK/rb.log" 2>&1 &&
		tr '\r' '\n' <"$WORK/rb.log" | grep -qE "^GET: [0-9.]+ requests per second"; then
		ok "redis-benchmark -n 100000 -c 50: $(tr '\r' '\n' <"$WORK/rb.log" | grep -E '^(SET|GET): [0-9.]+ requests per second' | tr -s ' ' | tr '\n' ' ')"
	else
		bad "redis-benchmark: $(tail -2 "$WORK/rb.log" | tr '\n' ' ')"
	fi
	stop_server
}

test_nginx() {
	mkdir -p "$WORK/www" "$WORK/nginx"
	head -c $((256 << 20)) /dev/urandom >"$WORK/www/big.bin"
	echo "hello from nginx" >"$WORK/www/small.html"
	cat >"$WORK/nginx/nginx.conf" <<-CONF
	daemon off;
	master_process off;
	worker_processes 1;
	error_log $WORK/nginx/error.log warn;
	pid $WORK/nginx/nginx.pid;
	events { worker_connections 512; }
	http {
		access_log off;
		sendfile on;
		client_body_temp_path $WORK/nginx;
		proxy_temp_path $WORK/nginx;
		fastcgi_temp_path $WORK/nginx;
		uwsgi_temp_path $WORK/nginx;
		scgi_temp_path $WORK/nginx;
		server { listen 8080; root $WORK/www; }
	}
	CONF
	if ! start_server 8080 nginx -c "$WORK/nginx/nginx.conf"; then
		bad "nginx did not start"
		stop_server
		return
	fi
	local want got
	want=$(sha256sum "$WORK/www/big.bin" | cut -d' ' -f1)
	got=$(in_ns timeout 120 curl -s "http://$STACK_IP:8080/big.bin" | sha256sum | cut -d' ' -f1)
	if [ "$got" = "$want" ]; then ok "curl 256 MiB from nginx, sha256 match"; else bad "curl 256 MiB: sha256 $got"; fi
	if in_ns timeout 30 wrk -t 1 -c 20 -d 3 "http://$STACK_IP:8080/small.html" >"$WORK/wrk.log" 2>&1 &&
		grep -q "Requests/sec" "$WORK/wrk.log" && ! grep -q "Non-2xx\|Socket errors" "$WORK/wrk.log"; then
		ok "wrk 3 s against nginx: $(grep Requests/sec "$WORK/wrk.log" | tr -s ' ')"
	else
		bad "wrk: $(grep -E 'Requests/sec|errors|Non-2xx' "$WORK/wrk.log" | tr '\n' ' ')"
	fi
	stop_server
}

test_memcached() {
	if ! start_server 11211 memcached -u root -t 4 -p 11211 -U 0 -l 0.0.0.0; then
		bad "memcached did not start"
		stop_server
		return
	fi
	local r
	r=$(printf 'set k 0 0 5\r\nhello\r\nget k\r\nquit\r\n' | in_ns timeout 5 ncat "$STACK_IP" 11211 | tr -d '\r' | tr '\n' ' ')
	if [ "$r" = "STORED VALUE k 0 5 hello END " ]; then ok "memcached set/get"; else bad "memcached set/get: '$r'"; fi
	if in_ns timeout 60 memcslap --servers="$STACK_IP:11211" --concurrency=16 --execute-number=2000 >"$WORK/ms.log" 2>&1; then
		ok "memcslap 16 clients x 2000 (4 server threads): $(grep -iE 'run time|took|seconds' "$WORK/ms.log" | tr -s ' ' | head -1)"
	else
		bad "memcslap: $(tail -3 "$WORK/ms.log" | tr '\n' ' ')"
	fi
	stop_server
}

test_sockperf() {
	if ! start_server 11111 sockperf server --tcp -i 0.0.0.0 -p 11111; then
		bad "sockperf server --tcp did not start"
	elif in_ns timeout 30 sockperf ping-pong --tcp -i "$STACK_IP" -p 11111 -t 2 >"$WORK/sp.log" 2>&1 &&
		grep -q "percentile 50.000" "$WORK/sp.log"; then
		ok "sockperf TCP ping-pong: p50 $(grep 'percentile 50.000' "$WORK/sp.log" | awk '{print $NF}') us"
	else
		bad "sockperf TCP: $(tail -2 "$WORK/sp.log" | tr '\n' ' ')"
	fi
	stop_server
	if ! start_server 0 sockperf server -i 0.0.0.0 -p 11112; then
		bad "sockperf server (UDP) did not start"
	elif in_ns timeout 30 sockperf ping-pong -i "$STACK_IP" -p 11112 -t 2 >"$WORK/sp.log" 2>&1 &&
		grep -q "percentile 50.000" "$WORK/sp.log"; then
		ok "sockperf UDP ping-pong: p50 $(grep 'percentile 50.000' "$WORK/sp.log" | awk '{print $NF}') us"
	else
		bad "sockperf UDP: $(tail -2 "$WORK/sp.log" | tr '\n' ' ')"
	fi
	stop_server
}

# SO_REUSEPORT: two threads, each with its own listener on one port; the
# kernel's 40 connections are spread over both, and a third listener
# without the option is refused.
test_reuseport() {
	cat >"$WORK/reuseport.py" <<-'PYEOF'
	import socket, sys, threading
	port = int(sys.argv[1])
	def listener(reuse):
	    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
	    if reuse:
	        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
	    s.bind(("0.0.0.0", port))
	    s.listen(64)
	    return s
	ls = [listener(True), listener(True)]
	try:
	    listener(False)
	    print("third listener bound", flush=True)
	except OSError as e:
	    print("third listener refused: %s" % e.strerror, flush=True)
	counts = [0, 0]
	def serve(k):
	    ls[k].settimeout(8)
	    try:
	        while sum(counts) < 40:
	            c, _ = ls[k].accept()
	            counts[k] += 1
	            c.sendall(b"%d\n" % k)
	            c.close()
	    except OSError:
	        pass
	ts = [threading.Thread(target=serve, args=(k,)) for k in (0, 1)]
	for t in ts: t.start()
	print("listening", flush=True)
	for t in ts: t.join()
	print("counts %d %d" % tuple(counts), flush=True)
	if len(sys.argv) > 2:
	    import time
	    time.sleep(float(sys.argv[2]))
	PYEOF
	if ! start_server log:listening python3 "$WORK/reuseport.py" 7070; then
		bad "reuseport server did not start"
		stop_server
		return
	fi
	local i
	for i in $(seq 40); do in_ns timeout 2 ncat --recv-only "$STACK_IP" 7070 >/dev/null 2>&1; done
	for _ in $(seq 100); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.1; done
	local counts
	counts=$(grep -o "^counts.*" "$WORK/srv.log")
	set -- $counts
	if grep -q "third listener refused: Address already in use" "$WORK/srv.log" &&
		[ "${2:-0}" -gt 0 ] && [ "${3:-0}" -gt 0 ] && [ $((${2:-0} + ${3:-0})) = 40 ]; then
		ok "SO_REUSEPORT: 40 connections over two listener threads ($2 + $3), a third listener refused"
	else
		bad "SO_REUSEPORT: $(grep -E '^(third|counts)' "$WORK/srv.log" | tr '\n' ' ')"
	fi
	stop_server
}

# Accepted sockets share one kernel socket under their fds (dups of a
# template): options the stack handles leave it shared, anything that
# would reach the kernel gives that fd a kernel socket of its own first,
# so no connection sees another's settings.
test_placeholder() {
	cat >"$WORK/placeholder.py" <<-'PYEOF'
	import fcntl, os, socket, sys
	l = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
	l.bind(("0.0.0.0", int(sys.argv[1])))
	l.listen(8)
	l.settimeout(10)
	print("listening", flush=True)
	a, _ = l.accept()
	b, _ = l.accept()
	ino = lambda s: os.fstat(s.fileno()).st_ino
	shared = ino(a) == ino(b)
	a.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
	nodelay = (a.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0,
	           b.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0, ino(a) == ino(b))
	a.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, 0x10)
	tos = (a.getsockopt(socket.IPPROTO_IP, socket.IP_TOS), b.getsockopt(socket.IPPROTO_IP, socket.IP_TOS),
	       ino(a) != ino(b))
	fl = fcntl.fcntl(b.fileno(), fcntl.F_GETFL)
	fcntl.fcntl(b.fileno(), fcntl.F_SETFL, fl | os.O_ASYNC)
	c, _ = l.accept()
	flags = (fcntl.fcntl(c.fileno(), fcntl.F_GETFL) & os.O_ASYNC == 0)
	for s in (a, b, c):
	    s.settimeout(10)
	    s.sendall(s.recv(16).upper())
	    s.close()
	print("shared %s nodelay %s tos %s flags %s" % (shared, nodelay, tos, flags), flush=True)
	PYEOF
	if ! start_server log:listening python3 "$WORK/placeholder.py" 7071; then
		bad "placeholder server did not start"
		stop_server
		return
	fi
	local i r pids=()
	for i in 1 2 3; do
		echo "conn$i" | in_ns timeout 10 ncat "$STACK_IP" 7071 >"$WORK/ph$i.out" 2>/dev/null &
		pids+=($!)
		sleep 0.3
	done
	for _ in $(seq 100); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.1; done
	wait "${pids[@]}"
	r=$(grep "^shared" "$WORK/srv.log")
	if [ "$r" = "shared True nodelay (True, True, True) tos (16, 0, True) flags True" ] &&
		[ "$(cat "$WORK/ph1.out" "$WORK/ph2.out" "$WORK/ph3.out")" = "$(printf 'CONN1\nCONN2\nCONN3')" ]; then
		ok "accepted sockets share a kernel placeholder; an option or flag only the kernel knows gives that fd its own"
	else
		bad "placeholder: $r"
	fi
	stop_server
}

# Inline, every thread that runs a pass gets an EAL lcore (the mempools'
# per-lcore caches) and gives it back when it exits: the two listener
# threads of the reuseport script.
test_lcores() {
	[ -f "$WORK/reuseport.py" ] || { bad "lcores: needs test_reuseport's script (run reuseport first)"; return; }
	if ! start_server log:listening FTCP_CORE=inline python3 "$WORK/reuseport.py" 7072 3; then
		bad "lcores: server did not start"
		stop_server
		return
	fi
	local i line
	for i in $(seq 40); do in_ns timeout 2 ncat --recv-only "$STACK_IP" 7072 >/dev/null 2>&1; done
	# The thread that did not take the 40th waits out its 8 s accept timeout.
	for _ in $(seq 120); do grep -q "^counts" "$WORK/srv.log" && break; sleep 0.1; done
	sleep 0.5
	line=$("$(dirname "$LIB")/../tools/ftcp-stat" "$SRV_PID" 2>/dev/null | grep "lcores")
	set -- $line
	# "lcores N threads given one ..., M hold one now": both threads got
	# one (the main thread is the EAL's), both gave it back.
	if [ "${2:-0}" -ge 2 ] && [ "${9:-x}" = 0 ]; then
		ok "lcores: $2 inline threads got an EAL lcore and gave it back when they ended"
	else
		bad "lcores: ftcp-stat says '$line'"
	fi
	stop_server
}

# An idle server sleeps on the NIC's fd (net_af_xdp), inline and in the
# poll thread's back-off alike: next to no CPU while nobody talks to it,
# before and after traffic, and traffic still wakes it at once. Before,
# it woke every FTCP_IDLE_SLEEP_US (50 us) to poll.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
idle_check() { # FTCP_CORE value
	local c0 c1 c2 c3 hz what="idle (FTCP_CORE=$1)"
	hz=$(getconf CLK_TCK)
	if ! start_server 11113 FTCP_CORE="$1" sockperf server --tcp -i 0.0.0.0 -p 11113; then
		bad "$what: sockperf server did not start"
		stop_server
		return
	fi
	if [ "$DEV" = af_xdp ] && ! "$(dirname "$LIB")/../tools/ftcp-stat" "$SRV_PID" 2>/dev/null | grep -q "sleeps on the NIC's fd"; then
		bad "$what: ftcp-stat does not show the server sleeping on the NIC's fd"
	fi
	sleep 0.5
	c0=$(cpu_ticks "$SRV_PID")
	sleep 2
	c1=$(cpu_ticks "$SRV_PID")
	in_ns timeout 30 sockperf ping-pong --tcp -i "$STACK_IP" -p 11113 -t 1 >"$WORK/sp.log" 2>&1
	sleep 0.5
	c2=$(cpu_ticks "$SRV_PID")
	sleep 2
	c3=$(cpu_ticks "$SRV_PID")
	# 2 s idle each time: at most 5 % of a core (net_tap has no fd: 50 us steps).
	if [ "$DEV" != af_xdp ]; then
		ok "$what: $DEV offers no fd to sleep on: CPU idle $((c1 - c0)) and $((c3 - c2)) ticks of $((2 * hz)) (not judged)"
	elif [ $((c1 - c0)) -le $((hz / 10)) ] && [ $((c3 - c2)) -le $((hz / 10)) ]; then
		ok "$what: the server used $((c1 - c0)) and $((c3 - c2)) clock ticks of $((2 * hz)) while idle, before and after traffic"
	else
		bad "$what: the server used $((c1 - c0)) and $((c3 - c2)) clock ticks of $((2 * hz)) while idle (at most $((hz / 10)))"
	fi
	if grep -q "percentile 50.000" "$WORK/sp.log"; then
		ok "$what: a sleeping server answers: sockperf TCP p50 $(grep 'percentile 50.000' "$WORK/sp.log" | awk '{print $NF}') us"
	else
		bad "$what: sockperf TCP against the sleeping server: $(tail -2 "$WORK/sp.log" | tr '\n' ' ')"
	fi
	stop_server
}
test_idle() {
	idle_check inline
	idle_check 0
}

tests=("$@")
[ ${#tests[@]} -eq 0 ] || [ "${tests[0]}" = all ] && tests=(iperf3 redis nginx memcached sockperf reuseport lcores placeholder idle)
echo "preload programs $DEV: $LIB"
for t in "${tests[@]}"; do
	command -v "$t" >/dev/null 2>&1 || [ "$t" = redis ] || [ "$t" = reuseport ] || [ "$t" = idle ] || [ "$t" = placeholder ] || [ "$t" = lcores ] || { bad "$t not installed (scripts/deps.sh)"; continue; }
	"test_$t"
done
echo "preload programs $DEV: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
