#!/usr/bin/env bash
# CPU cost of a bulk TCP transfer through libftcp, counted in instructions
# by callgrind (deterministic: the same figure on a busy or an idle
# machine, run after run):
#
#     bench/cpu_cost.sh [--build DIR] [--size MiB] [--json FILE] [--keep DIR]
#                       [--sw-cksum]
#
# Runs bench/ftcp-cpu-cost (stack A sends --size MiB, default 64, to stack
# B over the in-memory link, MTU 1500, one MSS per segment) twice under
# `valgrind --tool=callgrind`, in parallel: once collecting only the calls
# on the sender A (the TX path), once only those on the receiver B (the RX
# path), each only in the steady-state window (setup, warm-up and close
# are not collected). callgrind_annotate then gives every function's own
# (exclusive) count and, for the copy and checksum routines, the counts by
# caller; the functions are grouped as follows, by name or by the source
# file the function lives in:
#
#   copy        libc's memcpy/memmove/mempcpy (every variant), split by
#               caller: app (the byte queue's ftcp_queue_* called from
#               ftcp_send/ftcp_recv), stack (the same called from the
#               receive path, or the queue's inline append in
#               tcp/ftcp_tcp_input.c: a segment's payload into the receive
#               queue), device (libftcp/dev/ftcp_memlink.c: the frame onto
#               the "wire"), other (any other caller).
#   nic         work a NIC does in hardware, here emulated by the memlink:
#               ftcp_wire_complete_cksums and rx_verify, and ftcp_cksum_add
#               when called by them or by libftcp/dev/ftcp_memlink.c.
#               Not counted in any figure (with --sw-cksum it is zero and
#               the stacks' own checksums are in "checksum" below).
#   app         the benchmark's own code (bench/ftcp-cpu-cost.c) between
#               its calls into the stack. Not counted.
#   device      the memlink driver: libftcp/dev/ftcp_memlink.c and its
#               receive fifo libftcp/base/ftcp_fifo.c. Counted (TX: the
#               transmit, RX: the receive side of the device).
#   stack       every other function (libftcp's core), shown by part:
#                 send/recv   libftcp/tcp/ftcp_tcp_api.c, base/ftcp_queue.c
#                             (the queue's write/read/peek split by caller as
#                             for the copies; ftcp_queue_write_at/_produce:
#                             input)
#                 output      tcp/ftcp_tcp_output.c, net/ftcp_tx.c,
#                             net/ftcp_arp.c, wire *_emit, ftcp_tcp_set_cksum*,
#                             ftcp_tcp_opts_len, ftcp_tcp_rcv_window (the window
#                             each segment carries), ftcp_queue_peek_ref (the
#                             payload reference)
#                 input       net/ftcp_eth.c, net/ftcp_ipv4.c,
#                             tcp/ftcp_tcp_input.c, _reass.c, _sack.c, _cc*.c,
#                             stack/ftcp_demux.c, wire *_parse
#                 timers      tcp/ftcp_tcp_timer.c, base/ftcp_heap.c,
#                             ftcp_timer_*
#                 poll/events stack/ftcp_stack.c, stack/ftcp_socket.c,
#                             base/ftcp_pool.c (the socket table)
#                 checksum    base/ftcp_cksum.c and wire/ftcp_wire_cksum.c
#                             when called by the stack (software checksums)
#                 other       anything not named above (listed in the JSON)
#
# "outside the copy" = device + stack; "with the copy" adds copy. Per byte
# divides by the bytes delivered in the window, per packet by the data
# segments A sent in it (B's ACKs are part of the RX path's cost). The
# target is RX+TX < 400 instructions per MSS segment outside the copy for
# the stack alone (a real NIC's driver is DPDK's, not the memlink): the
# last lines give that figure and the one with the memlink's own work.
#
# Writes a table to stdout and JSON to --json (default
# bench/results/cpu_cost.json). Builds the benchmark in --build (default
# build) if it is not there. Needs valgrind and python3 (meson's own).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

build=${FTCP_BENCH_BUILD:-build}
size=64
json=bench/results/cpu_cost.json
keep=
sw=
target=400
while [ $# -gt 0 ]; do
  case $1 in
    --build) build=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --json) json=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    --sw-cksum) sw=--sw-cksum; shift ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "cpu_cost: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
for tool in valgrind callgrind_annotate python3; do
  command -v $tool >/dev/null || { echo "cpu_cost: $tool not found (scripts/deps.sh installs it)" >&2; exit 1; }
done

