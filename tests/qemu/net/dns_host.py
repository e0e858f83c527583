#!/usr/bin/env python3
"""tests/qemu/net/dns_host.py - a DNS server on the host for dns.c.

usage: dns_host.py RUNNER IMAGE

Serves, on UDP 127.0.0.1:P (the guest's 10.0.2.2:P), the zone
cubrt.test as dns.c expects it, with replies built here by hand (RFC
1035 4.1, compressed names): alias -> CNAME mid -> CNAME host (A
10.9.8.7, TTL 60), many (five A records), missing (NXDOMAIN), fail
(SERVFAIL), slow (its first query ignored), web (A 10.0.2.2), big (40
A records 10.1.0.1..40: over UDP only a truncated answer, TC set and no
records; the whole over TCP), cached (A 10.6.6.6, to be asked once); reverse
names: 7.8.9.10.in-addr.arpa PTR host, 6.8.9.10.in-addr.arpa CNAME
6.0/25.8.9.10.in-addr.arpa (RFC 2317) PTR classless, 5.8.9.10 missing;
SRV: _echo._tcp (three records, two priorities), _none._tcp (target
".": no such service), _big._tcp (20 records: over 512 bytes, truncated
over UDP). Any reply over 512 bytes goes over UDP truncated, TC set and
no records. On TCP 127.0.0.1:P the same zone behind two-byte lengths
(RFC 1035 4.2.2). A TCP server on 127.0.0.1:W greets whoever connects. Boots IMAGE with "P W",
checks every query it gets (one question, A, PTR or SRV, IN, RD set, no other
sections) and the guest's verdict. Exits non-zero on any failure.
DNS_HOST_RUNARGS in the environment adds runner arguments (e.g. a
--qemu-arg pair with filter-dump to capture the guest's traffic).
"""
import os, socket, struct, sys, threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from hostside import Guest

runner, image = sys.argv[1], sys.argv[2]
ZONE = {
    "alias.cubrt.test": ("cname", "mid.cubrt.test"),
    "mid.cubrt.test": ("cname", "host.cubrt.test"),
    "host.cubrt.test": ("a", ["10.9.8.7"]),
    "many.cubrt.test": ("a", ["10.0.0.%d" % i for i in range(1, 6)]),
    "slow.cubrt.test": ("a", ["10.7.7.7"]),
    "web.cubrt.test": ("a", ["10.0.2.2"]),
    "big.cubrt.test": ("a", ["10.1.0.%d" % i for i in range(1, 41)]),
    "cached.cubrt.test": ("a", ["10.6.6.6"]),
    "7.8.9.10.in-addr.arpa": ("ptr", ["host.cubrt.test"]),
    "6.8.9.10.in-addr.arpa": ("cname", "6.0/25.8.9.10.in-addr.arpa"),
    "6.0/25.8.9.10.in-addr.arpa": ("ptr", ["classless.cubrt.test"]),
    "_echo._tcp.cubrt.test": ("srv", [(20, 0, 7, "c.cubrt.test"), (10, 60, 7, "a.cubrt.test"),
                                      (10, 40, 7, "b.cubrt.test")]),
    "_none._tcp.cubrt.test": ("srv", [(0, 0, 0, "")]),
    "_big._tcp.cubrt.test": ("srv", [(i % 2, 1, 2000 + i, "s%02d.cubrt.test" % i)
                                     for i in range(20)]),
}
TYPES = {"a": 1, "ptr": 12, "srv": 33}
problems, seen, seen_tcp = [], {}, {}

def read_name(msg, off):
    labels = []
    while msg[off]:
        n = msg[off]
        labels.append(msg[off + 1:off + 1 + n].decode())
        off += 1 + n
    return ".".join(labels), off + 1

def encode(name):
    if name == "":
        return b"\0"
    return b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"

