#!/usr/bin/env python3
"""Write the seed corpus of the fuzz target (tests/fuzz/fuzz_stack.c).

Each seed is a short program in the target's input encoding (described at
the top of fuzz_stack.c): frames built from templates aimed at the live
connections of the snapshot, clock jumps, polls and application calls. They
give libFuzzer a start in every protocol path: data, FIN, RST, SYN to a
listener, the SYN cookie handshake, ARP, ICMP, UDP, malformed IP and TCP
options, fragments, SACK recovery, zero windows, simultaneous open, timers.

    python3 tests/fuzz/make_corpus.py [DIR]      (default: tests/fuzz/corpus)

Seeds are named seed-*; inputs found by fuzzing are kept next to them as
crash-* / regress-* and are not touched.
"""
import os
import struct
import sys

# Command bytes (c % 14 in run()).
RAW, RAW_L3, TCP, UDP, ICMP, ARP, CLOCK, POLL, SETTLE, APP = 0, 1, 2, 5, 6, 7, 8, 9, 10, 11

# TCP flags.
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10

# tcp_target() selectors.
T_B_TO_A80, T_B5000, T_P1001, T_P1002, T_P1003, T_P1004, T_P1005, T_P1006 = range(8)
T_P1008, T_P23, T_COOKIE, T_NEW81, T_CLOSED, T_SYNACK_REPLY, T_B_SERVER, T_SPOOF_A = range(8, 16)
T_P1009 = 16

# Sequence / acknowledgment bases (mode bits).
SEQ_RCV_NXT, SEQ_RCV_ADV, SEQ_RCV_NXT_1, SEQ_IRS = 0, 1, 2, 3
ACK_UNA, ACK_NXT, ACK_MAX, ACK_ISS = 0 << 2, 1 << 2, 2 << 2, 3 << 2
M_X64, M_TWICE, M_PAYLOAD, M_POLL = 0x10, 0x20, 0x40, 0x80


def u16(v):
    return struct.pack(">H", v & 0xffff)


def s16(v):
    return struct.pack(">h", v)


def patches(p):
    out = bytes([len(p)])
    for off, val in p:
        out += u16(off) + bytes([val])
    return out


def tcp(tsel, flags, mode=0, seqd=0, ackd=0, win=512, plen=0, x=0, mss=None, ws=None,
        sack_ok=False, ts=None, sack=None, rawopt=None, ipopt=None, payload=None,
        keep_cksum=False, patch=()):
    """A TCP template command. ts: (tsval delta, tsecr back-off);
    sack: [(offset from snd_una, length)]."""
    om = 0
    extra = b""
    if mss is not None:
        om |= 1
        extra += u16(mss)
    if ws is not None:
        om |= 2
        extra += bytes([ws])
    if sack_ok:
        om |= 4
    if ts is not None:
        om |= 8
        extra += struct.pack(">bB", ts[0], ts[1])
    if sack:
        om |= 16
        extra += bytes([len(sack) - 1])
        for off, ln in sack:
            extra += s16(off) + u16(ln)
    if rawopt is not None:
        om |= 32
        extra += bytes([len(rawopt)]) + bytes(rawopt)
    if ipopt is not None:
        om |= 64
        extra += bytes([len(ipopt)]) + bytes(ipopt)
    if keep_cksum:
        om |= 0x80
    if payload is not None:
        mode |= M_PAYLOAD
        plen = len(payload)
        extra += bytes(payload)
    pl = plen if plen < 128 else 128 + (plen + 15) // 16
    return (bytes([TCP, tsel, x, flags, mode]) + s16(seqd) + s16(ackd) + u16(win) +
            bytes([pl, om]) + extra + patches(patch))


def udp(sel=0, plen=32, fl=0, sport=40000, dport=None, data=None, patch=()):
    out = bytes([UDP, sel, plen, fl | (1 if data is not None else 0)]) + u16(sport)
    if sel % 6 == 5:
        out += u16(dport)
    if data is not None:
        out += bytes(data)
    return out + patches(patch)


