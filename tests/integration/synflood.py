#!/usr/bin/python3
"""synflood.py — the packet side of tests/integration/synflood.sh (scapy,
Debian's python3-scapy; run as root in the lab's client namespace).

  synflood.py flood DST --net 198.19.128.0/17 [--count N] [--seconds S]
      N SYNs to DST:25 from random sources in --net (off-link, routed to a
      blackhole, so the SYN-ACKs die) and random ports, paced evenly over
      S seconds through a raw IPv4 socket. scapy builds one template; the
      copies get their source, port, ISN and both checksums patched in
      (scapy's own send() manages a few hundred per second). Prints
      "flood sent=N seconds=T rate=R".

  synflood.py rst DST [--port 25] [--iface IF]
      A normal connection (Linux's TCP), the 220 read, its 4-tuple from
      getsockname and RCV.NXT (Bulwark's view: the client's next sequence
      number) sniffed on the link; then with scapy (a) an RST at
      RCV.NXT + 2^30, far outside the window: ignored, nothing comes back;
      (b) an RST inside the window but not at RCV.NXT: RFC 5961 §3.2, a
      challenge ACK comes back and the connection lives on; then QUIT must
      get 221. Prints one line per step.

Only addresses inside 198.18.0.0/15 are ever used: anything else is refused.
"""
import argparse
import ipaddress
import random
import socket
import struct
import sys
import time

from scapy.all import IP, TCP, AsyncSniffer, conf, raw, send  # noqa: E402

LAB = ipaddress.ip_network("198.18.0.0/15")


def lab_only(addr):
    a = ipaddress.ip_address(addr) if "/" not in addr else ipaddress.ip_network(addr)
    inside = a.subnet_of(LAB) if hasattr(a, "subnet_of") else a in LAB
    if not inside:
        sys.exit("synflood.py: %s is outside 198.18.0.0/15; refusing" % addr)
    return a


