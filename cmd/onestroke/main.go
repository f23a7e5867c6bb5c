// Command onestroke is the backend of "one stroke" WeChat mini-programs: the
// legacy session protocol, the modern sessions with bearer tokens and the
// drawing routes. It only wires adapters to
// the core; see Main.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/onestroke/onestroke/adapters/boltstore"
	"github.com/onestroke/onestroke/adapters/httpapi"
	"github.com/onestroke/onestroke/adapters/memstore"
	"github.com/onestroke/onestroke/adapters/mongostore"
	"github.com/onestroke/onestroke/adapters/redisstore"
	"github.com/onestroke/onestroke/adapters/render"
	"github.com/onestroke/onestroke/adapters/sessioncache"
	"github.com/onestroke/onestroke/adapters/webpage"
	"github.com/onestroke/onestroke/adapters/wechat"
	"github.com/onestroke/onestroke/adapters/wechat/wechattest"
	"github.com/onestroke/onestroke/app"
	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
)

func main() {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	stop, insist := signalPhases(sigs, func() { signal.Reset(os.Interrupt, syscall.SIGTERM) })
	if err := run(stop, insist, os.Args[1:], os.Getenv, os.Stderr); err != nil {
		if !errors.Is(err, errHelp) {
			fmt.Fprintln(os.Stderr, "onestroke:", err)
		}
		os.Exit(1)
	}
}

var errHelp = errors.New("help requested")

// signalPhases turns the stop signals into the phases of a stop: stop ends
// at the first signal (drain, then shut down), insist at the second (end
// the drain at once: an operator who insists). After the second, reset
// gives the signals their default action back, so a third kills.
func signalPhases(sigs <-chan os.Signal, reset func()) (stop, insist context.Context) {
	stop, stopped := context.WithCancel(context.Background())
	insist, insisted := context.WithCancel(context.Background())
	go func() {
		<-sigs
		stopped()
		<-sigs
		insisted()
		reset()
	}()
	return stop, insist
}

