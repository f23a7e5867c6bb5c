package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func read(t *testing.T, raw string) (status int, keepAlive bool, bodyLen int64, rest string, err error) {
	t.Helper()
	r := bufio.NewReader(strings.NewReader(raw))
	status, keepAlive, bodyLen, err = readResponse(r)
	b, _ := io.ReadAll(r)
	return status, keepAlive, bodyLen, string(b), err
}

func TestReadResponse(t *testing.T) {
	const next = "HTTP/1.1 200 OK\r\n" // what must be left for the next response
	for _, tc := range []struct {
		name      string
		raw       string
		status    int
		keepAlive bool
		bodyLen   int64
	}{
		{"content-length", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\nhello" + next, 200, true, 5},
		{"header names in any case", "HTTP/1.1 401 Unauthorized\r\ncOnTeNt-LeNgTh: 2\r\n\r\n{}" + next, 401, true, 2},
		{"chunked with extension and trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
			"5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: y\r\n\r\n" + next, 200, true, 15},
		{"connection close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx" + next, 200, false, 1},
		{"HTTP/1.0 closes by default", "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx" + next, 200, false, 1},
		{"HTTP/1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\nx" + next, 200, true, 1},
		{"204 has no body", "HTTP/1.1 204 No Content\r\n\r\n" + next, 204, true, 0},
		{"bare LF line ends", "HTTP/1.1 200 OK\nContent-Length: 2\n\nok" + next, 200, true, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, keepAlive, bodyLen, rest, err := read(t, tc.raw)
			if err != nil {
				t.Fatal(err)
			}
			if status != tc.status || keepAlive != tc.keepAlive || bodyLen != tc.bodyLen {
				t.Errorf("got status %d keepAlive %v body %d, want %d %v %d", status, keepAlive, bodyLen, tc.status, tc.keepAlive, tc.bodyLen)
			}
			if rest != next {
				t.Errorf("left %q unread, want exactly the next response's first line", rest)
			}
		})
	}
}

func TestReadResponseBodyUntilClose(t *testing.T) {
	status, keepAlive, bodyLen, _, err := read(t, "HTTP/1.1 200 OK\r\n\r\nall of this")
	if err != nil || status != 200 || keepAlive || bodyLen != int64(len("all of this")) {
		t.Errorf("got %d %v %d %v; want 200, no keep-alive, the rest as body", status, keepAlive, bodyLen, err)
	}
}

func TestReadResponseRejectsBrokenResponses(t *testing.T) {
	for name, raw := range map[string]string{
		"empty":               "",
		"not HTTP":            "SSH-2.0-OpenSSH\r\n\r\n",
		"bad status":          "HTTP/1.1 2x0 OK\r\n\r\n",
		"header without ':'":  "HTTP/1.1 200 OK\r\nnonsense\r\n\r\n",
		"bad content-length":  "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"short body":          "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
		"bad chunk size":      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"chunk without CRLF":  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n",
		"cut inside headers":  "HTTP/1.1 200 OK\r\nContent-Len",
		"cut inside chunking": "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab",
	} {
		t.Run(name, func(t *testing.T) {
			if _, _, _, _, err := read(t, raw); err == nil {
				t.Error("accepted a broken response")
			}
		})
	}
}

func TestReadResponseDoesNotAllocate(t *testing.T) {
	raw := "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\nhello"
	src := strings.NewReader(raw)
	r := bufio.NewReaderSize(src, 4096)
	allocs := testing.AllocsPerRun(100, func() {
		src.Reset(raw)
		r.Reset(src)
		if _, _, _, err := readResponse(r); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("readResponse allocates %v times per response, want 0", allocs)
	}
}

// cannedConn answers every request written to it with the same response.
type cannedConn struct {
	net.Conn // nil: only Read, Write and Close are used
	resp     []byte
	r        bytes.Reader
}

func (c *cannedConn) Write(p []byte) (int, error) { c.r.Reset(c.resp); return len(p), nil }
func (c *cannedConn) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c *cannedConn) Close() error                { return nil }

