// gostdlib - a sweep of the Go standard library's OS-facing parts on
// cubrt's syscall shim: one unmodified Go program (Go's runtime and
// standard library as built for linux/amd64) that runs one check per
// line, "name: ok (detail)" or "name: FAILED (detail)", and ends with
// "stdlib: N of M checks passed" (exit status 0 only when N == M).
//
// It is a test program, not an example: like the musl check programs
// (files.c, sockets.c) it lives in tests/qemu/shim, in a directory of
// its own because it is several files of package main (one per area:
// main.go the harness, osfs.go, timing.go, runtime.go, network.go,
// compute.go, signals.go). meson.build builds it with scripts/go-image
// (listing the files: there is no go.mod) and boots it as go_stdlib
// (the plain tree: no TZ, the shim's own /etc/hosts, no nsswitch.conf,
// a console line on stdin, 512 MiB of RAM) and go_stdlib_etc (a boot
// archive with gofsroot/etc/hosts and nsswitch.conf, and
// TZ=Europe/Berlin). It covers what examples/go/hello.go's modes do
// not: files and directories through os and io/fs, os/exec (no fork on
// a unikernel: a clean error), time zones, timers and tickers, many
// goroutines, the collector and finalizers, a large allocation,
// LockOSThread, deadlines on pipes and sockets, the resolver,
// net.Interfaces, CPU-bound library code and os/signal.
//
//	scripts/go-image -o stdlib.img tests/qemu/shim/gostdlib/*.go
//	scripts/run --mem 512M stdlib.img 'stdin line' ; echo $?
//
// Each check runs in its own goroutine under a deadline (checkTimeout),
// so a call that hangs is reported as FAILED and the sweep goes on.
package main

import (
	"fmt"
	"os"
	"runtime"
	"time"
)

// checkTimeout bounds one check; TCG QEMU is slow, but no check needs
// more than a few seconds.
const checkTimeout = 20 * time.Second

type check struct {
	name string
	fn   func() (bool, string)
}

var passed, total int

// run runs one check, reporting a panic or a hang as a failure.
func run(c check) {
	type result struct {
		ok     bool
		detail string
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- result{false, fmt.Sprintf("panic: %v", p)}
			}
		}()
		ok, detail := c.fn()
		done <- result{ok, detail}
	}()
	var r result
	select {
	case r = <-done:
	case <-time.After(checkTimeout):
		r = result{false, "hung for " + checkTimeout.String()}
	}
	total++
	verdict := "FAILED"
	if r.ok {
		passed++
		verdict = "ok"
	}
	fmt.Printf("%s: %s (%s)\n", c.name, verdict, r.detail)
}

// errText is an error's text, or "<nil>".
func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func main() {
	fmt.Printf("stdlib: %s, GOMAXPROCS %d, %d checks to run\n",
		runtime.Version(), runtime.GOMAXPROCS(0), len(allChecks()))
	start := time.Now()
	for _, c := range allChecks() {
		run(c)
	}
	fmt.Printf("stdlib: %d of %d checks passed in %v\n", passed, total,
		time.Since(start).Round(time.Millisecond))
	if passed != total {
		os.Exit(1)
	}
}

// allChecks lists the sweep in the order it runs.
func allChecks() []check {
	var all []check
	for _, area := range [][]check{timeChecks(), osChecks(), runtimeChecks(),
		netChecks(), computeChecks(), signalChecks()} {
		all = append(all, area...)
	}
	return all
}
