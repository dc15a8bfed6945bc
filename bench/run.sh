#!/usr/bin/env bash
# bench/run.sh — libftcp against the Linux kernel, side by side, in one run.
#
# Every scenario runs on libftcp and on the kernel over the equivalent path:
#   wire  stack to kernel, same wire: a veth pair between two namespaces; the
#         server is the kernel or the same program under libftcp.so through
#         net_af_xdp on its end; the client is always the kernel;
#   s2s   stack to stack: server and client both under libftcp.so, joined by
#         net_memif, against two kernel namespaces joined by a veth pair;
# and the kernel twice: default settings, and busy polling.
# Unmodified programs: iperf3, sockperf, redis-server/redis-benchmark,
# nginx/wrk. Each figure is the median of --runs runs (min and max kept).
# Writes bench/results/results.json, results.md, *.png (bench/report.py)
# and MACHINE.md. Everything runs in private namespaces with 10.9x.0.0/24
# addresses that exist only there; every wait is bounded; everything is
# removed on exit, also on failure or interruption.
#
# usage: bench/run.sh [--runs N] [--duration S] [--only LIST] [--paths LIST]
#                     [--quick] [--ftcp-core inline|thread] [--busy-poll-all]
#                     [--s2s-kernel-veth] [--no-rps] [--no-cpu-cost] [--build] [--out DIR]
#                     [--keep] [--report-only]
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bench=$top/bench
PY=/usr/bin/python3 # Debian's, where python3-matplotlib lives

RUNS=3
DUR=2
ONLY=
PATHS="wire,s2s"
FTCP_MODE=inline
BP_ALL=0
S2S_KVETH=0
RPS=1
CPU_COST=1
BUILD=0
OUT=$bench/results
KEEP=0
REPORT_ONLY=0
SRV_CORE=1
CLI_CORE=0
BP_USEC=50

usage() {
	cat <<'EOF'
usage: bench/run.sh [OPTIONS]

Runs every scenario on libftcp and on the Linux kernel, writes
bench/results/{results.json,results.md,*.png,MACHINE.md}.

  --runs N            runs per figure (default 3; the median is reported)
  --duration S        seconds per measured run (default 2, integer >= 1)
  --quick             --runs 1 --duration 1 (a smoke test, not a result)
  --only LIST         comma-separated scenario ids or prefixes, e.g.
                      sockperf, iperf3.tcp1, redis,nginx (default: all):
                        iperf3.tcp1_up iperf3.tcp1_down iperf3.tcp4_up
                        iperf3.tcp4_down iperf3.udp64 sockperf.tcp64
                        sockperf.tcp1k sockperf.udp64 sockperf.udp1k
                        redis.c50 redis.p16 nginx.wrk conn.close
  --paths LIST        wire, s2s or wire,s2s (default)
  --ftcp-core MODE    inline (default: the program's thread polls) or thread
                      (FTCP_CORE=<the program's core>: a poll thread
                      sharing the program's core)
  --busy-poll-all     the busy-polling kernel for every scenario (default:
                      the request/response ones: sockperf but UDP 1 KB,
                      redis without pipelining, nginx, connection rate)
  --s2s-kernel-veth   measure every stack-to-stack kernel baseline on its
                      own veth pair with default offloads (default: only
                      iperf3 TCP, where TSO/GSO matter; the wire path's
                      kernel-to-kernel runs serve the other scenarios)
  --no-rps            leave RPS off on the veth ends: each end's receive
                      processing then runs on the sending side's core
                      (veth's default; see "two hosts" below)
  --no-cpu-cost       do not run bench/cpu_cost.sh
  --build             run ninja -C build even if libftcp.so exists
  --out DIR           where results go (default bench/results)
  --keep              keep the work directory with every log
  --report-only       only re-render results.md and the charts from
                      DIR/results.json
EOF
}

die() { echo "bench: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
	case "$1" in
	--runs) RUNS=${2:-}; shift 2 ;;
	--duration) DUR=${2:-}; shift 2 ;;
	--quick) RUNS=1; DUR=1; shift ;;
	--only) ONLY=${2:-}; shift 2 ;;
	--paths) PATHS=${2:-}; shift 2 ;;
	--ftcp-core) FTCP_MODE=${2:-}; shift 2 ;;
	--busy-poll-all) BP_ALL=1; shift ;;
	--s2s-kernel-veth) S2S_KVETH=1; shift ;;
	--no-rps) RPS=0; shift ;;
	--no-cpu-cost) CPU_COST=0; shift ;;
	--build) BUILD=1; shift ;;
	--out) OUT=${2:-}; shift 2 ;;
	--keep) KEEP=1; shift ;;
	--report-only) REPORT_ONLY=1; shift ;;
	-h | --help) usage; exit 0 ;;
	*) die "unknown option \"$1\" (see --help)" ;;
	esac
