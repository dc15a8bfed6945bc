#!/usr/bin/python3
"""bench/report.py — results.json, results.md, MACHINE.md and PNG charts from
bench/run.sh's raw runs.

  report.py --raw RAW.tsv --meta META.tsv [--cpu-cost FILE] --out DIR
  report.py --from DIR/results.json --out DIR      (re-render only)

RAW.tsv: one line per figure per run: path side scenario figure unit run
value note (value "null" for a run that failed, note = the reason).
"""
import argparse
import json
import math
import os
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

SIDES = ("libftcp", "libftcp_nospin", "kernel", "kernel_bp")
SIDE_NAME = {"libftcp": "libftcp", "libftcp_nospin": "libftcp (FTCP_SPIN_US=0)", "kernel": "kernel (default)",
             "kernel_bp": "kernel (busy poll)"}
SIDE_COLOR = {"libftcp": "#d62728", "libftcp_nospin": "#ff9896", "kernel": "#1f77b4", "kernel_bp": "#17becf"}
PATH_NAME = {
    "wire": "Stack to kernel, same wire (veth; server: libftcp over net_af_xdp or the kernel; client: the kernel)",
    "s2s": "Stack to stack (libftcp: two processes over net_memif; kernel: two namespaces over veth)",
}
PATH_SHORT = {"wire": "same wire (veth)", "s2s": "stack to stack"}

# scenario id -> title, figures (name, unit, better), work unit for CPU cost
SCEN = {
    "iperf3.tcp1_up": ("iperf3 TCP, 1 stream, client → server", [("throughput", "Gbit/s", "higher")], "byte"),
    "iperf3.tcp1_down": ("iperf3 TCP, 1 stream, server → client (-R)", [("throughput", "Gbit/s", "higher")], "byte"),
    "iperf3.tcp4_up": ("iperf3 TCP, 4 streams, client → server", [("throughput", "Gbit/s", "higher")], "byte"),
    "iperf3.tcp4_down": ("iperf3 TCP, 4 streams, server → client (-R)", [("throughput", "Gbit/s", "higher")], "byte"),
    "iperf3.udp64": ("iperf3 UDP, 64 B datagrams, client → server (-b 0)",
                     [("received packets/s", "packets/s", "higher"), ("loss", "%", "lower")], "packet"),
    "sockperf.tcp64": ("sockperf ping-pong TCP 64 B", [("p50", "us", "lower"), ("p99", "us", "lower"), ("p99.9", "us", "lower")], "request"),
    "sockperf.tcp1k": ("sockperf ping-pong TCP 1 KB", [("p50", "us", "lower"), ("p99", "us", "lower"), ("p99.9", "us", "lower")], "request"),
    "sockperf.udp64": ("sockperf ping-pong UDP 64 B", [("p50", "us", "lower"), ("p99", "us", "lower"), ("p99.9", "us", "lower")], "request"),
    "sockperf.udp1k": ("sockperf ping-pong UDP 1 KB", [("p50", "us", "lower"), ("p99", "us", "lower"), ("p99.9", "us", "lower")], "request"),
    "redis.c50": ("redis-benchmark, 50 clients", [("SET requests/s", "requests/s", "higher"), ("GET requests/s", "requests/s", "higher")], "request"),
    "redis.p16": ("redis-benchmark, 50 clients, pipeline 16", [("SET requests/s", "requests/s", "higher"), ("GET requests/s", "requests/s", "higher")], "request"),
    "nginx.wrk": ("nginx + wrk, 17 B file, 32 keep-alive connections", [("requests/s", "requests/s", "higher")], "request"),
    "conn.close": ("connection rate: wrk -H 'Connection: close' against nginx, 16 connections",
                   [("requests/s", "connections/s", "higher")], "request"),
}
CPU_UNIT = {"byte": ("ns/byte", 1e9), "packet": ("us/packet", 1e6), "request": ("us/request", 1e6)}


def fnum(v, unit=""):
    if v is None:
        return "—"
    a = abs(v)
    if unit == "Gbit/s" or unit == "%" or a < 10:
        s = f"{v:.3g}" if a < 100 else f"{v:.0f}"
        if unit in ("Gbit/s",):
            s = f"{v:.2f}"
    elif a < 1000:
        s = f"{v:.1f}" if a < 100 else f"{v:.0f}"
    else:
        s = f"{v:,.0f}"
    return s


# --- building results.json -------------------------------------------------

def read_meta(path):
    meta = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("\t")
            meta[k] = v
    return meta


def agg(values):
    vals = [v for v in values if v is not None]
    if not vals:
        return None, None, None
    return statistics.median(vals), min(vals), max(vals)


def floor_of(meta):
    """ftcp-jitter's lines (bench/run.sh: before and after the scenarios)."""
    out = {}
    for when in ("before", "after"):
        d = {}
        for k, v in meta.items():
            pre = f"jitter_{when}_"
            if not k.startswith(pre):
                continue
            f = v.split()
            try:
                if k.endswith("_pingpong") and len(f) >= 5:
                    d["pingpong_one_way_us"] = {"p50": float(f[0]), "p99": float(f[1]), "p99.9": float(f[2]),
                                                "p99.99": float(f[3]), "samples": int(f[4])}
                elif "_stalls_core" in k and len(f) >= 4:
                    d["stalls_core" + k.rsplit("core", 1)[1]] = {"over_5us_per_s": float(f[0]), "median_us": float(f[1]),
                                                                 "p99_us": float(f[2]), "max_us": float(f[3])}
            except ValueError:
                pass
        if d:
            out[when] = d
    return out


