"""tests/qemu/hostside.py - what the Python scripts that drive a guest
from the host share: boot it with scripts/run in a session of its own,
wait for a line it prints, stop it (the runner and its QEMU) on a
failure, collect its end; free host ports.

Scripts in tests/qemu/<dir>/ (or one level deeper) import it after
putting tests/qemu on sys.path.
"""
import os, re, socket, subprocess, sys, time


def free_port(kind=socket.SOCK_STREAM):
    """A host port nobody holds now (a small race: the caller binds it
    or hands it to QEMU's hostfwd right away)."""
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Guest:
    """A guest booted by RUNNER with the given arguments; its console
    lines are echoed to stdout as they are read."""

    def __init__(self, runner, args, timeout=60):
        self.proc = subprocess.Popen([runner, "--timeout", str(timeout)] + list(args),
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, start_new_session=True)

    def wait_line(self, text, seconds=40):
        """Reads console lines until one contains text; fails when the
        guest ends or the time runs out first."""
        deadline = time.time() + seconds
        while True:
            line = self.proc.stdout.readline()
            if not line or time.time() > deadline:
                self.fail("the guest never printed %r" % text)
            print(line, end="")
            if text in line:
                return line

    def lines(self):
        """The console's lines as they come, echoed, until the guest ends
        (then its status is in self.proc.returncode)."""
        for line in self.proc.stdout:
            print(line, end="")
            yield line
        self.proc.wait()

    def fail(self, msg):
        """Reports msg, stops the runner and its QEMU, shows the rest of
        the console and exits 1."""
        print("FAIL: " + msg)
        try:
            os.killpg(self.proc.pid, 9)
        except ProcessLookupError:
            pass
        print(self.proc.stdout.read())
        sys.exit(1)

    def finish(self, seconds=30):
        """Waits for the guest to exit: (status, the rest of its
        console), the rest echoed."""
        rest, _ = self.proc.communicate(timeout=seconds)
        print(rest, end="")
        return self.proc.returncode, rest


def checks_passed(text, name):
    """True when text has the summary line "NAME: N of N checks passed"
    (tests/qemu/shim/checks.h and the Go programs print it)."""
    m = re.search(r"%s: (\d+) of (\d+) checks passed" % re.escape(name), text)
    return bool(m) and m.group(1) == m.group(2)
