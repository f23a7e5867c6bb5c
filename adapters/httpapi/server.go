// Package httpapi is onestroke's HTTP adapter on gorilla/mux: the legacy
// routes of PROTOCOL §3 under a configurable base path, the session layer of
// §1–2, the modern sessions of §6 (v2.go), health and readiness, limits and
// timeouts.
package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/onestroke/onestroke/app"
	"github.com/onestroke/onestroke/domain"
)

// Defaults for Config's limits and timeouts.
const (
	DefaultBasePath     = "/applet"
	DefaultMaxBodyBytes = 4 << 20 // a 1 MiB action list can triple when form-encoded
	// DefaultDrawingConcurrency bounds the drawing requests served at once:
	// each may hold a megabyte-sized body or answer, and two cores gain
	// nothing from more. The rest wait their turn (up to drawingWait).
	DefaultDrawingConcurrency = 32
	DefaultDrawingsPerUser    = 4
	DefaultDrawingWait        = 10 * time.Second
	// DefaultPlatformPerUser bounds the requests of one user that may call
	// WeChat's platform APIs or decrypt (PROTOCOL §8) at once, and
	// DefaultPlatformWait how long one more waits for a slot.
	DefaultPlatformPerUser = 2
	DefaultPlatformWait    = time.Second
	// DefaultBodyTimeout bounds the upload of one body: a 1 MiB drawing
	// takes a few seconds on a slow mobile link.
	DefaultBodyTimeout = 20 * time.Second
	// MaxHeaderBytes is the hard cap net/http enforces (it answers 431 in
	// plain text beyond it). Below it, headers over MaxHeaderTotal are
	// answered in the protocol's envelope.
	MaxHeaderBytes    = 1 << 20
	MaxHeaderTotal    = 16 << 10
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 30 * time.Second
	WriteTimeout      = 30 * time.Second
	IdleTimeout       = 120 * time.Second
	readyCheckTimeout = 2 * time.Second
)

// Check is a named readiness probe of a dependency.
type Check struct {
	Name string
	Ping func(ctx context.Context) error
}

// Config configures a Server.
type Config struct {
	BasePath string // default /applet
	// SkipSessionPrefixes are path prefixes (below the base path or not)
	// whose requests skip the session layer and run anonymously, like the
	// original's ignore(request).
	SkipSessionPrefixes []string
	MaxBodyBytes        int64 // default DefaultMaxBodyBytes
	DrawingConcurrency  int   // default DefaultDrawingConcurrency
	// DrawingsPerUser bounds the drawing requests one user has in the
	// service at once, body reads included (default DefaultDrawingsPerUser).
	DrawingsPerUser int
	// DrawingWait is how long a drawing request waits for a slot before it
	// answers ERR_UNAVAILABLE (default DefaultDrawingWait).
	DrawingWait time.Duration
	// BodyTimeout bounds reading a request body (default DefaultBodyTimeout).
	BodyTimeout time.Duration
	// PlatformPerUser bounds the platform requests (PROTOCOL §8: phone,
	// decrypt, a profile change that a content check may need) one user
	// has in the service at once, body reads included (default
	// DefaultPlatformPerUser); PlatformWait is how long one more waits for
	// a slot before it answers ERR_UNAVAILABLE (default
	// DefaultPlatformWait).
	PlatformPerUser int
	PlatformWait    time.Duration
	Sessions        *app.SessionService
	// Tokens serves the modern sessions (PROTOCOL §6): the v2 routes, and
	// bearer tokens on the legacy routes. Nil: neither.
	Tokens   *app.TokenService
	Drawings *app.DrawingService
	Checks   []Check
	Logger   *slog.Logger
	// Metrics is where the API registers its series and what the
	// OpsHandler's /metrics serves; nil means a fresh registry with the Go
	// and process collectors.
	Metrics *prometheus.Registry
	// DevLogin, when set, is served at /_dev/wx-login: the development
	// mode's device-login mint. Production wiring never sets it.
	DevLogin http.Handler
	// Page, when set, is the development web page (adapters/webpage),
	// served at each of its paths (/ and its files) and nowhere else: any
	// other path keeps the envelope's 404. Production wiring never sets
	// it: the page signs in through DevLogin.
	Page Page

	// TrustedProxies are the proxies (nginx) whose X-Forwarded-For is
	// believed when the login rate limit keys a request by its client's
	// address. Empty: the TCP peer is the client, whatever the header says.
	TrustedProxies []netip.Prefix
}

// Page is a web page served beside the API: the handler and the exact
// paths it answers (GET and HEAD).
type Page interface {
	http.Handler
	Paths() []string
}

// Server is the HTTP API.
type Server struct {
	cfg     Config
	logger  *slog.Logger
	handler http.Handler
	// drawingSlots holds one token per drawing request being worked on,
	// userSlots one per drawing request of each user (see drawing), and
	// platformSlots one per platform request of each user (see platform).
	drawingSlots  chan struct{}
	userSlots     *userSlots
	platformSlots *userSlots
	// draining is set by Drain: /readyz answers 503 and every answer
	// closes its connection.
	draining atomic.Bool
}

