// Command ferretdb-local is the MongoDB wire-protocol stand-in used by the
// onestroke test world on machines that cannot pull the real `mongo:7` image.
//
// It wraps FerretDB v1.24.2's embeddable package (github.com/FerretDB/FerretDB/ferretdb)
// with the in-process SQLite backend, so the container needs no PostgreSQL.
// (`go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2` builds a binary
// that panics on its missing version file; the embeddable package does not.)
//
// It is NOT MongoDB: see docker/README.md for the known gaps.
//
// Once the TCP listener is bound it prints the line "Waiting for connections",
// the phrase mongod logs and testcontainers' wait strategies for mongo images
// look for (FerretDB itself only logs "Listening on TCP ...").
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen-addr", envOr("FERRETDB_LISTEN_ADDR", "0.0.0.0:27017"), "TCP address to listen on")
	dataDir := flag.String("data-dir", envOr("FERRETDB_DATA_DIR", "/data/db"), "directory for the SQLite databases")
	debug := flag.Bool("debug", os.Getenv("FERRETDB_DEBUG") != "", "log at debug level")
	flag.Parse()

	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(logger)

	if err := run(*listen, *dataDir, logger); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-local: %v\n", err)
		os.Exit(1)
	}
}

func run(listen, dataDir string, logger *slog.Logger) error {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}

	f, err := ferretdb.New(&ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: listen},
		Logger:   logger,
		Handler:  "sqlite",
		// The SQLite backend takes a directory URI; it must end with a slash.
		SQLiteURL: "file:" + abs + "/",
	})
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// ferretdb.New has already bound the listener, so clients can connect now.
	fmt.Fprintf(os.Stdout, "ferretdb-local (FerretDB v1.24.2, SQLite backend, data in %s): Waiting for connections on %s\n", abs, listen)

	return f.Run(ctx)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
