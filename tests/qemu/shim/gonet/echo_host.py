#!/usr/bin/env python3
"""tests/qemu/shim/gonet/echo_host.py - the host drives a Go echo server.

usage: echo_host.py RUNNER IMAGE

Boots IMAGE (gonet/main.go built by scripts/go-image) as "IMAGE echo":
a Go UDP echo server on port 7 (net.ListenUDP("udp", ":7")), behind a
host port forwarded by scripts/run --net=hostfwd. Waits for its
"listening" line, then from the host: datagrams of 0..1472 bytes come
back byte for byte, 50 sent back to back all come back, one of 2000 bytes (QEMU fragments it;
cubrt drops fragments) gets no answer, and "quit" ends
the guest with status 0 and its count. Prints one line per check and
exits non-zero on the first failure (as tests/qemu/net/udpecho_host.py
does for the C example).
"""
import os, socket, subprocess, sys, time

runner, image = sys.argv[1], sys.argv[2]


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def fail(msg, guest):
    print("FAIL: " + msg)
    os.killpg(guest.pid, 9)     # the runner and its QEMU
    print(guest.stdout.read())
    sys.exit(1)


port = free_port()
guest = subprocess.Popen([runner, "--timeout", "40",
                          "--net=hostfwd=udp:127.0.0.1:%d-:7" % port, image, "echo"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         start_new_session=True)
deadline = time.time() + 30
while True:
    line = guest.stdout.readline()
    if not line or time.time() > deadline:
        fail("the guest never listened", guest)
    print(line, end="")
    if "gonet echo: listening on" in line:
        break

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect(("127.0.0.1", port))
s.settimeout(5)
for size in (0, 1, 64, 512, 1000, 1472):
    data = bytes((i * 7 + size) & 0xFF for i in range(size))
    s.send(data)
    try:
        back = s.recv(4096)
    except socket.timeout:
        fail("no echo of %d bytes" % size, guest)
    if back != data:
        fail("the echo of %d bytes differs" % size, guest)
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
    fail("a burst of 50: %d came back" % len(got), guest)
print("a burst of 50 datagrams: all echoed: ok")
s.settimeout(1)
s.send(bytes(2000))
try:
    s.recv(4096)
    fail("a fragmented datagram was echoed", guest)
except socket.timeout:
    print("a 2000-byte datagram (fragments) gets no echo: ok")
s.settimeout(5)
s.send(b"quit")
try:
    bye = s.recv(16)
except socket.timeout:
    bye = b""
rest, _ = guest.communicate(timeout=30)
print(rest, end="")
if bye != b"bye" or guest.returncode != 0:
    print("FAIL: quit: reply %r, guest status %d" % (bye, guest.returncode))
    sys.exit(1)
if "gonet echo: 56 datagrams echoed" not in rest:
    print("FAIL: the guest's count")
    sys.exit(1)
print("the Go echo server from the host: ok")