// run loads the configuration, starts the service and serves until ctx ends,
// then drains until the drain period is over or insist ends (see
// Main.Drain) and shuts down gracefully.
func run(ctx, insist context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, err := LoadConfig(args, getenv, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return err
	}
	m := NewMain(cfg, newLogger(cfg, stderr))
	gogc, source := applyGCPercent(getenv)
	m.logger.Info("garbage collector", slog.Int("gogc", gogc), slog.String("source", source))
	if err := m.Open(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	m.Drain(insist)
	m.logger.Info("shutting down", slog.Duration("timeout", cfg.ShutdownTimeout))
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	return m.Close(shutdownCtx)
}

// DefaultGCPercent is the GOGC the service runs with unless the environment
// sets GOGC. The service's live heap is small (a few MiB with Redis
// sessions), so at Go's default of 100 the collector runs every few MiB
// allocated: dozens of cycles a second under load, each scanning and
// shrinking every connection's stack, which the next request grows again.
// At 200 it runs half as often, for a heap of up to three times the live
// data. (400 saved a little more CPU but took the peak RSS at 256
// connections to 57–63 MiB, against 35 MiB at 100 and 43 MiB at 200; make
// bench measures both.) In a container, also set GOMEMLIMIT to its memory
// limit.
const DefaultGCPercent = 200

// applyGCPercent sets DefaultGCPercent unless GOGC is set, and returns the
// GOGC in force and where it came from.
func applyGCPercent(getenv func(string) string) (int, string) {
	if v := getenv("GOGC"); v != "" {
		current := debug.SetGCPercent(-1) // read it back: the runtime parsed GOGC at start
		debug.SetGCPercent(current)
		return current, "GOGC"
	}
	debug.SetGCPercent(DefaultGCPercent)
	return DefaultGCPercent, "default"
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// Main is the wired service. Tests start it on port 0 with Open and stop it
// with Close, exactly as the binary does.
type Main struct {
	cfg    Config
	logger *slog.Logger

	// closers release the stores in reverse order of opening.
	closers  []func(context.Context) error
	cancel   context.CancelFunc // stops the background dependency waiters
	api      *httpapi.Server
	server   *http.Server
	listener net.Listener
	served   chan error

	// userLimiter limits the v2 logins per user (nil when off); made with
	// the session store, on Redis when configured.
	userLimiter ports.RateLimiter
	// platformLimiter limits each user's WeChat platform calls (nil when
	// off), on Redis when configured.
	platformLimiter ports.RateLimiter

	mock       *wechattest.Server
	mockServer *http.Server
	opsServer  *http.Server
	opsAddr    string
}

// NewMain returns an unopened service.
func NewMain(cfg Config, logger *slog.Logger) *Main {
	return &Main{cfg: cfg, logger: logger}
}

// Open builds the adapters, the use cases and the router, and starts
// listening. It returns once the service accepts connections.
func (m *Main) Open(ctx context.Context) (err error) {
	cfg := m.cfg
	defer func() {
		if err != nil {
			m.closeResources()
		}
	}()

	exchanger, err := m.openWeChat()
	if err != nil {
		return err
	}

	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m.cancel = cancel
	sessionStore, limiter, sessionCheck, sessionsDesc, err := m.openSessions(bg)
	if err != nil {
		return err
	}
	repo, drawingsCheck, drawingsDesc, err := m.openDrawings(bg)
	if err != nil {
		return err
	}
	registry := httpapi.NewRegistry()
	// One gate for both protocols: one login budget per address, one bound
	// on the code2Session calls of this instance, one count.
	gate := &app.ExchangeGate{
		Limiter:       limiter,
		UserLimiter:   m.userLimiter,
		MaxConcurrent: cfg.MaxExchanges,
		Observe:       httpapi.ExchangeCounter(registry),
		Logger:        m.logger,
	}
	// The token stores and the access_token share the Redis store's client
	// (they look for it on sessionStore); the use cases get the cache in
	// front of the stores. Both protocols claim their codes in one
	// LoginCodes: one exchange per code across every instance, whichever
	// protocol sent it.
	tokenSessions, loginCodes, tokensDesc := m.openTokenSessions(sessionStore)
	cachedSessions, cachedTokens, cacheDesc := m.openSessionCache(bg, sessionStore, tokenSessions, registry)
	sessions := &app.SessionService{
		Store:     cachedSessions,
		Exchanger: exchanger,
		Codes:     loginCodes,
		TTL:       cfg.SessionTTL,
		Logger:    m.logger,
		Gate:      gate,
	}
	// Closed before the stores: the codes' login records still being written land.
	m.closers = append(m.closers, func(context.Context) error { sessions.Wait(); return nil })
	profiles, profilesDesc := m.openProfiles(repo)
	sealer, err := domain.NewSessionKeySealer(exchanger.AppSecret)
	if err != nil {
		return err
	}
	accessTokens, accessTokensDesc, err := m.openAccessTokens(sessionStore, exchanger, httpapi.AccessTokenMetrics(registry))
	if err != nil {
		return err
	}
	platform := wechat.NewPlatform(exchanger, accessTokens)
	tokens := &app.TokenService{
		Sessions:        cachedTokens,
		Codes:           loginCodes,
		Profiles:        profiles,
		Exchanger:       exchanger,
		Sealer:          sealer,
		Gate:            gate,
		Policy:          cfg.TokenPolicy,
		Now:             time.Now,
		Logger:          m.logger,
		Phones:          platform,
		Content:         platform,
		AppID:           exchanger.AppID,
		PlatformLimiter: m.platformLimiter,
		PlatformTimeout: cfg.WxPlatformTimeout,
	}
	// Closed before the stores: the login records still being written land.
	m.closers = append(m.closers, func(context.Context) error { tokens.Wait(); return nil })
	drawings := &app.DrawingService{
		Repo:            repo,
		Now:             time.Now,
		MaxActionsBytes: cfg.MaxActionsBytes,
		ListLimit:       cfg.ListLimit,
		Quota:           domain.Quota{MaxDrawings: cfg.MaxDrawingsPerOwner, MaxBytes: cfg.MaxBytesPerOwner},
		Content:         tokens, // titles pass the nickName's content check
		Renderer:        render.New(),
	}
	if cfg.RenderCache == 0 {
		drawings.RenderCacheEntries = -1 // off
	} else {
		drawings.RenderCacheEntries = cfg.RenderCache
	}
	apiCfg := httpapi.Config{
		BasePath:            cfg.BasePath,
		SkipSessionPrefixes: cfg.SessionSkip,
		MaxBodyBytes:        cfg.MaxBodyBytes,
		DrawingConcurrency:  cfg.DrawingConc,
		DrawingsPerUser:     cfg.DrawingsPerUser,
		BodyTimeout:         cfg.BodyTimeout,
		Sessions:            sessions,
		Tokens:              tokens,
		Drawings:            drawings,
		Logger:              m.logger,
		Checks:              []httpapi.Check{sessionCheck, drawingsCheck},
		Metrics:             registry,
		TrustedProxies:      cfg.TrustedProxies,
	}
	if m.mock != nil {
		apiCfg.DevLogin = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { wechattest.ServeMint(w, r, m.mock) })
		// The web page signs in through the mint: development mode only.
		if apiCfg.Page, err = webpage.New(cfg.BasePath); err != nil {
			return err
		}
	}
	api := httpapi.New(apiCfg)
	m.api = api

	m.listener, err = net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	m.server = api.HTTPServer(cfg.Listen)
	m.served = make(chan error, 1)
	go func() { m.served <- m.server.Serve(m.listener) }()

	if cfg.OpsListen != "" {
		if err := m.openOps(cfg.OpsListen, api.OpsHandler()); err != nil {
			return err
		}
	}

	m.logger.Info("onestroke listening",
		slog.String("addr", m.listener.Addr().String()),
		slog.String("ops_addr", m.opsAddr),
		slog.String("base_path", cfg.BasePath),
		slog.String("sessions", sessionsDesc),
		slog.String("token_sessions", tokensDesc),
		slog.String("session_cache", cacheDesc),
		slog.String("profiles", profilesDesc),
		slog.String("access_token", accessTokensDesc),
		slog.String("drawings", drawingsDesc),
		slog.String("login_rate_limit", loginLimitDesc(cfg, limiter)),
		slog.String("user_login_rate_limit", userLoginLimitDesc(cfg, m.userLimiter)),
		slog.Int("trusted_proxies", len(cfg.TrustedProxies)),
		slog.Bool("development_mode", cfg.DevMode()))
	return nil
}

// openSessions returns the session store and the login rate limiter
// (nil when ONESTROKE_LOGIN_RATE is off): both on Redis when configured,
// sharing its client, so that every instance shares each address's budget;
// else both in memory. A Redis that is down at start does not stop the
// start: requests answer a clean error and a waiter logs until it answers.
func (m *Main) openSessions(bg context.Context) (ports.SessionStore, ports.RateLimiter, httpapi.Check, string, error) {
	cfg := m.cfg
	limited := cfg.LoginRate.Events > 0
	if cfg.RedisURL == "" {
		var limiter ports.RateLimiter
		if limited {
			limiter = memstore.NewRateLimiter(cfg.LoginRate, time.Now, 0)
		}
		if cfg.UserLoginRate.Events > 0 {
			m.userLimiter = memstore.NewRateLimiter(cfg.UserLoginRate, time.Now, 0)
		}
		if cfg.UserPlatformRate.Events > 0 {
			m.platformLimiter = memstore.NewRateLimiter(cfg.UserPlatformRate, time.Now, 0)
		}
		return memstore.NewSessionStore(time.Now), limiter,
			httpapi.Check{Name: "sessions", Ping: func(context.Context) error { return nil }}, // up while we are
			"memory", nil
	}
	client, mode, err := redisstore.ParseURL(cfg.RedisURL, cfg.RedisTimeout)
	if err != nil {
		return nil, nil, httpapi.Check{}, "", err
	}
	store := redisstore.New(client, mode, redisstore.Options{Prefix: cfg.RedisPrefix, OpTimeout: cfg.RedisTimeout})
	m.closers = append(m.closers, func(context.Context) error { return store.Close() })
	var limiter ports.RateLimiter
	if limited {
		limiter = redisstore.NewRateLimiter(store.Client(), cfg.LoginRate, redisstore.RateLimiterOptions{OpTimeout: cfg.RedisTimeout})
	}
	if cfg.UserLoginRate.Events > 0 {
		m.userLimiter = redisstore.NewRateLimiter(store.Client(), cfg.UserLoginRate,
			redisstore.RateLimiterOptions{OpTimeout: cfg.RedisTimeout, Prefix: redisstore.UserLoginRatePrefix})
	}
	if cfg.UserPlatformRate.Events > 0 {
		m.platformLimiter = redisstore.NewRateLimiter(store.Client(), cfg.UserPlatformRate,
			redisstore.RateLimiterOptions{OpTimeout: cfg.RedisTimeout, Prefix: redisstore.UserPlatformRatePrefix})
	}
	go m.waitFor(bg, "redis", store.Ping)
	return store, limiter, httpapi.Check{Name: "redis", Ping: store.Ping}, "redis (" + string(mode) + ")", nil
}

// openTokenSessions returns the stores of the modern sessions (PROTOCOL §6):
// the token sessions and the login codes that make one exchange per code
// (of both protocols).
// With Redis they share the legacy store's client, so every instance sees
// every token and each code's lease.
func (m *Main) openTokenSessions(legacy ports.SessionStore) (ports.TokenSessionStore, ports.LoginCodes, string) {
	if store, ok := legacy.(*redisstore.Store); ok {
		opts := redisstore.TokenOptions{OpTimeout: m.cfg.RedisTimeout}
		return redisstore.NewTokenSessions(store.Client(), opts), redisstore.NewLoginCodes(store.Client(), opts), "redis"
	}
	return memstore.NewTokenSessions(), memstore.NewLoginCodes(time.Now), "memory"
}

// openSessionCache puts the in-process session cache in front of both
// session stores when they are on Redis and ONESTROKE_SESSION_CACHE_SIZE
// is not 0; its invalidations travel on the stores' own Redis client, and
// it listens until the service closes. In memory (one instance) the stores
// are in-process already and go undecorated.
func (m *Main) openSessionCache(bg context.Context, legacy ports.SessionStore, tokens ports.TokenSessionStore, reg prometheus.Registerer) (ports.SessionStore, ports.TokenSessionStore, string) {
	store, ok := legacy.(*redisstore.Store)
	if !ok || m.cfg.SessionCacheSize == 0 {
		return legacy, tokens, "off"
	}
	cache := sessioncache.New(sessioncache.NewRedisInvalidations(store.Client(), "", 0, m.cfg.RedisTimeout).PublishThrough(store.Batch()),
		sessioncache.Options{Size: m.cfg.SessionCacheSize, TTL: m.cfg.SessionCacheTTL})
	httpapi.SessionCacheMetrics(reg, func() httpapi.CacheStats {
		st := cache.Stats()
		return httpapi.CacheStats{Hits: st.Hits, Misses: st.Misses, Fills: st.Fills, Refused: st.Refused, Entries: st.Entries, Up: st.Up}
	})
	ctx, cancel := context.WithCancel(bg)
	done := make(chan struct{})
	go func() { defer close(done); cache.Run(ctx) }()
	// Before the store's client closes (closers run in reverse).
	m.closers = append(m.closers, func(context.Context) error { cancel(); <-done; return nil })
	return cache.Sessions(store), cache.Tokens(tokens),
		fmt.Sprintf("%d entries, %v (Redis pub/sub invalidation)", m.cfg.SessionCacheSize, m.cfg.SessionCacheTTL)
}

// openAccessTokens returns the deployment's one WeChat access_token
// (PROTOCOL §8): its state in the shared store when Redis is configured
// (every instance uses the same token, one at a time fetches it), else in
// memory; sealed at rest under the app secret either way.
func (m *Main) openAccessTokens(legacy ports.SessionStore, source *wechat.Client, observe func(app.AccessTokenEvent)) (*app.AccessTokenService, string, error) {
	var store ports.AccessTokenStore = memstore.NewAccessTokens(time.Now)
	where := "memory"
	if rs, ok := legacy.(*redisstore.Store); ok {
		store = redisstore.NewAccessTokens(rs.Client(), redisstore.AccessTokenOptions{OpTimeout: m.cfg.RedisTimeout})
		where = "redis"
	}
	sealer, err := domain.NewAccessTokenSealer(source.AppSecret)
	if err != nil {
		return nil, "", err
	}
	svc := &app.AccessTokenService{
		Store:   app.SealAccessTokens(store, sealer),
		Source:  source,
		Now:     time.Now,
		Observe: observe,
		Logger:  m.logger,
	}
	m.closers = append(m.closers, func(context.Context) error { svc.WaitRefresh(); return nil })
	return svc, where, nil
}

// openProfiles returns the profile repository of the modern protocol: the
// drawing store's database keeps the profiles.
func (m *Main) openProfiles(drawings ports.DrawingRepository) (ports.ProfileRepository, string) {
	if profiles, ok := drawings.(ports.ProfileRepository); ok {
		return profiles, "the drawing store"
	}
	return memstore.NewProfiles(), "memory"
}

// loginLimitDesc says in the start-up log which login limit is in force.
func userLoginLimitDesc(cfg Config, limiter ports.RateLimiter) string {
	if limiter == nil {
		return "off"
	}
	return fmt.Sprintf("%d per %s, burst %d per user (v2 logins)", cfg.UserLoginRate.Events, cfg.UserLoginRate.Per, cfg.UserLoginRate.Burst)
}

func loginLimitDesc(cfg Config, limiter ports.RateLimiter) string {
	if limiter == nil {
		return "off"
	}
	where := "memory, this instance"
	if _, ok := limiter.(*redisstore.RateLimiter); ok {
		where = "redis, shared by every instance"
	}
	return fmt.Sprintf("%d per %s, burst %d per client address (%s)", cfg.LoginRate.Events, cfg.LoginRate.Per, cfg.LoginRate.Burst, where)
}

// openDrawings returns the drawing repository: MongoDB when configured,
// else the embedded file.
func (m *Main) openDrawings(bg context.Context) (ports.DrawingRepository, httpapi.Check, string, error) {
	cfg := m.cfg
	if cfg.MongoURI == "" {
		repo, err := boltstore.Open(cfg.DataDir)
		if err != nil {
			return nil, httpapi.Check{}, "", err
		}
		m.closers = append(m.closers, func(context.Context) error { return repo.Close() })
		return repo, httpapi.Check{Name: "drawings", Ping: repo.Ping}, "embedded file in " + cfg.DataDir, nil
	}
	repo, err := mongostore.Open(cfg.MongoURI, mongostore.Options{Database: cfg.MongoDB, OpTimeout: cfg.MongoTimeout})
	if err != nil {
		return nil, httpapi.Check{}, "", err
	}
	m.closers = append(m.closers, repo.Close)
	go m.waitFor(bg, "mongodb", repo.Ping)
	return repo, httpapi.Check{Name: "mongodb", Ping: repo.Ping}, "mongodb (database " + cfg.MongoDB + ")", nil
}

// waitFor pings a dependency until it answers, logging each failure with a
// growing pause, so that an operator sees why the service is not ready.
func (m *Main) waitFor(ctx context.Context, name string, ping func(context.Context) error) {
	pause := 500 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := ping(ctx)
		if err == nil {
			if attempt > 1 {
				m.logger.Info("dependency is up", slog.String("dependency", name), slog.Int("attempts", attempt))
			}
			return
		}
		if ctx.Err() != nil {
			return
		}
		m.logger.Warn("waiting for dependency; requests that need it answer ERR_UNAVAILABLE meanwhile",
			slog.String("dependency", name), slog.Int("attempt", attempt), slog.Duration("retry_in", pause), slog.String("error", err.Error()))
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return
		}
		pause = min(pause*2, 10*time.Second)
	}
}

