#!/usr/bin/env python3
"""tests/qemu/shim/gohttp/http_host.py - the host side of go_http.

usage: http_host.py RUNNER IMAGE

Serves a directory holding data.bin (300000 bytes, byte i = (i*7 +
i>>8) mod 256) with Python's http.server on 127.0.0.1:P, boots IMAGE
(gohttp/main.go) as "IMAGE P" behind --net=hostfwd=tcp:127.0.0.1:H-:8080,
and once the guest says "gohttp: listening on 8080" fetches its pages
with urllib through the forwarded port: /hello, /sum?n=1000 (JSON),
/big (256 KiB) and 8 of /hello at once, then /quit. Exits non-zero when
a page is wrong, the guest's summary is missing or a check failed.
"""
import functools, http.server, json, os, sys, tempfile, threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
from hostside import Guest, checks_passed, free_port

runner, image = sys.argv[1], sys.argv[2]
root = tempfile.mkdtemp()
with open(os.path.join(root, "data.bin"), "wb") as f:
    f.write(bytes((i * 7 + (i >> 8)) & 0xFF for i in range(300000)))


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                      functools.partial(Quiet, directory=root))
threading.Thread(target=srv.serve_forever, daemon=True).start()
fwd = free_port()

guest = Guest(runner, ["--mem", "512M", "--net=hostfwd=tcp:127.0.0.1:%d-:8080" % fwd,
                      image, str(srv.server_address[1])], timeout=80)
out, ok = [], True


def get(path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (fwd, path), timeout=20) as r:
        return r.read()


def host_checks():
    global ok
    try:
        checks = [
            ("/hello", get("/hello?who=host") == b"hello, host from 10.0.2.2\n"),
            ("/sum", json.loads(get("/sum?n=1000")) == {"n": 1000, "sum": 500500}),
            ("/big", get("/big") == b"0123456789abcdef" * (1 << 14)),
        ]
        with ThreadPoolExecutor(8) as ex:
            got = list(ex.map(lambda i: get("/hello?who=%d" % i), range(8)))
        checks.append(("8 at once", got == [b"hello, %d from 10.0.2.2\n" % i for i in range(8)]))
        checks.append(("/quit", get("/quit") == b"served 11\n"))
    except Exception as e:
        checks = [("urllib through hostfwd: %r" % e, False)]
    for what, good in checks:
        print("host: %s: %s" % (what, "ok" if good else "FAILED"))
        ok = ok and good


for line in guest.lines():
    out.append(line)
    if "gohttp: listening on 8080" in line:
        threading.Thread(target=host_checks).start()
text = "".join(out)
if guest.proc.returncode != 0 or not ok or not checks_passed(text, "gohttp") \
        or "gohttp: served 11 requests" not in text:
    print("FAIL: guest status %d" % guest.proc.returncode)
    sys.exit(1)
print("go_http: ok")