// New builds the router.
func New(cfg Config) *Server {
	if cfg.BasePath == "" {
		cfg.BasePath = DefaultBasePath
	}
	cfg.BasePath = "/" + strings.Trim(cfg.BasePath, "/")
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.DrawingConcurrency <= 0 {
		cfg.DrawingConcurrency = DefaultDrawingConcurrency
	}
	if cfg.DrawingsPerUser <= 0 {
		cfg.DrawingsPerUser = DefaultDrawingsPerUser
	}
	if cfg.DrawingWait <= 0 {
		cfg.DrawingWait = DefaultDrawingWait
	}
	if cfg.BodyTimeout <= 0 {
		cfg.BodyTimeout = DefaultBodyTimeout
	}
	if cfg.PlatformPerUser <= 0 {
		cfg.PlatformPerUser = DefaultPlatformPerUser
	}
	if cfg.PlatformWait <= 0 {
		cfg.PlatformWait = DefaultPlatformWait
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewRegistry()
	}
	s := &Server{cfg: cfg, logger: cfg.Logger,
		drawingSlots: make(chan struct{}, cfg.DrawingConcurrency), userSlots: newUserSlots(cfg.DrawingsPerUser),
		platformSlots: newUserSlots(cfg.PlatformPerUser)}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}

	notFound := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeBusinessError(w, r, &domain.Error{Code: codeNoRoute, Message: "No such route."})
	})
	methodNotAllowed := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeBusinessError(w, r, &domain.Error{Code: codeMethodNotAllowed, Message: "Method " + r.Method + " is not allowed on this route."})
	})
	m := newMetrics(s.cfg.Metrics)
	unmatched := m.route(unmatchedRoute)
	r := mux.NewRouter()
	r.NotFoundHandler, r.MethodNotAllowedHandler = unmatched.instrument(notFound), unmatched.instrument(methodNotAllowed)
	// handle registers a route instrumented under its own path: the label
	// is known here, so no request looks its route up again.
	handle := func(path string, h http.Handler, methods ...string) {
		r.Handle(path, m.route(path).instrument(h)).Methods(methods...)
	}
	// The legacy routes come first (mux tries routes in order) and sit on
	// the root router with full paths: a mux subrouter answers a wrong
	// method with 404 instead of 405.
	base := cfg.BasePath
	handle(base+"/session", s.session(true, s.getSession), http.MethodGet)
	handle(base+"/session/paints/list", s.session(false, s.drawing(false, s.listPaints)), http.MethodGet)
	handle(base+"/session/paints/save", s.session(false, s.drawing(true, s.savePaint)), http.MethodPost)
	handle(base+"/session/paints/delete", s.session(false, s.drawing(true, s.deletePaint)), http.MethodPost)
	if cfg.Tokens != nil {
		s.registerV2(handle)
	}

	handle("/healthz", http.HandlerFunc(s.healthz), http.MethodGet, http.MethodHead)
	handle("/readyz", http.HandlerFunc(s.readyz), http.MethodGet, http.MethodHead)
	if cfg.DevLogin != nil {
		handle("/_dev/wx-login", cfg.DevLogin, http.MethodGet, http.MethodPost)
	}
	if cfg.Page != nil {
		for _, p := range cfg.Page.Paths() {
			handle(p, cfg.Page, http.MethodGet, http.MethodHead)
		}
	}

	s.handler = s.closeWhenDraining(s.recoverPanics(s.limitHeaders(r)))
	return s
}

// Drain starts a rolling restart's drain: from now on /readyz answers 503
// (on the API and the operator listener), so that an orchestrator or a
// health-checking proxy sends nothing new, and every answer carries
// Connection: close, so that a proxy holding keep-alive connections opens
// its next ones elsewhere and none is left idle for the shutdown to close
// under a request just sent. Requests are still served. There is no way
// back: the process is about to stop.
func (s *Server) Drain() { s.draining.Store(true) }

// Draining reports whether Drain was called.
func (s *Server) Draining() bool { return s.draining.Load() }

// closeWhenDraining sets Connection: close on every answer once Drain was
// called; net/http then closes the connection after the answer.
func (s *Server) closeWhenDraining(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.draining.Load() {
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
}

// OpsHandler serves the operator's routes, for a listener of their own that
// the internet never reaches: /metrics, and /healthz and /readyz, which the
// API answers too (for load balancers that probe the service's own port).
func (s *Server) OpsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metricsHandler(s.cfg.Metrics))
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	return mux
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// HTTPServer returns an http.Server for this API with the limits and
// timeouts a server facing the internet (through nginx) needs.
func (s *Server) HTTPServer(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           s,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}
}

