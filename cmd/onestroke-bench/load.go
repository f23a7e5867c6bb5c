package main

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Source yields the requests of one connection of the generator.
type Source interface {
	// Next returns the next request as byte slices written back to back.
	// They must stay unchanged until the next call. ok is false when the
	// source has run out (the first-login devices are finite).
	Next() (parts [][]byte, ok bool)
}

// LoadOptions is one run of the generator.
type LoadOptions struct {
	Conns    int
	Warmup   time.Duration // requests started before Warmup has passed are not counted
	Duration time.Duration // the measured window after the warm-up
	// Dial opens one connection to the server under test.
	Dial func() (net.Conn, error)
	// NewSource returns the request source of worker i (0 ≤ i < Conns).
	NewSource func(i int) Source
}

// LoadResult is what one run measured. Only requests started inside the
// measured window count.
type LoadResult struct {
	Conns     int
	Elapsed   time.Duration // from the end of the warm-up until the last worker stopped
	OK        int64         // 2xx responses
	Errors    int64         // non-2xx responses plus transport errors
	BodyBytes int64         // response bodies of the 2xx responses
	// Statuses counts the non-2xx statuses; key 0 counts transport errors.
	Statuses   map[int]int64
	FirstError string
	Hist       *hdrhistogram.Histogram // latencies of the 2xx responses
	Exhausted  bool                    // a source ran out before the end
}

// ReqPerSec is the rate of 2xx responses in the measured window.
func (r LoadResult) ReqPerSec() float64 { return perSecond(r.OK, r.Elapsed) }

// P50 and P99 are latency percentiles of the 2xx responses.
func (r LoadResult) P50() time.Duration { return percentile(r.Hist, 50) }
func (r LoadResult) P99() time.Duration { return percentile(r.Hist, 99) }

// ErrorSummary describes the errors, e.g. "401×12, transport×1 (first: …)".
func (r LoadResult) ErrorSummary() string {
	if r.Errors == 0 {
		return ""
	}
	keys := make([]int, 0, len(r.Statuses))
	for k := range r.Statuses {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	var parts []string
	for _, k := range keys {
		name := fmt.Sprint(k)
		if k == 0 {
			name = "transport"
		}
		parts = append(parts, fmt.Sprintf("%s×%d", name, r.Statuses[k]))
	}
	s := strings.Join(parts, ", ")
	if r.FirstError != "" {
		s += " (first: " + r.FirstError + ")"
	}
	return s
}

// workerStats is one worker's share of a LoadResult; a worker writes only
// its own, so the hot loop takes no lock.
type workerStats struct {
	ok, errors, bodyBytes int64
	statuses              map[int]int64
	firstError            string
	hist                  *hdrhistogram.Histogram
	exhausted             bool
}

// RunLoad drives the server with opts.Conns keep-alive connections, each
// sending its next request as soon as the previous response is read, for
// the warm-up and then the measured window. It returns when every worker
// has finished its last request, or early when ctx ends.
func RunLoad(ctx context.Context, opts LoadOptions) LoadResult {
	start := time.Now()
	measureFrom := start.Add(opts.Warmup)
	end := measureFrom.Add(opts.Duration)

	var stop atomic.Bool
	watchDone := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			stop.Store(true)
		case <-watchDone:
		}
	}()

	stats := make([]workerStats, opts.Conns)
	sources := make([]Source, opts.Conns)
	for i := range sources { // built before the clock matters
		sources[i] = opts.NewSource(i)
	}
	var wg sync.WaitGroup
	for i := 0; i < opts.Conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stats[i] = runWorker(sources[i], opts.Dial, measureFrom, end, &stop)
		}()
	}
	wg.Wait()
	close(watchDone)
	elapsed := time.Since(measureFrom)

	res := LoadResult{Conns: opts.Conns, Elapsed: elapsed, Statuses: map[int]int64{}, Hist: newHist()}
	for _, s := range stats {
		res.OK += s.ok
		res.Errors += s.errors
		res.BodyBytes += s.bodyBytes
		for k, v := range s.statuses {
			res.Statuses[k] += v
		}
		if res.FirstError == "" {
			res.FirstError = s.firstError
		}
		res.Hist.Merge(s.hist)
		res.Exhausted = res.Exhausted || s.exhausted
	}
	return res
}

