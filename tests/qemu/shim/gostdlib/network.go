// network.go - package net on the shim's loopback: unix datagram and
// seqpacket sockets, UDP between two packet sockets, net.Pipe, TCP
// deadlines (accept, read, write: each must end with an i/o timeout),
// the pure-Go resolver (/etc/hosts, /etc/nsswitch.conf, and DNS with no
// server to ask) and net.Interfaces.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strings"
	"time"
)

func netChecks() []check {
	return []check{
		{"net.unixgram", checkUnixgram},
		{"net.unixpacket", checkUnixpacket},
		{"net.udp", checkUDP},
		{"net.pipe", checkNetPipe},
		{"net.tcp.deadlines", checkTCPDeadlines},
		{"net.lookup", checkLookup},
		{"net.lookup.missing", checkLookupMissing},
		{"net.interfaces", checkInterfaces},
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() && errors.Is(err, os.ErrDeadlineExceeded)
}

func checkUnixgram() (bool, string) {
	srv, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: "/tmp/gram.sock", Net: "unixgram"})
	if err != nil {
		return false, err.Error()
	}
	defer os.Remove("/tmp/gram.sock")
	defer srv.Close()
	cli, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: "@sweep-client", Net: "unixgram"})
	if err != nil {
		return false, err.Error()
	}
	defer cli.Close()
	cli.WriteToUnix([]byte("one datagram"), srv.LocalAddr().(*net.UnixAddr))
	buf := make([]byte, 64)
	srv.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, from, err := srv.ReadFromUnix(buf)
	if err != nil {
		return false, err.Error()
	}
	srv.WriteToUnix([]byte("reply"), from)
	cli.SetReadDeadline(time.Now().Add(2 * time.Second))
	m, _, err2 := cli.ReadFromUnix(buf[n:])
	return err2 == nil && string(buf[:n]) == "one datagram" && from.Name == "@sweep-client" &&
		string(buf[n:n+m]) == "reply", fmt.Sprintf("%q from %q, reply %q, %v", buf[:n], from.Name, buf[n:n+m], errText(err2))
}

func checkUnixpacket() (bool, string) {
	ln, err := net.Listen("unixpacket", "@sweep-packet")
	if err != nil {
		return false, err.Error()
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 100)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			c.Write([]byte(strings.ToUpper(string(buf[:n]))))
		}
	}()
	c, err := net.Dial("unixpacket", "@sweep-packet")
	if err != nil {
		return false, err.Error()
	}
	defer c.Close()
	var got []string
	buf := make([]byte, 100)
	for _, m := range []string{"first", "second"} {
		c.Write([]byte(m))
		n, err := c.Read(buf)
		if err != nil {
			return false, err.Error()
		}
		got = append(got, string(buf[:n]))
	}
	return strings.Join(got, ",") == "FIRST,SECOND", fmt.Sprintf("records %q", got)
}

// checkUDP exchanges datagrams between two packet sockets with
// WriteTo/ReadFrom and ReadMsgUDP (addresses, boundaries, truncation).
func checkUDP() (bool, string) {
	a, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return false, err.Error()
	}
	defer a.Close()
	b, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return false, err.Error()
	}
	defer b.Close()
	a.WriteTo([]byte("hello b"), b.LocalAddr())
	a.WriteTo([]byte("a longer datagram"), b.LocalAddr())
	buf := make([]byte, 64)
	b.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, from, err := b.ReadFrom(buf)
	if err != nil {
		return false, err.Error()
	}
	first := string(buf[:n])
	oob := make([]byte, 64)
	m, _, flags, _, err2 := b.ReadMsgUDP(buf[:8], oob)
	truncated := flags&0x20 != 0 // MSG_TRUNC
	return err2 == nil && first == "hello b" && from.String() == a.LocalAddr().String() &&
			m == 8 && truncated,
		fmt.Sprintf("%q from %v, then %d bytes truncated %v, %v", first, from, m, truncated, errText(err2))
}

func checkNetPipe() (bool, string) {
	c1, c2 := net.Pipe()
	defer c1.Close()
	go func() {
		io.Copy(c2, c2)
		c2.Close()
	}()
	fmt.Fprint(c1, "through net.Pipe")
	buf := make([]byte, 16)
	_, err := io.ReadFull(c1, buf)
	c1.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	_, terr := c1.Read(make([]byte, 1))
	return err == nil && string(buf) == "through net.Pipe" && isTimeout(terr),
		fmt.Sprintf("%q, then %v", buf, errText(terr))
}

