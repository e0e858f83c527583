// gopersist - a Go program keeping files in the directory cubrt
// persists (CUBRT_PERSIST=vda:/data; docs/shim.md, "Files that survive
// a reboot"): standard library only, booted twice on one disk image by
// gopersist_host.py with the mode as its argument. One check per line,
// "name: ok" or "name: FAILED (detail)", then "gopersist MODE: N of M
// checks passed" (exit status 0 only when N == M).
//
//	write  (a blank disk) os.MkdirAll of a nested tree; os.Create,
//	       Write and f.Sync() (a snapshot); os.WriteFile with 0600;
//	       the atomic-replace idiom: state written as v1 and synced,
//	       then v2 written to a temporary name, synced, renamed over
//	       it and the directory synced; os.Symlink; a file and a whole
//	       directory made, synced, then removed (os.Remove,
//	       os.RemoveAll); a 100 KiB file; then a last file written with
//	       no sync at all, which only the exit's snapshot keeps;
//	read   the tree found by filepath.WalkDir is exactly the one the
//	       first boot left (names and kinds), os.ReadFile gives every
//	       file's bytes, os.Stat their modes, os.Readlink the link's
//	       target; the temporary and removed names are gone.
package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

const top = "/data/app"

var passed, total int

func check(name string, ok bool, detail string, args ...interface{}) {
	total++
	if ok {
		passed++
		fmt.Printf("%s: ok\n", name)
		return
	}
	fmt.Printf("%s: FAILED (%s)\n", name, fmt.Sprintf(detail, args...))
}

// big is the 100 KiB file's bytes: a pattern no two sectors share.
func big() []byte {
	b := make([]byte, 100*1024)
	for i := range b {
		b[i] = byte(i*7 + i/512)
	}
	return b
}

// files: what the second boot must read back, path -> bytes.
var files = map[string][]byte{
	"config.json":      []byte(`{"name":"cubrt","boots":1}`),
	"secret":           []byte("mode 0600"),
	"state":            []byte("state v2: replaced atomically"),
	"logs/2024/01.log": []byte("first line\nsecond line\n"),
	"logs/empty":       {},
	"blob.bin":         big(),
	"unsynced.txt":     []byte("kept by the exit's snapshot"),
}

var modes = map[string]os.FileMode{
	"secret": 0600, "config.json": 0644, "logs": os.ModeDir | 0755,
	"logs/2024": os.ModeDir | 0750,
}

// writeSync writes path through os.Create, Write, Sync and Close.
func writeSync(path string, b []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err = f.Write(b); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// replace is the atomic-replace idiom: a temporary name, Sync, rename,
// then the directory synced.
func replace(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := writeSync(tmp, b); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func p(rel string) string { return filepath.Join(top, rel) }

func write() {
	err := os.MkdirAll(p("logs/2024"), 0750)
	check("mkdirall", err == nil, "%v", err)
	err = os.Chmod(p("logs"), 0755)
	check("chmod", err == nil, "%v", err)
	err = writeSync(p("config.json"), files["config.json"])
	check("create+sync", err == nil, "%v", err)
	err = os.WriteFile(p("secret"), files["secret"], 0600)
	check("writefile", err == nil, "%v", err)
	err = writeSync(p("state"), []byte("state v1"))
	check("state v1", err == nil, "%v", err)
	err = replace(p("state"), files["state"])
	check("atomic replace", err == nil, "%v", err)
	err = writeSync(p("logs/2024/01.log"), files["logs/2024/01.log"])
	check("nested file", err == nil, "%v", err)
	err = writeSync(p("logs/empty"), nil)
	check("empty file", err == nil, "%v", err)
	err = writeSync(p("blob.bin"), files["blob.bin"])
	check("100 KiB file", err == nil, "%v", err)
	err = os.Symlink("config.json", p("current"))
	check("symlink", err == nil, "%v", err)
	err = writeSync(p("remove.me"), []byte("short-lived"))
	if err == nil {
		err = os.Remove(p("remove.me"))
	}
	check("remove", err == nil, "%v", err)
	err = os.MkdirAll(p("scratch/deep"), 0755)
	if err == nil {
		err = writeSync(p("scratch/deep/x"), []byte("x"))
	}
	if err == nil {
		err = os.RemoveAll(p("scratch"))
	}
	check("removeall", err == nil, "%v", err)
	err = os.WriteFile(p("unsynced.txt"), files["unsynced.txt"], 0644)
	check("unsynced", err == nil, "%v", err)
}

// walk lists the tree under top as "path kind" lines, sorted.
func walk() ([]string, error) {
	var got []string
	err := filepath.WalkDir(top, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == top {
			return err
		}
		rel, _ := filepath.Rel(top, path)
		kind := "file"
		if d.IsDir() {
			kind = "dir"
		} else if d.Type()&fs.ModeSymlink != 0 {
			kind = "link"
		}
		got = append(got, rel+" "+kind)
		return nil
	})
	sort.Strings(got)
	return got, err
}

func read() {
	want := []string{"current link", "logs dir", "logs/2024 dir"}
	for name := range files {
		want = append(want, name+" file")
	}
	sort.Strings(want)
	got, err := walk()
	check("walkdir", err == nil && strings.Join(got, ",") == strings.Join(want, ","),
		"%v: got %q, want %q", err, got, want)
	for name, b := range files {
		r, err := os.ReadFile(p(name))
		check("read "+name, err == nil && bytes.Equal(r, b), "%v, %d bytes", err, len(r))
	}
	for name, m := range modes {
		st, err := os.Stat(p(name))
		check("mode "+name, err == nil && st.Mode() == m, "%v, %v", err, st)
	}
	t, err := os.Readlink(p("current"))
	check("readlink", err == nil && t == "config.json", "%v, %q", err, t)
	r, err := os.ReadFile(p("current"))
	check("through the link", err == nil && bytes.Equal(r, files["config.json"]), "%v", err)
	for _, gone := range []string{"state.tmp", "remove.me", "scratch"} {
		_, err := os.Lstat(p(gone))
		check("gone "+gone, os.IsNotExist(err), "%v", err)
	}
}

func main() {
	mode := ""
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	switch mode {
	case "write":
		write()
	case "read":
		read()
	default:
		fmt.Println("usage: gopersist write|read")
		os.Exit(2)
	}
	fmt.Printf("gopersist %s: %d of %d checks passed\n", mode, passed, total)
	if passed != total {
		os.Exit(1)
	}
}
