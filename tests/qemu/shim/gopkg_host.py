#!/usr/bin/env python3
"""tests/qemu/shim/gopkg_host.py - Go's own tests of one standard-library
package, run on cubrt: the test binary (`go test -c`) built into IMAGE by
`scripts/go-image --test`, booted with the package's directory as its
working directory, as `go test` runs it.

usage: gopkg_host.py RUNNER IMAGE PACKAGE EXCLUDES [--tree DIR]... [--cwd DIR]
                     [--only REGEX] [--files DIR]... [--timeout SEC] [--mem SIZE]
                     [GUEST-ARG ...]

  --tree DIR   packs the host's DIR (absolute) into a cpio archive at the
               same path (the package's directory, its testdata/ with it)
  --cwd DIR    the program starts in DIR (CUBRT_CWD=DIR, docs/shim.md)
  --only REGEX runs only the names REGEX matches whole (Python syntax): a
               package too big for one test's time is split into tests
               over complementary regexes, e.g. Test[A-R].* and
               (?!Test[A-R]).*
  --files, --mem, --timeout go to the runner (scripts/run)

  1. boots IMAGE -test.list . for the names of its tests, examples and
     fuzz targets (whose seed corpora run as tests);
  2. drops the names that EXCLUDES (gopkg_exclude.txt) lists for PACKAGE:
     lines "PACKAGE REGEX  # reason", REGEX matching whole names; an
     exclusion that matches no name is an error (a stale list; checked
     against all the names, --only or not); with --only, keeps only the
     names it matches (none is an error: a stale split);
  3. boots IMAGE -test.short -test.v -test.run '^(A|B|...)$' GUEST-ARGS
     for the rest, as many names per boot as cubrt's 1 KiB command line
     holds (Go 1.19's -test.run cannot exclude, and has no -test.skip).
Every boot must exit 0 with Go's verdict PASS, having run all its names,
with no "--- FAIL" and no "unimplemented syscall". Prints one summary line
    gopkg PACKAGE: N run, P passed, S skipped, E excluded (B boots)
(with --only: "gopkg PACKAGE (only REGEX): N run, ..., O in other parts, ...")
or, after all the boots, the failed ones and exits non-zero.
"""
import atexit, os, re, shutil, subprocess, sys, tempfile, time

CMDLINE = 1024 - 1		# platform/x86 keeps 1023 bytes of it
FIXED = "-test.short -test.v -test.run "


def usage():
    sys.exit(__doc__.split("\n\n")[1])


def parse(argv):
    if len(argv) < 5:
        usage()
    opts = {"runner": argv[1], "image": argv[2], "pkg": argv[3],
            "excludes": argv[4], "run": [], "guest": [], "timeout": "120", "trees": [],
            "only": None}
    rest = argv[5:]
    while rest:
        a = rest.pop(0)
        if a in ("--files", "--mem", "--timeout", "--tree", "--cwd", "--only") and rest:
            v = rest.pop(0)
            if a == "--only":
                opts["only"] = re.compile(v)
            elif a == "--timeout":
                opts["timeout"] = v
            elif a == "--tree":
                opts["trees"].append(v)
            elif a == "--cwd":
                opts["guest"].append("CUBRT_CWD=" + v)
            else:
                opts["run"] += [a, v]
        else:
            opts["guest"].append(a)
    return opts


def pack(trees, path):
    """A newc cpio archive at path holding each tree at its own path (the
    shim makes the parent directories)."""
    names = []
    for t in trees:
        if not os.path.isabs(t) or not os.path.isdir(t):
            sys.exit("FAIL: --tree %s: not an absolute directory" % t)
        rel = os.path.relpath(t, "/")
        names += sorted(os.path.join(rel, os.path.relpath(os.path.join(d, n), t))
                        for d, ds, fs in os.walk(t) for n in ds + fs)
        names.append(rel)
    names.sort()		# a directory before what it holds
    with open(path, "wb") as out:
        subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd="/", check=True,
                       input="\n".join(names).encode() + b"\n", stdout=out)


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


def is_env(word):
    """A NAME=value word: the guest's environment (scripts/run)."""
    return re.match(r"[A-Za-z_][A-Za-z0-9_]*=", word) is not None


def boot(o, args):
    """Boots IMAGE with args after the environment words: (status, output)."""
    env = [a for a in o["guest"] if is_env(a)]
    cmd = [o["runner"], "--timeout", o["timeout"]] + o["run"] + [o["image"]] + env + args
    t = time.time()
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, errors="replace")
    sys.stdout.write(p.stdout)
    print("gopkg: boot took %.1fs, status %d" % (time.time() - t, p.returncode))
    return p.returncode, p.stdout


def names(o):
    rc, out = boot(o, ["-test.list", "."] + [a for a in o["guest"] if not is_env(a)])
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


def excl_names(found, excl):
    return [n for n in found if any(r.fullmatch(n) for r in excl)]


def main():
    o = parse(sys.argv)
    if o["trees"]:
        tmp = tempfile.mkdtemp(prefix="gopkg")
        atexit.register(shutil.rmtree, tmp)
        pack(o["trees"], os.path.join(tmp, "tree.cpio"))
        o["run"] += ["--files", os.path.join(tmp, "tree.cpio")]
    excl = excluded(o["excludes"], o["pkg"])
    found = names(o)
    for r in excl:
        if not any(r.fullmatch(n) for n in found):
            sys.exit("FAIL: %s: the exclusion %s matches no test" % (o["pkg"], r.pattern))
    todo = [n for n in found if not any(r.fullmatch(n) for r in excl)]
    what, others = o["pkg"], ""
    if o["only"]:
        mine = [n for n in todo if o["only"].fullmatch(n)]
        if not mine:
            sys.exit("FAIL: %s: --only %s matches no test" % (o["pkg"], o["only"].pattern))
        what = "%s (only %s)" % (o["pkg"], o["only"].pattern)
        others = ", %d in other parts" % (len(todo) - len(mine))
        todo = mine
    room = CMDLINE - len(FIXED) - len(" ".join(o["guest"])) - 2
    passed = skipped = boots = 0
    failed = []
    for part in chunks(todo, room):
        rc, out = boot(o, FIXED.split() + ["^(%s)$" % "|".join(part)] +
                       [a for a in o["guest"] if not is_env(a)])
        boots += 1
        passed += len(re.findall(r"^--- PASS", out, re.M))
        skipped += len(re.findall(r"^--- SKIP", out, re.M))
        ran = len(re.findall(r"^=== RUN   [^/\s]+$", out, re.M))
        failed += check(o, out, rc, "boot %d (%s..%s)" % (boots, part[0], part[-1]),
                        ran, len(part))
    if failed:
        sys.exit("FAIL: " + "\nFAIL: ".join(failed))
    print("gopkg %s: %d run, %d passed, %d skipped, %d excluded%s (%d boots)" %
          (what, len(todo), passed, skipped, len(excl_names(found, excl)), others, boots))


main()
