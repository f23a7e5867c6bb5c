// Command wechat-mock serves the mock WeChat API (adapters/wechat/wechattest)
// as a standalone process: for compose files, container tests and client
// development without a WeChat account. Point the service's
// ONESTROKE_WX_API_URL at it and use the same appid and secret.
//
// Besides /sns/jscode2session, /cgi-bin/stable_token,
// /wxa/business/getuserphonenumber and /wxa/msg_sec_check it serves the
// mock's control routes: POST /mock/login?user=NAME mints a device login
// (code, rawData, signature, a phone code, encryptedData and its iv),
// POST /mock/fail?errcode=N, POST /mock/delay?ms=N, POST /mock/fault,
// POST /mock/invalidate and GET /mock/stats.
//
// With ONESTROKE_MOCK_TLS_CERT and ONESTROKE_MOCK_TLS_KEY (-tls-cert, -tls-key:
// PEM files of a certificate, its chain, and its key) it serves HTTPS instead
// of HTTP, for a service that accepts only an https:// WeChat API URL. Give
// the service the CA that signed the certificate (SSL_CERT_FILE on Linux).
package main

import (
	"context"
	"crypto/tls"
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

	"github.com/onestroke/onestroke/adapters/wechat/wechattest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stderr, nil); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "wechat-mock:", err)
		}
		os.Exit(1)
	}
}

// shutdownTimeout bounds how long a stop waits for requests in flight (an
// exchange may be held by /mock/delay).
const shutdownTimeout = 5 * time.Second

// run serves the mock until ctx ends, then shuts down gracefully. ready, when
// not nil, is called with the listening address once connections are
// accepted (tests listen on port 0).
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer, ready func(addr string)) error {
	envOr := func(key, def string) string {
		if v := getenv(key); v != "" {
			return v
		}
		return def
	}
	fs := flag.NewFlagSet("wechat-mock", flag.ContinueOnError)
	fs.SetOutput(stderr)
	// Flags show built-in defaults in -help, never the environment's values.
	listen := fs.String("listen", ":8080", "address to listen on ($ONESTROKE_MOCK_LISTEN)")
	appID := fs.String("appid", "wxmockappid0000000", "appid the mock accepts ($ONESTROKE_MOCK_APPID)")
	secret := fs.String("secret", "mock-secret", "app secret the mock accepts ($ONESTROKE_MOCK_SECRET; flags show in ps)")
	tlsCert := fs.String("tls-cert", "", "PEM certificate (chain) file: serve HTTPS; needs -tls-key ($ONESTROKE_MOCK_TLS_CERT)")
	tlsKey := fs.String("tls-key", "", "PEM private key file of -tls-cert ($ONESTROKE_MOCK_TLS_KEY)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if !given["listen"] {
		*listen = envOr("ONESTROKE_MOCK_LISTEN", *listen)
	}
	if !given["appid"] {
		*appID = envOr("ONESTROKE_MOCK_APPID", *appID)
	}
	if !given["secret"] {
		*secret = envOr("ONESTROKE_MOCK_SECRET", *secret)
	}
	if !given["tls-cert"] {
		*tlsCert = envOr("ONESTROKE_MOCK_TLS_CERT", *tlsCert)
	}
	if !given["tls-key"] {
		*tlsKey = envOr("ONESTROKE_MOCK_TLS_KEY", *tlsKey)
	}
	var tlsConfig *tls.Config
	switch {
	case *tlsCert == "" && *tlsKey == "":
	case *tlsCert == "" || *tlsKey == "":
		return errors.New("TLS needs both a certificate and a key: set ONESTROKE_MOCK_TLS_CERT and ONESTROKE_MOCK_TLS_KEY (-tls-cert, -tls-key), or neither for plain HTTP")
	default:
		// Loaded before listening, so a bad file stops the start with its name.
		pair, err := tls.LoadX509KeyPair(*tlsCert, *tlsKey)
		if err != nil {
			return fmt.Errorf("TLS certificate %s and key %s: %w", *tlsCert, *tlsKey, err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	}
	scheme := "http"
	if tlsConfig != nil {
		scheme = "https"
	}

	logger := slog.New(slog.NewJSONHandler(stderr, nil))
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *listen, err)
	}
	srv := &http.Server{
		Handler:           wechattest.New(*appID, *secret, nil),
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		TLSConfig:         tlsConfig,
	}
	served := make(chan error, 1)
	go func() {
		if tlsConfig != nil {
			served <- srv.ServeTLS(ln, "", "") // the pair is in TLSConfig
			return
		}
		served <- srv.Serve(ln)
	}()
	// The secret is not logged: it may be a real one pasted by mistake.
	logger.Warn("MOCK WeChat listening: it accepts logins minted at /mock/login, never real users",
		slog.String("addr", ln.Addr().String()), slog.String("scheme", scheme), slog.String("appid", *appID))
	if ready != nil {
		ready(ln.Addr().String())
	}

	select {
	case err := <-served: // the listener failed
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		srv.Close()
		return fmt.Errorf("shutdown: %w", err)
	}
	<-served
	logger.Info("wechat-mock stopped")
	return nil
}
