// schedbench_go - the Go peer of bench/sched/schedbench.c: the same
// scheduler workloads, run with GOMAXPROCS=1 by scripts/bench.
//
// usage: schedbench_go w1|w2|w6|w6mem [N]; prints `result: X <unit>`.
package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// w1: two goroutines yielding to each other; ns per switch.
func w1(n int) float64 {
	half := n / 2
	done := make(chan bool)
	go func() {
		for i := 0; i < half; i++ {
			runtime.Gosched()
		}
		done <- true
	}()
	t0 := time.Now()
	for i := 0; i < half; i++ {
		runtime.Gosched()
	}
	r := float64(time.Since(t0).Nanoseconds()) / float64(2*half)
	<-done
	return r
}

func empty(wg *sync.WaitGroup) { wg.Done() }

// w2: start a goroutine running an empty function and wait for it.
func w2(n int) float64 {
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go empty(&wg)
		wg.Wait()
	}
	return float64(time.Since(t0).Nanoseconds()) / float64(n)
}

// w6Rounds: passes of the value along the chain, 10 or enough for 1M hops.
var w6Rounds = 10

func whisper(left chan<- int, right <-chan int) {
	for r := 0; r < w6Rounds; r++ {
		left <- 1 + <-right
	}
}

// peakRSSKiB reads VmHWM from /proc/self/status.
func peakRSSKiB() int {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if strings.HasPrefix(s.Text(), "VmHWM:") {
			v, _ := strconv.Atoi(strings.Fields(s.Text())[1])
			return v
		}
	}
	return -1
}

// w6: the whispers chain; ns per hop and resident bytes per goroutine.
func w6(n int) (float64, float64) {
	if n < 100000 {
		w6Rounds = 1000000 / n
	}
	links := make([]chan int, n+1)
	for i := range links {
		links[i] = make(chan int)
	}
	before := peakRSSKiB()
	for i := 0; i < n; i++ {
		go whisper(links[i], links[i+1])
	}
	runtime.Gosched() // every whisperer runs and waits
	mem := float64(peakRSSKiB()-before) * 1024 / float64(n)
	v := 0
	t0 := time.Now()
	for r := 0; r < w6Rounds; r++ {
		links[n] <- v
		v = <-links[0]
	}
	hop := float64(time.Since(t0).Nanoseconds()) / float64(w6Rounds*n)
	if v != w6Rounds*n {
		panic("whispers lost a value")
	}
	return hop, mem
}

func main() {
	defaults := map[string]int{"w1": 20000000, "w2": 10000000,
		"w6": 100000, "w6mem": 100000}
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: schedbench_go w1|w2|w6|w6mem [N]")
		os.Exit(2)
	}
	n, ok := defaults[os.Args[1]]
	if !ok {
		fmt.Fprintln(os.Stderr, "usage: schedbench_go w1|w2|w6|w6mem [N]")
		os.Exit(2)
	}
	if len(os.Args) > 2 {
		n, _ = strconv.Atoi(os.Args[2])
	}
	switch os.Args[1] {
	case "w1":
		fmt.Printf("result: %.2f ns/op\n", w1(n))
	case "w2":
		fmt.Printf("result: %.2f ns/op\n", w2(n))
	case "w6":
		hop, _ := w6(n)
		fmt.Printf("result: %.2f ns/op\n", hop)
	case "w6mem":
		_, mem := w6(n)
		fmt.Printf("result: %.0f bytes\n", mem)
	}
}
