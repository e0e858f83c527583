#!/usr/bin/env python3
"""tests/qemu/shim/gopersist_host.py - two boots of the Go program
tests/qemu/shim/gopersist/main.go on one 1 MiB disk image made here, with
CUBRT_PERSIST=vda:/data (docs/shim.md, "Files that survive a reboot").

usage: gopersist_host.py RUNNER IMAGE

  boot 1 "write": a blank disk; the program writes, syncs, renames,
         links and removes files and exits (generation 10: every Sync
         a snapshot, and the exit's); the image's newest slot
         then names what must be there and not what was removed or
         renamed away (checked here from the format of docs/blk.md)
  boot 2 "read":  the program walks /data/app and reads it all back
Every boot must exit 0 with all its checks passed. Exits non-zero on the
first failure.
"""
import re, sys

from persist_lib import boot, slot, with_image

SIZE = 1 << 20
TIMEOUT = 90


def all_passed(out, mode):
    m = re.search(r"gopersist %s: (\d+) of (\d+) checks passed" % mode, out)
    if not m or m.group(1) != m.group(2) or m.group(1) == "0":
        sys.exit("FAIL: boot %s: not every check passed" % mode)


def newest(path):
    """The newest valid slot's payload, checked for names."""
    s = [x for x in (slot(path, 0, SIZE), slot(path, 1, SIZE)) if x]
    if not s:
        sys.exit("FAIL: no valid slot after the first boot")
    gen, payload = max(s, key=lambda x: x[0])
    for n in ["app/config.json", "app/state", "app/logs/2024/01.log", "app/blob.bin",
              "app/current", "app/unsynced.txt"]:
        if n.encode() + b"\0" not in payload:
            sys.exit("FAIL: generation %d does not name %s" % (gen, n))
    for n in ["app/state.tmp", "app/remove.me", "app/scratch"]:
        if n.encode() + b"\0" in payload:
            sys.exit("FAIL: generation %d still names %s" % (gen, n))
    if b"state v2: replaced atomically" not in payload or b"state v1" in payload:
        sys.exit("FAIL: generation %d does not hold the replaced state" % gen)
    print("host: generation %d in the newest slot: ok" % gen)


def run(runner, image, path):
    # Generation 10: each of the nine Syncs of a changed tree (eight
    # files, the directory after the rename) is a snapshot, and the
    # exit's is the tenth (os.WriteFile syncs nothing).
    out = boot(runner, image, path, "write",
               ["persist: vda blank: /data empty", "persist: /data to vda: generation 10,"],
               TIMEOUT)
    all_passed(out, "write")
    newest(path)
    out = boot(runner, image, path, "read", ["persist: /data from vda: 7 files"], TIMEOUT)
    all_passed(out, "read")
    print("gopersist_host: ok")


def main():
    runner, image = sys.argv[1:3]
    with_image(SIZE, lambda path: run(runner, image, path))


main()
