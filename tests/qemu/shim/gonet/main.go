// gonet - Go's net package on the network card: an unmodified Go
// program (standard library only) whose UDP sockets reach QEMU's user
// network through cubrt's shim (docs/shim.md, "The network"). One check
// per line, "name: ok (detail)" or "name: FAILED (detail)", then
// "gonet: N of M checks passed" (exit status 0 only when N == M):
//
//   - net.Interfaces / InterfaceAddrs: lo and eth0 (10.0.2.15/24, the
//     card's MAC given as the first argument);
//   - TFTP downloads from 10.0.2.2:69 (tftproot/) with ListenPacket,
//     WriteToUDP and ReadFromUDP, the transfer's address taken from the
//     first DATA block's sender (QEMU's server answers from port 69
//     itself, others from a port of their own), read deadlines turning
//     a lost packet into a retry: one download, one through net.Dial's
//     connected socket, one whose first block is "lost", six at once
//     from goroutines each on its own socket (two with sendmsg and
//     recvmsg), so Go's netpoller (epoll) waits on many network
//     sockets, and a missing file;
//   - Go's resolver over the /etc/resolv.conf the shim wrote;
//   - a read deadline expiring on a socket nobody writes to;
//   - loopback UDP in the same program, and a datagram to the card's own
//     address staying on the machine;
//   - DialUDP to 10.0.2.99 (nobody answers ARP): the write fails with
//     EHOSTUNREACH, "no route to host".
//
// With "echo" as the first argument it is instead a UDP echo server on
// port 7 (ListenUDP("udp", ":7")) that a host client drives through a
// forwarded port (tests/qemu/net/udpecho_host.py); "quit" ends it.
//
// meson.build boots it as go_net (QEMU's user network serving tftproot/
// by TFTP, DHCP) and go_net_echo (tests/qemu/net/udpecho_host.py):
//
//	scripts/go-image -o gonet.img tests/qemu/shim/gonet/main.go
//	scripts/run --net=tftp=tests/qemu/shim/tftproot gonet.img 52:54:00:12:34:56
package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

// checkTimeout bounds one check, so that a hang is a failure, not a
// test timeout.
const checkTimeout = 20 * time.Second

var (
	server   = net.IPv4(10, 0, 2, 2)
	guest    = net.IPv4(10, 0, 2, 15)
	nobody   = net.IPv4(10, 0, 2, 99) // on the subnet; nobody answers ARP
	passed   int
	total    int
	wantMAC  string
	tftpRoot = map[string][]byte{
		"blocks.txt": lines("tftp test line %04d abcdefghijk\n", 60), // 1920 bytes, 4 blocks
		"exact.txt":  lines("go tftp %04d: five blocks, even\n", 80), // 2560 bytes: an empty last block
	}
)

// lines is n lines of format (one %04d: the line number).
func lines(format string, n int) []byte {
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, format, i)
	}
	return b.Bytes()
}

