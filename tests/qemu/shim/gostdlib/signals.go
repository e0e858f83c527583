// signals.go - os/signal on the shim: signals the program sends itself
// with kill(2) reach Notify's channels; Ignore drops one (the program
// lives on); Stop and Reset end delivery to a channel; NotifyContext
// cancels its context; tgkill reaches one thread.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"
)

func signalChecks() []check {
	return []check{
		{"signal.notify", checkNotify},
		{"signal.ignore", checkIgnore},
		{"signal.stop", checkStopReset},
		{"signal.context", checkNotifyContext},
		{"signal.tgkill", checkTgkill},
	}
}

// recv waits a little for a signal on c.
func recv(c chan os.Signal, d time.Duration) os.Signal {
	select {
	case s := <-c:
		return s
	case <-time.After(d):
		return nil
	}
}

func checkNotify() (bool, string) {
	c := make(chan os.Signal, 3)
	signal.Notify(c, syscall.SIGINT, syscall.SIGTERM, syscall.SIGUSR1)
	defer signal.Stop(c)
	var got []os.Signal
	for _, s := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGUSR1} {
		if err := syscall.Kill(os.Getpid(), s); err != nil {
			return false, err.Error()
		}
		got = append(got, recv(c, 2*time.Second))
	}
	ok := got[0] == syscall.SIGINT && got[1] == syscall.SIGTERM && got[2] == syscall.SIGUSR1
	return ok, fmt.Sprintf("received %v", got)
}

// checkIgnore ignores SIGUSR2 and SIGHUP, whose default action would
// end the program, and sends them.
func checkIgnore() (bool, string) {
	signal.Ignore(syscall.SIGUSR2, syscall.SIGHUP)
	syscall.Kill(os.Getpid(), syscall.SIGUSR2)
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	time.Sleep(10 * time.Millisecond)
	ignored := signal.Ignored(syscall.SIGUSR2) && signal.Ignored(syscall.SIGHUP)
	return ignored, fmt.Sprintf("still running, Ignored %v", ignored)
}

// checkStopReset: after Stop a channel gets nothing more. Notify takes
// SIGUSR2 back from Ignore (Ignored false); after Reset the channel gets
// nothing either, and SIGUSR2 is not sent again: its default action
// would end the program.
func checkStopReset() (bool, string) {
	a := make(chan os.Signal, 1)
	b := make(chan os.Signal, 1)
	signal.Notify(a, syscall.SIGUSR1)
	signal.Notify(b, syscall.SIGUSR1)
	signal.Stop(a)
	syscall.Kill(os.Getpid(), syscall.SIGUSR1)
	gotB := recv(b, 2*time.Second)
	gotA := recv(a, 20*time.Millisecond)
	signal.Stop(b)
	u := make(chan os.Signal, 1)
	signal.Notify(u, syscall.SIGUSR2)
	unignored := !signal.Ignored(syscall.SIGUSR2)
	syscall.Kill(os.Getpid(), syscall.SIGUSR2)
	gotU := recv(u, 2*time.Second)
	signal.Reset(syscall.SIGUSR2)
	signal.Ignore(syscall.SIGUSR2) // a stray one later must not end the sweep
	return gotB == syscall.SIGUSR1 && gotA == nil && unignored && gotU == syscall.SIGUSR2,
		fmt.Sprintf("kept channel got %v, stopped one %v; after Ignore, Notify got %v", gotB, gotA, gotU)
}

func checkNotifyContext() (bool, string) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	select {
	case <-ctx.Done():
		return true, "cancelled: " + ctx.Err().Error()
	case <-time.After(2 * time.Second):
		return false, "the context was not cancelled"
	}
}

// checkTgkill sends SIGUSR1 to one locked thread with tgkill.
func checkTgkill() (bool, string) {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGUSR1)
	defer signal.Stop(c)
	tid := make(chan int)
	release := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		tid <- syscall.Gettid()
		<-release
	}()
	t := <-tid
	err := syscall.Tgkill(os.Getpid(), t, syscall.SIGUSR1)
	got := recv(c, 2*time.Second)
	close(release)
	return err == nil && got == syscall.SIGUSR1, fmt.Sprintf("thread %d: %v, %v", t, got, errText(err))
}
