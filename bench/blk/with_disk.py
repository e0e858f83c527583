#!/usr/bin/env python3
"""bench/blk/with_disk.py - runs a command with a scratch disk image.

usage: with_disk.py [--mib N] COMMAND...

Makes an N MiB image (default 64) in /tmp with a unique name, every
4 KiB block starting with its number (uint32, little-endian; the rest
0xa5), so a reader can check it got the block it asked for; runs
COMMAND with every argument `@DISK` replaced by the image's path; removes
the image and exits with COMMAND's status. Used by bench.conf to give
blk_qemu a disk (scripts/run --disk @DISK ...).
"""
import os, struct, subprocess, sys, tempfile

BLOCK = 4096


def main():
    args, mib = sys.argv[1:], 64
    if args[:1] == ["--mib"]:
        mib, args = int(args[1]), args[2:]
    if not args or mib < 1:
        sys.exit(__doc__)
    fd, path = tempfile.mkstemp(prefix="cubrt-blk-bench-", suffix=".img")
    try:
        fill = b"\xa5" * (BLOCK - 4)
        with os.fdopen(fd, "wb") as f:
            for b in range(mib * (1 << 20) // BLOCK):
                f.write(struct.pack("<I", b) + fill)
        cmd = [path if a == "@DISK" else a for a in args]
        return subprocess.run(cmd).returncode
    finally:
        os.unlink(path)


if __name__ == "__main__":
    sys.exit(main())
