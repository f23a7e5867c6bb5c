//go:build integration

package containers

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/adapters/redisstore"
	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports/porttest"
	"github.com/onestroke/onestroke/tests/testenv"
)

// startCluster runs a three-master Redis Cluster from local redis-server
// processes on loopback ports and returns its redis+cluster URL.
func startCluster(t *testing.T) string {
	t.Helper()
	return testenv.StartRedisCluster(t, 3, 0).URL()
}

func TestRedisCluster_SessionStoreContract(t *testing.T) {
	url := startCluster(t)
	client, mode, err := redisstore.ParseURL(url, 0)
	require.NoError(t, err)
	defer client.Close()
	require.Equal(t, redisstore.ModeCluster, mode)

	// The code and openId keys of one login live in different slots, so the
	// suite exercises the Cluster path of Login, not the one-node script.
	cc := client.(*redis.ClusterClient)
	s1, err := cc.ClusterKeySlot(context.Background(), "weapp-session:code-1").Result()
	require.NoError(t, err)
	s2, err := cc.ClusterKeySlot(context.Background(), "weapp-session:oALICE").Result()
	require.NoError(t, err)
	assert.NotEqual(t, s1, s2)

	porttest.TestSessionStore(t, func(t *testing.T) porttest.SessionHarness {
		s := redisStore(t, url, redisstore.Options{Prefix: unique("cluster:") + ":"})
		return porttest.SessionHarness{Store: s, Advance: time.Sleep}
	})
}

func TestRedisCluster_ReloginRevokesAcrossSlots(t *testing.T) {
	url := startCluster(t)
	s := redisStore(t, url, redisstore.Options{})
	ctx := context.Background()
	alice := porttest.User(t, "oALICE", `{"nickName":"alice"}`)
	require.NoError(t, s.Login(ctx, domain.Session{Code: "code-a", User: alice}, time.Hour))
	require.NoError(t, s.Login(ctx, domain.Session{Code: "code-b", User: alice}, time.Hour))
	_, err := s.Get(ctx, "code-a")
	assert.Equal(t, domain.ESESSIONEXPIRED, domain.ErrorCode(err))
	_, err = s.Get(ctx, "code-b")
	assert.NoError(t, err)
}
