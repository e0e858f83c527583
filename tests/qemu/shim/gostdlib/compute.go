// compute.go - CPU-bound library code that must simply be right on the
// shim (SSE/AVX state across preemption, getrandom, big stacks):
// encoding/json, compress/gzip, crypto/sha256, crypto/rand, math/big,
// and a TLS handshake over net.Pipe with a key and certificate made at
// run time (crypto/ecdsa, crypto/x509, crypto/tls).
package main

import (
	"bytes"
	"compress/gzip"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"reflect"
	"time"
)

func computeChecks() []check {
	return []check{
		{"encoding.json", checkJSON},
		{"compress.gzip", checkGzip},
		{"crypto.sha256", checkSHA256},
		{"crypto.rand", checkRand},
		{"math.big", checkBig},
		{"crypto.tls", checkTLS},
	}
}

type record struct {
	Name  string            `json:"name"`
	Count int               `json:"count"`
	Ratio float64           `json:"ratio"`
	Tags  []string          `json:"tags"`
	Meta  map[string]string `json:"meta,omitempty"`
}

func checkJSON() (bool, string) {
	in := []record{}
	for i := 0; i < 1000; i++ {
		in = append(in, record{fmt.Sprintf("r%d", i), i, float64(i) / 7,
			[]string{"a", "b"}, map[string]string{"k": fmt.Sprint(i * i)}})
	}
	data, err := json.Marshal(in)
	if err != nil {
		return false, err.Error()
	}
	var out []record
	err = json.Unmarshal(data, &out)
	var one record
	err2 := json.Unmarshal([]byte(`{"name":"x","count":3,"ratio":0.5,"tags":["t"]}`), &one)
	return err == nil && err2 == nil && reflect.DeepEqual(in, out) && one.Count == 3,
		fmt.Sprintf("%d records, %d bytes, round trip equal %v", len(out), len(data), reflect.DeepEqual(in, out))
}

func checkGzip() (bool, string) {
	src := make([]byte, 1<<20)
	for i := range src {
		src[i] = byte(i*i>>7) ^ byte(i>>13)
	}
	var z bytes.Buffer
	w, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
	w.Write(src)
	w.Close()
	packed := z.Len()
	r, err := gzip.NewReader(&z)
	if err != nil {
		return false, err.Error()
	}
	back, err := io.ReadAll(r)
	return err == nil && bytes.Equal(src, back) && packed < len(src),
		fmt.Sprintf("1 MiB -> %d bytes -> equal %v", packed, bytes.Equal(src, back))
}

func checkSHA256() (bool, string) {
	abc := sha256.Sum256([]byte("abc"))
	h := sha256.New()
	a := bytes.Repeat([]byte("a"), 1000)
	for i := 0; i < 1000; i++ {
		h.Write(a)
	}
	million := hex.EncodeToString(h.Sum(nil))
	// FIPS 180-2's test vectors.
	ok := hex.EncodeToString(abc[:]) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" &&
		million == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
	return ok, fmt.Sprintf("abc %x..., a million a's %s...", abc[:4], million[:8])
}

func checkRand() (bool, string) {
	a := make([]byte, 64)
	b := make([]byte, 64)
	_, err1 := rand.Read(a)
	_, err2 := io.ReadFull(rand.Reader, b)
	n, err3 := rand.Int(rand.Reader, big.NewInt(1000))
	p, err4 := rand.Prime(rand.Reader, 256)
	ones := 0
	for _, c := range a {
		for ; c != 0; c &= c - 1 {
			ones++
		}
	}
	ok := err1 == nil && err2 == nil && err3 == nil && err4 == nil && !bytes.Equal(a, b) &&
		ones > 160 && ones < 352 && n.Int64() < 1000 && p.BitLen() == 256 && p.ProbablyPrime(20)
	return ok, fmt.Sprintf("%d of 512 bits set, a 256-bit prime %v", ones, p.BitLen() == 256)
}

func checkBig() (bool, string) {
	f := new(big.Int).MulRange(1, 100)
	digits := 0
	for _, c := range f.String() {
		digits += int(c - '0')
	}
	m521 := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 521), big.NewInt(1))
	m523 := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 523), big.NewInt(1))
	e := new(big.Int).Exp(big.NewInt(3), big.NewInt(100000), m521)
	pi := new(big.Float).SetPrec(200).Quo(big.NewFloat(355).SetPrec(200), big.NewFloat(113).SetPrec(200))
	ok := digits == 648 && len(f.String()) == 158 && m521.ProbablyPrime(10) && !m523.ProbablyPrime(10) &&
		e.Sign() > 0 && pi.Text('f', 6) == "3.141593"
	return ok, fmt.Sprintf("100! has %d digits summing to %d, 2^521-1 prime %v, 2^523-1 prime %v",
		len(f.String()), digits, m521.ProbablyPrime(10), m523.ProbablyPrime(10))
}

// checkTLS makes a P-256 key and a self-signed certificate, then runs a
// TLS 1.3 handshake and an echo over net.Pipe.
func checkTLS() (bool, string) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return false, err.Error()
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "cubrt.test"},
		DNSNames: []string{"cubrt.test"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return false, err.Error()
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	c1, c2 := net.Pipe()
	srv := tls.Server(c2, &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}})
	go func() {
		io.Copy(srv, srv)
		srv.Close()
	}()
	cli := tls.Client(c1, &tls.Config{ServerName: "cubrt.test", RootCAs: pool})
	defer cli.Close()
	if err := cli.Handshake(); err != nil {
		return false, err.Error()
	}
	fmt.Fprint(cli, "sealed")
	buf := make([]byte, 6)
	_, err = io.ReadFull(cli, buf)
	st := cli.ConnectionState()
	return err == nil && string(buf) == "sealed" && st.Version == tls.VersionTLS13,
		fmt.Sprintf("%s, %q echoed, %v", tls.CipherSuiteName(st.CipherSuite), buf, errText(err))
}