def csum(b):
    if len(b) & 1:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def flood(a):
    dst = lab_only(a.dst)
    net = lab_only(a.net)
    tmpl = bytearray(raw(IP(src=str(net[1]), dst=str(dst), ttl=64, id=0) /
                         TCP(sport=1024, dport=a.port, flags="S", seq=0, window=64240,
                             options=[("MSS", 1460), ("SAckOK", b""), ("NOP", None),
                                      ("WScale", 7)])))
    ihl = (tmpl[0] & 15) * 4
    base, span = int(net.network_address), net.num_addresses
    dstb = dst.packed
    pkts = []
    tb = time.monotonic()
    rnd = random.Random(a.seed)
    for _ in range(a.count):
        p = bytearray(tmpl)
        src = struct.pack("!I", base + rnd.randrange(1, span - 1))
        p[12:16] = src
        p[4:6] = struct.pack("!H", rnd.getrandbits(16))
        p[10:12] = b"\0\0"
        p[10:12] = struct.pack("!H", csum(bytes(p[:ihl])))
        t = ihl
        p[t:t + 2] = struct.pack("!H", rnd.randrange(1024, 65536))
        p[t + 4:t + 8] = struct.pack("!I", rnd.getrandbits(32))
        p[t + 16:t + 18] = b"\0\0"
        seg = bytes(p[t:])
        pseudo = src + dstb + struct.pack("!BBH", 0, 6, len(seg))
        p[t + 16:t + 18] = struct.pack("!H", csum(pseudo + seg))
        pkts.append(bytes(p))
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    target = (str(dst), 0)
    batch = 50
    step = a.seconds * batch / a.count
    sent = 0
    t0 = time.monotonic()
    print("flood start count=%d over=%.1fs built_in=%.2fs" % (a.count, a.seconds, t0 - tb),
          flush=True)
    for i in range(0, a.count, batch):
        for p in pkts[i:i + batch]:
            try:
                s.sendto(p, target)
                sent += 1
            except (BlockingIOError, OSError):
                pass  # a full queue: that SYN is lost, as on a link
        ahead = t0 + (i // batch + 1) * step - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
    dt = time.monotonic() - t0
    print("flood sent=%d seconds=%.2f rate=%d" % (sent, dt, sent / dt), flush=True)


def rst(a):
    dst = str(lab_only(a.dst))
    conf.verb = 0
    seen = []  # AsyncSniffer.results exists only after stop()
    # no BPF filter (that needs tcpdump): a Python one
    sn = AsyncSniffer(iface=a.iface, store=False, prn=seen.append,
                      lfilter=lambda p: TCP in p and dst in (p[IP].src, p[IP].dst)
                      and a.port in (p[TCP].sport, p[TCP].dport))
    sn.start()
    time.sleep(0.5)  # the sniffer's socket is open
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect((dst, a.port))
    got = b""
    while b"\n" not in got:
        chunk = s.recv(4096)
        if not chunk:
            sys.exit("rst: closed before the greeting")
        got += chunk
    print("greeting " + got.decode("latin-1").strip())
    laddr, lport = s.getsockname()
    lab_only(laddr)
    time.sleep(0.3)  # Linux's ACK of the greeting
    mine = [p for p in seen if TCP in p and p[IP].src == laddr and p[TCP].sport == lport]
    theirs = [p for p in seen if TCP in p and p[IP].dst == laddr and p[TCP].dport == lport]
    if not mine or not theirs:
        sn.stop()
        sys.exit("rst: sniffed nothing of %s:%d" % (laddr, lport))
    last = mine[-1]
    nxt = last[TCP].seq + len(last[TCP].payload) + (1 if last[TCP].flags.S else 0)
    nxt &= 0xFFFFFFFF
    win = theirs[-1][TCP].window
    print("flow %s:%d -> %s:%d rcv_nxt=%d their_window=%d" % (laddr, lport, dst, a.port, nxt, win))

    def srv_acks():
        return sum(1 for p in seen
                   if TCP in p and p[IP].dst == laddr and p[TCP].dport == lport
                   and p[TCP].flags == "A" and len(p[TCP].payload) == 0)

    base = srv_acks()
    ip = IP(src=laddr, dst=dst)
    # (a) far outside the window: RFC 5961 §3.2, silently ignored
    send(ip / TCP(sport=lport, dport=a.port, flags="R", seq=(nxt + (1 << 30)) & 0xFFFFFFFF,
                  window=0))
    time.sleep(0.5)
    print("out_of_window_rst acks_back=%d" % (srv_acks() - base))
    base = srv_acks()
    # (b) in the window, not at RCV.NXT: a challenge ACK, the flow lives
    send(ip / TCP(sport=lport, dport=a.port, flags="R", seq=(nxt + 100) & 0xFFFFFFFF,
                  window=0))
    time.sleep(0.5)
    print("in_window_rst acks_back=%d" % (srv_acks() - base))
    s.sendall(b"QUIT\r\n")
    got = b""
    s.settimeout(5)
    try:
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
    except (socket.timeout, ConnectionResetError) as e:
        print("after_rst error %s" % type(e).__name__)
    for line in got.decode("latin-1").splitlines():
        print("after_rst " + line)
    s.close()
    sn.stop()


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("flood")
    f.add_argument("dst")
    f.add_argument("--net", default="198.19.128.0/17")
    f.add_argument("--port", type=int, default=25)
    f.add_argument("--count", type=int, default=20000)
    f.add_argument("--seconds", type=float, default=5.0)
    f.add_argument("--seed", type=int, default=1)
    r = sub.add_parser("rst")
    r.add_argument("dst")
    r.add_argument("--port", type=int, default=25)
    r.add_argument("--iface", help="the interface to sniff on (default: scapy's)")
    a = ap.parse_args()
    flood(a) if a.cmd == "flood" else rst(a)


if __name__ == "__main__":
    main()
