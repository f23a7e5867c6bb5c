// Command onestroke is the backend of "one stroke" WeChat mini-programs: the
// legacy session protocol and the drawing routes. It only wires adapters to
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
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/onestroke/onestroke/adapters/boltstore"
	"github.com/onestroke/onestroke/adapters/httpapi"
	"github.com/onestroke/onestroke/adapters/memstore"
	"github.com/onestroke/onestroke/adapters/wechat"
	"github.com/onestroke/onestroke/adapters/wechat/wechattest"
	"github.com/onestroke/onestroke/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stderr); err != nil {
		if !errors.Is(err, errHelp) {
			fmt.Fprintln(os.Stderr, "onestroke:", err)
		}
		os.Exit(1)
	}
}

var errHelp = errors.New("help requested")

// run loads the configuration, starts the service and serves until ctx ends,
// then shuts down gracefully.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, err := LoadConfig(args, getenv, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return err
	}
	m := NewMain(cfg, newLogger(cfg, stderr))
	if err := m.Open(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	m.logger.Info("shutting down", slog.Duration("timeout", cfg.ShutdownTimeout))
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	return m.Close(shutdownCtx)
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

	repo     *boltstore.Repository
	server   *http.Server
	listener net.Listener
	served   chan error

	mock       *wechattest.Server
	mockServer *http.Server
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

	m.repo, err = boltstore.Open(cfg.DataDir)
	if err != nil {
		return err
	}
	sessions := &app.SessionService{
		Store:     memstore.NewSessionStore(time.Now),
		Exchanger: exchanger,
		TTL:       cfg.SessionTTL,
		Logger:    m.logger,
	}
	drawings := &app.DrawingService{
		Repo:            m.repo,
		Now:             time.Now,
		MaxActionsBytes: cfg.MaxActionsBytes,
		ListLimit:       cfg.ListLimit,
	}
	apiCfg := httpapi.Config{
		BasePath:            cfg.BasePath,
		SkipSessionPrefixes: cfg.SessionSkip,
		MaxBodyBytes:        cfg.MaxBodyBytes,
		Sessions:            sessions,
		Drawings:            drawings,
		Logger:              m.logger,
		Checks: []httpapi.Check{
			{Name: "sessions", Ping: func(context.Context) error { return nil }}, // in memory: up while we are
			{Name: "drawings", Ping: m.repo.Ping},
		},
	}
	if m.mock != nil {
		apiCfg.DevLogin = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { wechattest.ServeMint(w, r, m.mock) })
	}
	api := httpapi.New(apiCfg)

	m.listener, err = net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	m.server = api.HTTPServer(cfg.Listen)
	m.served = make(chan error, 1)
	go func() { m.served <- m.server.Serve(m.listener) }()

	m.logger.Info("onestroke listening",
		slog.String("addr", m.listener.Addr().String()),
		slog.String("base_path", cfg.BasePath),
		slog.String("sessions", "memory"),
		slog.String("drawings", "embedded file in "+cfg.DataDir),
		slog.Bool("development_mode", cfg.DevMode()))
	return nil
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
	m.logger.Warn("DEVELOPMENT MODE: ONESTROKE_WX_APPID is not set, so logins are checked against an in-process MOCK WeChat, "+
		"and /_dev/wx-login mints test logins. Never expose this to real users; set ONESTROKE_WX_APPID and ONESTROKE_WX_SECRET in production.",
		slog.String("mock_wechat", apiURL))
	return wechat.NewClient(appID, appSecret, apiURL, cfg.WxTimeout), nil
}

// Addr returns the address the service listens on (useful with port 0).
func (m *Main) Addr() string { return m.listener.Addr().String() }

// Mock returns the development mode's mock WeChat, nil in production mode.
func (m *Main) Mock() *wechattest.Server { return m.mock }

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
	if m.mockServer != nil {
		m.mockServer.Close()
		m.mockServer = nil
	}
	if m.repo != nil {
		err = m.repo.Close()
		m.repo = nil
	}
	if m.listener != nil && m.server == nil {
		m.listener.Close()
	}
	return err
}
