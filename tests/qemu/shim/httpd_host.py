#!/usr/bin/env python3
"""tests/qemu/shim/httpd_host.py - examples/go/httpd.go's "serve" mode
from the host, as its header comment and the README tell a user to run
it: boots IMAGE serve behind --net=hostfwd=tcp:127.0.0.1:H-:8080, waits
for "httpd: serving on", fetches /hello and /sum with urllib, then /quit;
the guest must exit 0 having served them.

usage: httpd_host.py RUNNER IMAGE
"""
import json, os, sys, urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from hostside import Guest, free_port

runner, image = sys.argv[1], sys.argv[2]
port = free_port()
guest = Guest(runner, ["--net=hostfwd=tcp:127.0.0.1:%d-:8080" % port, image, "serve"])
guest.wait_line("httpd: serving on")


def get(path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=20) as r:
        return r.read()


try:
    if get("/hello?who=host") != b"hello, host\n":
        guest.fail("/hello")
    if json.loads(get("/sum?n=100")) != {"n": 100, "sum": 5050}:
        guest.fail("/sum")
    if get("/quit") != b"bye\n":
        guest.fail("/quit")
except OSError as e:
    guest.fail("urllib: %r" % e)
status, rest = guest.finish()
if status != 0 or "httpd: served 2 requests" not in rest:
    print("FAIL: guest status %d" % status)
    sys.exit(1)
print("httpd serve from the host: ok")