// openWeChat returns the code exchanger: WeChat itself, or in development
// mode a mock started in-process.
func (m *Main) openWeChat() (*wechat.Client, error) {
	cfg := m.cfg
	if !cfg.DevMode() {
		return wechat.NewClient(cfg.WxAppID, cfg.WxSecret, cfg.WxAPIURL, cfg.WxTimeout), nil
	}
	secret := make([]byte, 16)
	_, _ = rand.Read(secret)
	appID, appSecret := "wxdevelopment0000", hex.EncodeToString(secret)
	m.mock = wechattest.New(appID, appSecret, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start the development mock WeChat: %w", err)
	}
	m.mockServer = &http.Server{Handler: m.mock, ReadHeaderTimeout: 5 * time.Second}
	go m.mockServer.Serve(ln)
	apiURL := "http://" + ln.Addr().String()
	m.logger.Warn("DEVELOPMENT MODE (ONESTROKE_DEV=true): logins are checked against an in-process MOCK WeChat, "+
		"and /_dev/wx-login mints test logins for anybody. Never expose this to real users; in production set ONESTROKE_WX_APPID and ONESTROKE_WX_SECRET instead.",
		slog.String("mock_wechat", apiURL))
	return wechat.NewClient(appID, appSecret, apiURL, cfg.WxTimeout), nil
}

