//go:build integration

package testenv

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
	"github.com/stretchr/testify/require"
)

// Cluster is a Redis Cluster of local redis-server processes on loopback
// ports, stopped when the test ends.
type Cluster struct {
	Addrs []string // host:port of every node, masters first as created
}

// URL is the cluster's redis+cluster URL (redisstore.ParseURL), naming
// every node as a seed.
func (c *Cluster) URL() string {
	u := "redis+cluster://" + c.Addrs[0]
	for i, a := range c.Addrs[1:] {
		sep := "&"
		if i == 0 {
			sep = "?"
		}
		u += sep + "addr=" + a
	}
	return u
}

// StartRedisCluster runs masters Redis Cluster masters, each with replicas
// replicas, from the redis-server and redis-cli of the machine (Debian's
// redis-server package): no Docker image speaks the Cluster bus back to the
// host's loopback. It returns once the cluster state is ok and every
// replica's link to its master is up, so a failover can be asked for at
// once. Without the binaries it skips loudly, and fails under CI=true.
func StartRedisCluster(t testing.TB, masters, replicas int) *Cluster {
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
	c := &Cluster{}
	for i := 0; i < masters*(1+replicas); i++ {
		port := FreePort(t)
		cmd := exec.Command("redis-server",
			"--bind", "127.0.0.1", "--port", fmt.Sprint(port), "--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(dir, fmt.Sprintf("nodes-%d.conf", port)),
			"--dir", dir, "--save", "", "--appendonly", "no", "--protected-mode", "no")
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		c.Addrs = append(c.Addrs, fmt.Sprintf("127.0.0.1:%d", port))
	}
	for _, a := range c.Addrs {
		require.Eventually(t, func() bool {
			return exec.Command("redis-cli", "-h", "127.0.0.1", "-p", strings.Split(a, ":")[1], "ping").Run() == nil
		}, 10*time.Second, 50*time.Millisecond)
	}
	args := append(append([]string{"--cluster", "create"}, c.Addrs...), "--cluster-replicas", fmt.Sprint(replicas), "--cluster-yes")
	out, err := exec.Command("redis-cli", args...).CombinedOutput()
	require.NoError(t, err, "%s", out)
	ctx := context.Background()
	nodes := make([]*redis.Client, len(c.Addrs))
	for i, a := range c.Addrs {
		nodes[i] = redis.NewClient(&redis.Options{Addr: a})
		defer nodes[i].Close()
	}
	require.Eventually(t, func() bool {
		linked := 0
		for _, node := range nodes {
			info, err := node.ClusterInfo(ctx).Result()
			if err != nil || !strings.Contains(info, "cluster_state:ok") {
				return false
			}
			if repl, err := node.Info(ctx, "replication").Result(); err == nil && strings.Contains(repl, "master_link_status:up") {
				linked++
			}
		}
		return linked == masters*replicas
	}, 30*time.Second, 100*time.Millisecond, "every node: cluster_state:ok; every replica: its link up")
	return c
}

// ReplicaOf connects to the replica of a Cluster master (the first one
// CLUSTER REPLICAS names), for a test that fails the master over with
// CLUSTER FAILOVER on it. The client is closed when the test ends.
func ReplicaOf(t testing.TB, master *redis.Client) *redis.Client {
	t.Helper()
	ctx := context.Background()
	id, err := master.Do(ctx, "CLUSTER", "MYID").Text()
	require.NoError(t, err)
	lines, err := master.Do(ctx, "CLUSTER", "REPLICAS", id).StringSlice()
	require.NoError(t, err)
	require.NotEmpty(t, lines, "master %s has a replica", master.Options().Addr)
	// "<id> <ip:port@cport> slave <master id> …"
	addr, _, _ := strings.Cut(strings.Fields(lines[0])[1], "@")
	replica := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { replica.Close() })
	return replica
}

// Role is the first field of a node's ROLE answer: "master" or "slave"
// ("" while the node does not answer).
func Role(ctx context.Context, node *redis.Client) string {
	role, err := node.Do(ctx, "ROLE").Slice()
	if err != nil || len(role) == 0 {
		return ""
	}
	s, _ := role[0].(string)
	return s
}

// MasterFor returns the master that holds keys[0], and how many of keys
// it holds: the node a failover test fails over, and how many of its users
// that touches. Its client lives until the test ends.
func (c *Cluster) MasterFor(t testing.TB, keys ...string) (master *redis.Client, holding int) {
	t.Helper()
	require.NotEmpty(t, keys)
	ctx := context.Background()
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs})
	t.Cleanup(func() { cc.Close() })
	master, err := cc.MasterForKey(ctx, keys[0])
	require.NoError(t, err)
	for _, k := range keys {
		m, err := cc.MasterForKey(ctx, k)
		require.NoError(t, err)
		if m.Options().Addr == master.Options().Addr {
			holding++
		}
	}
	return master, holding
}