[ -f "$build/build.ninja" ] || meson setup "$build" >/dev/null
ninja -C "$build" bench/ftcp-cpu-cost >/dev/null
bin=$build/bench/ftcp-cpu-cost

if [ -n "$keep" ]; then
  mkdir -p "$keep"
  work=$(cd "$keep" && pwd)
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi

# glibc copies blocks above a few KiB with `rep movsb`, which callgrind
# counts as one instruction per byte moved; with the threshold out of
# reach every copy runs glibc's vector loop, whose count follows the work
# a copy really is (and no longer depends on the size of each send).
export GLIBC_TUNABLES=glibc.cpu.x86_rep_movsb_threshold=0x7fffffffffffffff
run_side() { # side: tx or rx
  valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file="$work/callgrind.$1" \
    "$bin" --size "$size" --collect "$1" $sw >"$work/bench.$1" 2>"$work/valgrind.$1"
}
start=$SECONDS
run_side tx & pid_tx=$!
run_side rx & pid_rx=$!
fail=0
wait $pid_tx || fail=1
wait $pid_rx || fail=1
if [ $fail -ne 0 ]; then
  echo "cpu_cost: the benchmark failed under valgrind:" >&2
  tail -n 20 "$work"/bench.* "$work"/valgrind.* >&2
  exit 1
fi
# From inside the repository callgrind_annotate shortens source paths and
# then loses callers in its tree: run it from the work directory.
for side in tx rx; do
  (cd "$work" && callgrind_annotate --inclusive=no --tree=caller --threshold=100 --auto=no \
    "callgrind.$side" >"annotate.$side")
done

mkdir -p "$(dirname "$json")"
# The commit measured, marked when the core or the benchmark differ from it
# (others' uncommitted files elsewhere do not count).
commit=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ "$commit" != unknown ] &&
   ! git -C "$top" diff --quiet HEAD -- libftcp bench/ftcp-cpu-cost.c bench/cpu_cost.sh; then
  commit="$commit+modified"
fi
python3 - "$work" "$json" "$target" "$((SECONDS - start))" "${sw:+software}" "$commit" <<'PY'
import json, re, sys

work, out_json, target, secs, cksum_mode, commit = sys.argv[1:7]
target = int(target)
cksum_mode = cksum_mode or "offloaded (emulated NIC)"

def bench_stats(side):
    st = {}
    for line in open(f"{work}/bench.{side}"):
        parts = line.split()
        if len(parts) == 2 and re.fullmatch(r"[a-z_0-9]+", parts[0]):
            st[parts[0]] = parts[1]
    return st

LINE = re.compile(r"^\s*([\d,]+) \(\s*[\d.]+%\)\s+(\*|<)\s+(.*?)(?: \((\d[\d,]*)x\))?(?: \[(.*)\])?\s*$")

def parse(side):
    """Self count per function, its home file, and callers of each."""
    total = None
    selfc, home, callers = {}, {}, {}
    pending = []
    for line in open(f"{work}/annotate.{side}"):
        if "PROGRAM TOTALS" in line:
            total = int(line.split()[0].replace(",", ""))
            continue
        m = LINE.match(line)
        if not m:
            continue
        count = int(m.group(1).replace(",", ""))
        path, _, fn = m.group(3).rpartition(":")
        rel = re.search(r"((?:libftcp|bench)/.*)$", path)
        path = rel.group(1) if rel else path
        if m.group(2) == "<":
            pending.append((fn, count))
            continue
        # Frames above the point where collection started carry the
        # whole total as a call cost that callgrind_annotate shows as
        # their own: they ran no collected instruction themselves.
        if fn == "(below main)" or fn.startswith("__libc_start") or re.fullmatch(r"0x[0-9a-f]+", fn):
            pending = []
            continue
        selfc[fn] = selfc.get(fn, 0) + count
        # A function's lines may come from headers inlined into it; its
        # home is the .c file holding most of its own lines.
        rank = (path.endswith(".c"), count)
        if rank > home.get(fn, ("", (False, -1)))[1]:
            home[fn] = (path, rank)
        for cfn, c in pending:
            callers.setdefault(fn, {})
            callers[fn][cfn] = callers[fn].get(cfn, 0) + c
        pending = []
    return total, selfc, {f: h[0] for f, h in home.items()}, callers

COPY = re.compile(r"^_*(memcpy|memmove|mempcpy)")
MEMLINK = "libftcp/dev/ftcp_memlink.c"
NIC_FNS = {"ftcp_wire_complete_cksums", "rx_verify"}
QUEUE_FNS = {"ftcp_queue_write", "ftcp_queue_write_at", "ftcp_queue_read", "ftcp_queue_peek"}
APP_CALLS = {"ftcp_send", "ftcp_recv", "ftcp_recvfrom", "ftcp_sendto"}
PARTS = ["send/recv", "output", "input", "timers", "poll/events", "checksum", "other"]

