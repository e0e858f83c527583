// runtime.go - package runtime, runtime/debug and sync/atomic on the
// shim: ten thousand goroutines, collections under allocation, the GC
// knobs, the CPU count, a locked OS thread blocked in a raw system call,
// stacks of all goroutines, finalizers, a large allocation and
// debug.FreeOSMemory (madvise).
package main

import (
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

func runtimeChecks() []check {
	return []check{
		{"runtime.goroutines", checkGoroutines},
		{"runtime.gc", checkGC},
		{"runtime.gcknobs", checkGCKnobs},
		{"runtime.cpus", checkCPUs},
		{"runtime.lockosthread", checkLockOSThread},
		{"runtime.stack", checkStack},
		{"runtime.finalizer", checkFinalizer},
		{"runtime.bigalloc", checkBigAlloc},
		{"runtime.faults", checkFaults},
	}
}

// checkGoroutines starts 10,000 goroutines that each add to a counter
// and pass a token down a chain of channels.
func checkGoroutines() (bool, string) {
	const n = 10000
	var sum int64
	var wg sync.WaitGroup
	first := make(chan int)
	in := first
	peak := 0
	for i := 0; i < n; i++ {
		out := make(chan int)
		wg.Add(1)
		go func(i int, in <-chan int, out chan<- int) {
			defer wg.Done()
			atomic.AddInt64(&sum, int64(i))
			out <- 1 + <-in
		}(i, in, out)
		in = out
	}
	peak = runtime.NumGoroutine()
	first <- 0
	hops := <-in
	wg.Wait()
	return sum == n*(n-1)/2 && hops == n && peak > n,
		fmt.Sprintf("sum %d, token passed %d times, %d goroutines at once", sum, hops, peak)
}

// checkGC collects repeatedly while four goroutines allocate and check
// the blocks they keep.
func checkGC() (bool, string) {
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var bad int32
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			keep := make([][]byte, 256)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				b := make([]byte, 512+i%4096)
				for j := range b {
					b[j] = byte(w + i)
				}
				if old := keep[i%256]; old != nil && old[len(old)-1] != byte(w+i-256) {
					atomic.AddInt32(&bad, 1)
				}
				keep[i%256] = b
			}
		}(w)
	}
	for i := 0; i < 5; i++ {
		time.Sleep(5 * time.Millisecond)
		runtime.GC()
	}
	close(stop)
	wg.Wait()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	cycles := after.NumGC - before.NumGC
	return cycles >= 5 && bad == 0, fmt.Sprintf("%d collections, %d MiB allocated, %d corrupted blocks",
		cycles, (after.TotalAlloc-before.TotalAlloc)>>20, bad)
}

func checkGCKnobs() (bool, string) {
	old := debug.SetGCPercent(20)
	now := debug.SetGCPercent(old)
	limit := debug.SetMemoryLimit(-1)
	threads := debug.SetMaxThreads(10000)
	debug.SetMaxThreads(threads)
	return old == 100 && now == 20 && limit == math.MaxInt64 && threads == 10000,
		fmt.Sprintf("GC percent %d, limit %d, max threads %d", old, limit, threads)
}

// checkCPUs: one CPU (sched_getaffinity), and GOMAXPROCS follows it
// unless the environment says otherwise.
func checkCPUs() (bool, string) {
	procs := runtime.GOMAXPROCS(0)
	ok := runtime.NumCPU() == 1 && procs == 1
	return ok, fmt.Sprintf("NumCPU %d, GOMAXPROCS %d", runtime.NumCPU(), procs)
}

// checkLockOSThread locks a goroutine to its thread and blocks that
// thread in read(2) on a pipe (not through the netpoller): the rest of
// the program must go on meanwhile, and the thread must see the data.
func checkLockOSThread() (bool, string) {
	var p [2]int
	if err := syscall.Pipe(p[:]); err != nil {
		return false, err.Error()
	}
	defer syscall.Close(p[0])
	defer syscall.Close(p[1])
	type result struct {
		tid  int
		data string
		err  error
	}
	got := make(chan result)
	go func() {
		runtime.LockOSThread() // exits with the goroutine: the thread ends too
		buf := make([]byte, 16)
		n, err := syscall.Read(p[0], buf)
		got <- result{syscall.Gettid(), string(buf[:max0(n)]), err}
	}()
	t0 := time.Now()
	work := 0
	for time.Since(t0) < 30*time.Millisecond {
		work++
		time.Sleep(time.Millisecond)
	}
	syscall.Write(p[1], []byte("wake up"))
	var r result
	select {
	case r = <-got:
	case <-time.After(5 * time.Second):
		return false, "the locked thread never returned from read"
	}
	mine := syscall.Gettid()
	return r.err == nil && r.data == "wake up" && r.tid != mine && work > 0,
		fmt.Sprintf("thread %d read %q while main (thread %d) slept %d times", r.tid, r.data, mine, work)
}