// run runs one check in a goroutine under checkTimeout.
func run(name string, fn func() (bool, string)) {
	type result struct {
		ok     bool
		detail string
	}
	done := make(chan result, 1)
	go func() {
		ok, detail := fn()
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
	fmt.Printf("%s: %s (%s)\n", name, verdict, r.detail)
}

func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func checkInterfaces() (bool, string) {
	ifs, err := net.Interfaces()
	if err != nil {
		return false, err.Error()
	}
	var desc []string
	var lo, eth0 *net.Interface
	for i := range ifs {
		it := &ifs[i]
		desc = append(desc, fmt.Sprintf("%d %s mtu %d %v [%v]", it.Index, it.Name, it.MTU,
			it.Flags, it.HardwareAddr))
		switch it.Name {
		case "lo":
			lo = it
		case "eth0":
			eth0 = it
		}
	}
	ok := len(ifs) == 2 && lo != nil && eth0 != nil && lo.Index == 1 &&
		lo.Flags&net.FlagLoopback != 0 && eth0.Index == 2 &&
		eth0.Flags&(net.FlagUp|net.FlagBroadcast) == net.FlagUp|net.FlagBroadcast &&
		eth0.Flags&net.FlagLoopback == 0 && eth0.MTU == 1500 &&
		eth0.HardwareAddr.String() == wantMAC
	var own []net.Addr
	if eth0 != nil {
		own, err = eth0.Addrs()
		ok = ok && err == nil && len(own) == 1 && own[0].String() == "10.0.2.15/24"
	}
	byName, berr := net.InterfaceByName("eth0")
	ok = ok && berr == nil && byName.Index == 2
	return ok, fmt.Sprintf("%s; eth0 Addrs %v %s; ByName %s", strings.Join(desc, ", "), own,
		errText(err), errText(berr))
}

func checkInterfaceAddrs() (bool, string) {
	addrs, err := net.InterfaceAddrs()
	var s []string
	for _, a := range addrs {
		s = append(s, a.String())
	}
	got := strings.Join(s, " ")
	return err == nil && got == "127.0.0.1/8 10.0.2.15/24", fmt.Sprintf("%s, err %s", got, errText(err))
}

func checkResolvConf() (bool, string) {
	b, err := os.ReadFile("/etc/resolv.conf")
	return err == nil && strings.Contains(string(b), "nameserver 10.0.2.3"),
		fmt.Sprintf("%q, err %s", b, errText(err))
}

// tftpStats describes one download.
type tftpStats struct {
	port    int // the server's transfer port
	blocks  int
	retries int // requests or ACKs sent again after a read deadline
	local   *net.UDPAddr
}

// tftpOpts vary a download.
type tftpOpts struct {
	drop map[uint16]bool // the first copy of these blocks is ignored, as if lost
	msg  bool            // WriteMsgUDP and ReadMsgUDP (sendmsg, recvmsg)
}

// tftpGet downloads name from 10.0.2.2:69 on a socket of its own,
// net.ListenPacket(network, laddr).
func tftpGet(network, laddr, name string, o tftpOpts) ([]byte, tftpStats, error) {
	pc, err := net.ListenPacket(network, laddr)
	if err != nil {
		return nil, tftpStats{}, err
	}
	defer pc.Close()
	return tftpTransfer(pc.(*net.UDPConn), name, o)
}

// tftpTransfer downloads name from 10.0.2.2:69 (RFC 1350, octet mode)
// on c: WriteToUDP, or Write when c is connected (to 10.0.2.2:69, which
// works with QEMU's server only because it answers from port 69). A
// read deadline of 500 ms turns a lost packet into sending the last
// request or ACK again, up to 8 times in a row.
func tftpTransfer(c *net.UDPConn, name string, o tftpOpts) ([]byte, tftpStats, error) {
	st := tftpStats{local: c.LocalAddr().(*net.UDPAddr)}
	connected := c.RemoteAddr() != nil
	send := func(b []byte, to *net.UDPAddr) error {
		if connected {
			to = nil
		}
		var err error
		switch {
		case o.msg:
			_, _, err = c.WriteMsgUDP(b, nil, to)
		case connected:
			_, err = c.Write(b)
		default:
			_, err = c.WriteToUDP(b, to)
		}
		return err
	}
	recv := func(b []byte) (int, *net.UDPAddr, error) {
		if o.msg {
			n, _, _, from, err := c.ReadMsgUDP(b, nil)
			return n, from, err
		}
		return c.ReadFromUDP(b)
	}
	last := append(append([]byte{0, 1}, name...), "\x00octet\x00"...)
	dest := &net.UDPAddr{IP: server, Port: 69}
	if err := send(last, dest); err != nil {
		return nil, st, err
	}
	var data []byte
	buf := make([]byte, 1500)
	block, quiet := uint16(1), 0
	for {
		c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		n, from, err := recv(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			if quiet++; quiet > 8 {
				return data, st, fmt.Errorf("block %d: %w", block, err)
			}
			st.retries++
			send(last, dest)
			continue
		} else if err != nil {
			return data, st, err
		}
		if n < 4 || !from.IP.Equal(server) || (st.port != 0 && from.Port != st.port) {
			continue // not from the transfer
		}
		op, blk := binary.BigEndian.Uint16(buf), binary.BigEndian.Uint16(buf[2:])
		switch {
		case op == 5:
			return data, st, fmt.Errorf("tftp error %d: %q", blk, bytes.TrimRight(buf[4:n], "\x00"))
		case op != 3:
			continue
		case blk == block && o.drop[blk]:
			delete(o.drop, blk)
		case blk == block:
			if st.port == 0 {
				st.port = from.Port
				dest = from
			}
			data = append(data, buf[4:n]...)
			st.blocks++
			block++
			quiet = 0
			last = []byte{0, 4, buf[2], buf[3]}
			if err := send(last, dest); err != nil {
				return data, st, err
			}
			if n-4 < 512 {
				return data, st, nil
			}
		case blk == block-1 && st.port != 0:
			send(last, dest) // our ACK was lost: again
		}
	}
}

// checkTFTP downloads blocks.txt as most programs would open the
// socket: ListenPacket("udp", ":0"), where Go asks for an IPv6 socket
// first (the shim has none: AF_INET).
func checkTFTP() (bool, string) {
	data, st, err := tftpGet("udp", ":0", "blocks.txt", tftpOpts{})
	ok := err == nil && bytes.Equal(data, tftpRoot["blocks.txt"]) && st.blocks == 4 &&
		st.port != 0 && st.local.IP.IsUnspecified() && st.local.Port != 0
	return ok, fmt.Sprintf("blocks.txt: %d bytes in %d blocks, intact %v, from 10.0.2.2:%d to %v, %d retries, err %s",
		len(data), st.blocks, bytes.Equal(data, tftpRoot["blocks.txt"]), st.port, st.local, st.retries, errText(err))
}

// checkTFTPDial downloads exact.txt through net.Dial's connected socket:
// Write and Read (ReadFromUDP) to and from 10.0.2.2:69 only, from the
// card's address.
func checkTFTPDial() (bool, string) {
	conn, err := net.Dial("udp", "10.0.2.2:69")
	if err != nil {
		return false, err.Error()
	}
	defer conn.Close()
	data, st, err := tftpTransfer(conn.(*net.UDPConn), "exact.txt", tftpOpts{})
	ok := err == nil && bytes.Equal(data, tftpRoot["exact.txt"]) && st.blocks == 6 &&
		st.local.IP.Equal(guest)
	return ok, fmt.Sprintf("exact.txt: %d bytes in %d blocks (the last empty), intact %v, %v -> %v, %d retries, err %s",
		len(data), st.blocks, bytes.Equal(data, tftpRoot["exact.txt"]), st.local, conn.RemoteAddr(),
		st.retries, errText(err))
}

// checkTFTPLost: the first DATA block is "lost" (ignored once); the read
// deadline expires and the request goes again, and the server starts
// over. (A later block cannot be lost here: QEMU's server answers any
// ACK with the block after the last one it sent, whatever the ACK's
// number, so a repeated ACK skips a block.)
func checkTFTPLost() (bool, string) {
	c, err := net.ListenUDP("udp4", nil)
	if err != nil {
		return false, err.Error()
	}
	defer c.Close()
	start := time.Now()
	data, st, err := tftpTransfer(c, "blocks.txt", tftpOpts{drop: map[uint16]bool{1: true}})
	took := time.Since(start)
	ok := err == nil && bytes.Equal(data, tftpRoot["blocks.txt"]) && st.retries == 1 &&
		took >= 500*time.Millisecond
	return ok, fmt.Sprintf("blocks.txt: %d bytes, intact %v, %d retries, in %v, err %s", len(data),
		bytes.Equal(data, tftpRoot["blocks.txt"]), st.retries, took.Round(100*time.Millisecond), errText(err))
}

// checkTFTPConcurrent downloads both files three times each at once,
// from six goroutines with six sockets (two with sendmsg and recvmsg):
// the netpoller waits on all of them.
func checkTFTPConcurrent() (bool, string) {
	const each = 3
	type res struct {
		name string
		data []byte
		st   tftpStats
		err  error
	}
	var wg sync.WaitGroup
	results := make(chan res, 2*each)
	for i := 0; i < each; i++ {
		for _, name := range []string{"blocks.txt", "exact.txt"} {
			wg.Add(1)
			go func(name string, msg bool) {
				defer wg.Done()
				data, st, err := tftpGet("udp4", "0.0.0.0:0", name, tftpOpts{msg: msg})
				results <- res{name, data, st, err}
			}(name, i == 1)
		}
	}
	wg.Wait()
	close(results)
	ok, intact, retries := true, 0, 0
	ports := map[int]bool{}
	var errs []string
	for r := range results {
		good := r.err == nil && bytes.Equal(r.data, tftpRoot[r.name])
		if good {
			intact++
		} else {
			ok = false
			errs = append(errs, fmt.Sprintf("%s: %d bytes, %s", r.name, len(r.data), errText(r.err)))
		}
		retries += r.st.retries
		ports[r.st.local.Port] = true
	}
	ok = ok && intact == 2*each && len(ports) == 2*each
	return ok, fmt.Sprintf("%d of %d downloads intact, on %d local ports, %d retries %v",
		intact, 2*each, len(ports), retries, errs)
}

// checkDNS: Go's own resolver reads the /etc/resolv.conf the shim wrote
// and asks 10.0.2.3 (QEMU's DNS proxy) over connected UDP sockets
// through the card, A and AAAA at once. Whether the host's resolver
// answers is the host's business: any *net.DNSError naming 10.0.2.3:53
// shows the path (a timeout only where the host has no DNS at all).
func checkDNS() (bool, string) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	r := &net.Resolver{PreferGo: true}
	addrs, err := r.LookupHost(ctx, "cubrt-no-such-name.invalid")
	var de *net.DNSError
	ok := errors.As(err, &de) && de.Server == "10.0.2.3:53"
	return ok, fmt.Sprintf("%v, %s", addrs, errText(err))
}