done
case "$RUNS" in '' | *[!0-9]* | 0) die "--runs \"$RUNS\": expected a number >= 1" ;; esac
case "$DUR" in '' | *[!0-9]* | 0) die "--duration \"$DUR\": expected whole seconds >= 1" ;; esac
case "$FTCP_MODE" in inline | thread) ;; *) die "--ftcp-core \"$FTCP_MODE\": expected inline or thread" ;; esac
case ",$PATHS," in *,wire,* | *,s2s,*) ;; *) die "--paths \"$PATHS\": expected wire, s2s or wire,s2s" ;; esac
mkdir -p "$OUT" || die "cannot create $OUT"
OUT=$(cd "$OUT" && pwd)

if [ "$REPORT_ONLY" = 1 ]; then
	exec "$PY" "$bench/report.py" --from "$OUT/results.json" --out "$OUT"
fi
[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, AF_XDP, sysctl)"

T_START=$(date +%s)
echo "bench: dependencies and build"
bash "$top/scripts/deps.sh" || die "scripts/deps.sh failed"
LIB=$top/build/preload/libftcp.so
if [ ! -f "$LIB" ] || [ ! -x "$top/build/bench/ftcp-jitter" ] || [ "$BUILD" = 1 ]; then
	[ -f "$top/build/build.ninja" ] || meson setup "$top/build" "$top" || die "meson setup failed"
	# Only what the bench runs: the whole tree (tests, fuzz) would double
	# the time on a fresh machine.
	ninja -C "$top/build" preload/libftcp.so tools/ftcp-stat bench/ftcp-jitter bench/ftcp-cpu-cost ||
		die "build failed"
fi
[ -f "$LIB" ] || die "$LIB was not built (needs libdpdk-dev)"
"$PY" -c "import matplotlib" 2>/dev/null || die "$PY has no matplotlib (python3-matplotlib)"

# --- names, addresses, clean-up ----------------------------------------

NS_S=ftcpb-s-$$  # the server's namespace (wire path, kernel veth)
NS_C=ftcpb-c-$$  # the client's namespace
NS_M=ftcpb-m-$$  # stack to stack over memif: loopback only
W_SRV=10.90.0.1 W_CLI=10.90.0.2  # veth vs (server) - vc (client)
K_SRV=10.91.0.1 K_CLI=10.91.0.2  # veth ks - kc: the s2s kernel baseline
M_SRV=10.92.0.1 M_CLI=10.92.0.2  # memif
SOCK=/tmp/ftcpb-$$.memif # memif's control socket (abstract: no file)
STAT=$top/build/tools/ftcp-stat
WORK=$(mktemp -d /tmp/ftcp-bench.XXXXXX)
RAW=$WORK/raw.tsv
: >"$RAW"
SRV_PID=
SRV_CMD=
SRV_PREFIX=
SEQ=0
PATH_= SIDE= SC= RUN=0 PRIMARY=
OLD_BP=$(sysctl -n net.core.busy_poll 2>/dev/null || echo 0)
OLD_BR=$(sysctl -n net.core.busy_read 2>/dev/null || echo 0)