// recoverPanics turns a panic into a logged 500 in the business envelope:
// no panic reaches a client as a dropped connection.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.logger.LogAttrs(r.Context(), slog.LevelError, "panic serving request",
					slog.String("method", r.Method), slog.String("path", r.URL.Path),
					slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
				s.writeBusinessError(w, r, domain.Errorf(domain.EINTERNAL, "Internal error."))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// limitHeaders answers requests whose headers add up to more than
// MaxHeaderTotal bytes: no client of this protocol sends that much.
func (s *Server) limitHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		total := len(r.RequestURI)
		for k, vs := range r.Header {
			for _, v := range vs {
				total += len(k) + len(v) + 4
			}
		}
		if total > MaxHeaderTotal {
			s.writeBusinessError(w, r, &domain.Error{Code: codeHeadersTooLarge,
				Message: fmt.Sprintf("Request headers are larger than %d bytes.", MaxHeaderTotal)})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// The session headers in canonical form (X-WX-Code arrives as X-Wx-Code):
// read from the header map directly, they cost no canonicalising copy.
const (
	headerCode      = "X-Wx-Code"
	headerRawData   = "X-Wx-Rawdata"
	headerSignature = "X-Wx-Signature"
)

// firstValue is http.Header.Get for a key already in canonical form.
func firstValue(h http.Header, key string) string {
	if vs := h[key]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// userHandler serves a request with its user, nil when anonymous. The
// session layer hands the user over as an argument, not in the request's
// context, which would copy the request once more.
type userHandler func(w http.ResponseWriter, r *http.Request, user *domain.UserInfo)

// session is the session layer (PROTOCOL §1): it authenticates the request
// from its headers, answers session failures with the session error body,
// and hands the user (or nil) to the route. A request with a bearer token
// (PROTOCOL §6) is the token's user, whatever its X-WX-* headers say; with
// withProfile its user info carries the user's profile.
func (s *Server) session(withProfile bool, next userHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, p := range s.cfg.SkipSessionPrefixes {
			if strings.HasPrefix(r.URL.Path, p) {
				next(w, r, nil)
				return
			}
		}
		h := r.Header
		if auth := firstValue(h, headerAuthorization); s.cfg.Tokens != nil && auth != "" && isBearer(auth) {
			user, err := s.tokenUser(r, auth, withProfile)
			if err != nil {
				s.writeBearerSessionError(w, r, err)
				return
			}
			next(w, r, &user)
			return
		}
		user, err := s.cfg.Sessions.Authenticate(r.Context(), domain.Credentials{
			Code:      firstValue(h, headerCode),
			RawData:   firstValue(h, headerRawData),
			Signature: firstValue(h, headerSignature),
			Client:    s.clientAddrIfLogin(r),
		})
		if err != nil {
			s.writeSessionError(w, r, err)
			return
		}
		next(w, r, user)
	})
}

// tokenUser is the user of a legacy request that carries a bearer token.
func (s *Server) tokenUser(r *http.Request, auth string, withProfile bool) (domain.UserInfo, error) {
	sess, err := s.cfg.Tokens.Authenticate(r.Context(), auth)
	if err != nil {
		return domain.UserInfo{}, err
	}
	return s.cfg.Tokens.User(r.Context(), sess, withProfile)
}

// clientAddrIfLogin is clientAddr for requests that may log in: the
// cached path (code only) never needs it, and pays nothing for it.
func (s *Server) clientAddrIfLogin(r *http.Request) string {
	if len(r.Header[headerRawData]) == 0 {
		return ""
	}
	return s.clientAddr(r)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeBody(w, http.StatusOK, []byte(`{"status":"ok"}`))
}

// readyz reports each dependency; 503 when any is down, and 503 without
// asking them while the service drains (see Drain).
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		writeBody(w, http.StatusServiceUnavailable, []byte(`{"status":"draining"}`))
		return
	}
	b := getBuf()
	defer putBuf(b)
	status, ready := http.StatusOK, true
	b.WriteString(`{"checks":{`)
	for i, c := range s.cfg.Checks {
		ctx, cancel := context.WithTimeout(r.Context(), readyCheckTimeout)
		err := c.Ping(ctx)
		cancel()
		if i > 0 {
			b.WriteByte(',')
		}
		appendJSONString(b, c.Name)
		b.WriteByte(':')
		if err != nil {
			ready, status = false, http.StatusServiceUnavailable
			s.logger.LogAttrs(r.Context(), slog.LevelWarn, "dependency not ready", slog.String("dependency", c.Name), slog.String("error", err.Error()))
			b.WriteString(`"down"`) // the cause is logged, not shown: it may name hosts
			continue
		}
		b.WriteString(`"ok"`)
	}
	if ready {
		b.WriteString(`},"status":"ready"}`)
	} else {
		b.WriteString(`},"status":"not ready"}`)
	}
	writeBody(w, status, b.Bytes())
}
