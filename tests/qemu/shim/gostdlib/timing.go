// timing.go - package time on the shim: wall and monotonic clocks,
// zones (the zoneinfo search path, $TZ and /etc/localtime), tickers,
// AfterFunc, and many timers under four Ps (Go's timer heaps, parked in
// epoll_pwait with the next deadline as timeout).
package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func timeChecks() []check {
	return []check{
		{"time.zones", checkZones},
		{"time.clocks", checkClocks},
		{"time.ticker", checkTicker},
		{"time.afterfunc", checkAfterFunc},
		{"time.timers.procs4", checkTimersProcs4},
	}
}

// tzif is a TZif file (version 1) for one zone without transitions:
// utoff seconds east of UTC, called abbr.
func tzif(utoff int32, abbr string) []byte {
	var b bytes.Buffer
	b.WriteString("TZif")
	b.Write(make([]byte, 16)) // version 0 (1), 15 reserved bytes
	// isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
	for _, n := range []uint32{0, 0, 0, 0, 1, uint32(len(abbr) + 1)} {
		binary.Write(&b, binary.BigEndian, n)
	}
	binary.Write(&b, binary.BigEndian, utoff)
	b.Write([]byte{0, 0}) // isdst, abbreviation index
	b.WriteString(abbr + "\x00")
	return b.Bytes()
}

// checkZones runs before anything formats a local time: time.Local is
// set up on first use, from $TZ (a name looked up in the zoneinfo
// directories) or, without it, /etc/localtime. go_stdlib runs with
// neither (Local is UTC); go_stdlib_etc with TZ=Cubrt/Test, a zone this
// check writes into /usr/share/zoneinfo first (90 minutes east, "CUB").
func checkZones() (bool, string) {
	zone := tzif(5400, "CUB")
	os.MkdirAll("/usr/share/zoneinfo/Cubrt", 0o755)
	if err := os.WriteFile("/usr/share/zoneinfo/Cubrt/Test", zone, 0o644); err != nil {
		return false, err.Error()
	}
	tz, tzSet := os.LookupEnv("TZ")
	name, off := time.Now().Zone()
	utc, err1 := time.LoadLocation("UTC")
	loaded, err2 := time.LoadLocation("Cubrt/Test")
	_, err3 := time.LoadLocation("Europe/Nowhere")
	var lname string
	var loff int
	if err2 == nil {
		lname, loff = time.Date(2024, 1, 1, 0, 0, 0, 0, loaded).Zone()
	}
	ok := err1 == nil && utc == time.UTC && err2 == nil && lname == "CUB" && loff == 5400 &&
		err3 != nil
	if tzSet && tz == "Cubrt/Test" {
		ok = ok && name == "CUB" && off == 5400
	} else {
		ok = ok && !tzSet && name == "UTC" && off == 0
	}
	return ok, fmt.Sprintf("TZ %q (set %v): Local is %s%+d; loaded %s%+d; unknown zone: %v",
		tz, tzSet, name, off, lname, loff, errText(err3))
}

// checkClocks: time.Now carries a monotonic reading beside the wall
// clock (the RTC at boot plus the TSC), and the two agree with
// gettimeofday.
func checkClocks() (bool, string) {
	t0 := time.Now()
	time.Sleep(20 * time.Millisecond)
	t1 := time.Now()
	var tv syscall.Timeval
	syscall.Gettimeofday(&tv)
	mono := strings.Contains(t0.String(), " m=+") && !strings.Contains(t0.Round(0).String(), " m=")
	elapsed := t1.Sub(t0)
	wallGap := time.Unix(tv.Sec, tv.Usec*1000).Sub(t1.Round(0))
	ok := mono && elapsed >= 20*time.Millisecond && elapsed < 2*time.Second &&
		t0.Year() >= 2024 && wallGap > -time.Second && wallGap < time.Second
	return ok, fmt.Sprintf("now %s, monotonic %v, slept %v, gettimeofday off by %v",
		t0.UTC().Format(time.RFC3339), mono, elapsed.Round(time.Millisecond), wallGap.Round(time.Millisecond))
}