cleanup() {
	stop_server
	local ns
	for ns in "$NS_S" "$NS_C" "$NS_M"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	sysctl -qw net.core.busy_poll="$OLD_BP" net.core.busy_read="$OLD_BR" 2>/dev/null
	rm -rf /var/run/dpdk/ftcpb$$-*
	if [ "$KEEP" = 1 ]; then echo "bench: logs kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_s() { ip netns exec "$NS_S" "$@"; }
in_c() { ip netns exec "$NS_C" "$@"; }

ip netns add "$NS_S" && ip netns add "$NS_C" && ip netns add "$NS_M" || die "cannot create namespaces"
for ns in "$NS_S" "$NS_C" "$NS_M"; do ip -n "$ns" link set lo up; done
ip link add vs netns "$NS_S" type veth peer name vc netns "$NS_C" || die "cannot create the veth pair"
ip -n "$NS_S" link set vs up
ip -n "$NS_C" link set vc up
ip -n "$NS_C" addr add "$W_CLI/24" dev vc
# AF_XDP needs frames with their checksums filled in: no TX checksum
# offload on the client's end (for the kernel server too: same wire).
in_c ethtool -K vc tx off >/dev/null || die "ethtool -K vc tx off failed"
# The stack-to-stack kernel baseline's own pair, default offloads at both
# ends: the wire pair's client end has TX offloads off (AF_XDP needs it),
# which costs its kernel client TSO/GSO, so bulk TCP from that end is not
# the kernel at its best.
ip link add ks netns "$NS_S" type veth peer name kc netns "$NS_C" || die "cannot create the second veth pair"
ip -n "$NS_S" link set ks up
ip -n "$NS_C" link set kc up
ip -n "$NS_S" addr add "$K_SRV/24" dev ks
ip -n "$NS_C" addr add "$K_CLI/24" dev kc
# Two hosts: veth hands a frame to the receiver's protocol stack on the
# sender's core, so a server would pay for its client's receive work and
# a kernel server's own receive work would land on the client's core.
# RPS on each end moves that work to the receiving side's own core, as
# on two machines (every side, libftcp's and the kernel's alike).
rps() { # NS DEV CORE
	ip netns exec "$1" sh -c "printf '%x' $((1 << $3)) >/sys/class/net/$2/queues/rx-0/rps_cpus" ||
		die "cannot set RPS on $2 (--no-rps to run without)"
}
if [ "$RPS" = 1 ]; then
	rps "$NS_S" vs "$SRV_CORE"
	rps "$NS_C" vc "$CLI_CORE"
	rps "$NS_S" ks "$SRV_CORE"
	rps "$NS_C" kc "$CLI_CORE"
fi

# --- sides -------------------------------------------------------------
# PATH_ (wire|s2s) and SIDE (libftcp|kernel|kernel_bp) pick how servers and
# clients start; side_setup puts the namespaces in that state.

bp() { sysctl -qw net.core.busy_poll="$1" net.core.busy_read="$1"; }
# veth has NAPI (and so a NAPI id that busy polling can poll) only with
# GRO on or an XDP program attached.
gro() { ip netns exec "$1" ethtool -K "$2" gro "$3" >/dev/null 2>&1; }

side_setup() {
	SRV_NET=$NS_S CLI_NET=$NS_C
	if [ "$PATH_" = s2s ] && is_ftcp; then
		SRV_IP=$M_SRV
		bp 0
		return
	fi
	if [ "$PATH_" = s2s ]; then
		SRV_IP=$K_SRV S_DEV=ks C_DEV=kc
	else
		SRV_IP=$W_SRV S_DEV=vs C_DEV=vc
	fi
	if is_ftcp; then
		ip -n "$NS_S" addr flush dev vs
	else
		# No XDP program left behind by a libftcp run on the kernel's path.
		ip -n "$NS_S" link set vs xdp off 2>/dev/null
		ip -n "$NS_S" addr replace "$SRV_IP/24" dev "$S_DEV"
	fi
	if [ "$SIDE" = kernel_bp ]; then
		gro "$NS_S" "$S_DEV" on
		gro "$NS_C" "$C_DEV" on
		bp "$BP_USEC"
	else
		gro "$NS_S" "$S_DEV" off
		gro "$NS_C" "$C_DEV" off
		bp 0
	fi
}

ftcp_core() { [ "$FTCP_MODE" = inline ] && echo inline || echo "$1"; }
# libftcp_nospin: the same-wire libftcp server with FTCP_SPIN_US=0, which
# sleeps on the NIC's fd whenever it has nothing to do: what a server costs
# when it does not burn its idle time polling (the CPU targets' side).
is_ftcp() { [ "$SIDE" = libftcp ] || [ "$SIDE" = libftcp_nospin ]; }
spin_env() { [ "$SIDE" = libftcp_nospin ] && echo FTCP_SPIN_US=0 || echo FTCP_SPIN_US="${FTCP_SPIN_US:-100}"; }

# srv_launch PROGRAM ARGS...: the server on core $SRV_CORE, output in srv.log.
srv_launch() {
	SEQ=$((SEQ + 1))
	SRV_PREFIX=ftcpb$$-s$SEQ
	rm -rf "/var/run/dpdk/$SRV_PREFIX"
	: >"$WORK/srv.log"
	if is_ftcp && [ "$PATH_" = wire ]; then
		ip netns exec "$NS_S" env LD_PRELOAD="$LIB" "$(spin_env)" \
			FTCP_EAL="--no-huge --no-shconf -m 512 --no-pci -l $SRV_CORE --log-level=3 --file-prefix=$SRV_PREFIX --vdev=net_af_xdp0,iface=vs" \
			FTCP_IP="$W_SRV/24" FTCP_CORE="$(ftcp_core $SRV_CORE)" FTCP_LOG=1 \
			taskset -c "$SRV_CORE" "$@" >"$WORK/srv.log" 2>&1 &
	elif is_ftcp; then
		# memif needs DPDK's multi-process channel: no --no-shconf.
		ip netns exec "$NS_M" env LD_PRELOAD="$LIB" \
			FTCP_EAL="--no-huge -m 512 --no-pci -l $SRV_CORE --log-level=3 --file-prefix=$SRV_PREFIX --vdev=net_memif0,role=server,socket=$SOCK" \
			FTCP_IP="$M_SRV/24" FTCP_CORE="$(ftcp_core $SRV_CORE)" FTCP_LOG=1 FTCP_LINK_WAIT_MS=0 FTCP_TRUSTED_LINK=1 \
			taskset -c "$SRV_CORE" "$@" >"$WORK/srv.log" 2>&1 &
	else
		ip netns exec "$NS_S" taskset -c "$SRV_CORE" "$@" >"$WORK/srv.log" 2>&1 &
	fi
	SRV_PID=$! # ip netns exec, env and taskset exec: this is the program
	SRV_CMD="$*"
}

# start_server READY PROGRAM ARGS...: READY is log:PATTERN (a line the
# program prints when it serves) or tcp:PORT (a kernel client connects;
# where no kernel can reach the server, ftcp-stat shows it listening).
start_server() {
	local ready=$1 i
	shift
	srv_launch "$@"
	for i in $(seq 100); do
		kill -0 "$SRV_PID" 2>/dev/null || return 1
		case "$ready" in
		log:*) grep -q "${ready#log:}" "$WORK/srv.log" 2>/dev/null && return 0 ;;
		tcp:*)
			if is_ftcp && [ "$PATH_" = s2s ]; then
				# No kernel reaches it: ask the stack (memif's socket is abstract).
				"$STAT" "$SRV_PID" sockets 2>/dev/null | grep -qE "LISTEN +[0-9.]+:${ready#tcp:} " && return 0
			else
				ip netns exec "$CLI_NET" timeout 1 ncat -z "$SRV_IP" "${ready#tcp:}" 2>/dev/null && return 0
			fi
			;;
		esac
		sleep 0.1
	done
	return 1
}