def floor_md(fl):
    """One line per measurement of the machine's floor."""
    L = []
    for when, d in fl.items():
        st = "; ".join(f"core {k[len('stalls_core'):]}: {v['over_5us_per_s']:.0f}/s over 5 µs (median {v['median_us']:.1f} µs, "
                       f"p99 {v['p99_us']:.0f} µs, max {v['max_us']:.0f} µs)" for k, v in sorted(d.items()) if k.startswith("stalls_core"))
        pp = d.get("pingpong_one_way_us")
        ps = (f"shared-memory ping-pong between the cores, one way: p50 {pp['p50']:.2f}, p99 {pp['p99']:.2f}, "
              f"p99.9 {pp['p99.9']:.2f}, p99.99 {pp['p99.99']:.2f} µs" if pp else "")
        L.append(f"{when} the scenarios: a spinning thread's stalls, {st}; {ps}")
    return L


def build(raw_path, meta_path, cpu_cost_path):
    meta = read_meta(meta_path)
    runs_n = int(meta.get("runs", "3"))
    rows = {}  # (path, side, scen) -> run -> {figure: (unit, value)}, notes
    errors = {}
    notes = {}
    with open(raw_path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 8:
                parts += [""] * (8 - len(parts))
            path, side, scen, fig, unit, run, val, note = parts[:8]
            key = (path, side, scen)
            run = int(run)
            if fig == "_note":
                notes.setdefault(key, {})[run] = (notes.get(key, {}).get(run, "") + "; " + note).strip("; ")
                continue
            if val == "null":
                errors.setdefault(key, {})[run] = note
                continue
            rows.setdefault(key, {}).setdefault(run, {})[fig] = (unit, float(val))
            if note and note not in notes.get(key, {}).get(run, ""):
                notes.setdefault(key, {})[run] = (notes.get(key, {}).get(run, "") + "; " + note).strip("; ")
    keys = sorted(set(rows) | set(errors), key=lambda k: (list(SCEN).index(k[2]) if k[2] in SCEN else 99, k[0], SIDES.index(k[1]) if k[1] in SIDES else 9))
    figures = []
    for key in keys:
        path, side, scen = key
        title, figs, work_unit = SCEN.get(scen, (scen, [], "request"))
        byrun = rows.get(key, {})
        err = errors.get(key, {})
        allruns = sorted(set(byrun) | set(err)) or list(range(1, runs_n + 1))
        extra = []
        for r in byrun.values():
            for name, (unit, _) in r.items():
                if name not in [f[0] for f in figs] + [e[0] for e in extra] and name not in ("work", "server_cpu", "server_core_busy", "interval"):
                    extra.append((name, unit, "higher" if "/s" in unit else "lower"))
        cpu_name, cpu_scale = CPU_UNIT[work_unit]
        derived = [("server CPU per " + work_unit, cpu_name, "lower"), ("server core busy per " + work_unit, cpu_name, "lower")]
        for name, unit, better in figs + extra + derived:
            vals = []
            for r in allruns:
                rr = byrun.get(r)
                if rr is None or r in err:
                    vals.append(None)
                    continue
                if name.startswith("server CPU per"):
                    w = rr.get("work", (None, 0))[1]
                    c = rr.get("server_cpu", (None, None))[1]
                    vals.append(c / w * cpu_scale if c is not None and c >= 0 and w else None)
                elif name.startswith("server core busy per"):
                    w = rr.get("work", (None, 0))[1]
                    c = rr.get("server_core_busy", (None, None))[1]
                    vals.append(c / w * cpu_scale if c is not None and w else None)
                else:
                    vals.append(rr.get(name, (unit, None))[1])
            med, lo, hi = agg(vals)
            if name.startswith("server ") and med is None and not err:
                continue
            figures.append({
                "path": path, "side": side, "scenario": scen, "title": title, "figure": name,
                "unit": unit, "better": better, "runs": vals, "median": med, "min": lo, "max": hi,
                "failed_runs": {str(r): err[r] for r in sorted(err)},
                "notes": {str(r): n for r, n in sorted(notes.get(key, {}).items())},
                "server_cpu_s": [byrun.get(r, {}).get("server_cpu", (None, None))[1] for r in allruns],
                "interval_s": [byrun.get(r, {}).get("interval", (None, None))[1] for r in allruns],
                "work": [byrun.get(r, {}).get("work", (None, None))[1] for r in allruns],
                "work_unit": work_unit + "s",
            } if name.startswith("server ") else {
                "path": path, "side": side, "scenario": scen, "title": title, "figure": name,
                "unit": unit, "better": better, "runs": vals, "median": med, "min": lo, "max": hi,
                "failed_runs": {str(r): err[r] for r in sorted(err)},
                "notes": {str(r): n for r, n in sorted(notes.get(key, {}).items())},
            })
    shared = meta.get("s2s_kernel_veth", "0") == "0"
    res = {
        "about": "libftcp against the Linux kernel: bench/run.sh; each figure is the median of its runs, min and max kept",
        "machine": {k: meta.get(k) for k in ("cpu_model", "virtualization", "cores", "mem_total", "kernel", "os", "dpdk", "compiler")},
        "versions": {k: meta.get(k) for k in ("libftcp_commit", "libftcp_so", "dpdk", "kernel", "iperf3", "sockperf", "redis", "redis_benchmark", "nginx", "wrk")},
        "date": meta.get("date"),
        "config": {
            "runs": runs_n,
            "duration_s": int(meta.get("duration_s", "2")),
            "paths": meta.get("paths"),
            "only": meta.get("only"),
            "mtu": meta.get("mtu"),
            "cores": {
                "server": int(meta.get("server_core", "1")),
                "client": int(meta.get("client_core", "0")),
                "rule": "every server (kernel program, or libftcp program with its stack) pinned to the server core with taskset, "
                        "every client to the client core; DPDK's -l names the same core; the same two cores for every side",
            },
            "polling": {
                "libftcp": ("inline: FTCP_CORE=inline, the program's own thread polls the NIC queue inside its socket calls "
                            f"(spins FTCP_SPIN_US={meta.get('ftcp_spin_us', '100')} us, then sleeps until the NIC's fd shows frames "
                            "(net_af_xdp) or the stack's next timer is due, at most 10 ms; on net_memif, which has no such fd, "
                            "in 50 us steps)"
                            if meta.get("ftcp_core") == "inline" else
                            "poll thread: FTCP_CORE=<the program's core>, a pinned poll thread shares the core with the program"),
                "kernel": "default: interrupts/softirq (net.core.busy_poll=0, net.core.busy_read=0), veth GRO off (its default)",
                "kernel_bp": f"busy polling: net.core.busy_poll={meta.get('busy_poll_usec')} and net.core.busy_read={meta.get('busy_poll_usec')} "
                             "(global sysctls, restored afterwards), and GRO on at both veth ends, which gives veth a NAPI context "
                             "that busy polling can poll (without it busy_poll does nothing on veth)",
                "busy_poll_scenarios": "all" if meta.get("busy_poll_all") == "1" else "the request/response scenarios: sockperf (but UDP 1 KB), redis without pipelining, nginx, connection rate",
            },
            "wire": "veth pair between two namespaces; the client's end has TX checksum offload off (ethtool -K vc tx off), "
                    "as AF_XDP needs, for every side; libftcp server: net_af_xdp on the server's end, which has no kernel address then; "
                    + ("RPS on each end steers its receive processing to its own side's core (server end: the server core, client end: "
                       "the client core), as on two machines: veth otherwise runs the receiver's protocol stack on the sender's core"
                       if meta.get("rps", "0") == "1" else "RPS off (--no-rps): veth runs the receiver's protocol stack on the sender's core"),
            "libftcp_nospin": "same-wire runs of the CPU-target scenarios (iperf3 1 stream, redis, nginx, connection rate) repeated with "
                              "the libftcp server under FTCP_SPIN_US=0: it sleeps on the NIC's fd as soon as it has nothing to do",
            "s2s_kernel_baseline": ("its own veth pair between the same two namespaces, default offloads at both ends (TSO/GSO), "
                                    "for iperf3 TCP; for the other scenarios the wire path's kernel-to-kernel runs (the same two "
                                    "namespaces joined by a veth pair, same cores and MTU)"
                                    if shared else "its own veth pair with default offloads at both ends"),
            "s2s_libftcp": "server and client under libftcp.so in one namespace holding only loopback, joined by net_memif, "
                           "both with FTCP_TRUSTED_LINK=1 (no checksums on that link, as the kernel computes none over veth)",
            "cpu_accounting": "server core busy (the CPU targets' figure): user+nice+system+irq+softirq of the server core from "
                              "/proc/stat over the client's run; server CPU: utime+stime of the server process (all threads) from "
                              "/proc/<pid>/stat over the same interval (misses receive softirq work done while the process sleeps)",
            "libftcp_eal": {"wire": meta.get("eal_wire"), "s2s": meta.get("eal_memif")},
            "libftcp_env": meta.get("ftcp_env"),
            "machine_floor": floor_of(meta),
            "load_before": meta.get("load_before"),
            "load_after": meta.get("load_after"),
        },
        "elapsed_s": int(meta["elapsed_s"]) if meta.get("elapsed_s", "").isdigit() else None,
        "figures": figures,
    }
    if shared:
        res["config"]["note"] = ("path s2s, sides kernel and kernel_bp: measured on their own veth pair for iperf3 TCP, "
                                 "taken from path wire for the rest (one kernel-to-kernel measurement serves both)")
    res["targets"] = targets(res)
    if cpu_cost_path and os.path.exists(cpu_cost_path):
        try:
            with open(cpu_cost_path) as f:
                res["cpu_cost"] = json.load(f)
        except (OSError, ValueError) as e:
            res["cpu_cost"] = {"error": f"{cpu_cost_path}: {e}"}
    return res


# --- looking figures up --------------------------------------------------------

def find(res, path, side, scen, fig):
    if path == "s2s" and side not in ("libftcp", "libftcp_nospin"):
        # Its own measurement where there is one, else the wire's.
        own = [f for f in res["figures"] if f["path"] == path and f["side"] == side and f["scenario"] == scen
               and f["figure"] == fig]
        if own:
            return own[0]
        path = "wire"
    for f in res["figures"]:
        if f["path"] == path and f["side"] == side and f["scenario"] == scen and f["figure"] == fig:
            return f
    return None


def med(res, path, side, scen, fig):
    f = find(res, path, side, scen, fig)
    return f["median"] if f else None


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def targets(res):
    out = []

    def add(name, path, scen, fig, against, op, bound, side="libftcp"):
        a = med(res, path, side, scen, fig)
        b = med(res, path, against, scen, fig)
        r = ratio(a, b)
        met = None if r is None else (r <= bound if op == "<=" else r >= bound)
        out.append({"target": name, "path": path, "scenario": scen, "figure": fig, "against": against,
                    "side": side, "libftcp": a, "baseline": b, "ratio": r, "op": op, "bound": bound, "met": met})

    for scen in ("sockperf.tcp64", "sockperf.tcp1k"):
        add("sockperf TCP p50 ≤ 1/4 of the default kernel's", "s2s", scen, "p50", "kernel", "<=", 0.25)
        add("sockperf TCP p50 ≤ 1/2 of the busy-polling kernel's", "s2s", scen, "p50", "kernel_bp", "<=", 0.5)
        add("sockperf TCP p99.9 ≤ 1/3 of the default kernel's", "s2s", scen, "p99.9", "kernel", "<=", 1 / 3)
    for scen, fig in (("redis.c50", "SET requests/s"), ("redis.c50", "GET requests/s"),
                      ("redis.p16", "SET requests/s"), ("redis.p16", "GET requests/s"),
                      ("nginx.wrk", "requests/s"), ("conn.close", "requests/s")):
        add("≥ 2× kernel to kernel (clients under libftcp too)", "s2s", scen, fig, "kernel", ">=", 2.0)
    # Judged from the server core's accounting (the kernel server's receive
    # softirq is not always the process's time), on the libftcp server that
    # sleeps when idle: a spinning one is busy by definition.
    for scen in ("redis.c50", "redis.p16", "nginx.wrk", "conn.close"):
        add("server core time per request ≤ 1/2 of the kernel server's", "wire", scen, "server core busy per request",
            "kernel", "<=", 0.5, side="libftcp_nospin")
    for scen in ("iperf3.tcp1_up", "iperf3.tcp1_down"):
        add("server core time per byte ≤ 1/2 of the kernel server's", "wire", scen, "server core busy per byte",
            "kernel", "<=", 0.5, side="libftcp_nospin")
    # Throughput is judged stack to stack (a kernel client on the same wire
    # saturates its own core first), against the kernel on a veth pair
    # with its offloads.
    for scen in ("iperf3.tcp1_up", "iperf3.tcp1_down"):
        add("single-stream throughput ≥ the kernel's", "s2s", scen, "throughput", "kernel", ">=", 1.0)
    return out


# --- Markdown ----------------------------------------------------------------

def cell(f):
    if f is None:
        return "—"
    if f["median"] is None:
        return "**failed**"
    s = fnum(f["median"], f["unit"])
    if f["min"] != f["max"]:
        s += f" [{fnum(f['min'], f['unit'])}–{fnum(f['max'], f['unit'])}]"
    nfail = sum(1 for v in f["runs"] if v is None)
    if nfail:
        s += f" ({nfail} of {len(f['runs'])} runs failed)"
    return s


def rcell(r):
    if r is None:
        return "—"
    return f"{r:.2f}×" if r >= 0.1 else f"{r:.2g}×"


def target_cells(res, path, scen, fig):
    ts = [t for t in res["targets"] if t["path"] == path and t["scenario"] == scen and t["figure"] == fig]
    if not ts:
        return "", ""
    tt = "; ".join(t["target"] for t in ts)
    mm = "; ".join("—" if t["met"] is None else ("**met**" if t["met"] else "missed") + f" ({rcell(t['ratio'])})" for t in ts)
    return tt, mm


def markdown(res):
    c = res["config"]
    m = res["machine"]
    L = []
    L.append("# libftcp against the Linux kernel")
    L.append("")
    L.append(f"Produced by `bench/run.sh` on {res['date']} ({res.get('elapsed_s') or '?'} s for the whole run). "
             f"Machine: {m['cpu_model']}, {m['cores']} cores ({m['virtualization']}), {m['mem_total']}, "
             f"Linux {m['kernel']}, DPDK {m['dpdk']} (details in MACHINE.md). libftcp {res['versions']['libftcp_commit']}.")
    L.append("")
    L.append(f"Each figure: the median of {c['runs']} runs of {c['duration_s']} s, [min–max]. "
             "Ratios are libftcp / kernel (for latency and CPU cost lower is better, for rates higher).")
    L.append("")
    L.append(f"- **Cores**: server on core {c['cores']['server']}, client on core {c['cores']['client']} (taskset, and DPDK `-l`), "
             "for every side: the same two-core budget.")
    L.append(f"- **libftcp polling**: {c['polling']['libftcp']}. {c.get('libftcp_env') or ''}; EAL: `{(c.get('libftcp_eal') or {}).get('wire')}` "
             f"(same wire), `{(c.get('libftcp_eal') or {}).get('s2s')}` (stack to stack).")
    L.append(f"- **Kernel, default**: {c['polling']['kernel']}.")
    L.append(f"- **Kernel, busy poll**: {c['polling']['kernel_bp']}; measured for {c['polling']['busy_poll_scenarios']}.")
    L.append(f"- **Same wire**: {c['wire']}.")
    if c.get("libftcp_nospin"):
        L.append(f"- **libftcp, FTCP_SPIN_US=0**: {c['libftcp_nospin']}.")
    L.append(f"- **Stack to stack**: libftcp: {c['s2s_libftcp']}; kernel: {c['s2s_kernel_baseline']}.")
    L.append(f"- **CPU**: {c['cpu_accounting']}.")
    fl = floor_md(c.get("machine_floor") or {})
    if fl:
        L.append("- **The machine's floor** (bench/ftcp-jitter: no network, no libftcp): " + "; ".join(fl) + ". "
                 "A round trip that meets a stall of either core lasts at least that stall, so the slowest "
                 "0.1 % of any ping-pong here (hundreds of thousands of round trips per second) is made of them: "
                 "no stack's p99.9 can be far below the stalls' median, and even the shared-memory ping-pong, "
                 "with no network at all, shows them at p99.99.")
    L.append(f"- sockperf reports one-way latency (half the round trip), in µs. Load average before/after the run: "
             f"{c.get('load_before')} / {c.get('load_after')} (a shared, noisy machine).")
    L.append("")

    L.append("## Targets")
    L.append("")
    L.append("| target | path | scenario | figure | libftcp | baseline | ratio | bound | met? |")
    L.append("|---|---|---|---|---|---|---|---|---|")
    for t in res["targets"]:
        unit = (find(res, t["path"], t.get("side", "libftcp"), t["scenario"], t["figure"]) or {}).get("unit", "")
        met = "—" if t["met"] is None else ("**met**" if t["met"] else "missed")
        b = f"{t['op']} {t['bound']:.2f}×"
        L.append(f"| {t['target']} | {PATH_SHORT[t['path']]} | {SCEN.get(t['scenario'], (t['scenario'],))[0]} | {t['figure']} "
                 f"| {fnum(t['libftcp'], unit)}{'' if t.get('side', 'libftcp') == 'libftcp' else ' ' + SIDE_NAME[t['side']]} | {fnum(t['baseline'], unit)} {SIDE_NAME[t['against']]} | {rcell(t['ratio'])} | {b} | {met} |")
    L.append("")

    for path in ("wire", "s2s"):
        pf = [f for f in res["figures"] if f["path"] == path]
        if not pf:
            continue
        L.append(f"## {PATH_NAME[path]}")
        L.append("")
        if path == "s2s" and c["s2s_kernel_baseline"].startswith("its own veth pair between"):
            L.append("Kernel columns: iperf3 TCP on a veth pair of its own with default offloads; the other scenarios "
                     "from the kernel-to-kernel veth runs of the same-wire path.")
            L.append("")
        ns = path == "wire" and any(f["side"] == "libftcp_nospin" for f in pf)
        L.append("| scenario | figure | unit | libftcp |" + (" libftcp, FTCP_SPIN_US=0 |" if ns else "")
                 + " kernel | kernel busy poll | libftcp/kernel | libftcp/busy poll | target | met? |")
        L.append("|---|---|---|---|" + ("---|" if ns else "") + "---|---|---|---|---|---|")
        seen = set()
        for f in pf:
            if f["side"] != "libftcp" and (find(res, path, "libftcp", f["scenario"], f["figure"]) or f["side"] == "libftcp_nospin"):
                continue
            key = (f["scenario"], f["figure"])
            if key in seen or f["figure"].startswith("server ") or f["figure"] in ("sent packets/s", "retransmits", "round trips/s", "avg"):
                continue
            seen.add(key)
            lf = find(res, path, "libftcp", *key)
            kf = find(res, path, "kernel", *key)
            bf = find(res, path, "kernel_bp", *key)
            tt, mm = target_cells(res, path, *key)
            nf = find(res, path, "libftcp_nospin", *key)
            L.append(f"| {f['title']} | {f['figure']} | {f['unit']} | {cell(lf)} |" + (f" {cell(nf)} |" if ns else "") + f" {cell(kf)} | {cell(bf)} "
                     f"| {rcell(ratio(lf and lf['median'], kf and kf['median']))} | {rcell(ratio(lf and lf['median'], bf and bf['median']))} | {tt} | {mm} |")
        L.append("")

    L.append("## Server CPU time (same wire)")
    L.append("")
    L.append("The server core's busy time (user+nice+system+irq+softirq of the server's core in /proc/stat) over each "
             "client run, per unit of work: a byte received (iperf3 TCP, either direction), a datagram received (UDP), "
             "a request or round trip. With RPS each end's receive processing runs on its own core, so this counts "
             "the kernel server's softirq work as well as its process time. A polling stack spends its idle time "
             "polling, so the spinning libftcp column counts that too (a server waiting on a kernel client is busy by "
             "definition); the FTCP_SPIN_US=0 column is the same libftcp server sleeping on the NIC's fd whenever "
             "it has nothing to do, which the CPU targets are judged on. The server process's utime+stime is in "
             "results.json as `server CPU per ...`.")
    L.append("")
    L.append("| scenario | figure | unit | libftcp | libftcp, FTCP_SPIN_US=0 | kernel | kernel busy poll | libftcp/kernel "
             "| FTCP_SPIN_US=0/kernel | target | met? |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for f in res["figures"]:
        if f["path"] != "wire" or f["side"] != "libftcp" or not f["figure"].startswith("server core busy"):
            continue
        nf = find(res, "wire", "libftcp_nospin", f["scenario"], f["figure"])
        kf = find(res, "wire", "kernel", f["scenario"], f["figure"])
        bf = find(res, "wire", "kernel_bp", f["scenario"], f["figure"])
        tt, mm = target_cells(res, "wire", f["scenario"], f["figure"])
        L.append(f"| {f['title']} | {f['figure']} | {f['unit']} | {cell(f)} | {cell(nf)} | {cell(kf)} | {cell(bf)} "
                 f"| {rcell(ratio(f['median'], kf and kf['median']))} | {rcell(ratio(nf and nf['median'], kf and kf['median']))} "
                 f"| {tt} | {mm} |")
    L.append("")

    fails = []
    for f in res["figures"]:
        for r, why in f.get("failed_runs", {}).items():
            fails.append((f["path"], f["side"], f["scenario"], r, why))
    notes = []
    for f in res["figures"]:
        for r, n in f.get("notes", {}).items():
            notes.append((f["path"], f["side"], f["scenario"], r, n))
    L.append("## Failures and notes")
    L.append("")
    if not fails and not notes:
        L.append("None: every run produced its figures.")
    for p, s, sc, r, why in sorted(set(fails)):
        L.append(f"- **failed** {PATH_SHORT[p]}, {SIDE_NAME.get(s, s)}, {sc}, run {r}: {why}")
    for p, s, sc, r, n in sorted(set(notes)):
        L.append(f"- note: {PATH_SHORT[p]}, {SIDE_NAME.get(s, s)}, {sc}, run {r}: {n}")
    L.append("")

    if "cpu_cost" in res:
        L.append("## CPU cost (bench/cpu_cost.sh, from cpu_cost.json)")
        L.append("")
        L += cpu_cost_md(res["cpu_cost"])

    L.append("## Charts")
    L.append("")
    for name, what in CHARTS:
        if os.path.exists(os.path.join(OUTDIR, name)):
            L.append(f"![{what}]({name})")
            L.append("")
    return "\n".join(L)


def cpu_cost_md(cc):
    """The other helper's callgrind figures: the per-packet and per-byte
    instruction counts, its own target, the transfer; not the per-function
    lists (they are in results.json and cpu_cost.json)."""
    L = []
    if not isinstance(cc, dict):
        return ["(cpu_cost.json is not an object)", ""]
    if "tool" in cc:
        L.append(f"Measured with {cc['tool']}; instructions, deterministic (unlike the timings above).")
        L.append("")
    parts = [k for k in ("tx", "rx") if isinstance(cc.get(k), dict)]
    if parts:
        L.append("| instructions | " + " | ".join(f"{k.upper()} per packet | {k.upper()} per byte" for k in parts) + " |")
        L.append("|---|" + "---|---|" * len(parts))
        kinds = []
        for k in parts:
            for unit in ("per_packet", "per_byte"):
                for kk in (cc[k].get(unit) or {}):
                    if kk not in kinds:
                        kinds.append(kk)
        for kind in kinds:
            row = [kind.replace("_", " ")]
            for k in parts:
                for unit in ("per_packet", "per_byte"):
                    v = (cc[k].get(unit) or {}).get(kind)
                    row.append("—" if v is None else (f"{v:.1f}" if unit == "per_packet" else f"{v:.3f}"))
            L.append("| " + " | ".join(row) + " |")
        L.append("")
    rest = [(k, v) for k, v in cc.items() if k not in ("tx", "rx", "tool")]
    if rest:
        L.append("| key | value |")
        L.append("|---|---|")
        for k, v in flatten(dict(rest)):
            L.append(f"| {k} | {v} |")
        L.append("")
    return L


def flatten(d, prefix=""):
    out = []
    if isinstance(d, dict):
        for k, v in d.items():
            out += flatten(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(d, list) and len(d) <= 40:
        for i, v in enumerate(d):
            out += flatten(v, f"{prefix}[{i}]")
    else:
        v = d
        if isinstance(v, float):
            v = f"{v:.4g}"
        out.append((prefix, str(v)[:200]))
    return out


def machine_md(res):
    m = res["machine"]
    v = res["versions"]
    c = res["config"]
    L = ["# The machine of the committed results", "",
         f"Measured {res['date']} by `bench/run.sh` ({c['runs']} runs of {c['duration_s']} s per figure).", "",
         "| what | value |", "|---|---|",
         f"| CPU | {m['cpu_model']} |",
         f"| cores | {m['cores']} ({m['virtualization']}; a shared virtual machine: other jobs ran at the same time) |",
         f"| memory | {m['mem_total']} |",
         f"| OS | {m['os']} |",
         f"| kernel | {m['kernel']} |",
         f"| DPDK | {v['dpdk']} (Debian libdpdk-dev) |",
         f"| compiler | {m['compiler']} |",
         f"| libftcp | {v['libftcp_commit']}, libftcp.so built {v['libftcp_so']} |",
         f"| iperf3 | {v['iperf3']} |",
         f"| sockperf | {v['sockperf']} |",
         f"| redis | {v['redis']}; {v['redis_benchmark']} |",
         f"| nginx | {v['nginx']} |",
         f"| wrk | {v['wrk']} |",
         f"| MTU | {c['mtu']} |",
         f"| cores used | server {c['cores']['server']}, client {c['cores']['client']} |",
         f"| load average before / after | {c.get('load_before')} / {c.get('load_after')} |"]
    for line in floor_md(c.get("machine_floor") or {}):
        L.append(f"| floor (bench/ftcp-jitter) | {line} |")
    L.append("")
    return "\n".join(L)


# --- charts --------------------------------------------------------------------

CHARTS = [("throughput.png", "iperf3 TCP throughput"), ("udp.png", "iperf3 UDP 64 B packet rate"),
          ("latency.png", "sockperf ping-pong latency"), ("requests.png", "requests per second"),
          ("cpu.png", "server core time per unit of work"), ("ratios.png", "libftcp / kernel ratios and targets")]
OUTDIR = "."


def bars(ax, res, path, items, ylabel, log=False, sides=SIDES):
    """items: list of (label, scenario, figure)."""
    n = len(sides)
    w = 0.8 / n
    for i, side in enumerate(sides):
        xs, ys, lo, hi, fails = [], [], [], [], []
        for j, (_, scen, fig) in enumerate(items):
            f = find(res, path, side, scen, fig)
            x = j + (i - (n - 1) / 2) * w
            if f is None:
                continue
            if f["median"] is None:
                fails.append(x)
                continue
            xs.append(x)
            ys.append(f["median"])
            lo.append(f["median"] - f["min"])
            hi.append(f["max"] - f["median"])
        if xs:
            ax.bar(xs, ys, w, yerr=[lo, hi], capsize=2, color=SIDE_COLOR[side], label=SIDE_NAME[side])
        for x in fails:
            ax.text(x, 0, "failed", rotation=90, ha="center", va="bottom", fontsize=7, color=SIDE_COLOR[side])
    ax.set_xticks(range(len(items)))
    ax.set_xticklabels([it[0] for it in items], fontsize=8)
    ax.set_ylabel(ylabel)
    if log:
        ax.set_yscale("log")
    ax.grid(axis="y", alpha=0.3)


def paths_of(res):
    return [p for p in ("wire", "s2s") if any(f["path"] == p for f in res["figures"])]


def chart(res, name, items, ylabel, log=False, paths=None, title=None):
    paths = paths or paths_of(res)
    items = [it for it in items if any(find(res, p, s, it[1], it[2]) for p in paths for s in SIDES)]
    have = [p for p in paths if any(find(res, p, s, sc, fg) for s in SIDES for _, sc, fg in items)]
    if not have:
        return
    fig, axes = plt.subplots(len(have), 1, figsize=(max(7, 1.1 * len(items) + 3), 3.6 * len(have)), squeeze=False)
    for ax, p in zip(axes[:, 0], have):
        bars(ax, res, p, items, ylabel, log)
        ax.set_title(PATH_NAME[p], fontsize=9)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    fig.suptitle(title or name, fontsize=11)
    fig.tight_layout()
    fig.savefig(os.path.join(OUTDIR, name), dpi=110)
    plt.close(fig)


def ratios_chart(res):
    ts = [t for t in res["targets"]]
    if not ts:
        return
    fig, ax = plt.subplots(figsize=(12, 0.3 * len(ts) + 1.4))
    labels, vals, colors = [], [], []
    for t in ts:
        who = "" if t.get("side", "libftcp") == "libftcp" else f" ({SIDE_NAME[t['side']]})"
        labels.append(f"{PATH_SHORT[t['path']]}: {t['scenario']}{who} {t['figure']} vs {t['against']} ({t['op']} {t['bound']:.2f})")
        vals.append(t["ratio"] if t["ratio"] is not None else 0)
        colors.append("#2ca02c" if t["met"] else ("#999999" if t["met"] is None else "#d62728"))
    y = range(len(ts))
    ax.barh(list(y), vals, color=colors)
    for i, t in enumerate(ts):
        ax.plot([t["bound"], t["bound"]], [i - 0.4, i + 0.4], color="black", lw=1.5)
        if t["ratio"] is None:
            ax.text(t["bound"], i, "  no figure", va="center", fontsize=7)
    ax.set_yticks(list(y))
    ax.set_yticklabels(labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("libftcp / kernel (black mark: the target's bound; green met, red missed)")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title("libftcp / kernel for each target", fontsize=11)
    fig.subplots_adjust(left=0.38, right=0.98, top=1 - 0.6 / fig.get_figheight(), bottom=0.8 / fig.get_figheight())
    fig.savefig(os.path.join(OUTDIR, "ratios.png"), dpi=110)
    plt.close(fig)


def charts(res):
    chart(res, "throughput.png", [("1 stream\nto server", "iperf3.tcp1_up", "throughput"),
                                  ("1 stream\nfrom server", "iperf3.tcp1_down", "throughput"),
                                  ("4 streams\nto server", "iperf3.tcp4_up", "throughput"),
                                  ("4 streams\nfrom server", "iperf3.tcp4_down", "throughput")],
          "Gbit/s", title="iperf3 TCP throughput (median, min–max)")
    chart(res, "udp.png", [("UDP 64 B\nreceived", "iperf3.udp64", "received packets/s")],
          "packets/s", title="iperf3 UDP 64 B datagrams received per second")
    items = []
    for sc, lab in (("sockperf.tcp64", "TCP 64"), ("sockperf.tcp1k", "TCP 1K"), ("sockperf.udp64", "UDP 64"), ("sockperf.udp1k", "UDP 1K")):
        for p in ("p50", "p99", "p99.9"):
            items.append((f"{lab}\n{p}", sc, p))
    chart(res, "latency.png", items, "µs (one way, log)", log=True, title="sockperf ping-pong latency (lower is better)")
    chart(res, "requests.png", [("redis SET", "redis.c50", "SET requests/s"), ("redis GET", "redis.c50", "GET requests/s"),
                                ("redis SET\n-P 16", "redis.p16", "SET requests/s"), ("redis GET\n-P 16", "redis.p16", "GET requests/s"),
                                ("nginx\nwrk", "nginx.wrk", "requests/s"), ("connections\n/s", "conn.close", "requests/s")],
          "per second (log)", log=True, title="requests per second (higher is better)")
    cb = "server core busy per "
    cpu_items = [("iperf3 1\nto srv", "iperf3.tcp1_up", cb + "byte"), ("iperf3 1\nfrom srv", "iperf3.tcp1_down", cb + "byte"),
                 ("iperf3 4\nto srv", "iperf3.tcp4_up", cb + "byte"), ("iperf3 4\nfrom srv", "iperf3.tcp4_down", cb + "byte")]
    req_items = [("redis", "redis.c50", cb + "request"), ("redis -P 16", "redis.p16", cb + "request"),
                 ("nginx", "nginx.wrk", cb + "request"), ("conn/s", "conn.close", cb + "request"),
                 ("sockperf\nTCP 64", "sockperf.tcp64", cb + "request")]
    if any(find(res, "wire", s, sc, fg) for s in SIDES for _, sc, fg in cpu_items + req_items):
        fig, axes = plt.subplots(1, 2, figsize=(13, 4))
        bars(axes[0], res, "wire", cpu_items, "ns per byte")
        axes[0].set_title("per byte (iperf3)", fontsize=9)
        bars(axes[1], res, "wire", req_items, "µs per request (log)", log=True)
        axes[1].set_title("per request", fontsize=9)
        for ax in axes:
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize=8)
                break
        fig.suptitle("server core busy time (/proc/stat), same wire, kernel client (lower is better)", fontsize=11)
        fig.tight_layout()
        fig.savefig(os.path.join(OUTDIR, "cpu.png"), dpi=110)
        plt.close(fig)
    ratios_chart(res)


def main():
    global OUTDIR
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw")
    ap.add_argument("--meta")
    ap.add_argument("--cpu-cost")
    ap.add_argument("--from", dest="frm")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    OUTDIR = a.out
    os.makedirs(OUTDIR, exist_ok=True)
    if a.frm:
        with open(a.frm) as f:
            res = json.load(f)
        res["targets"] = targets(res)
    elif a.raw and a.meta:
        res = build(a.raw, a.meta, a.cpu_cost)
    else:
        ap.error("give --raw and --meta, or --from")
    with open(os.path.join(OUTDIR, "results.json"), "w") as f:
        json.dump(res, f, indent=1, ensure_ascii=False, default=lambda x: None if isinstance(x, float) and math.isnan(x) else x)
        f.write("\n")
    for name, _ in CHARTS:
        p = os.path.join(OUTDIR, name)
        if os.path.exists(p):
            os.remove(p)
    charts(res)
    with open(os.path.join(OUTDIR, "results.md"), "w") as f:
        f.write(markdown(res) + "\n")
    with open(os.path.join(OUTDIR, "MACHINE.md"), "w") as f:
        f.write(machine_md(res) + "\n")
    print(f"report: {OUTDIR}/results.json, results.md, MACHINE.md, charts")


if __name__ == "__main__":
    sys.exit(main())