def stack_part(fn, path):
    if fn in ("ftcp_queue_write_at", "ftcp_queue_produce") or fn.endswith("_parse"):
        return "input"
    if (fn.endswith("_emit") or fn.startswith("ftcp_tcp_set_cksum") or
            fn in ("ftcp_tcp_opts_len", "ftcp_tcp_rcv_window", "ftcp_queue_peek_ref")):
        return "output"
    if fn.startswith("ftcp_timer_"):
        return "timers"
    f = path.rsplit("/", 1)[-1]
    if f in ("ftcp_tcp_api.c", "ftcp_queue.c", "ftcp_queue.h"):
        return "send/recv"
    if f in ("ftcp_tcp_output.c", "ftcp_tx.c", "ftcp_arp.c"):
        return "output"
    if f in ("ftcp_eth.c", "ftcp_ipv4.c", "ftcp_tcp_input.c", "ftcp_tcp_reass.c", "ftcp_tcp_sack.c",
             "ftcp_demux.c") or f.startswith("ftcp_tcp_cc"):
        return "input"
    if f in ("ftcp_tcp_timer.c", "ftcp_heap.c"):
        return "timers"
    if f in ("ftcp_stack.c", "ftcp_socket.c", "ftcp_pool.c"):
        return "poll/events"
    if f in ("ftcp_cksum.c", "ftcp_wire_cksum.c"):
        return "checksum"
    return "other"

def classify(side):
    total, selfc, home, callers = parse(side)
    if total is None:
        sys.exit(f"cpu_cost: no totals in the {side} profile")
    g = {"copy": {"app": 0, "stack": 0, "device": 0, "other": 0}, "nic": 0, "app": 0, "device": 0,
         "stack": {p: 0 for p in PARTS}}
    other_fns, where = {}, {}
    for fn, c in selfc.items():
        path = home.get(fn, "")
        where[fn] = (c, path)
        if COPY.match(fn):
            by = callers.get(fn, {})
            rest = c
            for cfn, cc in by.items():
                rest -= cc
                if home.get(cfn) == MEMLINK:
                    g["copy"]["device"] += cc
                    continue
                if home.get(cfn, "").endswith("tcp/ftcp_tcp_input.c"):
                    g["copy"]["stack"] += cc  # ftcp_queue_append, inlined
                    continue
                if cfn not in QUEUE_FNS:
                    g["copy"]["other"] += cc
                    continue
                # The byte queue serves both the socket calls and the
                # receive path: split by who called the queue, in
                # proportion to those calls' counts.
                up = callers.get(cfn, {})
                upt = sum(up.values())
                for ufn, uc in up.items():
                    kind = "app" if ufn in APP_CALLS else "stack"
                    g["copy"][kind] += cc * uc / upt
                if not upt:
                    g["copy"]["other"] += cc
            g["copy"]["other"] += rest  # callers below the annotate threshold (none at 100 %)
        elif fn in NIC_FNS:
            g["nic"] += c
        elif path.startswith("bench/"):
            g["app"] += c
        elif path == MEMLINK or path.endswith("base/ftcp_fifo.c"):
            g["device"] += c
        elif fn.startswith("ftcp_cksum"):
            # The same summing routine serves the emulated NIC and the
            # stack's software checksums: split by caller.
            nic = sum(cc for cfn, cc in callers.get(fn, {}).items()
                      if cfn in NIC_FNS or home.get(cfn) == MEMLINK)
            g["nic"] += nic
            g["stack"]["checksum"] += c - nic
        elif fn in QUEUE_FNS and callers.get(fn):
            # The byte queue's own work, like its copies, goes to the
            # socket calls or the receive path by who called it.
            up = callers[fn]
            upt = sum(up.values())
            for ufn, uc in up.items():
                g["stack"]["send/recv" if ufn in APP_CALLS else "input"] += c * uc / upt
        else:
            part = stack_part(fn, path)
            g["stack"][part] += c
            if part == "other":
                other_fns[fn] = c
    counted = (sum(g["copy"].values()) + g["nic"] + g["app"] + g["device"] + sum(g["stack"].values()))
    if abs(counted - total) > total * 0.001:
        sys.exit(f"cpu_cost: {side}: functions add up to {counted}, callgrind counted {total}")
    return total, g, other_fns, where