stop_server() {
	local i st why=
	if [ -n "$SRV_PID" ]; then
		if kill -0 "$SRV_PID" 2>/dev/null; then
			kill -TERM "$SRV_PID" 2>/dev/null
			for i in $(seq 50); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.1; done
			kill -0 "$SRV_PID" 2>/dev/null && why="did not exit within 5 s of SIGTERM: killed"
			kill -9 "$SRV_PID" 2>/dev/null
		fi
		wait "$SRV_PID" 2>/dev/null
		st=$?
		# 143: SIGTERM's default action, 137: our SIGKILL.
		if [ -z "$why" ] && [ "$st" -gt 128 ] && [ "$st" != 143 ] && [ "$st" != 137 ]; then
			why="died of signal $((st - 128)) ($(kill -l $((st - 128)) 2>/dev/null))"
		fi
		if [ -n "$why" ] && [ -n "$SC" ]; then
			echo "    server $why" | cut -c1-200
			rec _note - 0 "the server (${SRV_CMD:-?}) $why when stopped with SIGTERM after run $RUN: $(crash_info "$WORK/srv.log")"
			cp "$WORK/srv.log" "$WORK/stop-$PATH_-$SIDE-$SC.srv.log" 2>/dev/null
		fi
		SRV_PID=
	fi
	[ -n "$SRV_PREFIX" ] && rm -rf "/var/run/dpdk/$SRV_PREFIX"
	SRV_PREFIX=
}

# client SECONDS PROGRAM ARGS...: the client on core $CLI_CORE, bounded,
# output in cli.log. Returns the program's status (124: timed out).
client() {
	local t=$1 rc
	shift
	: >"$WORK/cli.log"
	if is_ftcp && [ "$PATH_" = s2s ]; then
		SEQ=$((SEQ + 1))
		local prefix=ftcpb$$-c$SEQ
		ip netns exec "$NS_M" env LD_PRELOAD="$LIB" \
			FTCP_EAL="--no-huge -m 512 --no-pci -l $CLI_CORE --log-level=3 --file-prefix=$prefix --vdev=net_memif0,role=client,socket=$SOCK" \
			FTCP_IP="$M_CLI/24" FTCP_CORE="$(ftcp_core $CLI_CORE)" FTCP_LOG=1 FTCP_TRUSTED_LINK=1 \
			taskset -c "$CLI_CORE" timeout -k 3 "$t" "$@" >"$WORK/cli.log" 2>&1
		rc=$?
		rm -rf "/var/run/dpdk/$prefix"
	else
		ip netns exec "$NS_C" taskset -c "$CLI_CORE" timeout -k 3 "$t" "$@" >"$WORK/cli.log" 2>&1
		rc=$?
	fi
	return $rc
}

# --- recording ---------------------------------------------------------

clean() { tr '\t\n\r' '   ' | sed 's/\x1b\[[0-9;]*m//g' | cut -c1-700; }
rec() { # figure unit value [note]
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$PATH_" "$SIDE" "$SC" "$1" "$2" "$RUN" "$3" "$(printf '%s' "${4:-}" | clean)" >>"$RAW"
}
logtail() { # the last lines of a log, without the AF_XDP loader's chatter
	[ -f "$1" ] && grep -av "^libbpf\|^libxdp\|^$" "$1" | tail -"${2:-4}" | sed 's/\x1b\[[0-9;]*m//g' | tr '\n' '|'
}
# What a crashed server's log says: its crash lines and libftcp.so's frames
# by name (addr2line), else its last lines.
crash_info() {
	local l frames
	l=$(grep -a -m2 -E "crashed by signal|Accessing address" "$1" 2>/dev/null | sed 's/^[0-9]*:[A-Z] [^#]*# //' | tr '\n' ';')
	frames=$(grep -a -o 'libftcp\.so(+0x[0-9a-f]*)' "$1" 2>/dev/null | head -8 | sed 's/.*(+\(0x[0-9a-f]*\))/\1/' |
		xargs -r addr2line -f -s -e "$LIB" 2>/dev/null | paste -d' ' - - | sed 's/ /@/' | tr '\n' ' ')
	if [ -n "$l$frames" ]; then
		echo "$l${frames:+ libftcp.so frames: $frames}"
	else
		logtail "$1" 3
	fi
}
proc_cpu() { # utime+stime of a process, all threads, in clock ticks
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo -1; return; }
	s=${s##*) }
	set -- $s
	echo $(( ${12} + ${13} ))
}
core_busy() { # ticks core N spent not idle (user nice system irq softirq)
	awk -v c="cpu$1" '$1 == c { print $2 + $3 + $4 + $7 + $8 }' /proc/stat
}
HZ=$(getconf CLK_TCK)

