#!/usr/bin/env python3
"""tests/qemu/net/sntp_host.py - SNTP servers on the host for sntp.c
(native) and tests/qemu/shim/ntptime.c (a musl program under the shim).

usage: sntp_host.py RUNNER IMAGE native|musl

Serves, on UDP 127.0.0.1:P (the guest's 10.0.2.2:P), NTPv4 server
replies built here by hand (RFC 5905 7.3) whose receive and transmit
timestamps read the host's time plus 1000 days, so that a guest clock
set from them cannot be mistaken for the host's; the first request it
gets is ignored (the guest must send again). On 127.0.0.1:K every
request gets a kiss-o'-death (stratum 0, "DENY"). On 127.0.0.1:Q a
socket is bound and never read (a silent server); 127.0.0.1:C was bound
and closed again (nothing listens: the host's port unreachable, which
QEMU's user network passes on as ICMP). Checks every request (48 bytes,
mode 3, version 4, a nonzero transmit timestamp).

native: boots IMAGE with "P K Q C"; musl: with "CUBRT_NTP=10.0.2.2:P" (the
shim sets the clock at start-up and prints "time: set from ..."). Then
compares the Unix seconds the guest prints ("sntp: wall clock now N" or
"ntptime: time() N") with the served time: within 30 s. Exits non-zero
on any failure.
"""
import os, socket, struct, sys, threading, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from hostside import Guest, checks_passed

runner, image, mode = sys.argv[1], sys.argv[2], sys.argv[3]
AHEAD = 1000 * 86400
NTP_EPOCH = 2208988800
problems, requests = [], []


def ntp_now():
    t = time.time() + AHEAD + NTP_EPOCH
    return (int(t) & 0xFFFFFFFF) << 32 | int((t % 1) * (1 << 32))


def check_request(req):
    if len(req) != 48 or req[0] & 7 != 3 or (req[0] >> 3) & 7 != 4 or req[40:48] == bytes(8):
        problems.append("a malformed request: %r" % req)


def serve(sock, kiss):
    while True:
        try:
            req, peer = sock.recvfrom(2048)
        except OSError:
            return
        check_request(req)
        requests.append(kiss)
        if not kiss and requests.count(False) == 1:
            continue                    # the first is "lost"
        rx = ntp_now()
        if kiss:
            head = struct.pack(">BBbbII4s", 3 << 6 | 4 << 3 | 4, 0, 6, -20, 0, 0, b"DENY")
        else:
            head = struct.pack(">BBbbII4s", 4 << 3 | 4, 2, 6, -20, 0x100, 0x200,
                               socket.inet_aton("10.0.2.2"))
        orig = req[40:48].ljust(8, b"\0")
        sock.sendto(head + struct.pack(">Q8sQQ", rx, orig, rx, ntp_now()), peer)


socks = []
for kiss in (False, True):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
    threading.Thread(target=serve, args=(s, kiss), daemon=True).start()
port, kod = socks[0].getsockname()[1], socks[1].getsockname()[1]
quiet = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
quiet.bind(("127.0.0.1", 0))            # never read: silent
gone = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
gone.bind(("127.0.0.1", 0))
closed = gone.getsockname()[1]
gone.close()                            # nothing listens there now

if mode == "native":
    cmdline = "%d %d %d %d" % (port, kod, quiet.getsockname()[1], closed)
    summary, marker = "sntp", "sntp: wall clock now "
else:
    cmdline, summary, marker = "CUBRT_NTP=10.0.2.2:%d" % port, "ntptime", "ntptime: time() "
guest = Guest(runner, ["--net", image, cmdline])
text, seen = "", None
for line in guest.lines():
    text += line
    if marker in line:
        seen = (int(line.split(marker)[1].split()[0]), time.time() + AHEAD)
if guest.proc.returncode != 0 or not checks_passed(text, summary):
    problems.append("the guest ended with status %s, its checks not all passed"
                    % guest.proc.returncode)
if mode == "musl" and ("time: set from 10.0.2.2:%d, offset +864" % port) not in text:
    problems.append("no 'time: set from' line with an offset of about +1000 days")
if not seen:
    problems.append("the guest never printed %r" % marker)
elif abs(seen[0] - seen[1]) > 30:
    problems.append("the guest's clock read %d, the served time was %d" % (seen[0], seen[1]))
if requests.count(False) < 2:
    problems.append("%d requests to the server, want 2 or more" % requests.count(False))
if problems:
    print("FAIL: " + "; ".join(problems))
    sys.exit(1)
print("host: %d requests, all well-formed; the guest's clock within 30 s of the served time: ok"
      % len(requests))
