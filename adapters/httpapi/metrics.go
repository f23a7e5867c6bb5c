package httpapi

import (
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/onestroke/onestroke/app"
)

// metrics are the API's Prometheus series, labelled by route template (not
// by raw path, which a client controls), or "unmatched".
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onestroke_http_requests_total",
			Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "onestroke_http_request_duration_seconds",
			Help:    "HTTP request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// ExchangeCounter registers onestroke_wechat_exchanges_total{outcome} on
// reg and returns what counts one exchange, for
// app.ExchangeGate.Observe. Every outcome's series exists from
// the start (at 0), so that alerts on a rate see it before it first moves.
func ExchangeCounter(reg prometheus.Registerer) func(app.ExchangeOutcome) {
	vec := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "onestroke_wechat_exchanges_total",
		Help: "Logins that needed code2Session, by outcome: ok, refused, unavailable, busy (no exchange slot), rate_limited (the client's login budget).",
	}, []string{"outcome"})
	reg.MustRegister(vec)
	counters := make(map[app.ExchangeOutcome]prometheus.Counter, len(app.ExchangeOutcomes))
	for _, o := range app.ExchangeOutcomes {
		counters[o] = vec.WithLabelValues(string(o))
	}
	return func(o app.ExchangeOutcome) {
		if c, ok := counters[o]; ok { // a fixed set of labels, whatever a caller passes
			c.Inc()
		}
	}
}

// AccessTokenMetrics registers the access_token's series on reg and
// returns what feeds them, for app.AccessTokenService.Observe:
// onestroke_wechat_access_token_fetches_total{outcome} (stable_token
// calls without force_refresh), ..._forced_refreshes_total{outcome}
// (with it; rate_limited also counts the refreshes the deployment's
// budget refused without asking WeChat), and ..._remaining_seconds, the
// life left, at scrape time, of the token this instance last took up (0
// before the first). Every outcome's series exists from the start.
func AccessTokenMetrics(reg prometheus.Registerer) func(app.AccessTokenEvent) {
	fetches := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "onestroke_wechat_access_token_fetches_total",
		Help: "stable_token calls without force_refresh made by this instance, by outcome: ok, unavailable, rate_limited.",
	}, []string{"outcome"})
	forced := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "onestroke_wechat_access_token_forced_refreshes_total",
		Help: "Forced access_token refreshes after an API rejected the token, by outcome: ok, unavailable, rate_limited (WeChat's limit, or the deployment's budget: then WeChat was not asked).",
	}, []string{"outcome"})
	var expires atomic.Int64 // unix nanoseconds; 0 before the first token
	remaining := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "onestroke_wechat_access_token_remaining_seconds",
		Help: "Seconds left before the access_token this instance last took up ends (0 before the first, and once it has ended).",
	}, func() float64 {
		end := expires.Load()
		if end == 0 {
			return 0
		}
		return max(time.Until(time.Unix(0, end)).Seconds(), 0)
	})
	reg.MustRegister(fetches, forced, remaining)
	counters := map[app.AccessTokenEventKind]map[app.AccessTokenOutcome]prometheus.Counter{
		app.AccessTokenFetch: {}, app.AccessTokenForcedRefresh: {},
	}
	for _, o := range app.AccessTokenOutcomes {
		counters[app.AccessTokenFetch][o] = fetches.WithLabelValues(string(o))
		counters[app.AccessTokenForcedRefresh][o] = forced.WithLabelValues(string(o))
	}
	return func(e app.AccessTokenEvent) {
		if e.Kind == app.AccessTokenInUse {
			expires.Store(e.Expires.UnixNano())
			return
		}
		if c, ok := counters[e.Kind][e.Outcome]; ok { // a fixed set of labels, whatever a caller passes
			c.Inc()
		}
	}
}

// CacheStats is what SessionCacheMetrics reads at each scrape: the session
// cache's counts since start, its size, and whether its invalidation
// channel is up.
type CacheStats struct {
	Hits, Misses, Fills, Refused, Entries int
	Up                                    bool
}

// SessionCacheMetrics registers the session cache's series on reg, read
// from stats at scrape time: onestroke_session_cache_hits_total,
// ..._misses_total, ..._fills_total, ..._refused_fills_total (reads that
// raced an invalidation and were not kept), ..._entries and ..._up (1
// while the invalidation channel is up; 0 means the cache is dropped and
// bypassed).
func SessionCacheMetrics(reg prometheus.Registerer, stats func() CacheStats) {
	counter := func(name, help string, v func(CacheStats) int) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(v(stats())) })
	}
	gauge := func(name, help string, v func(CacheStats) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return v(stats()) })
	}
	reg.MustRegister(
		counter("onestroke_session_cache_hits_total", "Session reads (legacy codes and tokens) answered from this instance's cache.", func(s CacheStats) int { return s.Hits }),
		counter("onestroke_session_cache_misses_total", "Session reads that went to the store.", func(s CacheStats) int { return s.Misses }),
		counter("onestroke_session_cache_fills_total", "Sessions put into the cache after a read of the store.", func(s CacheStats) int { return s.Fills }),
		counter("onestroke_session_cache_refused_fills_total", "Reads of the store not kept: an invalidation of their user passed meanwhile, or the channel was down.", func(s CacheStats) int { return s.Refused }),
		gauge("onestroke_session_cache_entries", "Sessions in this instance's cache.", func(s CacheStats) float64 { return float64(s.Entries) }),
		gauge("onestroke_session_cache_up", "1 while the cache's invalidation channel is up; 0: the cache is dropped and bypassed.", func(s CacheStats) float64 {
			if s.Up {
				return 1
			}
			return 0
		}),
	)
}

// NewRegistry returns a registry with the Go runtime and process collectors,
// for the service's /metrics.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// WriteString lets io.WriteString reach net/http's own, which copies no
// string (a list answer writes megabyte actions this way).
func (r *statusRecorder) WriteString(s string) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return io.WriteString(r.ResponseWriter, s)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// routeMetrics are one route's series. The histogram child is resolved once
// at start-up and the counters once per method and status, so a request
// pays no label hashing.
type routeMetrics struct {
	m        *metrics
	route    string
	duration prometheus.Observer
	counters sync.Map // countKey → prometheus.Counter
}

type countKey struct {
	method string
	status int
}

// unmatchedRoute labels requests no route matched (404, 405).
const unmatchedRoute = "unmatched"

func (m *metrics) route(label string) *routeMetrics {
	return &routeMetrics{m: m, route: label, duration: m.duration.WithLabelValues(label)}
}

// instrument counts and times every request next serves.
func (rm *routeMetrics) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		rm.counter(r.Method, rec.status).Inc()
		rm.duration.Observe(time.Since(start).Seconds())
	})
}

func (rm *routeMetrics) counter(method string, status int) prometheus.Counter {
	if !knownMethods[method] {
		method = "other" // a client chooses the method of an unmatched request: bound the series
	}
	k := countKey{method, status}
	if c, ok := rm.counters.Load(k); ok {
		return c.(prometheus.Counter)
	}
	c, _ := rm.counters.LoadOrStore(k, rm.m.requests.WithLabelValues(rm.route, method, strconv.Itoa(status)))
	return c.(prometheus.Counter)
}

var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
}

func metricsHandler(g prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{})
}