# A libftcp server's stack counters that explain a poor or failed run.
STAT_KEYS="tcp_retrans_segs tcp_rto tcp_timeouts tcp_resets_rx drop_tcp_paws drop_tcp_out_of_window drop_tcp_no_socket drop_tcp_accept_full drop_tcp_syn_queue_full drop_tx_fifo_full drop_udp_rcvbuf tx_device_busy"
stat_snap() {
	is_ftcp || return 0
	timeout 3 "$STAT" "$SRV_PID" all 2>/dev/null | awk -v keys="$STAT_KEYS" '
		BEGIN { n = split(keys, k, " "); for (i = 1; i <= n; i++) want[k[i]] = 1 }
		NF == 2 && ($1 in want) { print $1, $2 }
		/allocation failures:/ { gsub(",", ""); print "alloc_fail_sockets", $4; print "alloc_fail_rx_buffers", $7 }'
}
stat_delta() { # before after: "name +N" for what grew
	awk 'NR == FNR { b[$1] = $2; next } $2 > b[$1] + 0 { printf "%s +%d, ", $1, $2 - b[$1] }' "$1" "$2"
}

# measure PARSER TIMEOUT PROGRAM ARGS...: one run: the client, the server's
# CPU time over it, the figures the parser finds. WORK_OVERRIDE, when set,
# is the run's work (requests) where the parser cannot see it (redis).
measure() {
	local parser=$1 t=$2 rc c0 c1 k0 k1 t0 t1 line fig unit val notes= reason
	shift 2
	stat_snap >"$WORK/stat0"
	c0=$(proc_cpu "$SRV_PID") k0=$(core_busy "$SRV_CORE") t0=$(date +%s.%N)
	client "$t" "$@"
	rc=$?
	c1=$(proc_cpu "$SRV_PID") k1=$(core_busy "$SRV_CORE") t1=$(date +%s.%N)
	stat_snap >"$WORK/stat1"
	local grew
	grew=$(stat_delta "$WORK/stat0" "$WORK/stat1")
	[ -n "$grew" ] && grew="libftcp server counters during the run: ${grew%, }"
	if ! "$PY" "$bench/parse.py" "$parser" "$WORK/cli.log" >"$WORK/parsed" 2>&1; then
		reason=$(grep "^error" "$WORK/parsed" | cut -f3)
		[ "$rc" = 124 ] && reason="timed out after ${t}s; $reason"
		[ "$rc" != 0 ] && [ "$rc" != 124 ] && reason="client exit $rc; $reason"
		kill -0 "$SRV_PID" 2>/dev/null || reason="$reason; the server died: $(logtail "$WORK/srv.log")"
		[ -n "$grew" ] && reason="$reason; $grew"
		rec "${PRIMARY:-result}" - null "$reason [client: $*]"
		echo "    run $RUN: FAILED: $reason" | cut -c1-300
		cp "$WORK/cli.log" "$WORK/fail-$PATH_-$SIDE-$SC-$RUN.cli.log" 2>/dev/null
		cp "$WORK/srv.log" "$WORK/fail-$PATH_-$SIDE-$SC-$RUN.srv.log" 2>/dev/null
		return 1
	fi
	notes=$(grep "^note" "$WORK/parsed" | cut -f3 | tr '\n' ';')
	[ "$rc" != 0 ] && notes="client exit $rc; $notes"
	[ -n "$grew" ] && notes="$notes${notes:+ }$grew"
	while IFS=$'\t' read -r fig unit val; do
		case "$fig" in
		note | error) ;;
		work) [ -z "${WORK_OVERRIDE:-}" ] && rec work "$unit" "$val" ;;
		*) rec "$fig" "$unit" "$val" "$notes" ;;
		esac
	done <"$WORK/parsed"
	[ -n "${WORK_OVERRIDE:-}" ] && rec work requests "$WORK_OVERRIDE"
	if [ "$c0" -ge 0 ] && [ "$c1" -ge 0 ]; then
		rec server_cpu s "$(echo "scale=4; ($c1 - $c0) / $HZ" | bc)"
	fi
	rec server_core_busy s "$(echo "scale=4; ($k1 - $k0) / $HZ" | bc)"
	rec interval s "$(echo "$t1 - $t0" | bc)"
	echo "    run $RUN: $(grep -v "^work\|^note" "$WORK/parsed" | head -3 | awk -F'\t' '{printf "%s %.4g %s; ", $1, $3, $2}')${notes:+ [$notes]}" | cut -c1-200
	return 0
}

