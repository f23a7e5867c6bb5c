package main

import (
	"math"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// within reports whether got is within rel (relative) of want.
func within(got, want time.Duration, rel float64) bool {
	return math.Abs(float64(got-want)) <= rel*float64(want)
}

func TestPercentilesOfAUniformDistribution(t *testing.T) {
	h := newHist()
	// 1 ms, 2 ms, …, 1000 ms: p50 is 500 ms, p99 is 990 ms.
	for i := 1; i <= 1000; i++ {
		recordLatency(h, time.Duration(i)*time.Millisecond)
	}
	for _, tc := range []struct {
		p    float64
		want time.Duration
	}{
		{50, 500 * time.Millisecond},
		{99, 990 * time.Millisecond},
		{100, 1000 * time.Millisecond},
	} {
		// Three significant digits: within 0.1 %.
		if got := percentile(h, tc.p); !within(got, tc.want, 0.001) {
			t.Errorf("p%v = %v, want %v ± 0.1%%", tc.p, got, tc.want)
		}
	}
}

func TestPercentilesOfASkewedDistribution(t *testing.T) {
	h := newHist()
	// 98 % fast (200 µs), 2 % slow (50 ms): p50 is fast, p99 is slow.
	for i := 0; i < 9800; i++ {
		recordLatency(h, 200*time.Microsecond)
	}
	for i := 0; i < 200; i++ {
		recordLatency(h, 50*time.Millisecond)
	}
	if got := percentile(h, 50); !within(got, 200*time.Microsecond, 0.001) {
		t.Errorf("p50 = %v, want 200µs", got)
	}
	if got := percentile(h, 99); !within(got, 50*time.Millisecond, 0.001) {
		t.Errorf("p99 = %v, want 50ms", got)
	}
}

func TestRecordLatencyClampsOutOfRangeValues(t *testing.T) {
	h := newHist()
	recordLatency(h, 0)                // below 1 µs: counted as 1 µs
	recordLatency(h, 2*time.Minute)    // above the range: counted at its top
	recordLatency(h, -time.Nanosecond) // a clock oddity must not be lost either
	if h.TotalCount() != 3 {
		t.Fatalf("recorded %d values, want 3: none may be dropped", h.TotalCount())
	}
	if got := percentile(h, 100); !within(got, time.Minute, 0.001) {
		t.Errorf("max = %v, want 1m (clamped)", got)
	}
	if got := percentile(h, 1); got != time.Microsecond {
		t.Errorf("min = %v, want 1µs (clamped)", got)
	}
}

func TestMergedWorkerHistogramsEqualOneHistogram(t *testing.T) {
	// The generator gives each worker its own histogram and merges them:
	// the percentiles must be those of all the values together.
	all, merged := newHist(), newHist()
	parts := []*hdrhistogram.Histogram{newHist(), newHist(), newHist(), newHist()}
	for i := 1; i <= 4000; i++ {
		d := time.Duration(i*i) * time.Microsecond / 100
		recordLatency(all, d)
		recordLatency(parts[i%4], d)
	}
	for _, p := range parts {
		merged.Merge(p)
	}
	for _, p := range []float64{50, 90, 99, 99.9} {
		if a, m := percentile(all, p), percentile(merged, p); a != m {
			t.Errorf("p%v: merged %v, single %v", p, m, a)
		}
	}
}

func TestEmptyHistogramAndRates(t *testing.T) {
	if got := percentile(newHist(), 50); got != 0 {
		t.Errorf("p50 of nothing = %v, want 0", got)
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("p50 of nil = %v, want 0", got)
	}
	if got := perSecond(30000, 10*time.Second); got != 3000 {
		t.Errorf("30000 in 10s = %v/s, want 3000", got)
	}
	if got := perSecond(5, 0); got != 0 {
		t.Errorf("a rate over no time = %v, want 0", got)
	}
	r := LoadResult{OK: 1500, Elapsed: 500 * time.Millisecond}
	if got := r.ReqPerSec(); got != 3000 {
		t.Errorf("ReqPerSec = %v, want 3000", got)
	}
}
