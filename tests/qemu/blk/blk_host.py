#!/usr/bin/env python3
"""tests/qemu/blk/blk_host.py - boots a disk test with a scratch image
made here, and checks the image's bytes from the host afterwards.

usage: blk_host.py MODE RUNNER IMAGE [EXPECT...]

MODE:
  api      a fresh 4 MiB image; the guest (tests/qemu/blk/blk.c "api")
           must exit 0; afterwards sectors 0..7 of the file hold pattern 1
  ro       a 1 MiB image with pattern 7 in sectors 0..3, given read-only
           (--disk FILE,ro); the file is unchanged afterwards
  persist  boot 1 ("write 42") fills sectors 0..255 and flushes; the file
           then holds pattern 42 there; boot 2, a new QEMU on the same
           file ("read 42"), reads it back
  none     no disk at all
  recover  a blank 1 MiB image for recover.c, which fails the disk twice
           and recovers it; afterwards the file holds pattern 5 in
           sectors 0..7, zeros in 16..19 (a write abandoned by the
           failure) and pattern 6 in 32..39 (written after the recovery)
  hang     a 1 MiB image with pattern 3 in sectors 0..7 for hang.c, a
           device that never answers; the file is unchanged afterwards
  shim     a 1 MiB image for the musl program (tests/qemu/shim/blkdev.c),
           with "written by the host" at byte 300000 for it to read; it
           writes through /dev/vda, and the bytes it documents are
           checked in the file afterwards
Every EXPECT text must appear in the console of the (last) boot.
Prints one line per check and exits non-zero on the first failure.
"""
import os, subprocess, sys, tempfile

S = 512


def pat(seed, lba, i):
    return (seed * 37 + lba * 11 + i * 3 + (i >> 8)) & 0xFF


def sectors(seed, lba, count):
    return bytes(pat(seed, lba + s, i) for s in range(count) for i in range(S))


def boot(runner, image, disk, guest_args, expect):
    args = [runner, "--timeout", "60"]
    if disk:
        args += ["--disk", disk]
    p = subprocess.run(args + [image] + guest_args, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    print(p.stdout, end="")
    if p.returncode != 0:
        sys.exit("FAIL: the guest exited with status %d" % p.returncode)
    for e in expect:
        if e not in p.stdout:
            sys.exit("FAIL: the guest never printed %r" % e)


def check_file(path, off, want, what):
    with open(path, "rb") as f:
        f.seek(off)
        got = f.read(len(want))
    if got != want:
        sys.exit("FAIL: %s: the image file does not hold it" % what)
    print("host: %s: ok" % what)


def main():
    mode, runner, image = sys.argv[1:4]
    expect = sys.argv[4:]
    fd, path = tempfile.mkstemp(prefix="cubrt-disk-", suffix=".img")
    os.close(fd)
    try:
        run(mode, runner, image, path, expect)
    finally:
        os.unlink(path)


def run(mode, runner, image, path, expect):
    size = {"api": 4 << 20}.get(mode, 1 << 20)
    with open(path, "wb") as f:
        f.truncate(size)
    if mode == "api":
        boot(runner, image, path, ["api"], expect)
        check_file(path, 0, sectors(1, 0, 8), "pattern 1 in sectors 0..7")
        check_file(path, 100 * S, sectors(2, 100, 300), "300 sectors at 100")
    elif mode == "ro":
        with open(path, "r+b") as f:
            f.write(sectors(7, 0, 4))
        boot(runner, image, path + ",ro", ["ro"], expect)
        check_file(path, 0, sectors(7, 0, 4) + bytes(S), "unchanged")
    elif mode == "persist":
        boot(runner, image, path, ["write", "42"], ["blk persist: wrote"])
        check_file(path, 0, sectors(42, 0, 256), "boot 1 wrote pattern 42")
        boot(runner, image, path, ["read", "42"], expect)
    elif mode == "hang":
        with open(path, "r+b") as f:
            f.write(sectors(3, 0, 8))
        boot(runner, image, path, [], expect)
        check_file(path, 0, sectors(3, 0, 8) + bytes(S), "unchanged")
    elif mode == "none":
        boot(runner, image, None, ["none"], expect)
    elif mode == "recover":
        boot(runner, image, path, [], expect)
        check_file(path, 0, sectors(5, 0, 8), "pattern 5 in sectors 0..7")
        check_file(path, 16 * S, bytes(4 * S), "the abandoned write not run")
        check_file(path, 32 * S, sectors(6, 32, 8), "pattern 6 in 32..39")
    elif mode == "shim":
        with open(path, "r+b") as f:
            f.seek(300000)
            f.write(b"written by the host")
        boot(runner, image, path, [], expect)
        check_file(path, 1000, b"hello, disk", "pwrite at 1000")
        check_file(path, 4096 - 3, b"across", "a write across sectors 7 and 8")
        check_file(path, (1 << 20) - 4, b"tail", "the last 4 bytes")
    else:
        sys.exit("FAIL: unknown mode " + mode)
    print("blk_host %s: ok" % mode)


main()
