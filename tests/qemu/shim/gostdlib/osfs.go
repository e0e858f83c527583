// osfs.go - os, io/fs, os/user and os/exec over the shim: the booted
// archive and /proc listed and walked, temporary files and directories,
// times, links, the working directory, shared file mappings
// (syscall.Mmap), the environment, pipes with
// deadlines (Go's netpoller: epoll on pipes), the console as stdin, and
// os/exec, which needs fork: a unikernel has none, so it must fail
// cleanly (an error, no crash, no hang, nothing leaked).
package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func osChecks() []check {
	return []check{
		{"os.readdir", checkReadDir},
		{"os.walkdir", checkWalkDir},
		{"os.tempfiles", checkTempFiles},
		{"os.chtimes", checkChtimes},
		{"os.links", checkLinks},
		{"os.chdir", checkChdir},
		{"os.executable", checkExecutable},
		{"os.hostname", checkHostname},
		{"os.pagesize", checkPagesize},
		{"syscall.mmap.shared", checkMmapShared},
		{"os.env", checkEnv},
		{"os.pipe", checkPipe},
		{"os.pipe.deadline", checkPipeDeadline},
		{"os.pipe.epipe", checkPipeEPIPE},
		{"os.stdin", checkStdin},
		{"os.user", checkUser},
		{"os.exec", checkExec},
		{"os.startprocess", checkStartProcess},
	}
}

func checkReadDir() (bool, string) {
	ents, err := os.ReadDir("/")
	if err != nil {
		return false, err.Error()
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	got := strings.Join(names, " ")
	want := []string{"data", "dev", "etc", "proc", "tmp"}
	for _, w := range want {
		if !strings.Contains(" "+got+" ", " "+w+" ") {
			return false, "/ lacks " + w + ": " + got
		}
	}
	fds, err := os.ReadDir("/proc/self/fd")
	return err == nil && len(fds) >= 3, fmt.Sprintf("/: %s; /proc/self/fd: %d entries, %v",
		got, len(fds), errText(err))
}

// checkWalkDir walks the whole tree through os.DirFS (archive, /dev,
// /proc, /tmp), counting what it finds by type.
func checkWalkDir() (bool, string) {
	var files, dirs, links, other, errs int
	sawLeaf := false
	err := fs.WalkDir(os.DirFS("/"), ".", func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			errs++
			return nil
		case d.IsDir():
			dirs++
		case d.Type()&fs.ModeSymlink != 0:
			links++
		case d.Type().IsRegular():
			files++
			sawLeaf = sawLeaf || p == "data/sub/leaf.txt"
		default:
			other++
		}
		return nil
	})
	leaf, rerr := fs.ReadFile(os.DirFS("/data"), "sub/leaf.txt")
	globbed, gerr := fs.Glob(os.DirFS("/etc"), "greeting.*")
	detail := fmt.Sprintf("%d files, %d dirs, %d links, %d other, %d errors; leaf %q; glob %q %v",
		files, dirs, links, other, errs, strings.TrimSpace(string(leaf)), globbed, errText(gerr))
	return err == nil && errs == 0 && sawLeaf && rerr == nil && len(globbed) == 2 &&
		links > 0 && other > 0, detail
}

func checkTempFiles() (bool, string) {
	dir, err := os.MkdirTemp("", "sweep-*")
	if err != nil {
		return false, err.Error()
	}
	defer os.RemoveAll(dir)
	f, err := os.CreateTemp(dir, "f-*.txt")
	if err != nil {
		return false, err.Error()
	}
	defer f.Close()
	if _, err := f.WriteString("0123456789"); err != nil {
		return false, err.Error()
	}
	buf := make([]byte, 4)
	_, err1 := f.ReadAt(buf, 3)
	err2 := f.Truncate(6)
	err3 := f.Sync()
	pos, err4 := f.Seek(0, io.SeekEnd)
	st, err5 := f.Stat()
	for _, e := range []error{err1, err2, err3, err4, err5} {
		if e != nil {
			return false, e.Error()
		}
	}
	ok := strings.HasPrefix(dir, "/tmp/sweep-") && strings.HasSuffix(f.Name(), ".txt") &&
		string(buf) == "3456" && pos == 6 && st.Size() == 6 && st.Mode().Perm() == 0o600
	return ok, fmt.Sprintf("%s: read %q, size %d, mode %v", f.Name(), buf, st.Size(), st.Mode())
}

