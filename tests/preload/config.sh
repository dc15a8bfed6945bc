#!/usr/bin/env bash
# libftcp.so start-up failures: each bad or missing FTCP_ setting gets one
# message naming it, and FTCP_ON_FAIL decides what the program's INET
# sockets do (error: ENETDOWN; kernel: they stay on the kernel). Non-INET
# sockets always work. Runs in a namespace holding only loopback, so no
# socket can reach anything outside it.
#
# usage: tests/preload/config.sh
# Prints "preload config: N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$top/build}
LIB=${FTCP_PRELOAD:-$BUILD/preload/libftcp.so}
PY=$(command -v /usr/bin/python3 || command -v python3)
NS=ftcp-cfg-$$
PREFIX=ftcpcfg$$
WORK=$(mktemp -d /tmp/ftcp-config.XXXXXX)
passed=0
failed=0

cleanup() {
	ip netns pids "$NS" 2>/dev/null | xargs -r kill -9 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$WORK" "/var/run/dpdk/$PREFIX"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ok() { echo "  ok    $1"; passed=$((passed + 1)); }
bad() { echo "  FAIL  $1"; failed=$((failed + 1)); }

[ -f "$LIB" ] || { echo "preload config: $LIB not built (needs libdpdk)"; exit 1; }
ip netns add "$NS" || exit 1
ip netns exec "$NS" ip link set lo up

# Opens an AF_UNIX pair and an INET TCP socket, connects the latter to an
# address no route leads to, and prints what each step gave.
cat >"$WORK/probe.py" <<'EOF'
import errno, socket
a, b = socket.socketpair()
a.sendall(b"x")
print("unix", "ok" if b.recv(1) == b"x" else "bad")
try:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.connect(("10.99.0.1", 9))
        print("connect ok")
    except OSError as e:
        print("connect", errno.errorcode.get(e.errno, e.errno))
except OSError as e:
    print("socket", errno.errorcode.get(e.errno, e.errno))
EOF

GOOD_EAL="--no-huge --no-shconf -m 256 --no-pci -l 0 --log-level=3 --file-prefix=$PREFIX"
# run NAME=VALUE...: the probe under libftcp with that environment (and
# nothing else of FTCP_ from the caller's).
run() {
	rm -rf "/var/run/dpdk/$PREFIX"
	ip netns exec "$NS" env $(env | grep -o '^FTCP_[A-Z_]*' | sed 's/^/-u /') \
		LD_PRELOAD="$LIB" "$@" timeout 30 "$PY" "$WORK/probe.py" >"$WORK/out" 2>&1
}
# expect LABEL PATTERN-IN-MESSAGE RESULT-LINE
expect() {
	local label=$1 msg=$2 want=$3 n
	n=$(grep -c "libftcp.*cannot start" "$WORK/out")
	if grep -q "$msg" "$WORK/out" && grep -qx "$want" "$WORK/out" && grep -qx "unix ok" "$WORK/out" && [ "$n" = 1 ]; then
		ok "$label: $(grep -o "cannot start: .*" "$WORK/out" | cut -c1-110)"
	else
		bad "$label: $(grep -v '^libbpf\|^libxdp' "$WORK/out" | tr '\n' ' ' | cut -c1-300)"
	fi
}

run FTCP_EAL="$GOOD_EAL --vdev=net_null0"
expect "FTCP_IP missing" "FTCP_IP" "socket ENETDOWN"

run FTCP_EAL="$GOOD_EAL --vdev=net_null0" FTCP_IP=10.99.0.2/33
expect "FTCP_IP with prefix 33" "FTCP_IP" "socket ENETDOWN"

run FTCP_EAL="$GOOD_EAL --vdev=net_null0" FTCP_IP=10.99.0.2/24 FTCP_CORE=many
expect "FTCP_CORE not a number" "FTCP_CORE" "socket ENETDOWN"

run FTCP_EAL="$GOOD_EAL --vdev=net_null0" FTCP_IP=10.99.0.2/24 FTCP_MTU=100
expect "FTCP_MTU out of range" "FTCP_MTU" "socket ENETDOWN"

run FTCP_EAL="$GOOD_EAL --vdev=net_null0" FTCP_IP=10.99.0.2/24 FTCP_ON_FAIL=maybe
expect "FTCP_ON_FAIL unknown" "FTCP_ON_FAIL" "socket ENETDOWN"

run FTCP_IP=10.99.0.2/24
expect "FTCP_EAL missing" "FTCP_EAL" "socket ENETDOWN"

run FTCP_EAL="$GOOD_EAL --vdev=net_nosuchdriver0" FTCP_IP=10.99.0.2/24
expect "a device DPDK does not have (error mode)" "FTCP_EAL" "socket ENETDOWN"

# The same failure passed through to the kernel: the socket is the
# kernel's, whose answer for an address with no route is ENETUNREACH.
run FTCP_EAL="$GOOD_EAL --vdev=net_nosuchdriver0" FTCP_IP=10.99.0.2/24 FTCP_ON_FAIL=kernel
expect "the same with FTCP_ON_FAIL=kernel" "FTCP_EAL" "connect ENETUNREACH"

run FTCP_EAL="$GOOD_EAL --vdev=net_null0" FTCP_IP=10.99.0.2/24 FTCP_PORT=net_nosuch9
expect "FTCP_PORT names no port" "FTCP_PORT" "socket ENETDOWN"

echo "preload config: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