func max0(n int) int {
	if n < 0 {
		return 0
	}
	return n
}

func checkStack() (bool, string) {
	block := make(chan struct{})
	for i := 0; i < 10; i++ {
		go func() { <-block }()
	}
	time.Sleep(time.Millisecond)
	buf := make([]byte, 1<<20)
	n := runtime.Stack(buf, true)
	close(block)
	text := string(buf[:n])
	count := strings.Count(text, "goroutine ")
	return count > 10 && strings.Contains(text, "[chan receive]") && strings.Contains(text, "main.checkStack"),
		fmt.Sprintf("%d goroutines, %d bytes", count, n)
}

func checkFinalizer() (bool, string) {
	ran := make(chan string, 1)
	func() {
		obj := &struct{ name string }{"obj"}
		runtime.SetFinalizer(obj, func(o *struct{ name string }) { ran <- o.name })
	}()
	for i := 0; i < 50; i++ {
		runtime.GC()
		select {
		case name := <-ran:
			return name == "obj", fmt.Sprintf("finalizer ran after %d collections", i+1)
		case <-time.After(10 * time.Millisecond):
		}
	}
	return false, "the finalizer never ran"
}

// freeRAM is what sysinfo says is free, in MiB.
func freeRAM() (int, int) {
	var si syscall.Sysinfo_t
	syscall.Sysinfo(&si)
	unit := uint64(si.Unit)
	if unit == 0 {
		unit = 1
	}
	return int(si.Freeram * unit >> 20), int(si.Totalram * unit >> 20)
}

// checkBigAlloc allocates half of the free RAM (at most 256 MiB) in one
// slice, writes every page, drops it, returns it with
// debug.FreeOSMemory (madvise(MADV_DONTNEED)) and allocates as much
// again. As on Linux (demand paging: docs/shim.md), free RAM falls with
// the writes, comes back with FreeOSMemory, falls again with the second
// allocation's writes, and comes back once more.
func checkBigAlloc() (bool, string) {
	free0, totalRAM := freeRAM()
	size := free0 / 2
	if size > 256 {
		size = 256
	}
	touch := func() int {
		big := make([]byte, size<<20)
		sum := 0
		for i := 0; i < len(big); i += 4096 {
			sum += int(big[i]) // fresh memory reads zero
			big[i] = byte(i>>12) | 1
		}
		return sum
	}
	dirty := touch()
	free1, _ := freeRAM()
	debug.FreeOSMemory()
	free2, _ := freeRAM()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	dirty += touch()
	free3, _ := freeRAM()
	debug.FreeOSMemory()
	free4, _ := freeRAM()
	half := size / 2
	ok := dirty == 0 && free1 < free0-half && free2 > free1+half && free3 < free2-half &&
		free4 > free3+half && ms.HeapReleased >= uint64(size)<<20/2
	return ok, fmt.Sprintf("%d MiB of %d: free %d -> %d -> %d after FreeOSMemory (released %d MiB) -> %d -> %d MiB after the second",
		size, totalRAM, free0, free1, free2, ms.HeapReleased>>20, free3, free4)
}

//go:noinline
func load(p *int) int { return *p }

//go:noinline
func divide(a, b int) int { return a / b }

// recovered runs f and returns what it panicked with, as text.
func recovered(f func()) (text string) {
	defer func() { text = fmt.Sprint(recover()) }()
	f()
	return "no panic"
}

// checkFaults: a nil dereference is a page fault, which Go's SIGSEGV
// handler turns into a run-time panic that recover stops; so is a
// division by zero (an explicit check) and an index out of range.
func checkFaults() (bool, string) {
	nilp := recovered(func() { load(nil) })
	div := recovered(func() { divide(1, 0) })
	var nilmap map[string]int
	idx := recovered(func() { nilmap["x"]++ })
	// With SetPanicOnFault a fault anywhere panics, with its address.
	wild := "no panic"
	func() {
		defer func() {
			if a, ok := recover().(interface{ Addr() uintptr }); ok {
				wild = fmt.Sprintf("addr=%#x", a.Addr())
			}
		}()
		old := debug.SetPanicOnFault(true)
		defer debug.SetPanicOnFault(old)
		load((*int)(unsafe.Pointer(uintptr(0xdead0000))))
	}()
	ok := strings.Contains(nilp, "nil pointer dereference") && strings.Contains(div, "divide by zero") &&
		strings.Contains(idx, "nil map") && strings.Contains(wild, "addr=0xdead0000")
	return ok, fmt.Sprintf("%q; %q; %q; %q", nilp, div, idx, wild)
}
