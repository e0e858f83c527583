"""tests/qemu/shim/fuzz_guest.py - boots the syscall fuzzer on bare metal
(fuzz_musl.c, musl_fuzz_* tests) with a fresh 64 KiB disk as /dev/vda,
as the host's shim_fuzz has one, and checks its end: exit status 0 and
the summary with 0 invalid results. On a failure it prints the command
that replays the run (same seed, same count, a fresh disk).

usage: fuzz_guest.py RUNNER IMAGE SEED OPS [TIMEOUT]
"""
import os, re, subprocess, sys, tempfile


def main():
    runner, image, seed, ops = sys.argv[1:5]
    timeout = sys.argv[5] if len(sys.argv) > 5 else "90"
    with tempfile.TemporaryDirectory(prefix="cubrt-fuzz") as tmp:
        disk = os.path.join(tmp, "vda.img")
        with open(disk, "wb") as f:
            f.truncate(64 * 1024)
        proc = subprocess.run([runner, "--timeout", timeout, "--mem", "256M", "--disk", disk,
                               image, seed, ops],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = proc.stdout.decode("utf-8", "replace")
    # The random writes reach the console: keep the log printable.
    print("".join(c if c.isprintable() or c in "\n\t" else "." for c in out))
    ok = proc.returncode == 0 and re.search(r"fuzz_syscalls: \d+ calls, 0 invalid results", out)
    if not ok:
        print("FAIL: exit status %d; replay: dd if=/dev/zero of=/tmp/vda.img bs=64k count=1 && "
              "%s --mem 256M --disk /tmp/vda.img %s %s %s" % (proc.returncode, runner, image, seed, ops))
        sys.exit(1)
    print("fuzz_guest: ok (seed %s, %s calls)" % (seed, ops))


main()