func checkTFTPMissing() (bool, string) {
	_, _, err := tftpGet("udp4", "10.0.2.15:0", "no-such-file", tftpOpts{})
	return err != nil && strings.Contains(err.Error(), "tftp error 1"), errText(err)
}

// checkDeadline: a socket holding a port on the card that nobody sends to.
func checkDeadline() (bool, string) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{})
	if err != nil {
		return false, err.Error()
	}
	defer c.Close()
	start := time.Now()
	c.SetReadDeadline(start.Add(300 * time.Millisecond))
	_, _, err = c.ReadFromUDP(make([]byte, 64))
	took := time.Since(start)
	ok := errors.Is(err, os.ErrDeadlineExceeded) && took >= 300*time.Millisecond && took < 5*time.Second
	return ok, fmt.Sprintf("after %v: %s", took.Round(time.Millisecond), errText(err))
}

// echoOnce sends msg from c to dst and reads one datagram back.
func echoOnce(c *net.UDPConn, dst *net.UDPAddr, msg string) (string, *net.UDPAddr, error) {
	if _, err := c.WriteToUDP([]byte(msg), dst); err != nil {
		return "", nil, err
	}
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 2048)
	n, from, err := c.ReadFromUDP(buf)
	return string(buf[:n]), from, err
}

// echoServer answers every datagram on s with "echo " and its bytes.
func echoServer(s *net.UDPConn) {
	buf := make([]byte, 2048)
	for {
		n, from, err := s.ReadFromUDP(buf)
		if err != nil {
			return
		}
		s.WriteToUDP(append([]byte("echo "), buf[:n]...), from)
	}
}