def answer(query, tcp=False):
    qid, flags, qd, an, ns, ar = struct.unpack(">HHHHHH", query[:12])
    name, end = read_name(query, 12)
    qtype, qclass = struct.unpack(">HH", query[end:end + 4])
    if not (flags & 0x0100) or (qd, an, ns, ar) != (1, 0, 0, 0) or qtype not in (1, 12, 33) \
            or qclass != 1 \
            or len(query) != end + 4:
        problems.append("a malformed query for %r: %r" % (name, query))
    name = name.lower()
    counts = seen_tcp if tcp else seen
    counts[name] = counts.get(name, 0) + 1
    if name == "slow.cubrt.test" and seen[name] == 1:
        return None
    rcode = 2 if name == "fail.cubrt.test" else 0
    records, target, offsets = [], name, {name: 12}
    body = query[12:end + 4]
    while target in ZONE and ZONE[target][0] == "cname":
        alias = ZONE[target][1]
        records.append((target, 5, 300, alias))
        target = alias
    if target in ZONE:
        kind, data = ZONE[target]
        if TYPES[kind] == qtype:
            records += [(target, qtype, 60, d) for d in data]
    elif rcode == 0:
        rcode = 3
    out = bytearray(struct.pack(">HHHHHH", qid, 0x8180 | rcode, 1, len(records), 0, 0)) + body
    for owner, rtype, ttl, data in records:
        if owner in offsets:
            out += struct.pack(">H", 0xC000 | offsets[owner])
        else:
            offsets[owner] = len(out)
            out += encode(owner)
        if rtype == 5:
            rd_at = len(out) + 10
            out += struct.pack(">HHIH", 5, 1, ttl, len(encode(data))) + encode(data)
            offsets[data] = rd_at
        elif rtype == 12:
            out += struct.pack(">HHIH", 12, 1, ttl, len(encode(data))) + encode(data)
        elif rtype == 33:
            rd = struct.pack(">HHH", *data[:3]) + encode(data[3])
            out += struct.pack(">HHIH", 33, 1, ttl, len(rd)) + rd
        else:
            out += struct.pack(">HHIH", 1, 1, ttl, 4) + socket.inet_aton(data)
    if len(out) > 512 and not tcp:
        return struct.pack(">HHHHHH", qid, 0x8380, 1, 0, 0, 0) + body
    return bytes(out)

def serve_dns(sock):
    while True:
        try:
            query, peer = sock.recvfrom(2048)
        except OSError:
            return
        try:
            reply = answer(query)
        except Exception as e:
            problems.append("query %r: %r" % (query, e))
            continue
        if reply:
            sock.sendto(reply, peer)

def read_exactly(conn, n):
    data = b""
    while len(data) < n:
        more = conn.recv(n - len(data))
        if not more:
            return None
        data += more
    return data

def serve_dns_tcp(srv):
    while True:
        try:
            conn, _ = srv.accept()
        except OSError:
            return
        with conn:
            while True:
                head = read_exactly(conn, 2)
                query = head and read_exactly(conn, struct.unpack(">H", head)[0])
                if not query:
                    break
                try:
                    reply = answer(query, tcp=True)
                except Exception as e:
                    problems.append("TCP query %r: %r" % (query, e))
                    break
                conn.sendall(struct.pack(">H", len(reply)) + reply)

def serve_web(srv):
    while True:
        try:
            conn, _ = srv.accept()
        except OSError:
            return
        conn.sendall(b"hello from the host\n")
        conn.close()

dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
dns.bind(("127.0.0.1", 0))
dns_tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
dns_tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
dns_tcp.bind(("127.0.0.1", dns.getsockname()[1]))
dns_tcp.listen(4)
web = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
web.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
web.bind(("127.0.0.1", 0))
web.listen(4)
threading.Thread(target=serve_dns, args=(dns,), daemon=True).start()
threading.Thread(target=serve_dns_tcp, args=(dns_tcp,), daemon=True).start()
threading.Thread(target=serve_web, args=(web,), daemon=True).start()

guest = Guest(runner, os.environ.get("DNS_HOST_RUNARGS", "").split() + ["--net", image, "%d %d" % (dns.getsockname()[1], web.getsockname()[1])])
verdict = None
for line in guest.lines():
    if "checks passed" in line:
        verdict = line.strip()
if problems:
    print("FAIL: " + "; ".join(problems))
    sys.exit(1)
if guest.proc.returncode != 0 or not verdict:
    print("FAIL: the guest ended with status %s (%s)" % (guest.proc.returncode, verdict))
    sys.exit(1)
want = {"alias.cubrt.test", "many.cubrt.test", "missing.cubrt.test", "fail.cubrt.test",
        "slow.cubrt.test", "web.cubrt.test", "big.cubrt.test", "cached.cubrt.test",
        "7.8.9.10.in-addr.arpa", "6.8.9.10.in-addr.arpa", "5.8.9.10.in-addr.arpa",
        "_echo._tcp.cubrt.test", "_none._tcp.cubrt.test", "_big._tcp.cubrt.test"}
# A query is sent again after a second without an answer, which a loaded
# host can take to answer any of them: counts are lower bounds (the guest
# checks that the cached lookup sent nothing).
if set(seen) != want or seen["slow.cubrt.test"] < 2:
    print("FAIL: the queries were %r" % seen)
    sys.exit(1)
if seen_tcp != {"big.cubrt.test": 1, "_big._tcp.cubrt.test": 1}:
    print("FAIL: the queries over TCP were %r" % seen_tcp)
    sys.exit(1)
print("host: %d queries over UDP, %d over TCP, all well-formed: ok"
      % (sum(seen.values()), sum(seen_tcp.values())))