func runWorker(src Source, dial func() (net.Conn, error), measureFrom, end time.Time, stop *atomic.Bool) workerStats {
	s := workerStats{hist: newHist()}
	wc := newWireConn(func() (net.Conn, error) {
		c, err := dial()
		if err == nil {
			// A server that stops answering ends the worker a while after
			// the window instead of hanging the run.
			_ = c.SetDeadline(end.Add(30 * time.Second))
		}
		return c, err
	})
	defer wc.close()
	for !stop.Load() {
		t0 := time.Now()
		if !t0.Before(end) {
			break
		}
		parts, ok := src.Next()
		if !ok {
			s.exhausted = true
			break
		}
		status, bodyLen, err := wc.roundTrip(parts)
		lat := time.Since(t0)
		if t0.Before(measureFrom) {
			if err != nil {
				time.Sleep(10 * time.Millisecond) // a refused dial must not spin
			}
			continue
		}
		switch {
		case err != nil:
			s.fail(0, err.Error())
			time.Sleep(10 * time.Millisecond)
		case status < 200 || status > 299:
			s.fail(status, fmt.Sprintf("HTTP %d", status))
		default:
			s.ok++
			s.bodyBytes += bodyLen
			recordLatency(s.hist, lat)
		}
	}
	return s
}

func (s *workerStats) fail(status int, msg string) {
	s.errors++
	if s.statuses == nil {
		s.statuses = map[int]int64{}
	}
	s.statuses[status]++
	if s.firstError == "" {
		s.firstError = msg
	}
}

// loopbackDialer dials addr, which must be a loopback IP or localhost: the
// load tests never leave the machine. (No name is resolved: a name that
// points elsewhere must not slip through.)
func loopbackDialer(addr string) (func() (net.Conn, error), error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("%s is not a loopback address (127.0.0.0/8, ::1 or localhost): load tests target loopback addresses only", addr)
	}
	d := &net.Dialer{Timeout: 5 * time.Second}
	return func() (net.Conn, error) { return d.Dial("tcp", addr) }, nil
}

// ---- request sources ----

// fixedSource sends the same request again and again.
type fixedSource struct{ parts [][]byte }

func (f *fixedSource) Next() ([][]byte, bool) { return f.parts, true }

// rotatingSource cycles through a few prebuilt requests.
type rotatingSource struct {
	reqs [][][]byte
	i    int
}

func (r *rotatingSource) Next() ([][]byte, bool) {
	p := r.reqs[r.i]
	r.i++
	if r.i == len(r.reqs) {
		r.i = 0
	}
	return p, true
}

// onceEach hands out each of a shared list of requests once, across all
// workers: the first-login devices, whose codes are single-use.
type onceEach struct {
	arena []byte  // every request, back to back: one allocation, nothing for the GC to scan
	ends  []int32 // request i is arena[ends[i-1]:ends[i]]
	next  atomic.Int64
}

func (o *onceEach) add(req []byte) {
	o.arena = append(o.arena, req...)
	o.ends = append(o.ends, int32(len(o.arena)))
}

func (o *onceEach) len() int { return len(o.ends) }

// source returns a worker's view; each has its own one-element vector.
func (o *onceEach) source() Source { return &onceEachSource{o: o, parts: make([][]byte, 1)} }

type onceEachSource struct {
	o     *onceEach
	parts [][]byte
}

func (s *onceEachSource) Next() ([][]byte, bool) {
	i := s.o.next.Add(1) - 1
	if i >= int64(len(s.o.ends)) {
		return nil, false
	}
	from := int32(0)
	if i > 0 {
		from = s.o.ends[i-1]
	}
	s.parts[0] = s.o.arena[from:s.o.ends[i]]
	return s.parts, true
}

// ---- request bytes ----

// getRequest returns the bytes of a GET with the given extra header lines
// ("Name: value").
func getRequest(host, path string, headers ...string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\n", path, host)
	for _, h := range headers {
		b.WriteString(h)
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	return []byte(b.String())
}

// postHead returns the request line and headers of a POST whose body is
// bodyLen bytes; the body follows as separate parts.
func postHead(host, path, contentType string, bodyLen int, headers ...string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n", path, host, contentType, bodyLen)
	for _, h := range headers {
		b.WriteString(h)
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	return []byte(b.String())
}