func checkLoopback() (bool, string) {
	s, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return false, err.Error()
	}
	defer s.Close()
	go echoServer(s)
	c, err := net.DialUDP("udp4", nil, s.LocalAddr().(*net.UDPAddr))
	if err != nil {
		return false, err.Error()
	}
	defer c.Close()
	var got []string
	buf := make([]byte, 2048)
	for _, m := range []string{"one", "two", "three"} {
		c.Write([]byte(m))
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, err := c.Read(buf)
		if err != nil {
			return false, err.Error()
		}
		got = append(got, string(buf[:n]))
	}
	ok := strings.Join(got, ",") == "echo one,echo two,echo three" &&
		c.LocalAddr().(*net.UDPAddr).IP.Equal(net.IPv4(127, 0, 0, 1))
	return ok, fmt.Sprintf("%q from %v to %v", got, c.LocalAddr(), c.RemoteAddr())
}

// checkOwnAddress: a datagram to 10.0.2.15 stays on the machine and
// comes from 10.0.2.15.
func checkOwnAddress() (bool, string) {
	s, err := net.ListenUDP("udp4", &net.UDPAddr{})
	if err != nil {
		return false, err.Error()
	}
	defer s.Close()
	go echoServer(s)
	c, err := net.ListenUDP("udp4", &net.UDPAddr{})
	if err != nil {
		return false, err.Error()
	}
	defer c.Close()
	dst := &net.UDPAddr{IP: guest, Port: s.LocalAddr().(*net.UDPAddr).Port}
	got, from, err := echoOnce(c, dst, "to myself")
	ok := err == nil && got == "echo to myself" && from.IP.Equal(guest) && from.Port == dst.Port
	return ok, fmt.Sprintf("%q from %v, err %s", got, from, errText(err))
}

