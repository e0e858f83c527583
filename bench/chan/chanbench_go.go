// chanbench_go - the Go peer of bench/chan/chanbench.c: the same channel
// and select workloads, run with GOMAXPROCS=1 by scripts/bench.
//
// usage: chanbench_go w3|w4a|w4b|w5a|w5b|w7|w7c [N]; prints `result: X ns/op`.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"time"
)

func w3(n int) float64 {
	ping, pong := make(chan int), make(chan int)
	go func() {
		for i := 0; i < n; i++ {
			v := <-ping
			pong <- v
		}
	}()
	t0 := time.Now()
	for i := 0; i < n; i++ {
		ping <- i
		<-pong
	}
	return float64(time.Since(t0).Nanoseconds()) / float64(2*n)
}

func w4a(n int) float64 {
	c := make(chan int, 1)
	v := 0
	t0 := time.Now()
	for i := 0; i < n; i++ {
		c <- i
		v = <-c
	}
	d := time.Since(t0)
	if v != n-1 {
		panic("w4a")
	}
	return float64(d.Nanoseconds()) / float64(n)
}

func w4b(n int) float64 {
	c := make(chan int, 128)
	t0 := time.Now()
	go func() {
		for i := 0; i < n; i++ {
			c <- i
		}
		close(c)
	}()
	sum := 0
	for v := range c {
		sum += v
	}
	d := time.Since(t0)
	if sum != n*(n-1)/2 {
		panic("w4b")
	}
	return float64(d.Nanoseconds()) / float64(n)
}

func w5a(n int) float64 {
	ping, pong, quit := make(chan int), make(chan int), make(chan struct{})
	go func() {
		var v int
		for i := 0; i < n; i++ {
			select {
			case v = <-ping:
			case <-quit:
			}
			select {
			case pong <- v:
			case <-quit:
			}
		}
	}()
	t0 := time.Now()
	for i := 0; i < n; i++ {
		select {
		case ping <- i:
		case <-quit:
		}
		select {
		case <-pong:
		case <-quit:
		}
	}
	return float64(time.Since(t0).Nanoseconds()) / float64(2*n)
}

func w5b(n int) float64 {
	var c [8]chan int
	for j := range c {
		c[j] = make(chan int, 1)
	}
	t0 := time.Now()
	for i := 0; i < n; i++ {
		select {
		case c[i&7] <- i:
		default:
		}
		got := -1
		select {
		case <-c[0]:
			got = 0
		case <-c[1]:
			got = 1
		case <-c[2]:
			got = 2
		case <-c[3]:
			got = 3
		case <-c[4]:
			got = 4
		case <-c[5]:
			got = 5
		case <-c[6]:
			got = 6
		case <-c[7]:
			got = 7
		}
		if got != i&7 {
			panic("w5b")
		}
	}
	return float64(time.Since(t0).Nanoseconds()) / float64(n)
}

// w7 times close until every waiter ran again; with closeAlone (w7c), the
// close call alone.
func w7(closeAlone bool) float64 {
	const waiters, rounds = 1000, 200
	var chans [rounds]chan struct{}
	for r := range chans {
		chans[r] = make(chan struct{})
	}
	woken := 0
	for i := 0; i < waiters; i++ {
		go func() {
			for r := 0; r < rounds; r++ {
				<-chans[r]
				woken++ // GOMAXPROCS=1: no data race in practice
			}
		}()
	}
	runtime.Gosched()
	var total, closeOnly time.Duration
	for r := 0; r < rounds; r++ {
		woken = 0
		t0 := time.Now()
		close(chans[r])
		closeOnly += time.Since(t0)
		for woken < waiters {
			runtime.Gosched()
		}
		total += time.Since(t0)
	}
	if closeAlone {
		total = closeOnly
	}
	return float64(total.Nanoseconds()) / float64(waiters*rounds)
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: chanbench_go w3|w4a|w4b|w5a|w5b|w7|w7c [N]")
		os.Exit(2)
	}
	defaults := map[string]int{"w3": 10000000, "w4a": 50000000, "w4b": 20000000,
		"w5a": 10000000, "w5b": 20000000, "w7": 0, "w7c": 0}
	n, ok := defaults[os.Args[1]]
	if !ok {
		fmt.Fprintln(os.Stderr, "chanbench_go: unknown workload", os.Args[1])
		os.Exit(2)
	}
	if len(os.Args) > 2 {
		n, _ = strconv.Atoi(os.Args[2])
	}
	var r float64
	switch os.Args[1] {
	case "w3":
		r = w3(n)
	case "w4a":
		r = w4a(n)
	case "w4b":
		r = w4b(n)
	case "w5a":
		r = w5a(n)
	case "w5b":
		r = w5b(n)
	case "w7":
		r = w7(false)
	case "w7c":
		r = w7(true)
	}
	fmt.Printf("result: %.2f ns/op\n", r)
}
