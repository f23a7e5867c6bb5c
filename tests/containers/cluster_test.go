//go:build integration

package containers

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
	for _, bin := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(bin); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("CI=true and %s is missing: `make test` installs it with scripts/testworld.sh", bin)
			}
			t.Skipf("SKIPPING the Redis Cluster suite: %s is not installed (apt-get install redis-server)", bin)
		}
	}
	dir := t.TempDir()
	var addrs []string
	for i := 0; i < 3; i++ {
		port := testenv.FreePort(t)
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		cmd := exec.Command("redis-server",
			"--bind", "127.0.0.1", "--port", fmt.Sprint(port), "--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(dir, fmt.Sprintf("nodes-%d.conf", port)),
			"--dir", dir, "--save", "", "--appendonly", "no", "--protected-mode", "no")
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		addrs = append(addrs, addr)
	}
	for _, a := range addrs {
		require.Eventually(t, func() bool {
			return exec.Command("redis-cli", "-h", "127.0.0.1", "-p", strings.Split(a, ":")[1], "ping").Run() == nil
		}, 10*time.Second, 50*time.Millisecond)
	}
	out, err := exec.Command("redis-cli", append(append([]string{"--cluster", "create"}, addrs...), "--cluster-replicas", "0", "--cluster-yes")...).CombinedOutput()
	require.NoError(t, err, "%s", out)
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	defer c.Close()
	require.Eventually(t, func() bool {
		info, err := c.ClusterInfo(context.Background()).Result()
		return err == nil && strings.Contains(info, "cluster_state:ok")
	}, 20*time.Second, 100*time.Millisecond, "cluster_state:ok")
	return "redis+cluster://" + addrs[0] + "?addr=" + addrs[1] + "&addr=" + addrs[2]
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
