// hello.go - an ordinary Go program, unmodified Go runtime and standard
// library, booted on cubrt: scripts/go-image builds it into an image and
// cubrt's syscall shim runs it (goroutines on Linux threads that are
// cubrt coroutines, the timer heap parked in epoll_pwait, the garbage
// collector on mmap'd memory, asynchronous preemption by SIGURG,
// os/signal).
//
//	scripts/go-image -o hello.img examples/go/hello.go
//	scripts/run hello.img WHO=you one two  # NAME=value: environment
//
// With the argument "panic" or "deadlock" it shows Go's own reports for
// those (exit status 2); with "echo" it copies console lines until
// "quit"; with "udp" it echoes datagrams over loopback, with "unix" over a
// unix-domain socket; with "profile" it runs the CPU profiler over a busy
// loop (timer signals); with "files" it
// uses the file system and /proc (booted with
// `scripts/run --files tests/qemu/shim/fsroot`); otherwise it exits with
// status 0.
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// sieve returns the first n primes from a chain of filter goroutines,
// one per prime found, joined by unbuffered channels.
func sieve(n int) []int {
	src := make(chan int)
	go func(out chan<- int) {
		for i := 2; ; i++ {
			out <- i
		}
	}(src)
	primes := make([]int, 0, n)
	for len(primes) < n {
		p := <-src
		primes = append(primes, p)
		out := make(chan int)
		go func(in <-chan int, out chan<- int) {
			for v := range in {
				if v%p != 0 {
					out <- v
				}
			}
		}(src, out)
		src = out
	}
	return primes
}

// squares has a pool of workers square 1..n and sums the results under
// a mutex.
func squares(workers, n int) int {
	jobs := make(chan int)
	var mu sync.Mutex
	var wg sync.WaitGroup
	sum := 0
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for v := range jobs {
				mu.Lock()
				sum += v * v
				mu.Unlock()
			}
		}()
	}
	for i := 1; i <= n; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return sum
}

// timers checks sleeping, a select timeout and a ticker.
func timers() string {
	t0 := time.Now()
	time.Sleep(15 * time.Millisecond)
	slept := time.Since(t0)
	never := make(chan int)
	timedOut := false
	select {
	case <-never:
	case <-time.After(10 * time.Millisecond):
		timedOut = true
	}
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for i := 0; i < 5; i++ {
		<-tick.C
	}
	return fmt.Sprintf("slept>=15ms %v, select timed out %v, 5 ticks", slept >= 15*time.Millisecond, timedOut)
}

// garbage allocates about 64 MiB in short-lived blocks, keeping 1,000
// of them, and reports what the collector did.
func garbage() string {
	keep := make(map[int][]byte)
	for i := 0; i < 64*1024; i++ {
		b := make([]byte, 1024)
		b[0] = byte(i)
		keep[i%1000] = b
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	keys := make([]int, 0, len(keep))
	for k := range keep {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	return fmt.Sprintf("%d blocks kept, collector ran: %v", len(keys), ms.NumGC > 0)
}

// preemption starts a goroutine that loops without calling anything
// and checks that the rest of the program still runs, a garbage
// collection (which stops the world) included: Go preempts such a loop by
// sending its thread SIGURG, and cubrt delivers it to Go's handler. The
// loop does floating-point work; redoing it afterwards must give the same
// bits, so the preemptions kept its SSE registers intact.
func preemption() string {
	var stop int32
	type result struct {
		n int
		x float64
	}
	done := make(chan result)
	go func() {
		n, x := 0, 1.0
		for atomic.LoadInt32(&stop) == 0 { // an intrinsic, not a call
			x = x*1.0000001 + 0.5
			n++
		}
		done <- result{n, x}
	}()
	time.Sleep(20 * time.Millisecond)
	runtime.GC()
	atomic.StoreInt32(&stop, 1)
	r := <-done
	x := 1.0
	for i := 0; i < r.n; i++ {
		x = x*1.0000001 + 0.5
	}
	if x != r.x {
		return fmt.Sprintf("the loop's floats were corrupted (%v vs %v)", r.x, x)
	}
	return "main and the collector ran beside a call-free loop"
}

// signals sends the program SIGUSR1 and receives it through os/signal:
// the shim runs Go's handler, which forwards it to the channel.
func signals() string {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGUSR1)
	defer signal.Stop(c)
	syscall.Kill(os.Getpid(), syscall.SIGUSR1)
	select {
	case s := <-c:
		return "received " + s.String()
	case <-time.After(time.Second):
		return "nothing arrived"
	}
}

// busy spins for d without a system call; its result keeps the loop.
func busy(d time.Duration) uint64 {
	x := uint64(1)
	for end := time.Now().Add(d); time.Now().Before(end); {
		for i := 0; i < 1000; i++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	return x
}

// profile runs the CPU profiler (per-thread timer_create timers whose
// SIGPROF carries SI_TIMER, and setitimer's ITIMER_PROF) over a busy
// loop and reports whether the loop shows in the profile's samples.
func profile() string {
	var buf bytes.Buffer

	if err := pprof.StartCPUProfile(&buf); err != nil {
		return "start: " + err.Error()
	}
	x := busy(300 * time.Millisecond)
	pprof.StopCPUProfile()
	zr, err := gzip.NewReader(&buf)
	if err != nil {
		return "gzip: " + err.Error()
	}
	data, err := io.ReadAll(zr)
	return fmt.Sprintf("busy sampled: %v (err %v, %d)",
		bytes.Contains(data, []byte("main.busy")), err, x&1)
}

// echo copies the serial console's lines until "quit", while a ticker
// goroutine keeps the scheduler busy: a blocking read on fd 0 parks its
// thread, and Go hands its P to the others meanwhile.
func echo() {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	go func() {
		for range tick.C {
		}
	}()
	in := bufio.NewScanner(os.Stdin)
	n := 0
	for in.Scan() && in.Text() != "quit" {
		n++
		fmt.Printf("echo: [%s]\n", in.Text())
	}
	fmt.Printf("echo: %d lines\n", n)
}

// procfs reads /proc the way Go programs do: os.Executable (a readlink of
// /proc/self/exe), /proc/self/status and /proc/meminfo.
func procfs() string {
	exe, err := os.Executable()
	exeOK := err == nil && filepath.IsAbs(exe) && filepath.Base(exe) == filepath.Base(os.Args[0])
	status, err := os.ReadFile("/proc/self/status")
	statusOK := err == nil && strings.HasPrefix(string(status), "Name:\t") &&
		strings.Contains(string(status), "\nPid:\t1\n") && strings.Contains(string(status), "\nThreads:\t")
	meminfo, err := os.ReadFile("/proc/meminfo")
	memOK := err == nil && strings.HasPrefix(string(meminfo), "MemTotal:")
	return fmt.Sprintf("executable %v, status %v, meminfo %v", exeOK, statusOK, memOK)
}

// files reads the boot archive's files, then makes, lists, renames and
// removes a tree under /tmp: os, bufio and path/filepath over the shim's
// in-memory file system.
func files() string {
	greeting, err := os.ReadFile("/etc/greeting.txt")
	if err != nil {
		return err.Error()
	}
	f, err := os.Open("/data/numbers.txt")
	if err != nil {
		return err.Error()
	}
	lines := 0
	for in := bufio.NewScanner(f); in.Scan(); lines++ {
	}
	f.Close()
	walked := 0
	filepath.WalkDir("/data", func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			walked++
		}
		return err
	})
	dir := "/tmp/go/a/b"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err.Error()
	}
	for i := 0; i < 3; i++ {
		name := filepath.Join(dir, fmt.Sprintf("f%d", i))
		if err := os.WriteFile(name, []byte(strings.Repeat("x", i+1)), 0o644); err != nil {
			return err.Error()
		}
	}
	if err := os.Rename(filepath.Join(dir, "f2"), "/tmp/go/moved"); err != nil {
		return err.Error()
	}
	ents, _ := os.ReadDir(dir)
	moved, _ := os.ReadFile("/tmp/go/moved")
	os.RemoveAll("/tmp/go")
	_, err = os.Stat("/tmp/go")
	return fmt.Sprintf("%q, %d lines, walk found %d files, %d left after a rename, moved %q, removed %v",
		strings.TrimSpace(string(greeting)), lines, walked, len(ents), moved, os.IsNotExist(err))
}