// checkTCPDeadlines: an Accept with nobody connecting, a Read from a
// peer that writes nothing and a Write to a peer that reads nothing
// (past the 64 KiB ring) must each end with an i/o timeout, and the
// connection must still work afterwards.
func checkTCPDeadlines() (bool, string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return false, err.Error()
	}
	defer ln.Close()
	tl := ln.(*net.TCPListener)
	tl.SetDeadline(time.Now().Add(30 * time.Millisecond))
	_, aerr := tl.Accept()
	tl.SetDeadline(time.Time{})
	peer := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			peer <- c
		}
	}()
	c, err := net.DialTimeout("tcp", ln.Addr().String(), 2*time.Second)
	if err != nil {
		return false, err.Error()
	}
	defer c.Close()
	s := <-peer
	defer s.Close()
	big := make([]byte, 32<<20) // Linux's buffers take MiBs
	for i := 0; i < len(big); i += 4096 {
		big[i] = 1 // paged in before the deadline starts
	}
	t0 := time.Now()
	c.SetReadDeadline(time.Now().Add(40 * time.Millisecond))
	_, rerr := c.Read(make([]byte, 10))
	waited := time.Since(t0)
	c.SetWriteDeadline(time.Now().Add(40 * time.Millisecond))
	wrote, werr := c.Write(big)
	c.SetDeadline(time.Time{})
	go io.CopyN(io.Discard, s, int64(wrote))
	s.Write([]byte("still alive"))
	buf := make([]byte, 11)
	_, err = io.ReadFull(c, buf)
	ok := isTimeout(aerr) && isTimeout(rerr) && waited >= 40*time.Millisecond &&
		isTimeout(werr) && wrote >= 64<<10 && wrote < 32<<20 && err == nil && string(buf) == "still alive"
	return ok, fmt.Sprintf("accept: %v; read: %v after %v; write: %d bytes, %v; then %q",
		errText(aerr), errText(rerr), waited.Round(time.Millisecond), wrote, errText(werr), buf)
}

// checkLookup resolves names from /etc/hosts: the shim's own (localhost)
// or the etc archive's (adds cubrt.test at 127.0.0.2, and
// nsswitch.conf), and dials one by name.
func checkLookup() (bool, string) {
	addrs, err := net.LookupHost("localhost")
	if err != nil {
		return false, err.Error()
	}
	names, err2 := net.LookupAddr("127.0.0.1")
	sort.Strings(names)
	ok := len(addrs) > 0 && addrs[0] == "127.0.0.1" && err2 == nil && len(names) > 0 &&
		strings.TrimSuffix(names[0], ".") == "localhost"
	detail := fmt.Sprintf("localhost %v, 127.0.0.1 is %v", addrs, names)
	if _, err := os.Stat("/etc/nsswitch.conf"); err == nil {
		more, err := net.LookupHost("cubrt.test")
		ln, lerr := net.Listen("tcp", "127.0.0.2:0")
		var derr error = lerr
		if lerr == nil {
			defer ln.Close()
			_, port, _ := net.SplitHostPort(ln.Addr().String())
			var c net.Conn
			c, derr = net.Dial("tcp", "cubrt.test:"+port)
			if derr == nil {
				c.Close()
			}
		}
		ok = ok && err == nil && len(more) == 1 && more[0] == "127.0.0.2" && derr == nil
		detail += fmt.Sprintf("; cubrt.test %v %v, dialed by name: %v", more, errText(err), errText(derr))
	}
	return ok, detail
}

// checkLookupMissing asks for a name no file has: with nsswitch.conf's
// "hosts: files" the answer is no address at once; without it Go also
// asks DNS, and with no resolv.conf and no server on 127.0.0.1:53 the
// query is refused (ECONNREFUSED on the connected UDP socket), so the
// answer must come quickly too, not after the resolver's timeouts.
func checkLookupMissing() (bool, string) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	t0 := time.Now()
	addrs, err := net.DefaultResolver.LookupHost(ctx, "nowhere.cubrt.test")
	took := time.Since(t0)
	var dnsErr *net.DNSError
	ok := len(addrs) == 0 && took < 4*time.Second
	if _, serr := os.Stat("/etc/nsswitch.conf"); serr == nil {
		// Go 1.19 answers a files-only miss with no addresses and no error.
		ok = ok && (err == nil || errors.As(err, &dnsErr))
	} else {
		ok = ok && errors.As(err, &dnsErr)
	}
	return ok, fmt.Sprintf("%v, %v in %v", addrs, errText(err), took.Round(time.Millisecond))
}

// checkInterfaces asks for the network interfaces, which Go reads with
// AF_NETLINK route dumps (docs/shim.md): one, "lo", index 1, up and
// loopback, MTU 65536, no hardware address, with 127.0.0.1/8 (no IPv6),
// from net.Interfaces, the interface's Addrs and net.InterfaceAddrs.
func checkInterfaces() (bool, string) {
	ifs, err := net.Interfaces()
	addrs, aerr := net.InterfaceAddrs()
	ok := err == nil && aerr == nil && len(ifs) == 1 && len(addrs) == 1
	var own []net.Addr
	if ok {
		lo := ifs[0]
		own, err = lo.Addrs()
		ok = err == nil && lo.Name == "lo" && lo.Index == 1 && lo.MTU == 65536 &&
			lo.Flags&(net.FlagUp|net.FlagLoopback) == net.FlagUp|net.FlagLoopback &&
			lo.HardwareAddr == nil && len(own) == 1 &&
			own[0].String() == "127.0.0.1/8" && addrs[0].String() == "127.0.0.1/8"
	}
	desc := make([]string, 0, len(ifs))
	for _, i := range ifs {
		desc = append(desc, fmt.Sprintf("%d %s mtu %d %v", i.Index, i.Name, i.MTU, i.Flags))
	}
	return ok, fmt.Sprintf("Interfaces: %v %v; Addrs: %v; InterfaceAddrs: %v %v",
		desc, errText(err), own, addrs, errText(aerr))
}
