package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"time"

	"github.com/redis/go-redis/v9"
)

// cmdCeiling is the ceiling the service is held against: the least an HTTP
// service backed by Redis can do per request — net/http, one go-redis GET of
// one key, the value written back. It prints one JSON line with its address
// on stdout, like the service's "onestroke listening" line, and serves until
// ctx ends.
func cmdCeiling(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ceiling", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:0", "address to listen on")
	redisAddr := fs.String("redis", "127.0.0.1:6379", "Redis host:port")
	key := fs.String("key", "onestroke-bench:ceiling", "the key every request GETs")
	// 0 keeps go-redis's default (10 × GOMAXPROCS), which is what the
	// service's Redis client uses too unless its URL sets pool_size: the
	// fair comparison.
	pool := fs.Int("pool", 0, "go-redis pool size (0: go-redis's default, as the service uses)")
	// RESP2, as the service speaks unless its URL asks for RESP3: go-redis
	// checks for push notifications around every RESP3 command, and a
	// ceiling that pays for that would be a lower bar than the service's.
	resp := fs.Int("resp", 2, "Redis protocol version, 2 or 3 (the service speaks 2 by default)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file, to hold against the service's")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}

	if *resp != 2 && *resp != 3 {
		return fmt.Errorf("-resp %d: want 2 or 3", *resp)
	}
	rdb := redis.NewClient(&redis.Options{Addr: *redisAddr, PoolSize: *pool, Protocol: *resp})
	defer rdb.Close()
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := rdb.Ping(pingCtx).Err(); err != nil {
		return fmt.Errorf("redis at %s: %w", *redisAddr, err)
	}

	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := rdb.Get(r.Context(), *key).Bytes()
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write(v)
	})
	return serveBare(ctx, *listen, handler, stdout, map[string]any{
		"msg": "ceiling listening", "redis": *redisAddr,
		"key": *key, "pool_size": rdb.Options().PoolSize, "resp": *resp,
	})
}

// serveBare serves h on listen the way a bare server does (net/http's
// defaults but a header timeout), prints line with the address added as
// one JSON line on stdout, and serves until ctx ends.
func serveBare(ctx context.Context, listen string, h http.Handler, stdout io.Writer, line map[string]any) error {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	line["addr"] = ln.Addr().String()
	b, _ := json.Marshal(line)
	fmt.Fprintf(stdout, "%s\n", b)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}
