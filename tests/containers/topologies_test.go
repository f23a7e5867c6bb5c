//go:build integration

package containers

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

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

func TestRedisWithPassword_SessionStoreContract(t *testing.T) {
	const password = "s3cret-Redis-pw"
	srv := testenv.StartRedis(t, testenv.Options{Args: []string{"--requirepass", password}})
	url := "redis://:" + password + "@" + srv.HostPort + "/0"
	porttest.TestSessionStore(t, func(t *testing.T) porttest.SessionHarness {
		s := redisStore(t, url, redisstore.Options{Prefix: unique("pw:") + ":"})
		return porttest.SessionHarness{Store: s, Advance: time.Sleep}
	})
}

func TestRedisWithPassword_WrongPasswordFailsCleanlyWithoutLeakingIt(t *testing.T) {
	srv := testenv.StartRedis(t, testenv.Options{Args: []string{"--requirepass", "the-right-one"}})
	for name, url := range map[string]string{
		"wrong password": "redis://:the-WRONG-one@" + srv.HostPort + "/0",
		"no password":    "redis://" + srv.HostPort + "/0",
	} {
		s := redisStore(t, url, redisstore.Options{})
		err := s.Ping(context.Background())
		require.Error(t, err, name)
		assert.Equal(t, domain.EUNAVAILABLE, domain.ErrorCode(err), name)
		assert.NotContains(t, err.Error(), "the-WRONG-one", name)
		_, err = s.Get(context.Background(), "any")
		assert.Equal(t, domain.EUNAVAILABLE, domain.ErrorCode(err), "%s: a clean error, not 'session expired'", name)
	}
}

// startSentinel runs a Redis master and one Sentinel watching it, as local
// processes on loopback ports, and returns the redis+sentinel URL.
func startSentinel(t *testing.T, password string) string {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and redis-server is missing: `make test` installs it with scripts/testworld.sh")
		}
		t.Skip("SKIPPING the Redis Sentinel suite: redis-server is not installed (apt-get install redis-server)")
	}
	dir := t.TempDir()
	masterPort, sentinelPort := testenv.FreePort(t), testenv.FreePort(t)
	run := func(args ...string) {
		cmd := exec.Command("redis-server", args...)
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	}
	run("--bind", "127.0.0.1", "--port", fmt.Sprint(masterPort), "--dir", dir, "--save", "", "--appendonly", "no",
		"--requirepass", password, "--masterauth", password)
	conf := filepath.Join(dir, "sentinel.conf")
	require.NoError(t, os.WriteFile(conf, []byte(fmt.Sprintf(
		"bind 127.0.0.1\nport %d\ndir %s\nsentinel monitor mymaster 127.0.0.1 %d 1\nsentinel auth-pass mymaster %s\n",
		sentinelPort, dir, masterPort, password)), 0o600))
	run(conf, "--sentinel")
	sc := redis.NewSentinelClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", sentinelPort)})
	defer sc.Close()
	require.Eventually(t, func() bool {
		addr, err := sc.GetMasterAddrByName(context.Background(), "mymaster").Result()
		return err == nil && len(addr) == 2 && addr[1] == fmt.Sprint(masterPort)
	}, 20*time.Second, 100*time.Millisecond, "the sentinel knows the master")
	// The URL's password is the sentinel's and, unless set apart, the master's.
	return fmt.Sprintf("redis+sentinel://:%s@127.0.0.1:%d?master_name=mymaster", password, sentinelPort)
}

func TestRedisSentinel_SessionStoreContract(t *testing.T) {
	const password = "sentinel-pw"
	url := startSentinel(t, password)
	_, mode, err := redisstore.ParseURL(url, 0)
	require.NoError(t, err)
	require.Equal(t, redisstore.ModeSentinel, mode)
	porttest.TestSessionStore(t, func(t *testing.T) porttest.SessionHarness {
		s := redisStore(t, url, redisstore.Options{Prefix: unique("sentinel:") + ":"})
		return porttest.SessionHarness{Store: s, Advance: time.Sleep}
	})
}
