#!/usr/bin/env python3
"""tests/qemu/shim/gopkg_host.py - Go's own tests of one standard-library
package, run on cubrt: the test binary (`go test -c`) built into IMAGE by
`scripts/go-image --test`, booted with the package's directory as its
working directory "/" (--files DIR: its testdata/, as `go test` gives).

usage: gopkg_host.py RUNNER IMAGE PACKAGE EXCLUDES [--files DIR]
                     [--timeout SEC] [--mem SIZE] [GUEST-ARG ...]

  1. boots IMAGE -test.list . for the names of its tests, examples and
     fuzz targets (whose seed corpora run as tests);
  2. drops the names that EXCLUDES (gopkg_exclude.txt) lists for PACKAGE:
     lines "PACKAGE REGEX  # reason", REGEX matching whole names; an
     exclusion that matches no name is an error (a stale list);
  3. boots IMAGE -test.short -test.v -test.run '^(A|B|...)$' GUEST-ARGS
     for the rest, as many names per boot as cubrt's 1 KiB command line
     holds (Go 1.19's -test.run cannot exclude, and has no -test.skip).
Every boot must exit 0 with Go's verdict PASS, having run all its names,
with no "--- FAIL" and no "unimplemented syscall". Prints one summary line
    gopkg PACKAGE: N run, P passed, S skipped, E excluded (B boots)
or, after all the boots, the failed ones and exits non-zero.
"""
import re, subprocess, sys, time

CMDLINE = 1024 - 1		# platform/x86 keeps 1023 bytes of it
FIXED = "-test.short -test.v -test.run "


def usage():
    sys.exit(__doc__.split("\n\n")[1])


def parse(argv):
    if len(argv) < 5:
        usage()
    opts = {"runner": argv[1], "image": argv[2], "pkg": argv[3],
            "excludes": argv[4], "run": [], "guest": [], "timeout": "120"}
    rest = argv[5:]
    while rest:
        a = rest.pop(0)
        if a in ("--files", "--mem", "--timeout") and rest:
            v = rest.pop(0)
            if a == "--timeout":
                opts["timeout"] = v
            else:
                opts["run"] += [a, v]
        else:
            opts["guest"].append(a)
    return opts


def excluded(path, pkg):
    """The regexes gopkg_exclude.txt lists for pkg (each with a reason)."""
    out = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            body, _, why = line.partition("#")
            words = body.split()
            if not words:
                continue
            if len(words) != 2 or not why.strip():
                sys.exit("FAIL: %s:%d: not \"PACKAGE REGEX  # reason\"" % (path, n))
            if words[0] == pkg:
                out.append(re.compile(words[1]))
    return out


def boot(o, args):
    cmd = [o["runner"], "--timeout", o["timeout"]] + o["run"] + [o["image"]] + args
    t = time.time()
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, errors="replace")
    sys.stdout.write(p.stdout)
    print("gopkg: boot took %.1fs, status %d" % (time.time() - t, p.returncode))
    return p.returncode, p.stdout


def names(o):
    rc, out = boot(o, ["-test.list", "."])
    found = [l for l in out.splitlines() if re.fullmatch(r"(Test|Example|Fuzz)\w*", l)]
    if rc != 0 or not found:
        sys.exit("FAIL: %s -test.list: status %d, %d names" % (o["pkg"], rc, len(found)))
    return found


def chunks(todo, room):
    """Runs of names whose regex ^(A|B|...)$ fits in room bytes."""
    cur = []
    for n in todo:
        if cur and len("^(%s)$" % "|".join(cur + [n])) > room:
            yield cur
            cur = []
        cur.append(n)
    if cur:
        yield cur


def check(o, out, rc, part, nran, nwant):
    """What went wrong in one boot ([] if nothing)."""
    lines = out.splitlines()
    bad = [l.strip() for l in lines if l.lstrip().startswith("--- FAIL")]
    if "unimplemented syscall" in out:
        bad.append("an unimplemented syscall")
    if nran != nwant:
        bad.append("%d of %d ran" % (nran, nwant))
    # net's TestMain prints socket statistics after the verdict.
    if rc != 0 or bad or "PASS" not in lines or "FAIL" in lines:
        return ["%s %s: status %d, %s" % (o["pkg"], part, rc, bad or "no PASS at the end")]
    return []


def main():
    o = parse(sys.argv)
    excl = excluded(o["excludes"], o["pkg"])
    found = names(o)
    for r in excl:
        if not any(r.fullmatch(n) for n in found):
            sys.exit("FAIL: %s: the exclusion %s matches no test" % (o["pkg"], r.pattern))
    todo = [n for n in found if not any(r.fullmatch(n) for r in excl)]
    room = CMDLINE - len(FIXED) - len(" ".join(o["guest"])) - 2
    passed = skipped = boots = 0
    failed = []
    for part in chunks(todo, room):
        rc, out = boot(o, FIXED.split() + ["^(%s)$" % "|".join(part)] + o["guest"])
        boots += 1
        passed += len(re.findall(r"^--- PASS", out, re.M))
        skipped += len(re.findall(r"^--- SKIP", out, re.M))
        ran = len(re.findall(r"^=== RUN   [^/\s]+$", out, re.M))
        failed += check(o, out, rc, "boot %d (%s..%s)" % (boots, part[0], part[-1]),
                        ran, len(part))
    if failed:
        sys.exit("FAIL: " + "\nFAIL: ".join(failed))
    print("gopkg %s: %d run, %d passed, %d skipped, %d excluded (%d boots)" %
          (o["pkg"], len(todo), passed, skipped, len(found) - len(todo), boots))


main()
