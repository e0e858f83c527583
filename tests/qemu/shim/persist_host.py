#!/usr/bin/env python3
"""tests/qemu/shim/persist_host.py - three boots of the musl program
tests/qemu/shim/persist.c on one 1 MiB disk image made here, with
CUBRT_PERSIST=vda:/data (docs/shim.md, "Files that survive a reboot").

usage: persist_host.py RUNNER IMAGE

  boot 1 "write": a blank disk; the program writes and exits; the image
         then holds generation 2 in slot B (fsync's 1 in A, the exit's 2),
         checked here from the on-disk format of docs/blk.md (header CRC,
         payload CRC, a newc archive naming the files)
  boot 2 "read":  generation 2 is restored; the program writes boot2.txt
         and fsyncs (generation 3, slot A)
  then the host tears slot A's payload (one byte flipped)
  boot 3 "old":   generation 2 is restored, without boot2.txt
Every boot must exit 0 and print its console lines. Exits non-zero on the
first failure.
"""
import os, shutil, subprocess, sys, tempfile

from persist_lib import boot, slot as slot_of, with_image

SIZE = 1 << 20


def slot(path, i):
    return slot_of(path, i, SIZE)


def expect_slot(path, i, gen, names):
    s = slot(path, i)
    if not s or s[0] != gen:
        sys.exit("FAIL: slot %d does not hold generation %d: %r" % (i, gen, s and s[0]))
    if not s[1].startswith(b"070701") or b"TRAILER!!!" not in s[1]:
        sys.exit("FAIL: slot %d's payload is no newc archive" % i)
    for n in names:
        if n.encode() + b"\0" not in s[1]:
            sys.exit("FAIL: slot %d's archive does not name %s" % (i, n))
    print("host: slot %d holds generation %d: ok" % (i, gen))


def gnu_cpio(path, i):
    """GNU cpio (when installed) extracts slot i's archive: the format is
    the ordinary newc one."""
    if not shutil.which("cpio"):
        print("host: no cpio here: extraction not checked")
        return
    with tempfile.TemporaryDirectory() as d:
        p = subprocess.run(["cpio", "-idm", "--quiet"], input=slot(path, i)[1], cwd=d,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        ok = p.returncode == 0
        with open(os.path.join(d, "hello.txt"), "rb") as f:
            ok = ok and f.read() == b"hello, disk"
        ok = ok and os.readlink(os.path.join(d, "link")) == "dir/nested.txt"
        ok = ok and os.stat(os.path.join(d, "hello.txt")).st_mtime == 1234567890
        ok = ok and os.stat(os.path.join(d, "dir")).st_mode & 0o7777 == 0o750
        ok = ok and os.stat(os.path.join(d, "hello.txt")).st_ino == \
            os.stat(os.path.join(d, "dir", "hard")).st_ino    # a hard link
        if not ok:
            sys.exit("FAIL: GNU cpio does not extract slot %d as written: %r" % (i, p.stdout))
    print("host: GNU cpio extracts slot %d: ok" % i)


def main():
    runner, image = sys.argv[1:3]
    with_image(SIZE, lambda path: run(runner, image, path))


def run(runner, image, path):
    boot(runner, image, path, "write",
         ["persist: vda blank: /data empty", "persist: /data to vda: generation 2",
          "persist write: 11 of 11 checks passed"])
    expect_slot(path, 0, 1, ["hello.txt", "dir", "dir/nested.txt", "dir/hard", "empty", "link"])
    expect_slot(path, 1, 2, ["hello.txt", "late.txt"])
    gnu_cpio(path, 1)
    boot(runner, image, path, "read",
         ["persist: /data from vda: 4 files, 45 bytes, generation 2",
          "persist read: 13 of 13 checks passed"])
    expect_slot(path, 0, 3, ["boot2.txt"])
    with open(path, "r+b") as f:    # tear the newest: a payload byte
        f.seek(512 + 200)
        b = f.read(1)
        f.seek(512 + 200)
        f.write(bytes([b[0] ^ 0x5A]))
    if slot(path, 0) is not None:
        sys.exit("FAIL: slot 0 still valid after the flip")
    boot(runner, image, path, "old",
         ["persist: /data from vda: 4 files, 45 bytes, generation 2",
          "persist old: 10 of 10 checks passed"])
    print("persist_host: ok")


main()
