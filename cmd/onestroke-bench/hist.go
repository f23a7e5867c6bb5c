package main

import (
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Latencies are recorded in microseconds, from 1 µs to a minute, with three
// significant digits: a percentile is off by at most 0.1 % of its value.
const (
	histLowestUS  = 1
	histHighestUS = int64(time.Minute / time.Microsecond)
	histSigFigs   = 3
)

// newHist returns an empty latency histogram. Each worker of the generator
// owns one (no locking on the hot path); they are merged at the end.
func newHist() *hdrhistogram.Histogram {
	return hdrhistogram.New(histLowestUS, histHighestUS, histSigFigs)
}

// recordLatency adds one latency to h. Values outside the histogram's range
// are clamped rather than dropped, so a stalled request still counts in p99.
func recordLatency(h *hdrhistogram.Histogram, d time.Duration) {
	us := int64(d / time.Microsecond)
	if us < histLowestUS {
		us = histLowestUS
	}
	if us > histHighestUS {
		us = histHighestUS
	}
	_ = h.RecordValue(us) // cannot fail: us is in range
}

// percentile returns the latency at percentile p (0–100) of h, zero when h
// is empty.
func percentile(h *hdrhistogram.Histogram, p float64) time.Duration {
	if h == nil || h.TotalCount() == 0 {
		return 0
	}
	return time.Duration(h.ValueAtPercentile(p)) * time.Microsecond
}

// perSecond returns n events over elapsed as a rate, zero for no time.
func perSecond(n int64, elapsed time.Duration) float64 {
	if elapsed <= 0 {
		return 0
	}
	return float64(n) / elapsed.Seconds()
}
