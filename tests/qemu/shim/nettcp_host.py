#!/usr/bin/env python3
"""tests/qemu/shim/nettcp_host.py - the host side of musl_nettcp.

usage: nettcp_host.py RUNNER IMAGE

Runs a TCP server on 127.0.0.1:P (the guest reaches it as 10.0.2.2:P),
picks a port C nobody listens on, and boots IMAGE (nettcp.c) as
"IMAGE P C" behind --net=hostfwd=tcp:127.0.0.1:H-:8080. Each connection
to the server starts with one command byte:
  X  echo: every byte comes back until the client's FIN, then FIN
  S  count: read until FIN, answer b"got <n> <sum>" (sum of the bytes
     mod 2^32), then close
  R  reset: close at once with SO_LINGER 0 (a RST)
  W  wait: say nothing, read until FIN or a reset
When the guest prints "nettcp: listening on 8080" the script connects
through the forwarded port, sends 256 KiB, reads them back (the guest
echoes), half-closes, reads the guest's end of file and its last words.
Prints the guest's output; exits non-zero when the guest's summary is
missing, a check failed, or the host's own part failed.
"""
import os, socket, sys, threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from hostside import Guest, checks_passed, free_port

runner, image = sys.argv[1], sys.argv[2]



def serve_one(c):
    try:
        cmd = c.recv(1)
        if cmd == b"X":
            while True:
                d = c.recv(65536)
                if not d:
                    break
                c.sendall(d)
            c.shutdown(socket.SHUT_WR)
        elif cmd == b"S":
            n = total = 0
            while True:
                d = c.recv(65536)
                if not d:
                    break
                n += len(d)
                total = (total + sum(d)) & 0xFFFFFFFF
            c.sendall(b"got %d %d" % (n, total))
        elif cmd == b"R":
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
        elif cmd == b"W":
            while c.recv(65536):
                pass
    except OSError:
        pass
    c.close()


def server(ls):
    while True:
        c, _ = ls.accept()
        threading.Thread(target=serve_one, args=(c,), daemon=True).start()


ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(16)
threading.Thread(target=server, args=(ls,), daemon=True).start()
sport, closed, fwd = ls.getsockname()[1], free_port(), free_port()

guest = Guest(runner, ["--net=hostfwd=tcp:127.0.0.1:%d-:8080" % fwd,
                      image, str(sport), str(closed)])
out, host_ok = [], True


def fail(msg):
    global host_ok
    host_ok = False
    print("FAIL (host): " + msg)


for line in guest.lines():
    out.append(line)
    if "nettcp: listening on 8080" not in line:
        continue
    try:
        c = socket.create_connection(("127.0.0.1", fwd), timeout=20)
        data = bytes((i * 13 + 7) & 0xFF for i in range(256 * 1024))
        got = bytearray()

        def reader():
            while True:
                d = c.recv(65536)
                if not d:
                    break
                got.extend(d)
        t = threading.Thread(target=reader)
        t.start()
        c.sendall(data)
        c.shutdown(socket.SHUT_WR)
        t.join(30)
        c.close()
        if bytes(got[:len(data)]) != data or got[len(data):] != b"bye\n":
            fail("the echo through hostfwd: %d bytes back" % len(got))
        else:
            print("host: 256 KiB through hostfwd echoed, then bye: ok")
    except OSError as e:
        fail("through hostfwd: %r" % e)
text = "".join(out)
if guest.proc.returncode != 0 or "FAILED" in text or not host_ok:
    print("FAIL: guest status %d" % guest.proc.returncode)
    sys.exit(1)
if not checks_passed(text, "nettcp"):
    print("FAIL: no clean summary")
    sys.exit(1)
print("nettcp from the host: ok")