// checkDialSource: connecting to the network narrows the source to the
// card's address.
func checkDialSource() (bool, string) {
	c, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: server, Port: 69})
	if err != nil {
		return false, err.Error()
	}
	defer c.Close()
	l := c.LocalAddr().(*net.UDPAddr)
	return l.IP.Equal(guest) && l.Port != 0, fmt.Sprintf("%v -> %v", l, c.RemoteAddr())
}

func checkNoRoute() (bool, string) {
	c, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: nobody, Port: 9})
	if err != nil {
		return false, err.Error()
	}
	defer c.Close()
	start := time.Now()
	_, err = c.Write([]byte("anyone?"))
	took := time.Since(start)
	ok := errors.Is(err, syscall.EHOSTUNREACH) && strings.Contains(errText(err), "no route to host")
	return ok, fmt.Sprintf("after %v: %s", took.Round(100*time.Millisecond), errText(err))
}

// echo serves UDP port 7 on the card until a datagram says "quit".
func echo() int {
	s, err := net.ListenUDP("udp", &net.UDPAddr{Port: 7})
	if err != nil {
		fmt.Println("gonet echo:", err)
		return 1
	}
	defer s.Close()
	fmt.Println("gonet echo: listening on", s.LocalAddr())
	buf := make([]byte, 2048)
	n := 0
	for {
		k, from, err := s.ReadFromUDP(buf)
		if err != nil {
			fmt.Println("gonet echo:", err)
			return 1
		}
		if string(buf[:k]) == "quit" {
			// No wait needed: the machine's exit lets the card's
			// transmit ring drain first (docs/devices.md).
			s.WriteToUDP([]byte("bye"), from)
			fmt.Printf("gonet echo: %d datagrams echoed\n", n)
			return 0
		}
		if _, err := s.WriteToUDP(buf[:k], from); err != nil {
			fmt.Println("gonet echo:", err)
			return 1
		}
		n++
	}
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "echo" {
		os.Exit(echo())
	}
	if len(os.Args) > 1 {
		wantMAC = os.Args[1]
	}
	run("net.Interfaces", checkInterfaces)
	run("net.InterfaceAddrs", checkInterfaceAddrs)
	run("resolv.conf", checkResolvConf)
	run("tftp", checkTFTP)
	run("tftp.dial", checkTFTPDial)
	run("tftp.lost", checkTFTPLost)
	run("tftp.concurrent", checkTFTPConcurrent)
	run("tftp.missing", checkTFTPMissing)
	run("dns", checkDNS)
	run("deadline", checkDeadline)
	run("loopback", checkLoopback)
	run("own address", checkOwnAddress)
	run("dial source", checkDialSource)
	run("no route", checkNoRoute)
	fmt.Printf("gonet: %d of %d checks passed\n", passed, total)
	if passed != total {
		os.Exit(1)
	}
}