# --- scenarios -----------------------------------------------------------
# Each scenario: start its server once for the runs (a fresh one per run
# for the connection rate), run the client --runs times.

# no_server REASON: every run of this scenario fails with REASON.
no_server() {
	local r=$1
	r="$r: $(logtail "$WORK/srv.log" 6)"
	echo "    server did not start: $r" | cut -c1-300
	cp "$WORK/srv.log" "$WORK/fail-$PATH_-$SIDE-$SC.srv.log" 2>/dev/null
	for RUN in $(seq "$RUNS"); do rec "${PRIMARY:-result}" - null "$r"; done
	stop_server
}

# iperf3 waits for its next test: "Server listening on 5201 (test #N)".
iperf3_ready() {
	local i
	for i in $(seq 50); do
		[ "$(grep -c "Server listening" "$WORK/srv.log" 2>/dev/null)" -ge "$1" ] && return 0
		kill -0 "$SRV_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

sc_iperf3() { # ARGS for the client
	PRIMARY=throughput
	case "$SC" in *udp*) PRIMARY="received packets/s" ;; esac
	start_server "log:Server listening" iperf3 -s -B "$SRV_IP" --forceflush || { no_server "iperf3 -s did not start"; return; }
	for RUN in $(seq "$RUNS"); do
		iperf3_ready "$RUN" || { kill -0 "$SRV_PID" 2>/dev/null || { no_server "iperf3 -s died"; return; }; }
		measure iperf3 $((DUR + 20)) iperf3 -c "$SRV_IP" -t "$DUR" -J "$@"
		kill -0 "$SRV_PID" 2>/dev/null || start_server "log:Server listening" iperf3 -s -B "$SRV_IP" --forceflush || { no_server "iperf3 -s did not restart"; return; }
	done
	stop_server
}

sc_sockperf() { # udp|tcp SIZE
	local tcp= port=11111
	PRIMARY=p50
	[ "$1" = tcp ] && tcp=--tcp port=11112
	start_server "log:to block on socket" sockperf server $tcp -i "$SRV_IP" -p $port || { no_server "sockperf server did not start"; return; }
	for RUN in $(seq "$RUNS"); do
		# sockperf sends a few warm-up messages, sleeps 2 s (hard-coded),
		# then measures for -t seconds; it leaves the first 400 ms and the
		# last 50 ms out of its figures.
		measure sockperf $((DUR + 20)) sockperf ping-pong $tcp -i "$SRV_IP" -p $port -t "$DUR" -m "$2"
		kill -0 "$SRV_PID" 2>/dev/null || start_server "log:to block on socket" sockperf server $tcp -i "$SRV_IP" -p $port || { no_server "sockperf server did not restart"; return; }
	done
	stop_server
}

redis_start() {
	start_server "log:Ready to accept connections" redis-server --port 6379 --bind "$SRV_IP" \
		--protected-mode no --save "" --appendonly no --logfile ""
}
sc_redis() { # N, then redis-benchmark's extra ARGS
	local n=$1
	shift
	PRIMARY="GET requests/s"
	redis_start || { no_server "redis-server did not start"; return; }
	for RUN in $(seq "$RUNS"); do
		WORK_OVERRIDE=$((2 * n)) measure redis $((DUR * 8 + 30)) redis-benchmark -h "$SRV_IP" -p 6379 -c 50 -n "$n" -t set,get --csv "$@"
		kill -0 "$SRV_PID" 2>/dev/null || redis_start || { no_server "redis-server did not restart"; return; }
	done
	stop_server
}

nginx_conf() {
	mkdir -p "$WORK/www" "$WORK/nginx"
	echo "hello from nginx" >"$WORK/www/small.html" # 17 bytes
	cat >"$WORK/nginx/nginx.conf" <<-CONF
	daemon off;
	master_process off;
	worker_processes 1;
	error_log stderr warn;
	pid $WORK/nginx/nginx.pid;
	events { worker_connections 1024; }
	http {
		access_log off;
		sendfile on;
		keepalive_requests 1000000;
		client_body_temp_path $WORK/nginx;
		proxy_temp_path $WORK/nginx;
		fastcgi_temp_path $WORK/nginx;
		uwsgi_temp_path $WORK/nginx;
		scgi_temp_path $WORK/nginx;
		server { listen $SRV_IP:8080; root $WORK/www; }
	}
	CONF
}
sc_wrk() { # keepalive|close
	PRIMARY=requests/s
	nginx_conf
	local hdr=() fresh=0
	[ "$1" = close ] && hdr=(-H "Connection: close") fresh=1
	for RUN in $(seq "$RUNS"); do
		if [ -z "$SRV_PID" ]; then
			start_server tcp:8080 nginx -c "$WORK/nginx/nginx.conf" || {
				local r="nginx did not start: $(logtail "$WORK/srv.log" 6)"
				rec "$PRIMARY" - null "$r"
				echo "    run $RUN: $r" | cut -c1-300
				stop_server
				continue
			}
		fi
		measure wrk $((DUR + 20)) wrk -t 1 -c "$([ "$1" = close ] && echo 16 || echo 32)" -d "$DUR" "${hdr[@]}" "http://$SRV_IP:8080/small.html"
		if [ "$fresh" = 1 ] || ! kill -0 "$SRV_PID" 2>/dev/null; then stop_server; fi
	done
	stop_server
}

