//go:build integration

// Package testenv starts the real servers the integration suites run
// against, with testcontainers-go. Images come from ONESTROKE_TEST_REDIS_IMAGE
// and ONESTROKE_TEST_MONGO_IMAGE (defaults: the public redis:7 and mongo:7);
// scripts/testworld.sh points them at local stand-ins where no registry can
// be reached, and every run prints which image it used.
//
// Without a Docker engine the suites skip with a loud reason on a laptop and
// fail under CI=true: CI never skips silently.
//
// NewTLS (tls.go, no build tag: unit tests use it too) makes a throwaway CA
// and server certificate for a test server that speaks HTTPS.
package testenv

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/stretchr/testify/require"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
)

// RedisImage and MongoImage are the images the suites use.
func RedisImage() string { return envOr("ONESTROKE_TEST_REDIS_IMAGE", "redis:7") }
func MongoImage() string { return envOr("ONESTROKE_TEST_MONGO_IMAGE", "mongo:7") }

// MongoIsStandIn reports whether the MongoDB image is the FerretDB stand-in:
// tests of behaviour only real MongoDB has must say so and skip.
func MongoIsStandIn() bool { return os.Getenv("ONESTROKE_TEST_MONGO_IS_FERRETDB") == "true" }

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

var (
	dockerOnce sync.Once
	dockerErr  error
	printOnce  sync.Once
)

// RequireDocker fails the test under CI=true and skips it elsewhere when no
// Docker engine answers.
func RequireDocker(t testing.TB) {
	t.Helper()
	dockerOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		p, err := testcontainers.NewDockerProvider()
		if err != nil {
			dockerErr = err
			return
		}
		defer p.Close()
		dockerErr = p.Health(ctx)
	})
	if dockerErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and no Docker engine answers (%v): run `make test`, which starts one with scripts/testworld.sh", dockerErr)
		}
		t.Skipf("SKIPPING: no Docker engine answers (%v). `make test` starts one on Debian as root; elsewhere start Docker.", dockerErr)
	}
	printOnce.Do(func() {
		fmt.Fprintf(os.Stderr, "testenv: redis image = %s (stand-in: %s), mongodb image = %s (FerretDB stand-in: %v)\n",
			RedisImage(), envOr("ONESTROKE_TEST_REDIS_IS_STANDIN", "false"), MongoImage(), MongoIsStandIn())
	})
}

// FreePort returns a loopback TCP port that is free now. Tests that restart
// a container bind it explicitly, so the address survives the restart.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Options of a started container.
type Options struct {
	// HostPort, when non-zero, binds the service port to this host port
	// (see FreePort); zero lets Docker choose.
	HostPort int
	// Network and Aliases attach the container to a Docker network.
	Network string
	Aliases []string
	// Args are extra arguments of the server (e.g. "--requirepass", "x").
	Args []string
}

// Server is a started container and the address to reach it from the host.
type Server struct {
	Container testcontainers.Container
	HostPort  string // host:port
}

func start(t testing.TB, image, port string, waitFor wait.Strategy, cmd []string, o Options) *Server {
	t.Helper()
	RequireDocker(t)
	ctx := context.Background()
	req := testcontainers.ContainerRequest{
		Image:        image,
		ExposedPorts: []string{port + "/tcp"},
		Cmd:          cmd,
		WaitingFor:   waitFor,
	}
	if o.HostPort != 0 {
		req.HostConfigModifier = func(hc *container.HostConfig) {
			hc.PortBindings = network.PortMap{network.MustParsePort(port + "/tcp"): {{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: strconv.Itoa(o.HostPort)}}}
		}
	}
	if o.Network != "" {
		req.Networks = []string{o.Network}
		req.NetworkAliases = map[string][]string{o.Network: o.Aliases}
	}
	c, err := testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{ContainerRequest: req, Started: true})
	testcontainers.CleanupContainer(t, c)
	require.NoError(t, err, "start %s", image)
	hp, err := c.PortEndpoint(ctx, port+"/tcp", "")
	require.NoError(t, err)
	return &Server{Container: c, HostPort: hp}
}

// StartRedis starts a Redis server.
func StartRedis(t testing.TB, o Options) *Server {
	t.Helper()
	return start(t, RedisImage(), "6379",
		wait.ForAll(wait.ForLog("Ready to accept connections"), wait.ForListeningPort("6379/tcp")).WithDeadline(60*time.Second),
		o.Args, o)
}

// StartMongo starts a MongoDB-protocol server.
func StartMongo(t testing.TB, o Options) *Server {
	t.Helper()
	return start(t, MongoImage(), "27017",
		wait.ForAll(wait.ForLog("Waiting for connections"), wait.ForListeningPort("27017/tcp")).WithDeadline(60*time.Second),
		nil, o)
}

// RedisURL returns the redis:// URL of s.
func (s *Server) RedisURL() string { return "redis://" + s.HostPort + "/0" }

// MongoURI returns the mongodb:// URI of s.
func (s *Server) MongoURI() string { return "mongodb://" + s.HostPort + "/" }