// outpace receives ticks from c until they are more than a 5 ms period
// allows since the call (one a period, plus one the channel may hold
// from before: n ticks in span mean a shorter period once
// (n-2) * 5 ms > span), or until 2 s pass: the time to the tenth tick,
// the count and the span at the end.
func outpace(c <-chan time.Time) (tenth time.Duration, n int, span time.Duration) {
	t0 := time.Now()
	for span < 2*time.Second {
		<-c
		n++
		span = time.Since(t0)
		if n == 10 {
			tenth = span
		}
		if n >= 10 && time.Duration(n-2)*5*time.Millisecond > span {
			break
		}
	}
	return tenth, n, span
}

// That Reset took effect is shown by the count of ticks, not by ten 1 ms
// ticks taking less time than ten 5 ms ones: a loaded host that paused
// QEMU once for 80 ms made them take longer (84 ms, 93 ms), and a wake-up
// latency of a few ms on every tick stretches the gaps; neither lets a
// 5 ms period give more than one tick a period.
func checkTicker() (bool, string) {
	tick := time.NewTicker(5 * time.Millisecond)
	t0 := time.Now()
	for i := 0; i < 10; i++ {
		<-tick.C
	}
	ten := time.Since(t0)
	tick.Reset(time.Millisecond)
	fast, n, span := outpace(tick.C)
	tick.Stop()
	select {
	case <-tick.C: // one may have been queued before Stop
	default:
	}
	stopped := true
	select {
	case <-tick.C:
		stopped = false
	case <-time.After(30 * time.Millisecond):
	}
	// t0 and the Reset are just after a period starts: allow for that.
	ok := ten >= 45*time.Millisecond && ten < 2*time.Second && fast >= 9*time.Millisecond &&
		time.Duration(n-2)*5*time.Millisecond > span && stopped
	return ok, fmt.Sprintf("10 ticks of 5ms in %v; of 1ms in %v, %d in %v, stopped %v",
		ten.Round(time.Millisecond), fast.Round(time.Millisecond), n,
		span.Round(time.Millisecond), stopped)
}

func checkAfterFunc() (bool, string) {
	fired := make(chan time.Duration, 3)
	t0 := time.Now()
	time.AfterFunc(10*time.Millisecond, func() { fired <- time.Since(t0) })
	never := time.AfterFunc(time.Hour, func() { fired <- -1 })
	stopped := never.Stop()
	later := time.AfterFunc(time.Hour, func() { fired <- time.Since(t0) })
	later.Reset(20 * time.Millisecond)
	var got []time.Duration
	for len(got) < 2 {
		select {
		case d := <-fired:
			got = append(got, d)
		case <-time.After(2 * time.Second):
			return false, fmt.Sprintf("only %d of 2 fired", len(got))
		}
	}
	ok := stopped && got[0] >= 10*time.Millisecond && got[1] >= 20*time.Millisecond && got[0] > 0
	return ok, fmt.Sprintf("fired after %v and %v, a stopped one stayed quiet %v",
		got[0].Round(time.Millisecond), got[1].Round(time.Millisecond), stopped)
}

// checkTimersProcs4 runs 500 goroutines with four Ps, each sleeping,
// waiting on a timer it resets and on time.After: every timer must fire,
// none early.
func checkTimersProcs4() (bool, string) {
	old := runtime.GOMAXPROCS(4)
	defer runtime.GOMAXPROCS(old)
	var early, done int32
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := 0; i < 500; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			d := time.Duration(1+i%17) * time.Millisecond
			s := time.Now()
			time.Sleep(d)
			t := time.NewTimer(time.Hour)
			t.Reset(d)
			<-t.C
			<-time.After(d)
			if time.Since(s) < 3*d {
				atomic.AddInt32(&early, 1)
			}
			atomic.AddInt32(&done, 1)
		}(i)
	}
	wg.Wait()
	return done == 500 && early == 0, fmt.Sprintf("%d of 500 done in %v with %d Ps, %d early",
		done, time.Since(t0).Round(time.Millisecond), runtime.GOMAXPROCS(0), early)
}