SCENARIOS="iperf3.tcp1_up iperf3.tcp1_down iperf3.tcp4_up iperf3.tcp4_down iperf3.udp64
sockperf.tcp64 sockperf.tcp1k sockperf.udp64 sockperf.udp1k redis.c50 redis.p16 nginx.wrk conn.close"

run_scenario() {
	PRIMARY=
	case "$SC" in
	iperf3.tcp1_up) sc_iperf3 ;;
	iperf3.tcp1_down) sc_iperf3 -R ;;
	iperf3.tcp4_up) sc_iperf3 -P 4 ;;
	iperf3.tcp4_down) sc_iperf3 -P 4 -R ;;
	iperf3.udp64) sc_iperf3 -u -l 64 -b 0 ;;
	sockperf.tcp64) sc_sockperf tcp 64 ;;
	sockperf.tcp1k) sc_sockperf tcp 1024 ;;
	sockperf.udp64) sc_sockperf udp 64 ;;
	sockperf.udp1k) sc_sockperf udp 1024 ;;
	redis.c50) sc_redis $((20000 * DUR)) ;;
	redis.p16) sc_redis $((200000 * DUR)) -P 16 ;;
	nginx.wrk) sc_wrk keepalive ;;
	conn.close) sc_wrk close ;;
	esac
}

selected() { # is scenario $1 in --only?
	[ -z "$ONLY" ] && return 0
	local p
	for p in ${ONLY//,/ }; do
		case "$1" in "$p" | "$p".* | "$p"*) return 0 ;; esac
	done
	return 1
}
nospin_for() { # does scenario $1 run on libftcp without spinning (same wire)?
	case "$1" in iperf3.tcp1_* | redis.* | nginx.wrk | conn.close) return 0 ;; esac
	return 1
}
busy_poll_for() { # does scenario $1 run on the busy-polling kernel?
	[ "$BP_ALL" = 1 ] && return 0
	case "$1" in iperf3.* | redis.p16 | sockperf.udp1k) return 1 ;; esac
	return 0
}

# --- metadata ------------------------------------------------------------

ver() { "$@" 2>&1 | sed 's/\x1b\[[0-9;]*m//g' | grep -v '^$' | head -1 | clean; }
write_meta() {
	local commit dirty
	commit=$(git -C "$top" rev-parse HEAD 2>/dev/null || echo unknown)
	dirty=$(git -C "$top" status --porcelain --untracked-files=no -- libftcp dpdk_port preload 2>/dev/null | wc -l)
	{
		printf 'date\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
		printf 'cpu_model\t%s\n' "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
		printf 'cpu_flags_virt\t%s\n' "$(grep -m1 -o -w hypervisor /proc/cpuinfo || echo none)"
		printf 'virtualization\t%s\n' "$(systemd-detect-virt 2>/dev/null || echo unknown)"
		printf 'cores\t%s\n' "$(nproc)"
		printf 'mem_total\t%s\n' "$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
		printf 'kernel\t%s\n' "$(uname -r)"
		printf 'os\t%s\n' "$(. /etc/os-release && echo "$PRETTY_NAME") (Debian $(cat /etc/debian_version 2>/dev/null))"
		printf 'dpdk\t%s\n' "$(pkg-config --modversion libdpdk 2>/dev/null || echo unknown)"
		printf 'libftcp_commit\t%s%s\n' "$commit" "$([ "$dirty" -gt 0 ] && echo ' (with uncommitted changes in libftcp/, dpdk_port/ or preload/)')"
		printf 'libftcp_so\t%s\n' "$(stat -c '%y' "$LIB" | cut -d. -f1)"
		printf 'compiler\t%s\n' "$(ver cc --version)"
		printf 'iperf3\t%s\n' "$(ver iperf3 --version)"
		printf 'sockperf\t%s\n' "$(ver sockperf --version)"
		printf 'redis\t%s\n' "$(ver redis-server --version)"
		printf 'redis_benchmark\t%s\n' "$(dpkg-query -W -f='redis-tools ${Version}' redis-tools 2>/dev/null)"
		printf 'nginx\t%s\n' "$(ver nginx -v)"
		printf 'wrk\t%s\n' "$(ver wrk --version)"
		printf 'load_before\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
		printf 'runs\t%s\n' "$RUNS"
		printf 'duration_s\t%s\n' "$DUR"
		printf 'server_core\t%s\n' "$SRV_CORE"
		printf 'client_core\t%s\n' "$CLI_CORE"
		printf 'ftcp_core\t%s\n' "$FTCP_MODE"
		printf 'ftcp_spin_us\t%s\n' "${FTCP_SPIN_US:-100}"
		printf 'busy_poll_usec\t%s\n' "$BP_USEC"
		printf 'busy_poll_all\t%s\n' "$BP_ALL"
		printf 's2s_kernel_veth\t%s\n' "$S2S_KVETH"
		printf 'rps\t%s\n' "$RPS"
		printf 'paths\t%s\n' "$PATHS"
		printf 'only\t%s\n' "${ONLY:-all}"
		printf 'mtu\t%s\n' "$(ip -n "$NS_C" -o link show vc | sed -n 's/.* mtu \([0-9]*\).*/\1/p')"
		printf 'eal_wire\t%s\n' "--no-huge --no-shconf -m 512 --no-pci -l <core> --log-level=3 --file-prefix=<unique> --vdev=net_af_xdp0,iface=vs"
		printf 'eal_memif\t%s\n' "--no-huge -m 512 --no-pci -l <core> --log-level=3 --file-prefix=<unique> --vdev=net_memif0,role=server|client,socket=<abstract name>"
		printf 'ftcp_env\t%s\n' "FTCP_CORE=$([ "$FTCP_MODE" = inline ] && echo inline || echo '<core>') FTCP_LOG=1 (memif: FTCP_TRUSTED_LINK=1, both ends; memif server: FTCP_LINK_WAIT_MS=0); other FTCP_* at their defaults"
	} >"$WORK/meta.tsv"
}

