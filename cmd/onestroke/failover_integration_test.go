//go:build integration

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/adapters/redisstore"
	"github.com/onestroke/onestroke/tests/testenv"
)

// failoverUser is one signed-in user of the failover test, with a session
// of each protocol: a legacy code and a v2 token.
type failoverUser struct {
	legacy   device
	token    string
	v2OpenID string
}

// read is the cached read of one protocol for a user.
func (u failoverUser) read(v2 bool) (path string, headers map[string]string) {
	if v2 {
		return "/applet/v2/me", map[string]string{"Authorization": "Bearer " + u.token}
	}
	return "/applet/session", u.legacy.cached()
}

// failoverOutcome is what one request of the load saw.
type failoverOutcome struct {
	at      time.Time
	status  int    // 0: no answer (transport error or the client's timeout)
	problem string // why the answer is not a success; "" for a success
	took    time.Duration
}

// TestE2E_RedisClusterMasterFailedOverUnderLoad signs users of both
// protocols in on a Redis Cluster with a replica per master, reads their
// sessions steadily from several keep-alive clients, and fails over the
// master holding some of their keys (CLUSTER FAILOVER on its replica):
// requests may fail for at most 2 s in all, each failure a 503 in its
// protocol's envelope within the Redis timeout, then every request
// succeeds, /readyz is 200 again and no session is lost.
func TestE2E_RedisClusterMasterFailedOverUnderLoad(t *testing.T) {
	cluster := testenv.StartRedisCluster(t, 3, 1)
	s := start(t, testConfig(t, map[string]string{"ONESTROKE_REDIS_URL": cluster.URL(), "ONESTROKE_LOGIN_RATE": "off"}))
	ctx := context.Background()

	users := make([]failoverUser, 36)
	for i := range users {
		d := s.mint(fmt.Sprintf("user%02d", i))
		status, _, raw := s.call("GET", "/applet/session", d.first(), "")
		require.Equal(t, http.StatusOK, status, raw)
		login := s.v2Login(s.mint(fmt.Sprintf("v2user%02d", i)).Code, "phone")
		users[i] = failoverUser{legacy: d, token: login["token"].(string), v2OpenID: login["openId"].(string)}
	}

	// The master to fail over holds the first user's legacy code key; the
	// users spread over the three masters, so it holds some of the others'.
	codeKeys := make([]string, len(users))
	for i, u := range users {
		codeKeys[i] = redisstore.DefaultPrefix + u.legacy.Code
	}
	master, onIt := cluster.MasterFor(t, codeKeys...)
	replica := testenv.ReplicaOf(t, master)

	// The load: keep-alive clients reading sessions of both protocols, with
	// a client timeout well past the Redis one so that a hang shows as such.
	const clientTimeout = 3 * time.Second
	var (
		mu       sync.Mutex
		outcomes []failoverOutcome
		stop     atomic.Bool
		wg       sync.WaitGroup
	)
	for g := 0; g < 6; g++ {
		wg.Go(func() {
			hc := &http.Client{Timeout: clientTimeout, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			defer hc.CloseIdleConnections()
			for i := g; !stop.Load(); i++ {
				u := users[i%len(users)]
				o := failoverRead(hc, s.url, u, i%2 == 1)
				mu.Lock()
				outcomes = append(outcomes, o)
				mu.Unlock()
			}
		})
	}

	time.Sleep(time.Second) // a steady load before the fault
	failedOverAt := time.Now()
	require.NoError(t, replica.Do(ctx, "CLUSTER", "FAILOVER").Err())
	require.Eventually(t, func() bool {
		return testenv.Role(ctx, replica) == "master"
	}, 10*time.Second, 20*time.Millisecond, "the replica reports itself master")
	promoted := time.Since(failedOverAt)
	time.Sleep(4 * time.Second) // past the session cache's TTL: every session is read from Redis again
	stop.Store(true)
	wg.Wait()

	var first, last time.Time
	failures, byStatus := 0, map[int]int{}
	var slowest time.Duration
	for _, o := range outcomes {
		slowest = max(slowest, o.took)
		if o.problem == "" {
			continue
		}
		failures++
		byStatus[o.status]++
		if first.IsZero() || o.at.Before(first) {
			first = o.at
		}
		if o.at.After(last) {
			last = o.at
		}
		assert.Equal(t, http.StatusServiceUnavailable, o.status, "a failure is a 503 in its envelope: %s", o.problem)
		assert.Less(t, o.took, 2*redisstore.DefaultOpTimeout+time.Second, "no hang beyond the Redis timeout")
	}
	window := time.Duration(0)
	if failures > 0 {
		window = last.Sub(first)
	}
	t.Logf("failover of %s (holding %d of %d users' legacy codes): replica master after %v; %d requests, %d failed %v, failure window %v, slowest request %v",
		master.Options().Addr, onIt, len(users), promoted.Round(time.Millisecond), len(outcomes), failures, byStatus,
		window.Round(time.Millisecond), slowest.Round(time.Millisecond))
	require.Positive(t, onIt, "the failed-over master holds some of the users' keys")
	assert.LessOrEqual(t, window, 2*time.Second, "requests fail for at most 2 s in all")
	if failures > 0 {
		assert.Less(t, last.Sub(failedOverAt), promoted+2*time.Second, "then every request succeeds")
	}

	// No session lost: every user's sessions answer, on both protocols,
	// from this instance and from a fresh one without a cache, which can
	// only have them from Redis.
	fresh := start(t, testConfig(t, map[string]string{"ONESTROKE_REDIS_URL": cluster.URL(), "ONESTROKE_SESSION_CACHE_SIZE": "0"}))
	for _, svc := range []*service{s, fresh} {
		hc := &http.Client{Timeout: clientTimeout}
		for i, u := range users {
			for _, v2 := range []bool{false, true} {
				o := failoverRead(hc, svc.url, u, v2)
				assert.Empty(t, o.problem, "user %d, v2 %v: the session survived the failover", i, v2)
			}
		}
		status, _, raw := svc.call("GET", "/readyz", nil, "")
		assert.Equal(t, http.StatusOK, status, "/readyz: %s", raw)
	}
}

// failoverRead sends one cached read and says what was wrong with the
// answer, if anything: a success carries the user, a failure must be a
// 503 in the protocol's envelope.
func failoverRead(hc *http.Client, base string, u failoverUser, v2 bool) failoverOutcome {
	path, headers := u.read(v2)
	o := failoverOutcome{at: time.Now()}
	defer func() { o.took = time.Since(o.at) }()
	req, err := http.NewRequest("GET", base+path, nil)
	if err != nil {
		o.problem = err.Error()
		return o
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := hc.Do(req)
	if err != nil {
		o.problem, o.took = "no answer: "+err.Error(), time.Since(o.at)
		return o
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	o.status, o.took = resp.StatusCode, time.Since(o.at)
	if err != nil {
		o.problem = "body: " + err.Error()
		return o
	}
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		o.problem = fmt.Sprintf("%d, not JSON: %q", resp.StatusCode, raw)
		return o
	}
	ok := resp.StatusCode == http.StatusOK
	switch {
	case ok && v2:
		data, _ := body["data"].(map[string]any)
		ok = body["code"] == float64(0) && data["openId"] == u.v2OpenID
	case ok:
		info, _ := body["wxUserInfo"].(map[string]any)
		ok = info["openId"] == u.legacy.OpenID
	}
	if ok {
		return o
	}
	o.problem = fmt.Sprintf("%d %s", resp.StatusCode, raw)
	if resp.StatusCode == http.StatusServiceUnavailable {
		// The envelope of the protocol (PROTOCOL §2 for the legacy route,
		// §6 for v2), or the failure is still a problem.
		if v2 && body["code"] == float64(-1) && body["msg"] == "fail" {
			return o
		}
		if !v2 && body["F2C224D4-2BCE-4C64-AF9F-A6D872000D1A"] == float64(1) {
			return o
		}
		o.status = -resp.StatusCode // a 503 outside its envelope fails the status check
	}
	return o
}
