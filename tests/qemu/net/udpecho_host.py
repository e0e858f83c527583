#!/usr/bin/env python3
"""tests/qemu/net/udpecho_host.py - traffic from the host into a guest's
UDP echo server on port 7 (examples/udpecho in C; the Go one,
tests/qemu/shim/gonet, with `--guest-arg echo`).

usage: udpecho_host.py [--guest-arg ARG] [--listening TEXT] [--big SIZE]...
                       [--expect TEXT]... [--not TEXT]... RUNNER IMAGE

Boots IMAGE with scripts/run --net and a host port forwarded to the
guest's port 7, waits for the line containing TEXT (default
"udpecho: listening on 10.0.2.15:7"), then from the host: datagrams of
0..1472 bytes come back byte for byte, 50 sent back to back all come
back, one of each --big SIZE bytes (QEMU fragments it, the guest
reassembles it and fragments its echo, QEMU reassembles that) comes back
byte for byte, and "quit" gets "bye" and ends the guest with status 0,
its last lines then containing every --expect text and no --not text
(the guest's counts of datagrams echoed and reassembled).
Prints one line per check and exits non-zero on the first failure.
"""
import argparse, os, socket, sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from hostside import Guest, free_port

ap = argparse.ArgumentParser()
ap.add_argument("--guest-arg", action="append", default=[])
ap.add_argument("--listening", default="udpecho: listening on 10.0.2.15:7")
ap.add_argument("--expect", action="append", default=[])
ap.add_argument("--not", dest="nots", action="append", default=[])
ap.add_argument("--big", type=int, action="append", default=[])
ap.add_argument("runner")
ap.add_argument("image")
a = ap.parse_args()

port = free_port(socket.SOCK_DGRAM)
guest = Guest(a.runner, ["--net=hostfwd=udp:127.0.0.1:%d-:7" % port, a.image] + a.guest_arg)
guest.wait_line(a.listening)

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect(("127.0.0.1", port))
s.settimeout(5)
for size in (0, 1, 63, 64, 512, 1000, 1471, 1472):
    data = bytes((i * 7 + size) & 0xFF for i in range(size))
    s.send(data)
    try:
        back = s.recv(4096)
    except socket.timeout:
        guest.fail("no echo of %d bytes" % size)
    if back != data:
        guest.fail("the echo of %d bytes differs" % size)
print("echoes of 0..1472 bytes: ok")
sent = [b"burst %03d" % i for i in range(50)]
for d in sent:
    s.send(d)
got = []
try:
    while len(got) < len(sent):
        got.append(s.recv(4096))
except socket.timeout:
    pass
if sorted(got) != sorted(sent):
    guest.fail("a burst of 50: %d came back" % len(got))
print("a burst of 50 datagrams: all echoed: ok")
for size in a.big:
    # QEMU's slirp cuts it into 1480-byte fragments for the guest and
    # reassembles the guest's fragmented echo: byte for byte, whole.
    data = bytes((i * 13 + (i >> 8) + size) & 0xFF for i in range(size))
    s.send(data)
    try:
        back = s.recv(65536)
    except socket.timeout:
        guest.fail("no echo of %d bytes (fragmented)" % size)
    if back != data:
        guest.fail("the echo of %d bytes differs (%d came back)" % (size, len(back)))
    print("echo of %d bytes (fragmented both ways): ok" % size)
s.send(b"quit")
try:
    bye = s.recv(16)
except socket.timeout:
    bye = b""
status, rest = guest.finish()
if bye != b"bye" or status != 0:
    print("FAIL: quit: reply %r, guest status %d" % (bye, status))
    sys.exit(1)
for t in a.expect:
    if t not in rest:
        print("FAIL: the guest's last lines lack %r" % t)
        sys.exit(1)
for t in a.nots:
    if t in rest:
        print("FAIL: the guest's last lines show %r" % t)
        sys.exit(1)
print("udp echo from the host: ok")