# --- the run ---------------------------------------------------------------

# The machine's own stalls on the two cores and a shared-memory ping-pong
# between them (no network): the floor under every tail latency here.
jitter() { # TAG
	local j=$top/build/bench/ftcp-jitter
	[ -x "$j" ] || return 0
	timeout 20 "$j" 2 "$CLI_CORE" "$SRV_CORE" 2>/dev/null | while IFS=$'\t' read -r what a b c d e; do
		case "$what" in
		stalls) printf 'jitter_%s_stalls_core%s\t%s %s %s %s\n' "$1" "$a" "$b" "$c" "$d" "$e" ;;
		pingpong) printf 'jitter_%s_pingpong\t%s %s %s %s %s\n' "$1" "$a" "$b" "$c" "$d" "$e" ;;
		esac
	done >>"$WORK/meta.tsv"
}

write_meta
echo "bench: the machine's stalls and shared-memory ping-pong floor (ftcp-jitter, 2 s)"
jitter before
declare -A SIDES=([wire]="libftcp libftcp_nospin kernel kernel_bp" [s2s]="libftcp kernel kernel_bp")
# The stack-to-stack kernel baseline: its own veth pair for iperf3 TCP (or
# everything, --s2s-kernel-veth); otherwise the wire path's kernel-to-kernel
# measurement (same namespaces, cores, MTU) serves.
s2s_kernel_for() {
	[ "$S2S_KVETH" = 1 ] && return 0
	case "$1" in iperf3.tcp*) return 0 ;; esac
	return 1
}
echo "bench: $RUNS run(s) of ${DUR}s per figure; server on core $SRV_CORE, client on core $CLI_CORE; libftcp polling: $FTCP_MODE"
for SC in $SCENARIOS; do
	selected "$SC" || continue
	for PATH_ in wire s2s; do
		case ",$PATHS," in *",$PATH_,"*) ;; *) continue ;; esac
		for SIDE in ${SIDES[$PATH_]}; do
			[ "$SIDE" = kernel_bp ] && ! busy_poll_for "$SC" && continue
			[ "$SIDE" = libftcp_nospin ] && ! nospin_for "$SC" && continue
			[ "$PATH_" = s2s ] && [ "$SIDE" != libftcp ] && ! s2s_kernel_for "$SC" && continue
			echo "  $SC  $PATH_  $SIDE  (at $(($(date +%s) - T_START)) s)"
			side_setup
			run_scenario
		done
	done
done
stop_server
bp 0
ip -n "$NS_S" link set vs xdp off 2>/dev/null

if [ "$CPU_COST" = 1 ] && [ -x "$bench/cpu_cost.sh" ]; then
	echo "bench: bench/cpu_cost.sh"
	timeout -k 5 300 "$bench/cpu_cost.sh" || echo "bench: bench/cpu_cost.sh failed (status $?)"
fi
jitter after
T_END=$(date +%s)
printf 'elapsed_s\t%s\n' "$((T_END - T_START))" >>"$WORK/meta.tsv"
printf 'load_after\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$WORK/meta.tsv"

"$PY" "$bench/report.py" --raw "$RAW" --meta "$WORK/meta.tsv" \
	--cpu-cost "$bench/results/cpu_cost.json" --out "$OUT" || die "bench/report.py failed"
echo "bench: done in $((T_END - T_START)) s: $OUT/results.md"
