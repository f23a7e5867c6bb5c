// Command ferretdb-local is the MongoDB wire-protocol stand-in used by the
// onestroke test world on machines that cannot pull the real `mongo:7` image.
//
// It wraps FerretDB v1.24.2's embeddable package (github.com/FerretDB/FerretDB/ferretdb).
// (`go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2` builds a binary
// that panics on its missing version file; the embeddable package does not.)
//
// Its default backend is PostgreSQL (FERRETDB_HANDLER=postgresql): at start it
// makes a throwaway cluster with Debian's PostgreSQL 15 (`initdb`, run as the
// `postgres` user, which refuses root), starts `postgres` on loopback inside
// the container and points FerretDB's `postgresql` handler at it. That backend
// serves several clients at once and keeps real secondary indexes, which the
// SQLite one does not (only `_id` lookups use an index there, and it is slow
// beyond a few thousand documents). FERRETDB_HANDLER=sqlite keeps the
// in-process SQLite backend, enough for one client and small data.
//
// It is NOT MongoDB: see docker/README.md for the known gaps.
//
// Once the TCP listener is bound (and PostgreSQL answers) it prints the line
// "Waiting for connections", the phrase mongod logs and testcontainers' wait
// strategies for mongo images look for (FerretDB itself only logs
// "Listening on TCP ...").
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// pgPort is where the cluster listens, on loopback inside the container only.
const pgPort = "5432"

func main() {
	listen := flag.String("listen-addr", envOr("FERRETDB_LISTEN_ADDR", "0.0.0.0:27017"), "TCP address to listen on")
	handler := flag.String("handler", envOr("FERRETDB_HANDLER", "postgresql"), "backend: postgresql (a throwaway PostgreSQL cluster started here) or sqlite")
	dataDir := flag.String("data-dir", envOr("FERRETDB_DATA_DIR", "/data/db"), "directory for the backend's data")
	pgBin := flag.String("pg-bin", envOr("FERRETDB_PG_BIN", "/usr/lib/postgresql/15/bin"), "directory of initdb, postgres and pg_isready")
	debug := flag.Bool("debug", os.Getenv("FERRETDB_DEBUG") != "", "log at debug level")
	flag.Parse()

	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(logger)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *listen, *handler, *dataDir, *pgBin, logger); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-local: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, listen, handler, dataDir, pgBin string, logger *slog.Logger) error {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}

	cfg := &ferretdb.Config{Listener: ferretdb.ListenerConfig{TCP: listen}, Logger: logger, Handler: handler}
	var backend string
	switch handler {
	case "postgresql":
		pg, err := startPostgres(ctx, pgBin, filepath.Join(abs, "pg"))
		if err != nil {
			return err
		}
		defer pg.stop()
		cfg.PostgreSQLURL = "postgres://postgres@127.0.0.1:" + pgPort + "/postgres?pool_max_conns=50"
		backend = "PostgreSQL 15 backend, a throwaway cluster in " + pg.dir
	case "sqlite":
		// The SQLite backend takes a directory URI; it must end with a slash.
		cfg.SQLiteURL = "file:" + abs + "/"
		backend = "SQLite backend, data in " + abs
	default:
		return fmt.Errorf("unknown handler %q (postgresql or sqlite)", handler)
	}

	f, err := ferretdb.New(cfg)
	if err != nil {
		return err
	}

	// ferretdb.New has already bound the listener, so clients can connect now.
	fmt.Fprintf(os.Stdout, "ferretdb-local (FerretDB v1.24.2, %s): Waiting for connections on %s\n", backend, listen)

	return f.Run(ctx)
}

// postgres is the cluster's server process.
type postgres struct {
	dir  string
	cmd  *exec.Cmd
	done chan error
}

// startPostgres makes a cluster in dir (unless one is there already: a
// restarted container keeps its data), starts its server as the postgres
// user and waits until it accepts connections.
//
// Durability against an operating system crash is off (fsync,
// full_page_writes): the cluster is thrown away with its container, and
// tests want speed. synchronous_commit stays on: a commit is then in the
// kernel's hands before it is acknowledged, so a killed or restarted
// container (a fault test) keeps every acknowledged write.
func startPostgres(ctx context.Context, bin, dir string) (*postgres, error) {
	cred, err := postgresUser()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("postgres data dir: %w", err)
	}
	if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
		return nil, fmt.Errorf("postgres data dir: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		initdb := asUser(exec.CommandContext(ctx, filepath.Join(bin, "initdb"),
			"-D", dir, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions"), cred)
		if out, err := initdb.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("initdb: %w\n%s", err, out)
		}
	}

	cmd := asUser(exec.Command(filepath.Join(bin, "postgres"), "-D", dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "port="+pgPort, "-c", "unix_socket_directories=/tmp",
		"-c", "max_connections=200", "-c", "fsync=off", "-c", "full_page_writes=off"), cred)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	// The server must not outlive this process, whatever ends it.
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	pg := &postgres{dir: dir, cmd: cmd, done: make(chan error, 1)}
	go func() { pg.done <- cmd.Wait() }()

	deadline := time.Now().Add(60 * time.Second)
	for {
		ready := exec.CommandContext(ctx, filepath.Join(bin, "pg_isready"), "-q", "-h", "127.0.0.1", "-p", pgPort, "-U", "postgres")
		if ready.Run() == nil {
			return pg, nil
		}
		select {
		case err := <-pg.done:
			return nil, fmt.Errorf("postgres exited before it was ready: %v", err)
		case <-ctx.Done():
			pg.stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			pg.stop()
			return nil, errors.New("postgres did not accept connections within 60 s")
		}
	}
}

// stop asks the server for a fast shutdown and kills it if it takes longer
// than 10 s.
func (p *postgres) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// postgresUser returns the credentials of the postgres user, whom initdb
// and postgres need (both refuse to run as root).
func postgresUser() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("the postgresql handler needs a postgres user: %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, err
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func asUser(cmd *exec.Cmd, cred *syscall.Credential) *exec.Cmd {
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=/tmp", "LC_ALL=C", "TZ=UTC"}
	return cmd
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
