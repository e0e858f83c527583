"""tests/qemu/shim/persist_lib.py - what the two-boot drivers of the
persisted directory share (persist_host.py for the musl program,
gopersist_host.py for the Go one): booting an image on a disk image with
CUBRT_PERSIST=vda:/data, reading a slot in the on-disk format of
docs/blk.md ("A persisted directory on a disk"), and a scratch image."""
import os, struct, subprocess, sys, tempfile, zlib

ENV = "CUBRT_PERSIST=vda:/data"


def boot(runner, image, disk, mode, expect, timeout=60):
    """Boots image with ENV and mode as its argument on disk; exits
    non-zero unless it ends with status 0 having printed every line of
    expect; returns what it printed."""
    p = subprocess.run([runner, "--timeout", str(timeout), "--disk", disk, image, ENV, mode],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    print(p.stdout, end="")
    if p.returncode != 0:
        sys.exit("FAIL: boot %s exited with status %d" % (mode, p.returncode))
    for e in expect:
        if e not in p.stdout:
            sys.exit("FAIL: boot %s never printed %r" % (mode, e))
    return p.stdout


def slot(path, i, size):
    """(generation, payload) of slot i of a disk image of size bytes, or
    None when it is not valid."""
    half = size // 2
    with open(path, "rb") as f:
        f.seek(i * half)
        h = f.read(512)
        magic, ver, num, gen, length, crc, hcrc = struct.unpack("<8sIIQQII", h[:40])
        if magic != b"CUBPRST1" or ver != 1 or num != i or zlib.crc32(h[:36]) != hcrc:
            return None
        if length > half - 512:
            return None
        payload = f.read(length)
    return (gen, payload) if zlib.crc32(payload) == crc else None


def with_image(size, run):
    """Calls run(path) on a blank (zero) image of size bytes, removed
    afterwards."""
    fd, path = tempfile.mkstemp(prefix="cubrt-persist-", suffix=".img")
    os.close(fd)
    try:
        with open(path, "wb") as f:
            f.truncate(size)
        run(path)
    finally:
        os.unlink(path)