func TestRoundTripDoesNotAllocate(t *testing.T) {
	conn := &cannedConn{resp: []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")}
	wc := newWireConn(func() (net.Conn, error) { return conn, nil })
	single := [][]byte{getRequest("h", "/session", "X-WX-Code: c")}
	multi := saveSources("h", "/save", []string{"c"}, actionsText(10, 1), 2)(0)
	for name, next := range map[string]func() [][]byte{
		"one write": func() [][]byte { return single },
		"writev":    func() [][]byte { p, _ := multi.Next(); return p },
	} {
		allocs := testing.AllocsPerRun(200, func() {
			if status, _, err := wc.roundTrip(next()); err != nil || status != 200 {
				t.Fatalf("status %d, %v", status, err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per request, want 0", name, allocs)
		}
	}
}

// pipeListener serves net/http over in-memory pipes: the generator meets a
// real HTTP server without any network.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error   { l.once.Do(func() { close(l.done) }); return nil }
func (l *pipeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

func (l *pipeListener) dial() (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// serve starts h on a pipe listener for the test's duration.
func serve(t *testing.T, h http.Handler) *pipeListener {
	t.Helper()
	l := newPipeListener()
	srv := &http.Server{Handler: h}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l
}

func shortLoad(l *pipeListener, conns int, sources func(int) Source) LoadResult {
	return RunLoad(context.Background(), LoadOptions{
		Conns: conns, Warmup: 20 * time.Millisecond, Duration: 150 * time.Millisecond,
		Dial: l.dial, NewSource: sources,
	})
}

func TestGeneratorAgainstNetHTTP(t *testing.T) {
	big := strings.Repeat("x", 20000) // past net/http's buffer: sent chunked
	var saves, badSaves atomic.Int64
	l := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/small":
			if r.Header.Get("X-WX-Code") != "c0de" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			io.WriteString(w, "hello")
		case "/big":
			io.WriteString(w, big)
		case "/fail":
			http.Error(w, "no", http.StatusServiceUnavailable)
		case "/save":
			var body struct{ ID, Actions string }
			if err := json.NewDecoder(r.Body).Decode(&body); err != nil || !json.Valid([]byte(body.Actions)) || body.ID == "" {
				badSaves.Add(1)
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			saves.Add(1)
			io.WriteString(w, `{"code":0}`)
		}
	}))
	host := "127.0.0.1:1"

	t.Run("small responses", func(t *testing.T) {
		res := shortLoad(l, 4, cachedSources(host, "/small", []string{"c0de"}))
		if res.OK == 0 || res.Errors != 0 {
			t.Fatalf("OK %d, errors %d (%s)", res.OK, res.Errors, res.ErrorSummary())
		}
		if res.BodyBytes != 5*res.OK {
			t.Errorf("body bytes %d for %d responses of 5 bytes", res.BodyBytes, res.OK)
		}
		if res.Hist.TotalCount() != res.OK || res.P50() <= 0 || res.P99() < res.P50() {
			t.Errorf("histogram: %d values for %d OK, p50 %v, p99 %v", res.Hist.TotalCount(), res.OK, res.P50(), res.P99())
		}
	})
	t.Run("chunked responses", func(t *testing.T) {
		res := shortLoad(l, 2, func(int) Source { return &fixedSource{parts: [][]byte{getRequest(host, "/big")}} })
		if res.OK == 0 || res.Errors != 0 || res.BodyBytes != int64(len(big))*res.OK {
			t.Fatalf("OK %d, errors %d, body bytes %d (%s)", res.OK, res.Errors, res.BodyBytes, res.ErrorSummary())
		}
	})
	t.Run("non-2xx answers are errors", func(t *testing.T) {
		res := shortLoad(l, 2, func(int) Source { return &fixedSource{parts: [][]byte{getRequest(host, "/fail")}} })
		if res.OK != 0 || res.Errors == 0 || res.Statuses[503] != res.Errors {
			t.Fatalf("OK %d, errors %d, statuses %v", res.OK, res.Errors, res.Statuses)
		}
		if s := res.ErrorSummary(); !strings.Contains(s, "503×") {
			t.Errorf("error summary %q does not name the status", s)
		}
	})
	t.Run("saves written with writev", func(t *testing.T) {
		res := shortLoad(l, 2, saveSources(host, "/save", []string{"c0de"}, actionsText(2000, 1), 3))
		if res.OK == 0 || res.Errors != 0 || badSaves.Load() != 0 {
			t.Fatalf("OK %d, errors %d, bad bodies %d (%s)", res.OK, res.Errors, badSaves.Load(), res.ErrorSummary())
		}
		if saves.Load() < res.OK {
			t.Errorf("server saw %d saves, generator counted %d", saves.Load(), res.OK)
		}
	})
}

func TestGeneratorSpendsEachDeviceOnce(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	l := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Header.Get("X-WX-Code")]++
		mu.Unlock()
	}))
	devs := &onceEach{}
	for _, c := range []string{"a", "b", "c", "d", "e"} {
		devs.add(getRequest("127.0.0.1:1", "/session", "X-WX-Code: "+c))
	}
	res := RunLoad(context.Background(), LoadOptions{
		Conns: 3, Warmup: 0, Duration: 2 * time.Second, Dial: l.dial,
		NewSource: func(int) Source { return devs.source() },
	})
	if !res.Exhausted || res.OK != 5 {
		t.Errorf("exhausted %v, OK %d; want the run to stop after the 5 devices", res.Exhausted, res.OK)
	}
	mu.Lock()
	defer mu.Unlock()
	for c, n := range seen {
		if n != 1 {
			t.Errorf("device %s used %d times", c, n)
		}
	}
	if len(seen) != 5 {
		t.Errorf("%d devices used, want 5", len(seen))
	}
}

func TestGeneratorCountsTransportErrors(t *testing.T) {
	refused := func() (net.Conn, error) { return nil, errors.New("connection refused") }
	res := RunLoad(context.Background(), LoadOptions{
		Conns: 2, Warmup: 0, Duration: 50 * time.Millisecond, Dial: refused,
		NewSource: func(int) Source { return &fixedSource{parts: [][]byte{getRequest("h", "/")}} },
	})
	if res.OK != 0 || res.Errors == 0 || res.Statuses[0] != res.Errors || !strings.Contains(res.FirstError, "refused") {
		t.Errorf("OK %d, errors %d, statuses %v, first %q", res.OK, res.Errors, res.Statuses, res.FirstError)
	}
}

func TestLoopbackOnly(t *testing.T) {
	if _, err := loopbackDialer("127.0.0.1:8080"); err != nil {
		t.Errorf("127.0.0.1 refused: %v", err)
	}
	if _, err := loopbackDialer("[::1]:8080"); err != nil {
		t.Errorf("::1 refused: %v", err)
	}
	if _, err := loopbackDialer("localhost:8080"); err != nil {
		t.Errorf("localhost refused: %v", err)
	}
	for _, addr := range []string{"10.1.2.3:80", "example.com:80", "127.0.0.1.nip.io:80"} {
		if _, err := loopbackDialer(addr); err == nil {
			t.Errorf("%s was accepted", addr)
		}
	}
}