func checkChtimes() (bool, string) {
	name := "/tmp/chtimes"
	if err := os.WriteFile(name, []byte("x"), 0o644); err != nil {
		return false, err.Error()
	}
	defer os.Remove(name)
	atime := time.Date(2001, 2, 3, 4, 5, 6, 7, time.UTC)
	mtime := time.Date(2004, 5, 6, 7, 8, 9, 123456789, time.UTC)
	if err := os.Chtimes(name, atime, mtime); err != nil {
		return false, err.Error()
	}
	st, err := os.Stat(name)
	if err != nil {
		return false, err.Error()
	}
	sys := st.Sys().(*syscall.Stat_t)
	gotA := time.Unix(sys.Atim.Sec, sys.Atim.Nsec)
	return st.ModTime().Equal(mtime) && gotA.Equal(atime),
		fmt.Sprintf("mtime %v, atime %v", st.ModTime().UTC(), gotA.UTC())
}

func checkLinks() (bool, string) {
	dir, _ := os.MkdirTemp("", "links-*")
	defer os.RemoveAll(dir)
	target := filepath.Join(dir, "target")
	os.WriteFile(target, []byte("linked"), 0o644)
	sym := filepath.Join(dir, "sym")
	hard := filepath.Join(dir, "hard")
	if err := os.Symlink("target", sym); err != nil {
		return false, err.Error()
	}
	if err := os.Link(target, hard); err != nil {
		return false, err.Error()
	}
	text, err1 := os.Readlink(sym)
	lst, err2 := os.Lstat(sym)
	st, err3 := os.Stat(sym)
	real, err4 := filepath.EvalSymlinks(sym)
	data, err5 := os.ReadFile(hard)
	for _, e := range []error{err1, err2, err3, err4, err5} {
		if e != nil {
			return false, e.Error()
		}
	}
	nlink := st.Sys().(*syscall.Stat_t).Nlink
	ok := text == "target" && lst.Mode()&fs.ModeSymlink != 0 && st.Mode().IsRegular() &&
		real == target && string(data) == "linked" && nlink == 2
	return ok, fmt.Sprintf("readlink %q, lstat %v, stat %v, eval %s, nlink %d",
		text, lst.Mode(), st.Mode(), real, nlink)
}

func checkChdir() (bool, string) {
	start, err := os.Getwd()
	if err != nil {
		return false, err.Error()
	}
	os.MkdirAll("/tmp/wd/sub", 0o755)
	defer os.RemoveAll("/tmp/wd")
	if err := os.Chdir("/tmp/wd"); err != nil {
		return false, err.Error()
	}
	os.WriteFile("sub/rel.txt", []byte("relative"), 0o644)
	here, _ := os.Getwd()
	d, _ := os.Open("sub")
	ferr := d.Chdir()
	d.Close()
	there, _ := os.Getwd()
	data, _ := os.ReadFile("rel.txt")
	os.Chdir(start)
	back, _ := os.Getwd()
	ok := start == "/" && here == "/tmp/wd" && ferr == nil && there == "/tmp/wd/sub" &&
		string(data) == "relative" && back == start
	return ok, fmt.Sprintf("%s -> %s -> %s (fchdir %v), read %q, back %s",
		start, here, there, errText(ferr), data, back)
}

func checkExecutable() (bool, string) {
	exe, err := os.Executable()
	ok := err == nil && filepath.IsAbs(exe) && filepath.Base(exe) == filepath.Base(os.Args[0])
	return ok, fmt.Sprintf("%q, %v (argv[0] %q)", exe, errText(err), os.Args[0])
}

func checkHostname() (bool, string) {
	name, err := os.Hostname()
	var u syscall.Utsname
	uerr := syscall.Uname(&u)
	var node []byte
	for _, c := range u.Nodename {
		if c == 0 {
			break
		}
		node = append(node, byte(c))
	}
	return err == nil && uerr == nil && name != "" && name == string(node),
		fmt.Sprintf("%q (uname %q), %v", name, node, errText(err))
}

