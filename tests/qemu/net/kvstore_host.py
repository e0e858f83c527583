#!/usr/bin/env python3
"""tests/qemu/net/kvstore_host.py - examples/kvstore, driven from the host
across two boots on one disk image.

usage: kvstore_host.py RUNNER IMAGE

Boot 1 (a fresh 1 MiB image): three clients at once each SET 30 keys and
DEL every fifth, reading each back; malformed commands, a key over 64
bytes and a value over 400 get ERR; SHUTDOWN stops the machine (status 0).
Boot 2 (the same image): every key reads back as boot 1 left it (deleted
ones NOTFOUND), STATS counts the records replayed; one more SET, then
SHUTDOWN. The image itself then holds exactly that many records (sector
by sector: the magic and sequence numbers kvlog.c writes, little-endian).
Boot 3, after one byte of record 100 is changed on the image: the replay
stops there (STATS: 100 replayed) and later keys are gone.
"""
import os, socket, struct, sys, tempfile, threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from hostside import Guest, free_port

runner, image = sys.argv[1], sys.argv[2]
CLIENTS, KEYS = 3, 30
failures = []

class Client:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.f = self.s.makefile("rb")

    def ask(self, line):
        self.s.sendall(line.encode() + b"\n")
        return self.f.readline().decode().rstrip("\n")

    def close(self):
        self.s.close()

def expect(what, got, want):
    if got != want:
        failures.append("%s: %r, want %r" % (what, got, want))

def value(c, i):
    return "value of %d/%d " % (c, i) + "x" * (i * 13 % 300)

def boot(disk, port):
    g = Guest(runner, ["--disk", disk, "--net=hostfwd=tcp:127.0.0.1:%d-:7000" % port, image])
    g.wait_line("kvstore: listening on port 7000")
    return g

def writer(port, c):
    try:
        cl = Client(port)
        for i in range(KEYS):
            expect("SET", cl.ask("SET k%d_%d %s" % (c, i, value(c, i))), "OK")
            if i % 5 == 0:
                expect("DEL", cl.ask("DEL k%d_%d" % (c, i)), "OK")
                expect("DEL again", cl.ask("DEL k%d_%d" % (c, i)), "NOTFOUND")
            expect("GET", cl.ask("GET k%d_%d" % (c, i)),
                   "NOTFOUND" if i % 5 == 0 else "VALUE " + value(c, i))
        expect("QUIT", cl.ask("QUIT"), "BYE")
        cl.close()
    except OSError as e:
        failures.append("client %d: %r" % (c, e))

def finish(g, cl):
    expect("SHUTDOWN", cl.ask("SHUTDOWN"), "BYE")
    cl.close()
    for _ in g.lines():
        pass
    expect("status", g.proc.returncode, 0)
    if failures:
        g.fail("; ".join(failures[:5]))

with tempfile.TemporaryDirectory() as tmp:
    disk = os.path.join(tmp, "kv.img")
    with open(disk, "wb") as f:
        f.truncate(1 << 20)

    port = free_port()
    g = boot(disk, port)
    threads = [threading.Thread(target=writer, args=(port, c)) for c in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cl = Client(port)
    for bad, want in [("BOGUS", "ERR unknown command"), ("GET", "ERR unknown command"),
                      ("SET onlykey", "ERR unknown command"), ("GET a b", "ERR unknown command"),
                      ("SET " + "k" * 65 + " v", "ERR EINVAL"),
                      ("SET big " + "v" * 401, "ERR EINVAL"), ("DEL nothing", "NOTFOUND")]:
        expect(bad[:20], cl.ask(bad), want)
    records = CLIENTS * (KEYS + KEYS // 5)
    expect("STATS", cl.ask("STATS"),
           "STATS keys %d log %d/2048 replayed 0" % (CLIENTS * (KEYS - KEYS // 5), records))
    finish(g, cl)
    print("boot 1: %d clients, %d records written: ok" % (CLIENTS, records))

    port = free_port()
    g = boot(disk, port)
    cl = Client(port)
    for c in range(CLIENTS):
        for i in range(KEYS):
            expect("GET after reboot", cl.ask("GET k%d_%d" % (c, i)),
                   "NOTFOUND" if i % 5 == 0 else "VALUE " + value(c, i))
    expect("STATS after reboot", cl.ask("STATS"),
           "STATS keys %d log %d/2048 replayed %d" % (CLIENTS * (KEYS - KEYS // 5),
                                                      records, records))
    expect("SET after reboot", cl.ask("SET late one"), "OK")
    finish(g, cl)
    print("boot 2: every key as boot 1 left it, %d records replayed: ok" % records)

    with open(disk, "rb") as f:
        data = f.read()
    n = 0
    while struct.unpack("<I", data[n * 512:n * 512 + 4])[0] == 0x4B564C31:
        expect("sequence", struct.unpack("<I", data[n * 512 + 4:n * 512 + 8])[0], n + 1)
        n += 1
    expect("records on the image", n, records + 1)
    if failures:
        print("FAIL: " + "; ".join(failures[:5]))
        sys.exit(1)
    print("image: %d records in order: ok" % n)

    # A torn record (one byte of sector 100 changed): the replay stops
    # there, so the store is what the first 100 records made it.
    with open(disk, "r+b") as f:
        f.seek(100 * 512 + 20)
        b = f.read(1)
        f.seek(100 * 512 + 20)
        f.write(bytes([b[0] ^ 0x20]))
    port = free_port()
    g = boot(disk, port)
    cl = Client(port)
    got = cl.ask("STATS")
    if not got.startswith("STATS keys ") or not got.endswith(" log 100/2048 replayed 100"):
        failures.append("STATS after a torn record: %r" % got)
    expect("a key set after the torn record", cl.ask("GET late"), "NOTFOUND")
    finish(g, cl)
    print("boot 3: the replay stops at the torn record 100: ok")
