//go:build integration

// Package containers runs the port contract suites and the fault tests
// against real Redis and MongoDB-protocol servers in containers.
package containers

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/adapters/mongostore"
	"github.com/onestroke/onestroke/adapters/redisstore"
	"github.com/onestroke/onestroke/ports"
	"github.com/onestroke/onestroke/ports/porttest"
	"github.com/onestroke/onestroke/tests/testenv"
)

var isolation atomic.Int64

// unique returns a name no other test in this run uses.
func unique(prefix string) string {
	return fmt.Sprintf("%s%d-%d", prefix, time.Now().UnixNano()%1e6, isolation.Add(1))
}

func redisStore(t *testing.T, url string, opts redisstore.Options) *redisstore.Store {
	t.Helper()
	client, mode, err := redisstore.ParseURL(url, opts.OpTimeout)
	require.NoError(t, err)
	s := redisstore.New(client, mode, opts)
	t.Cleanup(func() { s.Close() })
	return s
}

// mongoRepo opens a repository for the correctness suites. Their bound on
// a call is generous: on a loaded machine the stand-in (FerretDB on SQLite)
// can take over the default 5 s to write a 1 MiB drawing, and after a
// driver timeout FerretDB 1.24.2 stops answering new connections, failing
// every test after it. The fault suites keep the default.
func mongoRepo(t *testing.T, uri, db string) *mongostore.Repository {
	t.Helper()
	repo, err := mongostore.Open(uri, mongostore.Options{Database: db, OpTimeout: 30 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { repo.Close(context.Background()) })
	return repo
}

func TestRedisSessionStoreContract(t *testing.T) {
	srv := testenv.StartRedis(t, testenv.Options{})
	porttest.TestSessionStore(t, func(t *testing.T) porttest.SessionHarness {
		// Each test gets its own key prefix: isolation without a flush.
		s := redisStore(t, srv.RedisURL(), redisstore.Options{Prefix: unique("test:") + ":"})
		return porttest.SessionHarness{Store: s, Advance: time.Sleep} // Redis keeps its own time
	})
}

func TestMongoDrawingRepositoryContract(t *testing.T) {
	srv := testenv.StartMongo(t, testenv.Options{})
	porttest.TestDrawingRepository(t, func(t *testing.T) ports.DrawingRepository {
		return mongoRepo(t, srv.MongoURI(), unique("db")) // a database per test
	})
}