stats = {s: bench_stats(s) for s in ("tx", "rx")}
keys = ("window_bytes", "window_data_segments", "window_ack_segments", "mss", "stream_checksum_rx")
for k in keys:
    if stats["tx"].get(k) != stats["rx"].get(k):
        sys.exit(f"cpu_cost: the two runs differ in {k}: not deterministic?")
nbytes = int(stats["tx"]["window_bytes"])
segs = int(stats["tx"]["window_data_segments"])
acks = int(stats["tx"]["window_ack_segments"])

res = {}
for side in ("tx", "rx"):
    total, g, other, where = classify(side)
    stack = sum(g["stack"].values())
    copy = sum(g["copy"].values())
    outside = stack + g["device"]
    res[side] = {
        "collected": total,
        "outside_copy": outside,
        "with_copy": outside + copy,
        "stack_only": stack,
        "device": g["device"],
        "copy": g["copy"],
        "nic_emulation_not_counted": g["nic"],
        "app_not_counted": g["app"],
        "stack_parts": g["stack"],
        "other_functions": other,
        "functions_by_own_count": {fn: {"per_packet": round(c / segs, 1), "file": p} for fn, (c, p) in
                                   sorted(where.items(), key=lambda kv: -kv[1][0]) if c >= segs / 10},
        "per_byte": {"outside_copy": outside / nbytes, "with_copy": (outside + copy) / nbytes},
        "per_packet": {"outside_copy": outside / segs, "with_copy": (outside + copy) / segs},
    }

both = (res["tx"]["outside_copy"] + res["rx"]["outside_copy"]) / segs
both_stack = (res["tx"]["stack_only"] + res["rx"]["stack_only"]) / segs
doc = {
    "benchmark": "cpu_cost",
    "commit": commit,
    "tool": "valgrind --tool=callgrind (instructions, Ir)",
    "transfer": {"bytes": nbytes, "data_segments": segs, "ack_segments": acks,
                 "mss": int(stats["tx"]["mss"]), "mtu": 1500, "checksums": cksum_mode,
                 "stream_checksum": stats["tx"]["stream_checksum_rx"]},
    "tx": res["tx"],
    "rx": res["rx"],
    "rx_tx_per_segment_outside_copy": both,
    "rx_tx_per_segment_stack_only": both_stack,
    "target_per_segment_outside_copy": target,
    "target_applies_to": "rx_tx_per_segment_stack_only",
    "target_met": both_stack < target,
    "wall_seconds": int(secs),
}
with open(out_json, "w") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")

w = 12
print(f"libftcp CPU cost (callgrind): {nbytes / 1048576:.0f} MiB A -> B, {segs} data segments "
      f"(MSS {stats['tx']['mss']}), {acks} ACKs, checksums {cksum_mode}")
print(f"{'instructions':<28}{'TX/pkt':>{w}}{'RX/pkt':>{w}}{'TX/byte':>{w}}{'RX/byte':>{w}}")
def row(label, tx, rx):
    print(f"{label:<28}{tx / segs:>{w}.1f}{rx / segs:>{w}.1f}{tx / nbytes:>{w}.3f}{rx / nbytes:>{w}.3f}")
for p in PARTS:
    row(f"  stack: {p}", res["tx"]["stack_parts"][p], res["rx"]["stack_parts"][p])
row("  device (memlink driver)", res["tx"]["device"], res["rx"]["device"])
row("outside the copy", res["tx"]["outside_copy"], res["rx"]["outside_copy"])
for k in ("app", "stack", "device", "other"):
    row(f"  copy: {k}", res["tx"]["copy"][k], res["rx"]["copy"][k])
row("with the copy", res["tx"]["with_copy"], res["rx"]["with_copy"])
row("(not counted) NIC emulation", res["tx"]["nic_emulation_not_counted"], res["rx"]["nic_emulation_not_counted"])
row("(not counted) benchmark app", res["tx"]["app_not_counted"], res["rx"]["app_not_counted"])
print(f"RX+TX per MSS segment outside the copy, the stack alone: {both_stack:.1f} instructions "
      f"(TX {res['tx']['stack_only'] / segs:.1f} + RX {res['rx']['stack_only'] / segs:.1f}); "
      f"target < {target}: {'pass' if both_stack < target else 'MISS'}")
print(f"RX+TX per MSS segment outside the copy, with the memlink device: {both:.1f} instructions "
      f"(TX {res['tx']['outside_copy'] / segs:.1f} + RX {res['rx']['outside_copy'] / segs:.1f})")
print(f"JSON: {out_json}   ({secs} s)")
PY
