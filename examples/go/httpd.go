// httpd.go - an ordinary Go web server and its client in one program on
// cubrt: net/http over the shim's loopback sockets. The server listens on
// 127.0.0.1 (a port the shim picks), the client fetches pages from it
// concurrently, and a JSON handler shows the standard library at work.
//
//	scripts/go-image -o httpd.img examples/go/httpd.go
//	scripts/run httpd.img           # or: scripts/run httpd.img 50  (requests)
//
// With "serve" it is a web server for the world instead, on port 8080 of
// the network card (the shim brings it up by DHCP); /quit ends it:
//
//	scripts/run --net=hostfwd=tcp:127.0.0.1:8080-:8080 httpd.img serve
//	curl 'http://127.0.0.1:8080/hello?who=host'    # from the host
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

type sum struct {
	N   int `json:"n"`
	Sum int `json:"sum"`
}

var served atomic.Int64

func handlers() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		fmt.Fprintf(w, "hello, %s\n", r.URL.Query().Get("who"))
	})
	mux.HandleFunc("/sum", func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		s := sum{N: n}
		for i := 1; i <= n; i++ {
			s.Sum += i
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(s)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		io.WriteString(w, strings.Repeat("0123456789abcdef", 1<<14)) // 256 KiB
	})
	return mux
}

// fetch gets url and returns its body.
func fetch(c *http.Client, url string) (string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %s", url, resp.Status)
	}
	return string(b), err
}

// serve answers on :8080 until a request for /quit.
func serve() {
	mux := handlers()
	done := make(chan struct{})
	mux.HandleFunc("/quit", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "bye\n")
		close(done)
	})
	ln, err := net.Listen("tcp", ":8080")
	if err != nil {
		fmt.Println("listen:", err)
		os.Exit(1)
	}
	go http.Serve(ln, mux)
	fmt.Println("httpd: serving on", ln.Addr())
	<-done
	fmt.Printf("httpd: served %d requests\n", served.Load())
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		serve()
		return
	}
	requests := 20
	if len(os.Args) > 1 {
		requests, _ = strconv.Atoi(os.Args[1])
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("listen:", err)
		os.Exit(1)
	}
	go http.Serve(ln, handlers())
	base := "http://" + ln.Addr().String()
	fmt.Println("httpd: listening on", ln.Addr().Network(), "port range ok:",
		ln.Addr().(*net.TCPAddr).Port > 0)

	c := &http.Client{}
	hello, err := fetch(c, base+"/hello?who=cubrt")
	if err != nil {
		fmt.Println("get:", err)
		os.Exit(1)
	}
	fmt.Printf("httpd: GET /hello: %q\n", hello)

	var wg sync.WaitGroup
	var bad atomic.Int64
	for i := 1; i <= requests; i++ {
		wg.Add(1)
		go func(n int) {
			defer wg.Done()
			body, err := fetch(c, fmt.Sprintf("%s/sum?n=%d", base, n))
			var s sum
			if err != nil || json.Unmarshal([]byte(body), &s) != nil || s.Sum != n*(n+1)/2 {
				bad.Add(1)
			}
		}(i)
	}
	wg.Wait()
	fmt.Printf("httpd: %d concurrent JSON requests, %d wrong\n", requests, bad.Load())

	port := ln.Addr().(*net.TCPAddr).Port
	hello, err = fetch(c, fmt.Sprintf("http://localhost:%d/hello?who=localhost", port))
	fmt.Printf("httpd: by name: %q, err %v\n", hello, err)

	big, err := fetch(c, base+"/big")
	fmt.Printf("httpd: GET /big: %d bytes, intact %v, err %v\n", len(big),
		big == strings.Repeat("0123456789abcdef", 1<<14), err)
	fmt.Printf("httpd: served %d requests\n", served.Load())
}