// openOps serves the operator listener: /metrics, /healthz, /readyz and
// net/http/pprof, never on the API's listener. pprof's cmdline shows the
// process's arguments, which is why no secret is ever a flag.
func (m *Main) openOps(addr string, ops http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("operator listener on %s (ONESTROKE_OPS_LISTEN): %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", ops)
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	m.opsServer = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	m.opsAddr = ln.Addr().String()
	go m.opsServer.Serve(ln)
	if tcp, ok := ln.Addr().(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
		m.logger.Warn("the operator listener (metrics, pprof) is not on loopback; keep it off the internet", slog.String("ops_addr", m.opsAddr))
	}
	return nil
}

// OpsAddr returns the operator listener's address, "" when it is off.
func (m *Main) OpsAddr() string { return m.opsAddr }

// Addr returns the address the service listens on (useful with port 0).
func (m *Main) Addr() string { return m.listener.Addr().String() }

// Mock returns the development mode's mock WeChat, nil in production mode.
func (m *Main) Mock() *wechattest.Server { return m.mock }

// Drain is the first phase of a stop, what makes a rolling restart lose
// nothing: /readyz answers 503 on both listeners and every answer carries
// Connection: close (see httpapi.Server.Drain), while the service keeps
// serving for the configured drain period, so that an orchestrator or a
// proxy moves the traffic to the other instances before this one stops
// accepting. It returns when the period is over or, sooner, when insist
// ends (a second signal). Close comes next.
func (m *Main) Drain(insist context.Context) {
	if m.api == nil {
		return
	}
	start := time.Now()
	m.api.Drain()
	m.logger.Info("drain started: /readyz answers 503, every answer closes its connection",
		slog.Duration("drain", m.cfg.Drain))
	reason := "drain period over"
	if m.cfg.Drain > 0 {
		t := time.NewTimer(m.cfg.Drain)
		defer t.Stop()
		select {
		case <-t.C:
		case <-insist.Done():
			reason = "second signal"
		}
	}
	m.logger.Info("drained", slog.String("reason", reason), slog.Duration("took", time.Since(start).Round(time.Millisecond)))
}

// Close stops accepting requests, waits for those in flight until ctx ends,
// and closes the stores.
func (m *Main) Close(ctx context.Context) error {
	var err error
	if m.server != nil {
		if err = m.server.Shutdown(ctx); err != nil {
			err = fmt.Errorf("shutdown: %w", err)
			m.server.Close()
		}
		if serveErr := <-m.served; serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
			err = errors.Join(err, serveErr)
		}
	}
	err = errors.Join(err, m.closeResources())
	if err == nil {
		m.logger.Info("onestroke stopped")
	}
	return err
}

func (m *Main) closeResources() error {
	var err error
	if m.cancel != nil {
		m.cancel()
	}
	if m.mockServer != nil {
		m.mockServer.Close()
		m.mockServer = nil
	}
	if m.opsServer != nil {
		m.opsServer.Close()
		m.opsServer = nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for i := len(m.closers) - 1; i >= 0; i-- {
		err = errors.Join(err, m.closers[i](ctx))
	}
	m.closers = nil
	if m.listener != nil && m.server == nil {
		m.listener.Close()
	}
	return err
}
