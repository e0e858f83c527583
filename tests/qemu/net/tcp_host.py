#!/usr/bin/env python3
"""tests/qemu/net/tcp_host.py - TCP between the host and the guest.

usage: tcp_host.py RUNNER IMAGE

Starts a TCP server on 127.0.0.1:P (the guest reaches it as 10.0.2.2:P),
boots IMAGE (tests/qemu/net/tcp.c) with scripts/run --net and a host port
forwarded to the guest's TCP port 5000, passing P on its command line,
waits for its "listening" line, then:
  - as a client of the guest: sends 1 MiB (stream 1) and FIN, receives
    the guest's 1 MiB (stream 2) up to its FIN, checked byte by byte;
  - as the server the guest connects to: receives 1 MiB (stream 3) up to
    the guest's FIN, checked, sends 1 MiB (stream 4) and closes.
Stream k's byte i is (i * 7 + i // 251 + k) mod 256, as in tcp.c.
Prints one line per check and exits non-zero on the first failure.
"""
import os, socket, subprocess, sys, threading, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from hostside import Guest, free_port

runner, image = sys.argv[1], sys.argv[2]
MIB = 1024 * 1024
GUEST_PORT = 5000

def stream(k, n=MIB):
    return bytes((i * 7 + i // 251 + k) & 0xFF for i in range(n))

def recv_all(sock):
    parts = []
    while True:
        b = sock.recv(65536)
        if not b:
            return b"".join(parts)
        parts.append(b)

want = {k: stream(k) for k in (1, 2, 3, 4)}
result = {}

def serve(srv):
    try:
        conn, _ = srv.accept()
        conn.settimeout(25)
        t0 = time.time()
        got = recv_all(conn)
        result["from guest"] = got == want[3]
        result["from guest len"] = len(got)
        conn.sendall(want[4])
        conn.close()
        result["server time"] = time.time() - t0
    except Exception as e:          # reported by the main thread
        result["error"] = repr(e)

srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(1)
srv.settimeout(40)
srv_port = srv.getsockname()[1]
server = threading.Thread(target=serve, args=(srv,), daemon=True)
server.start()

fwd_port = free_port()
guest = Guest(runner, os.environ.get("TCP_HOST_RUNARGS", "").split() + [
                  "--net=hostfwd=tcp:127.0.0.1:%d-:%d" % (fwd_port, GUEST_PORT),
                  image, str(srv_port)])
guest.wait_line("tcp: listening on 10.0.2.15:%d" % GUEST_PORT)

try:
    t0 = time.time()
    c = socket.create_connection(("127.0.0.1", fwd_port), timeout=25)
    c.sendall(want[1])
    c.shutdown(socket.SHUT_WR)
    back = recv_all(c)
    c.close()
except OSError as e:
    guest.fail("client: %r" % e)
if back != want[2]:
    guest.fail("the guest's 1 MiB differs (%d bytes)" % len(back))
print("host client: 1 MiB each way through the forwarded port, intact: ok (%.1f s)"
      % (time.time() - t0))

server.join(45)
if "error" in result or not result.get("from guest"):
    guest.fail("host server: %r" % result)
print("host server: 1 MiB each way with the guest's connection, intact: ok (%.1f s)"
      % result["server time"])

try:
    status, rest = guest.finish(40)
except subprocess.TimeoutExpired:
    guest.fail("the guest did not exit")
if status != 0 or "checks passed" not in rest:
    print("FAIL: guest status %d" % status)
    sys.exit(1)
print("tcp with the host: ok")