func checkPagesize() (bool, string) {
	return os.Getpagesize() == 4096 && syscall.Getpagesize() == 4096,
		fmt.Sprintf("%d", os.Getpagesize())
}

// checkMmapShared maps a file twice with syscall.Mmap(MAP_SHARED): a
// store through one mapping is in the other and in the file (ReadAt);
// WriteAt shows in both; Msync and Munmap succeed.
func checkMmapShared() (bool, string) {
	f, err := os.CreateTemp("", "mmap")
	if err != nil {
		return false, err.Error()
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := f.Truncate(8192); err != nil {
		return false, err.Error()
	}
	prot := syscall.PROT_READ | syscall.PROT_WRITE
	a, err := syscall.Mmap(int(f.Fd()), 0, 8192, prot, syscall.MAP_SHARED)
	if err != nil {
		return false, err.Error()
	}
	b, err := syscall.Mmap(int(f.Fd()), 4096, 4096, prot, syscall.MAP_SHARED)
	if err != nil {
		return false, err.Error()
	}
	a[4096+7] = 'g'
	got := make([]byte, 1)
	_, rerr := f.ReadAt(got, 4096+7)
	_, werr := f.WriteAt([]byte("o"), 4096+8)
	other, written := string(b[7:9]), string(a[4096+8:4096+9])
	ok := other == "go" && rerr == nil && got[0] == 'g' && werr == nil && written == "o" &&
		syscall.Munmap(b) == nil && syscall.Munmap(a) == nil
	return ok, fmt.Sprintf("through the other mapping %q, the file %q, WriteAt seen %q",
		other, got, written)
}

// checkEnv looks at the environment the command line gave (GOSTDLIB=1
// from meson.build) and changes it.
func checkEnv() (bool, string) {
	given, found := os.LookupEnv("GOSTDLIB")
	_, home := os.LookupEnv("HOME")
	os.Setenv("SWEEP_X", "from setenv")
	expanded := os.ExpandEnv("x=$SWEEP_X")
	inEnviron := false
	for _, kv := range os.Environ() {
		inEnviron = inEnviron || kv == "SWEEP_X=from setenv"
	}
	os.Unsetenv("SWEEP_X")
	_, still := os.LookupEnv("SWEEP_X")
	ok := found && given == "1" && expanded == "x=from setenv" && inEnviron && !still
	return ok, fmt.Sprintf("GOSTDLIB=%q, HOME set %v, %d variables, expanded %q",
		given, home, len(os.Environ()), expanded)
}

// checkPipe copies 4 MiB through os.Pipe between goroutines: both ends
// are in Go's netpoller, so a full or empty pipe parks a goroutine, not
// a thread.
func checkPipe() (bool, string) {
	r, w, err := os.Pipe()
	if err != nil {
		return false, err.Error()
	}
	const size = 4 << 20
	sent := make(chan [32]byte, 1)
	go func() {
		h := sha256.New()
		chunk := make([]byte, 12345)
		for n := 0; n < size; n += len(chunk) {
			if size-n < len(chunk) {
				chunk = chunk[:size-n]
			}
			for i := range chunk {
				chunk[i] = byte(n + i*7)
			}
			h.Write(chunk)
			w.Write(chunk)
		}
		w.Close()
		var sum [32]byte
		copy(sum[:], h.Sum(nil))
		sent <- sum
	}()
	h := sha256.New()
	n, err := io.Copy(h, r)
	r.Close()
	want := <-sent
	return err == nil && n == size && bytes.Equal(h.Sum(nil), want[:]),
		fmt.Sprintf("%d bytes, err %v, digests equal %v", n, errText(err), bytes.Equal(h.Sum(nil), want[:]))
}

// checkPipeDeadline reads an empty pipe and writes a full one with
// deadlines: each must come back with os.ErrDeadlineExceeded.
func checkPipeDeadline() (bool, string) {
	r, w, err := os.Pipe()
	if err != nil {
		return false, err.Error()
	}
	defer r.Close()
	defer w.Close()
	t0 := time.Now()
	r.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	_, rerr := r.Read(make([]byte, 10))
	waited := time.Since(t0)
	w.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
	wrote, werr := w.Write(make([]byte, 1<<20))
	r.SetReadDeadline(time.Time{})
	w.SetWriteDeadline(time.Time{})
	drained, derr := io.CopyN(io.Discard, r, int64(wrote))
	ok := errors.Is(rerr, os.ErrDeadlineExceeded) && waited >= 50*time.Millisecond &&
		errors.Is(werr, os.ErrDeadlineExceeded) && wrote > 0 && wrote < 1<<20 &&
		derr == nil && drained == int64(wrote)
	return ok, fmt.Sprintf("read: %v after %v; write: %d bytes, %v; drained %d", errText(rerr),
		waited.Round(time.Millisecond), wrote, errText(werr), drained)
}

// checkPipeEPIPE writes to a pipe whose reader is gone: Go's SIGPIPE
// handler lets a write to a descriptor other than 1 and 2 fail with
// EPIPE instead of ending the program.
func checkPipeEPIPE() (bool, string) {
	r, w, err := os.Pipe()
	if err != nil {
		return false, err.Error()
	}
	r.Close()
	_, werr := w.Write([]byte("nobody reads"))
	w.Close()
	return errors.Is(werr, syscall.EPIPE), errText(werr)
}

// checkStdin reads the line meson.build feeds the serial console.
func checkStdin() (bool, string) {
	st, err := os.Stdin.Stat()
	if err != nil {
		return false, err.Error()
	}
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	return st.Mode()&fs.ModeCharDevice != 0 && line == "console line\n",
		fmt.Sprintf("mode %v, read %q, %v", st.Mode(), line, errText(err))
}

// checkUser: without cgo, os/user reads /etc/passwd; the plain tree has
// none and the environment no $USER or $HOME, so Current fails and says
// what is missing; the etc archive has one naming root.
func checkUser() (bool, string) {
	u, err := user.Current()
	if _, serr := os.Stat("/etc/passwd"); serr == nil {
		return err == nil && u.Username == "root" && u.Uid == "0" && u.HomeDir == "/root",
			fmt.Sprintf("%+v, %v", u, errText(err))
	}
	return u == nil && err != nil && strings.Contains(err.Error(), "$USER"),
		"no /etc/passwd: " + errText(err)
}

// openFds counts the program's descriptors.
func openFds() int {
	ents, _ := os.ReadDir("/proc/self/fd")
	return len(ents)
}

// checkExec runs a program: fork (clone without a new address space)
// does not exist on cubrt, so Cmd.Run must return an error quickly, and
// leave no descriptor behind; a name looked up in an empty $PATH fails
// as on Linux.
func checkExec() (bool, string) {
	os.WriteFile("/tmp/true", []byte("#!/bin/sh\nexit 0\n"), 0o755)
	defer os.Remove("/tmp/true")
	before := openFds()
	t0 := time.Now()
	cmd := exec.Command("/tmp/true")
	var out bytes.Buffer
	cmd.Stdout = &out
	err := cmd.Run()
	took := time.Since(t0)
	out1, err1 := exec.Command("/bin/true").Output()
	_, lerr := exec.LookPath("true")
	after := openFds()
	ok := err != nil && err1 != nil && len(out1) == 0 && lerr != nil &&
		took < 2*time.Second && before == after
	return ok, fmt.Sprintf("Run: %v in %v; /bin/true: %v; LookPath: %v; fds %d -> %d",
		errText(err), took.Round(time.Millisecond), errText(err1), errText(lerr), before, after)
}

func checkStartProcess() (bool, string) {
	before := openFds()
	p, err := os.StartProcess("/tmp/none", []string{"none"}, &os.ProcAttr{})
	_, ferr := syscall.ForkExec("/tmp/none", nil, nil)
	after := openFds()
	return p == nil && err != nil && ferr != nil && before == after,
		fmt.Sprintf("StartProcess: %v; ForkExec: %v", errText(err), errText(ferr))
}