def icmp(type_, code=0, sel=0, qlen=0, fl=0, ident=0, seq=0, mtu=None, patch=()):
    out = bytes([ICMP, type_, code, sel, qlen, fl])
    if type_ % 4 == 0:
        out += u16(ident) + u16(seq)
    elif type_ % 4 in (1, 2) and type_ & 8:
        out += u16(mtu or 0)
    return out + patches(patch)


def arp(op, spa, sha, tpa, dst, n=None, patch=()):
    out = bytes([ARP, op, spa, sha, tpa, dst])
    if op & 0xc0:
        out += bytes([n or 0])
    return out + patches(patch)


def raw(frame):
    return bytes([RAW]) + u16(len(frame)) + bytes(frame)


def raw_l3(pkt, fl=0):
    return bytes([RAW_L3]) + u16(len(pkt)) + bytes([fl]) + bytes(pkt)


def clock(us):
    """Advance about us microseconds: (m+1) << e."""
    e = 0
    while (us >> e) > 256:
        e += 1
    m = max((us >> e) - 1, 0)
    return bytes([CLOCK, e, m])


def poll(n=1):
    return bytes([POLL, n - 1])


def settle():
    return bytes([SETTLE, 1])


def next_timer():
    return bytes([SETTLE, 0])


def app(slot, act, arg=0, extra=b""):
    return bytes([APP, slot, act, arg]) + extra


# op_app() actions.
A_SEND, A_RECV, A_PEEK, A_SHUTDOWN, A_CLOSE, A_ABORT, A_OPT, A_ACCEPT = range(8)
A_CONNECT, A_LISTEN, A_UDP, A_CC, A_PING, A_INFO, A_ERROR, A_FILL = range(8, 16)

# Slots (see the top of fuzz_stack.c).
S_UDP, S_L80, S_L81, S_ACC_B, S_ACT_B, S_P1001, S_P1004, S_P1005, S_P1006, S_SYN_P, S_SYN_X = range(11)
S_P1009 = 11
S_FREE = 12  # the first free A slot: accept puts connections there


def ipv4(proto, payload, src=(10, 0, 0, 3), dst=(10, 0, 0, 1), opts=b"", frag=0x4000, ttl=64,
         ihl=None, total=None):
    hl = 20 + len(opts)
    ihl = ihl if ihl is not None else hl // 4
    total = total if total is not None else hl + len(payload)
    return (bytes([0x40 | ihl, 0]) + u16(total) + u16(0x1234) + u16(frag) + bytes([ttl, proto]) +
            u16(0) + bytes(src) + bytes(dst) + bytes(opts) + bytes(payload))


