#!/usr/bin/python3
"""Parse one benchmark client's output for bench/run.sh.

usage: parse.py iperf3|sockperf|redis|wrk FILE

Prints one line per figure, tab-separated: FIGURE UNIT VALUE, plus a line
"work UNIT N" (bytes, packets or requests the run moved, for the CPU cost
per unit) and "note - TEXT" lines for anything odd (errors, losses). A
run that produced no figure prints "error - REASON" and exits 1.
"""
import json
import re
import sys


def out(fig, unit, value):
    print(f"{fig}\t{unit}\t{value}")


def note(text):
    print(f"note\t-\t{text}")


def fail(reason):
    print(f"error\t-\t{reason}")
    sys.exit(1)


def tail(text, n=3):
    lines = [l for l in text.splitlines() if l.strip() and not l.startswith(("libbpf", "libxdp"))]
    return " | ".join(lines[-n:])[-400:]


def iperf3(text):
    start = text.find("{")
    if start < 0:
        fail("no JSON from iperf3: " + tail(text))
    try:
        d, _ = json.JSONDecoder().raw_decode(text[start:])
    except ValueError as e:
        fail(f"iperf3 JSON unreadable ({e}): " + tail(text))
    if d.get("error"):
        fail("iperf3: " + d["error"])
    end = d.get("end", {})
    udp = d.get("start", {}).get("test_start", {}).get("protocol") == "UDP"
    rcv = end.get("sum_received") or end.get("sum")
    if not rcv or not rcv.get("seconds"):
        fail("iperf3 printed no receiver summary: " + tail(text))
    secs = rcv["seconds"]
    if udp:
        pk = rcv.get("packets", 0)
        lost = rcv.get("lost_packets", 0)
        got = max(pk - lost, 0)
        out("received packets/s", "packets/s", got / secs)
        sent = end.get("sum_sent") or end.get("sum") or {}
        if sent.get("packets") and sent.get("seconds"):
            out("sent packets/s", "packets/s", sent["packets"] / sent["seconds"])
        out("loss", "%", rcv.get("lost_percent", 0.0))
        out("work", "packets", got)
        if got == 0:
            fail("iperf3 UDP: no datagram received")
    else:
        out("throughput", "Gbit/s", rcv["bits_per_second"] / 1e9)
        snd = end.get("sum_sent", {})
        if "retransmits" in snd:
            out("retransmits", "segments", snd["retransmits"])
        out("work", "bytes", rcv.get("bytes", 0))
        if rcv.get("bytes", 0) == 0:
            fail("iperf3 TCP: no byte received")


def sockperf(text):
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    m = re.search(r"\[Valid Duration\] RunTime=([0-9.]+) sec; SentMessages=(\d+); ReceivedMessages=(\d+)", text)
    if not m or int(m.group(3)) == 0:
        fail("sockperf: no valid round trip: " + tail(text))
    got = {}
    for p, v in re.findall(r"percentile\s+([0-9.]+)\s*=\s*([0-9.]+)", text):
        got[float(p)] = float(v)
    for p, name in ((50.0, "p50"), (99.0, "p99"), (99.9, "p99.9")):
        if p not in got:
            fail(f"sockperf: no percentile {p}: " + tail(text))
        out(name, "us", got[p])
    a = re.search(r"avg-latency=([0-9.]+)", text)
    if a:
        out("avg", "us", float(a.group(1)))
    out("round trips/s", "1/s", int(m.group(3)) / float(m.group(1)))
    # The whole run, warm-up included, is what the server's CPU time covers.
    t = re.search(r"\[Total Run\] RunTime=[0-9.]+ sec;.*ReceivedMessages=(\d+)", text)
    out("work", "requests", int(t.group(1)) if t else int(m.group(3)))
    d = re.search(r"# dropped messages = (\d+); # duplicated messages = (\d+); # out-of-order messages = (\d+)", text)
    if d and any(int(x) for x in d.groups()):
        note(f"sockperf: dropped {d.group(1)}, duplicated {d.group(2)}, out-of-order {d.group(3)}")


def redis(text):
    rows = {}
    for line in text.splitlines():
        m = re.match(r'"([A-Z_]+)","([0-9.]+)"', line.strip())
        if m:
            rows[m.group(1)] = float(m.group(2))
    for t in ("SET", "GET"):
        if t not in rows:
            fail(f"redis-benchmark printed no {t} figure: " + tail(text))
        out(f"{t} requests/s", "requests/s", rows[t])
    err = [l for l in text.splitlines() if "rror" in l]
    if err:
        note("redis-benchmark: " + " | ".join(err[:3]))


def wrk(text):
    m = re.search(r"Requests/sec:\s+([0-9.]+)", text)
    n = re.search(r"(\d+) requests in ([0-9.]+)(us|ms|s|m)", text)
    if not m or not n:
        fail("wrk printed no rate: " + tail(text))
    out("requests/s", "requests/s", float(m.group(1)))
    out("work", "requests", int(n.group(1)))
    e = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if e:
        note(f"wrk socket errors: connect {e.group(1)}, read {e.group(2)}, write {e.group(3)}, timeout {e.group(4)}")
    x = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if x:
        note(f"wrk: {x.group(1)} non-2xx/3xx responses")
    if int(n.group(1)) == 0:
        fail("wrk: no request completed: " + tail(text))


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("iperf3", "sockperf", "redis", "wrk"):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    try:
        with open(sys.argv[2], errors="replace") as f:
            text = f.read()
    except OSError as e:
        fail(f"no output file: {e}")
    globals()[sys.argv[1]](text)


if __name__ == "__main__":
    main()