// udp echoes datagrams between a listener and a dialed socket over the
// shim's loopback: addresses, message boundaries, a read deadline.
func udp() string {
	srv, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return err.Error()
	}
	defer srv.Close()
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := srv.ReadFrom(buf)
			if err != nil {
				return
			}
			srv.WriteTo(append([]byte("echo "), buf[:n]...), from)
		}
	}()
	c, err := net.Dial("udp", srv.LocalAddr().String())
	if err != nil {
		return err.Error()
	}
	defer c.Close()
	got := []string{}
	buf := make([]byte, 2048)
	for _, m := range []string{"one", "two", "three"} {
		c.Write([]byte(m))
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, err := c.Read(buf)
		if err != nil {
			return err.Error()
		}
		got = append(got, string(buf[:n]))
	}
	c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	_, err = c.Read(buf)
	timeout := err != nil && err.(net.Error).Timeout()
	return fmt.Sprintf("%q, then a deadline: %v", got, timeout)
}

// unixSocket serves one echo over a unix-domain socket at a path in the
// file system, and checks that the path is a socket.
func unixSocket() string {
	path := "/tmp/hello.sock"
	ln, err := net.Listen("unix", path)
	if err != nil {
		return err.Error()
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.Copy(c, c)
	}()
	c, err := net.Dial("unix", path)
	if err != nil {
		return err.Error()
	}
	fmt.Fprint(c, "ping over a path")
	c.(*net.UnixConn).CloseWrite()
	reply, err := io.ReadAll(c)
	c.Close()
	st, serr := os.Stat(path)
	isSock := serr == nil && st.Mode()&os.ModeSocket != 0
	return fmt.Sprintf("%q, err %v, a socket file: %v", reply, err, isSock)
}

func main() {
	who := os.Getenv("WHO")
	if who == "" {
		who = "world"
	}
	fmt.Printf("hello from %s on cubrt, %s! args=%q\n", runtime.Version(), who, os.Args[1:])
	if len(os.Args) > 1 && os.Args[1] == "panic" {
		panic("boom")
	}
	if len(os.Args) > 1 && os.Args[1] == "deadlock" {
		<-make(chan int)
	}
	if len(os.Args) > 1 && os.Args[1] == "unix" {
		fmt.Printf("unix: %s\n", unixSocket())
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "udp" {
		fmt.Printf("udp: %s\n", udp())
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "files" {
		fmt.Printf("files: %s\n", files())
		fmt.Printf("proc: %s\n", procfs())
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "echo" {
		echo()
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "profile" {
		fmt.Printf("profile: %s\n", profile())
		return
	}
	fmt.Printf("preemption: %s\n", preemption())
	p := sieve(100)
	fmt.Printf("sieve: the 100th prime is %d\n", p[len(p)-1])
	fmt.Printf("squares: %d\n", squares(8, 1000))
	fmt.Printf("timers: %s\n", timers())
	fmt.Printf("garbage: %s\n", garbage())
	fmt.Printf("signals: %s\n", signals())
	fmt.Println("goodbye")
}