SEEDS = {
    # Data both ways on the SACK/timestamp connection, then everything acked.
    "data": tcp(T_P1001, ACK | PSH, plen=100, ts=(1, 0)) + settle() +
            tcp(T_P1001, ACK, mode=ACK_MAX, ts=(2, 0)) + settle() +
            app(S_P1001, A_RECV, 20) + settle(),
    "data-b": tcp(T_B_TO_A80, ACK | PSH, plen=300, ts=(1, 0)) + settle() +
              app(S_ACC_B, A_RECV, 255) + app(S_ACC_B, A_SEND, 100) + settle(),
    "fin": tcp(T_P1001, FIN | ACK, mode=ACK_MAX, ts=(1, 0)) + settle() +
           app(S_P1001, A_RECV, 255) + app(S_P1001, A_CLOSE) + settle() +
           tcp(T_P1001, ACK, mode=ACK_MAX, ts=(2, 0)) + settle(),
    "fin-waits": tcp(T_P1005, ACK, mode=ACK_MAX) + tcp(T_P1005, FIN | ACK, mode=ACK_MAX) +
                 tcp(T_P1006, FIN | ACK, mode=ACK_MAX, ts=(1, 0)) + settle() +
                 clock(3000000) + settle(),
    "close-wait": app(S_P1004, A_SEND, 10) + app(S_P1004, A_CLOSE) + settle() +
                  tcp(T_P1004, ACK, mode=ACK_MAX, ts=(1, 0)) + settle(),
    "rst": tcp(T_P1001, RST) + settle(),
    "rst-challenge": tcp(T_P1001, RST, seqd=10) + settle() +
                     tcp(T_P1001, SYN, ts=(1, 0)) + settle(),
    "rst-half-open": tcp(T_P1003, RST, mode=SEQ_RCV_NXT) + settle(),
    "syn-listener": tcp(T_NEW81, SYN, x=5, win=65535, mss=1460, ws=7, sack_ok=True, ts=(0, 0)) +
                    settle() + tcp(T_SYNACK_REPLY, ACK, ts=(1, 0)) + settle() +
                    tcp(T_NEW81, ACK | PSH, x=5, plen=40, ts=(2, 0)) + settle() +
                    app(S_L81, A_ACCEPT) + app(S_FREE, A_RECV, 10) + app(S_FREE, A_SEND, 30) + settle(),
    "syn-cookie": tcp(T_COOKIE, SYN, x=9, win=65535, mss=1400, ws=5, sack_ok=True, ts=(0, 0)) +
                  settle() + tcp(T_SYNACK_REPLY, ACK, ts=(1, 0)) + settle() +
                  tcp(T_COOKIE, ACK | PSH, x=9, plen=60, ts=(2, 0)) + settle() +
                  app(S_L80, A_ACCEPT) + app(S_L80, A_ACCEPT) + settle(),
    "syn-cookie-plain": tcp(T_COOKIE, SYN, x=3, mss=536) + settle() +
                        tcp(T_SYNACK_REPLY, ACK) + settle(),
    "syn-cookie-bad": tcp(T_COOKIE, SYN, x=4, ts=(0, 0)) + settle() +
                      tcp(T_SYNACK_REPLY, ACK, ackd=1000) + settle(),
    "synack-handshake": tcp(T_P1003, ACK, mode=ACK_NXT, ts=(1, 0)) + settle() +
                        app(S_L80, A_ACCEPT) + settle(),
    "syn-sent-answer": tcp(T_P23, SYN | ACK, mode=ACK_ISS, ackd=1, mss=700, ws=3,
                           sack_ok=True, ts=(0, 0)) + settle() +
                       app(S_SYN_P, A_SEND, 50) + settle(),
    "simultaneous-open": tcp(T_P23, SYN, mss=600) + settle() +
                         app(S_SYN_P, A_SHUTDOWN, 1) + settle() +
                         tcp(T_P23, ACK, mode=ACK_MAX) + settle(),
    # Found by fuzzing: a close in SYN_RECEIVED (simultaneous open) went
    # to FIN_WAIT_1 at once, and the ACK of our SYN then never started
    # congestion control (cwnd 0). The FIN must wait for ESTABLISHED.
    "simultaneous-close": tcp(T_P23, SYN, mss=600, ws=2, sack_ok=True, ts=(0, 0)) + settle() +
                          app(S_SYN_P, A_SHUTDOWN, 2) + settle() +
                          tcp(T_P23, ACK, mode=ACK_ISS, ackd=1, ts=(1, 0)) + settle() +
                          tcp(T_P23, ACK, mode=ACK_MAX, ts=(2, 0)) + settle() +
                          tcp(T_P23, FIN | ACK, mode=ACK_MAX, ts=(3, 0)) + settle() +
                          clock(2500000) + settle(),
    "simultaneous-close-orphan": tcp(T_P23, SYN, mss=600) + settle() +
                                 app(S_SYN_P, A_CLOSE) + settle() +
                                 tcp(T_P23, ACK | PSH, mode=ACK_ISS, ackd=1, plen=10) + settle() +
                                 clock(3000000) + settle(),
    "syn-to-closed": tcp(T_CLOSED, SYN, x=1) + tcp(T_CLOSED, ACK, x=2) + settle(),
    "b-server": tcp(T_B_SERVER, SYN, x=1, mss=1000, ts=(0, 0)) + settle() +
                tcp(T_SYNACK_REPLY, ACK, ts=(1, 0)) + settle() +
                tcp(T_B_SERVER, ACK | PSH | FIN, x=1, plen=20, ts=(2, 0)) + settle(),
    "spoof-to-b": tcp(T_SPOOF_A, RST) + tcp(T_SPOOF_A, ACK, mode=ACK_MAX, ackd=100) + settle(),
    "out-of-order": tcp(T_P1001, ACK, seqd=200, plen=100, ts=(1, 0)) + settle() +
                    tcp(T_P1001, ACK, seqd=400, plen=50, ts=(1, 0)) + settle() +
                    tcp(T_P1001, ACK, plen=200, ts=(2, 0)) + settle(),
    "sack-recovery": tcp(T_P1001, ACK, sack=[(536, 536)], ts=(1, 0)) +
                     tcp(T_P1001, ACK, sack=[(536, 1072)], ts=(1, 0)) +
                     tcp(T_P1001, ACK, sack=[(536, 1608)], ts=(1, 0)) + settle() +
                     tcp(T_P1001, ACK, ackd=536, sack=[(1072, 1072)], ts=(2, 0)) + settle() +
                     tcp(T_P1001, ACK, mode=ACK_MAX, ts=(3, 0)) + settle(),
    "dupacks-newreno": tcp(T_P1009, ACK, win=512) * 3 + settle() +
                       tcp(T_P1009, ACK, win=512) + settle() +
                       tcp(T_P1009, ACK, ackd=500, win=512) + settle() +
                       tcp(T_P1009, ACK, ackd=1000, win=512) + settle() +
                       tcp(T_P1009, ACK, mode=ACK_MAX, win=512) + settle(),
    "newreno-timeout": clock(300000) + settle() + tcp(T_P1009, ACK, ackd=500) * 4 + settle() +
                       clock(600000) + settle(),
    "lost-retransmit": tcp(T_P1001, ACK, sack=[(500, 500)], ts=(1, 0)) +
                       tcp(T_P1001, ACK, sack=[(500, 1000)], ts=(1, 0)) +
                       tcp(T_P1001, ACK, sack=[(500, 1500)], ts=(1, 0)) + settle() +
                       app(S_P1001, A_SEND, 125) + settle() +
                       tcp(T_P1001, ACK, sack=[(500, 4500)], ts=(2, 0)) + settle() +
                       tcp(T_P1001, ACK, mode=ACK_MAX, ts=(3, 0)) + settle(),
    "time-wait-reuse": tcp(T_P1008, SYN, seqd=1000, mss=536) + settle() +
                       tcp(T_SYNACK_REPLY, ACK) + settle() +
                       tcp(T_P1008, SYN, seqd=3000, ts=(50, 0)) + settle(),
    "ooo-full": b"".join(tcp(T_P1001, ACK, seqd=100 * k, plen=40, ts=(1, 0)) for k in range(1, 11)) +
                settle() + tcp(T_P1001, ACK, plen=100, ts=(2, 0)) + settle(),
    "challenge-limit": tcp(T_P1001, RST, seqd=5) * 14 + tcp(T_P1001, SYN) * 3 + settle() +
                       clock(1100000) + tcp(T_P1001, RST, seqd=5) + settle(),
    "offload-b": tcp(T_B_SERVER, SYN, x=2, keep_cksum=True, patch=[(50, 0x12)]) +
                 tcp(T_SPOOF_A, ACK, keep_cksum=True, patch=[(24, 0x77)]) +
                 udp(0x80, 16, fl=0x80, patch=[(40, 1)]) + settle(),
    "zero-window": tcp(T_P1001, ACK, mode=ACK_MAX, win=0, ts=(1, 0)) + settle() +
                   app(S_P1001, A_SEND, 100) + settle() + clock(500000) + settle() +
                   clock(1000000) + settle() +
                   tcp(T_P1001, ACK, mode=ACK_MAX, win=512, ts=(2, 0)) + settle(),
    "paws": tcp(T_P1001, ACK | PSH, plen=10, ts=(-100, 0)) + settle(),
    "big-segment": tcp(T_P1001, ACK | PSH, plen=1600, ts=(1, 0)) + settle(),
    "beyond-window": tcp(T_P1002, ACK | PSH, mode=SEQ_RCV_ADV, seqd=-10, plen=100) + settle(),
    "tcp-bad-options": tcp(T_P1001, ACK, rawopt=[2, 0]) + tcp(T_P1001, ACK, rawopt=[3, 1]) +
                       tcp(T_P1001, ACK, rawopt=[8, 10, 1, 2]) +
                       tcp(T_P1001, ACK, rawopt=[5, 3, 0, 0]) +
                       tcp(T_P1001, ACK, rawopt=[0xfe, 0xff, 0, 0]) +
                       tcp(T_NEW81, SYN, x=7, rawopt=[2, 4, 0, 0, 3, 3, 200, 4, 2, 1, 1]) +
                       tcp(T_P1001, ACK, rawopt=[5, 34] + [0] * 32) + settle(),
    "tcp-bad-header": tcp(T_P1001, ACK, patch=[(46, 0x10)]) +
                      tcp(T_P1001, ACK, patch=[(46, 0xf0)]) +
                      tcp(T_P1001, ACK, patch=[(50, 0)], keep_cksum=True) + settle(),
    "ip-options": tcp(T_P1001, ACK | PSH, plen=10, ipopt=[1, 1, 7, 7, 4, 0, 0, 0, 0, 0, 0, 0]) +
                  tcp(T_P1001, ACK, ipopt=[131, 7, 4, 10, 0, 0, 2]) +
                  raw_l3(ipv4(6, b"\0" * 20, opts=bytes([0x44, 0, 5, 0]))) +
                  raw_l3(ipv4(17, b"\0" * 8, opts=bytes([7, 40]) + b"\0" * 2)) +
                  raw_l3(ipv4(1, b"\x08\0\0\0\0\0\0\0", ihl=15)) +
                  raw_l3(ipv4(1, b"\x08\0\0\0\0\0\0\0", ihl=3)) + settle(),
    "fragments": raw_l3(ipv4(17, b"\0" * 16, frag=0x2000)) +
                 raw_l3(ipv4(17, b"\0" * 16, frag=0x0003)) +
                 tcp(T_P1001, ACK | PSH, plen=20, patch=[(20, 0x20)]) + settle(),
    "ip-malformed": raw_l3(ipv4(6, b"", total=10)) + raw_l3(ipv4(6, b"\0" * 4, total=200)) +
                    raw_l3(ipv4(99, b"abc")) + raw_l3(b"\x60" + b"\0" * 39) +
                    raw_l3(ipv4(17, b"\0" * 8, src=(10, 0, 0, 1))) +
                    raw_l3(ipv4(17, b"\0" * 8, src=(224, 0, 0, 1))) + settle(),
    "arp": arp(1, 6, 4, 0, 0) + arp(2, 1, 0, 0, 1) + arp(1, 3, 0, 0, 0) +
           arp(0x21, 2, 1, 0, 0) + arp(3, 2, 0, 0, 0) + arp(0x41, 2, 0, 0, 0, n=10) +
           arp(0x81, 2, 0, 0, 0, n=20) + settle() + clock(6000000) + settle(),
    "arp-poison": arp(2, 1, 0, 0, 1) + settle() + tcp(T_B_TO_A80, ACK | PSH, plen=50) + settle() +
                  clock(6000000) + settle(),
    "icmp-echo": icmp(0, ident=7, seq=1, qlen=56) + icmp(0, ident=7, seq=2, qlen=250) +
                 icmp(4, ident=8, seq=1, qlen=8) + settle(),
    "icmp-errors": icmp(1, code=4, sel=T_P1001, qlen=3, mtu=576) +
                   icmp(9, code=4, sel=T_P1001, qlen=0, mtu=300) +
                   icmp(2, code=3, sel=0, qlen=1) + icmp(6, code=0, sel=1) +
                   icmp(1, code=1, sel=T_P1001, qlen=2) + icmp(3, code=0, qlen=4) +
                   icmp(17, code=3, sel=T_P1002, qlen=3) + settle(),
    "udp": udp(0, 32) + udp(1, 16) + udp(2, 8) + udp(3, 8) + udp(4, 8) +
           udp(5, 4, dport=53) + udp(0, 16, fl=4) + udp(0, 16, fl=0x80, patch=[(40, 0x55)]) +
           udp(0x80, 16) + settle() + app(S_UDP, A_RECV, 10) + app(S_UDP, A_PEEK, 4) +
           app(S_UDP, A_SEND, 10) + settle(),
    "timers": clock(250000) + settle() + clock(1000000) + settle() + clock(2500000) + settle() +
              next_timer() + next_timer() + next_timer() + settle() + clock(30000000) + settle(),
    "app-close-listener": app(S_L80, A_CLOSE) + settle() + tcp(T_P1002, ACK, plen=5) + settle(),
    "app-accept-close": app(S_L80, A_ACCEPT) + app(S_FREE, A_CLOSE) + settle() +
                        app(S_P1001, A_CLOSE) + settle() + app(S_ACC_B, A_SHUTDOWN, 1) +
                        app(S_ACT_B, A_ABORT) + settle(),
    "app-options": app(S_P1001, A_OPT, 1, u16(1)) + app(S_P1001, A_OPT, 6, u16(0)) +
                   app(S_P1001, A_OPT, 7, u16(100)) + app(S_ACC_B, A_CC, 0) +
                   app(S_ACC_B, A_CC, 2) + app(S_ACC_B, A_INFO) + app(S_SYN_X, A_ERROR) +
                   app(S_P1001, A_FILL) + settle() + clock(500000) + settle(),
    "app-new-sockets": app(12, A_CONNECT, 0) + app(13, A_CONNECT, 1) + app(14, A_CONNECT, 2) +
                       app(15, A_LISTEN, 0x80) + app(20, A_UDP, 0x80) + settle() +
                       tcp(T_P23, SYN | ACK, mode=ACK_ISS, ackd=1) + settle() +
                       clock(3000000) + settle(),
    "app-ping": app(0, A_PING, 1) + app(0, A_PING, 2 | 0x40) + app(0, A_PING, 3) + settle() +
                clock(1000000) + settle(),
    "keepalive": clock(1500000) + settle() + clock(1500000) + settle() + clock(1500000) + settle(),
    "raw-garbage": raw(b"\x02\0\0\0\0\x01" + b"\x02\0\0\0\0\xf0" + b"\x88\xcc" + b"\0" * 20) +
                   raw(b"\xff" * 14) + raw(b"\x02\0\0\0\0\x01\x02\0\0\0\0\xf0\x08\x00") + settle(),
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
    os.makedirs(out, exist_ok=True)
    for name in os.listdir(out):
        if name.startswith("seed-"):
            os.remove(os.path.join(out, name))
    for name, data in SEEDS.items():
        with open(os.path.join(out, "seed-" + name), "wb") as f:
            f.write(data)
    print(f"make_corpus: {len(SEEDS)} seeds in {out}")


if __name__ == "__main__":
    main()
