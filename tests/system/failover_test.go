//go:build integration

package system

// The scale-out deployment of scaleout_test.go (nginx with TLS, two
// onestroke processes, the MongoDB stand-in, the mock WeChat) on a Redis
// Cluster with a replica per master, one of whose masters is failed over
// under load (issue 12).

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/adapters/redisstore"
	"github.com/onestroke/onestroke/adapters/wechat/wechattest"
	"github.com/onestroke/onestroke/tests/testenv"
)

const (
	foUsers   = 24 // each with a phone of its own, a legacy session and a v2 session
	foLoaders = 6  // the load's goroutines; each owns foUsers/foLoaders users
	// foAfter is how long the load stays on once the replica is master:
	// past the session cache's TTL, so every session is read from Redis
	// again after the failover.
	foAfter = 6 * time.Second
	// foTail is how long every request must succeed after the last failure.
	foTail = 3 * time.Second
	// foMaxSaves bounds the save attempts per user, so that one list answer
	// (100 drawings) shows every drawing saved.
	foMaxSaves = 60
	// sessionCacheTTL is the instances' ONESTROKE_SESSION_CACHE_TTL (the
	// default): past it, a session is read from Redis again.
	sessionCacheTTL = 2 * time.Second
)

// foKind is what one request of the load does.
type foKind int

const (
	foLegacyRead foKind = iota // GET /applet/session with the code
	foV2Read                   // GET /applet/v2/me with the token
	foPaintList                // GET /applet/session/paints/list with the code
	foPaintSave                // POST /applet/session/paints/save with the code
	foKinds
)

var foKindNames = [foKinds]string{"legacy reads", "v2 reads", "paint lists", "paint saves"}

// foUser is one signed-in user of the failover test. One loader at a time
// sends its requests, so saved needs no lock.
type foUser struct {
	p               *phone
	legacy          wechattest.Device
	token, v2OpenID string
	saved           map[string]string // the acknowledged saves: drawing id → actions
	saves           int               // save attempts
}

// foOutcome is what one request saw.
type foOutcome struct {
	at, end time.Time
	kind    foKind
	status  int    // 0: no answer
	problem string // why it is not a success; "" for a success
	// enveloped: the failure is a 503 in the envelope of its route
	// (the session error body, or the business envelope).
	enveloped bool
}

// request sends one request of the kind through nginx and judges the answer.
func (u *foUser) request(kind foKind, id string) foOutcome {
	o := foOutcome{at: time.Now(), kind: kind}
	var (
		r         reply
		err       error
		drawingID string
		actions   string
	)
	switch kind {
	case foLegacyRead:
		r, err = u.p.do(http.MethodGet, "/applet/session", id, codeOnly(u.legacy.Code), "")
	case foV2Read:
		r, err = u.p.do(http.MethodGet, "/applet/v2/me", id, bearer(u.token), "")
	case foPaintList:
		r, err = u.p.do(http.MethodGet, "/applet/session/paints/list", id, codeOnly(u.legacy.Code), "")
	case foPaintSave:
		u.saves++
		drawingID = fmt.Sprintf("fo%d", u.saves)
		actions = fmt.Sprintf(`[{"method":"setLineWidth","data":[%d]}]`, u.saves)
		body, _ := json.Marshal(drawing{ID: drawingID, Actions: actions})
		r, err = u.p.do(http.MethodPost, "/applet/session/paints/save", id, codeOnly(u.legacy.Code), string(body))
	}
	o.end = time.Now()
	if err != nil {
		o.problem = "no answer: " + err.Error()
		return o
	}
	o.status = r.status
	o.problem, o.enveloped = u.judge(kind, r)
	if o.problem == "" && kind == foPaintSave {
		u.saved[drawingID] = actions
	}
	return o
}

// judge says what is wrong with an answer ("" for a success), and whether
// a failure is a 503 in its route's envelope: the session error body
// (PROTOCOL §2) on the legacy routes, whose session layer refuses, or the
// business envelope (§3, §6).
func (u *foUser) judge(kind foKind, r reply) (problem string, enveloped bool) {
	var body struct {
		Marker     int             `json:"F2C224D4-2BCE-4C64-AF9F-A6D872000D1A"`
		Code       *int            `json:"code"`
		Msg        string          `json:"msg"`
		Data       json.RawMessage `json:"data"`
		WxUserInfo *struct {
			OpenID string `json:"openId"`
		} `json:"wxUserInfo"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil {
		return fmt.Sprintf("%d, not JSON: %q", r.status, r.body), false
	}
	ok := r.status == http.StatusOK
	if ok {
		switch kind {
		case foLegacyRead:
			ok = body.WxUserInfo != nil && body.WxUserInfo.OpenID == u.legacy.OpenID
		case foV2Read:
			var me struct{ OpenID string }
			ok = body.Code != nil && *body.Code == 0 && json.Unmarshal(body.Data, &me) == nil && me.OpenID == u.v2OpenID
		case foPaintList:
			var list []drawing
			ok = body.Code != nil && *body.Code == 0 && json.Unmarshal(body.Data, &list) == nil && list != nil
		case foPaintSave:
			ok = string(r.body) == success
		}
		if ok {
			return "", false
		}
	}
	business := body.Code != nil && *body.Code == -1 && body.Msg == "fail"
	enveloped = r.status == http.StatusServiceUnavailable &&
		(kind == foV2Read && business || kind != foV2Read && (body.Marker == 1 || business))
	return fmt.Sprintf("%d %s", r.status, r.body), enveloped
}

// TestScaleOut_RedisClusterFailoverBehindNginx runs nginx with TLS in front
// of two instances on a Redis Cluster of 3 masters with a replica each,
// signs users of both protocols in, and fails over the master holding some
// of their keys (CLUSTER FAILOVER on its replica) under a steady load
// through nginx: legacy reads, paint lists and saves with the code, v2
// reads with the token. Requests may fail for at most 2 s (first to last
// failure), each failure a 503 in its envelope within the Redis timeout;
// then every request succeeds for 3 s or more; the roles have swapped; and
// no session is lost: once the caches' entries have expired, every session
// of both protocols answers through nginx on both instances, and every
// acknowledged save is listed.
func TestScaleOut_RedisClusterFailoverBehindNginx(t *testing.T) {
	cluster := testenv.StartRedisCluster(t, 3, 1)
	s := startScaleOut(t, scaleRedis{url: cluster.URL(), name: "a Redis Cluster of 3 masters + 3 replicas, local " + redisServerVersion(t)})
	ctx := context.Background()

	users := make([]*foUser, foUsers)
	for i := range users {
		p := s.phone(t)
		d := s.mint(t, fmt.Sprintf("fo-legacy%02d", i))
		r := p.must(t, http.MethodGet, "/applet/session", fmt.Sprintf("fo-login-%d", i), d.Headers(), "")
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		l := p.login(t, fmt.Sprintf("fo-v2login-%d", i), s.mint(t, fmt.Sprintf("fo-v2user%02d", i)).Code)
		users[i] = &foUser{p: p, legacy: d, token: l.Token, v2OpenID: l.OpenID, saved: map[string]string{}}
	}

	// The master to fail over holds the first user's legacy code key; the
	// users spread over the three masters, so it holds some of the others'.
	codeKeys := make([]string, len(users))
	for i, u := range users {
		codeKeys[i] = redisstore.DefaultPrefix + u.legacy.Code
	}
	master, onIt := cluster.MasterFor(t, codeKeys...)
	require.Positive(t, onIt, "the master to fail over holds some of the users' keys")
	keys, err := master.DBSize(ctx).Result()
	require.NoError(t, err)
	replica := testenv.ReplicaOf(t, master)
	missesBefore := [2]float64{s.metric(t, s.a, "onestroke_session_cache_misses_total"), s.metric(t, s.b, "onestroke_session_cache_misses_total")}

	// The load: each loader sends its users' requests one after another,
	// every kind in turn, each user from its own phone (keep-alive HTTPS).
	var (
		mu       sync.Mutex
		outcomes []foOutcome
		stop     atomic.Bool
		wg       sync.WaitGroup
	)
	for g := range foLoaders {
		wg.Go(func() {
			var own []*foUser
			for i := g; i < len(users); i += foLoaders {
				own = append(own, users[i])
			}
			for n := 0; !stop.Load(); n++ {
				u := own[n%len(own)]
				kind := foKind(n/len(own)) % foKinds
				if kind == foPaintSave && u.saves >= foMaxSaves {
					kind = foPaintList
				}
				o := u.request(kind, fmt.Sprintf("fo-%d-%d", g, n))
				mu.Lock()
				outcomes = append(outcomes, o)
				mu.Unlock()
			}
		})
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(outcomes) }

	time.Sleep(time.Second) // a steady load before the fault
	require.Greater(t, count(), 100, "the load runs")
	failedOverAt := time.Now()
	require.NoError(t, replica.Do(ctx, "CLUSTER", "FAILOVER").Err())
	require.Eventually(t, func() bool { return testenv.Role(ctx, replica) == "master" },
		10*time.Second, 10*time.Millisecond, "the replica reports itself master")
	promoted := time.Since(failedOverAt)
	time.Sleep(foAfter)
	stop.Store(true)
	wg.Wait()
	end := time.Now()

	// The roles swapped: the old master follows its old replica.
	require.Eventually(t, func() bool {
		role, err := master.Do(ctx, "ROLE").Slice()
		return err == nil && len(role) >= 3 && role[0] == "slave" &&
			fmt.Sprintf("%v:%v", role[1], role[2]) == replica.Options().Addr
	}, 10*time.Second, 20*time.Millisecond, "the old master %s is a replica of %s", master.Options().Addr, replica.Options().Addr)

	var first, last time.Time
	var byKind [foKinds]int
	var failedByKind [foKinds]int
	failures, byStatus := 0, map[int]int{}
	var slowest time.Duration
	for _, o := range outcomes {
		byKind[o.kind]++
		slowest = max(slowest, o.end.Sub(o.at))
		if o.problem == "" {
			continue
		}
		failures++
		failedByKind[o.kind]++
		byStatus[o.status]++
		if first.IsZero() || o.at.Before(first) {
			first = o.at
		}
		last = maxTime(last, o.end)
		assert.True(t, o.enveloped, "a failure is a 503 in its envelope: %s: %s", foKindNames[o.kind], o.problem)
		assert.Less(t, o.end.Sub(o.at), 2*redisstore.DefaultOpTimeout+time.Second, "no hang beyond the Redis timeout: %s", foKindNames[o.kind])
	}
	window, quietSince := time.Duration(0), failedOverAt
	if failures > 0 {
		window, quietSince = last.Sub(first), last
	}
	after := 0
	for _, o := range outcomes {
		if o.at.After(quietSince) {
			after++
		}
	}
	missed := [2]float64{
		s.metric(t, s.a, "onestroke_session_cache_misses_total") - missesBefore[0],
		s.metric(t, s.b, "onestroke_session_cache_misses_total") - missesBefore[1],
	}
	kinds := make([]string, foKinds)
	for k := range foKinds {
		kinds[k] = fmt.Sprintf("%d %s (%d failed)", byKind[k], foKindNames[k], failedByKind[k])
	}
	msg := fmt.Sprintf("Cluster failover behind nginx: master %s (%d keys, %d of %d users' legacy codes) failed over to %s, "+
		"master after %v; %d requests through nginx: %s; failed %d %v, failure window %v (first to last failure), "+
		"then %d requests in %v all succeeded; slowest request %v; session reads from Redis during the load: A %.0f, B %.0f",
		master.Options().Addr, keys, onIt, len(users), replica.Options().Addr, promoted.Round(time.Millisecond),
		len(outcomes), strings.Join(kinds, ", "), failures, byStatus, window.Round(time.Millisecond),
		after, end.Sub(quietSince).Round(time.Millisecond), slowest.Round(time.Millisecond), missed[0], missed[1])
	t.Log(msg)
	fmt.Fprintln(os.Stderr, msg)
	assert.LessOrEqual(t, window, 2*time.Second, "requests fail for at most 2 s")
	assert.GreaterOrEqual(t, end.Sub(quietSince), foTail, "after the last failure every request succeeds for %v or more", foTail)
	assert.Positive(t, missed[0], "instance A read sessions from Redis during the load")
	assert.Positive(t, missed[1], "instance B read sessions from Redis during the load")

	// No session lost. Once the caches' entries have expired, each session
	// is read from Redis again: through nginx, on both instances.
	time.Sleep(time.Until(end.Add(sessionCacheTTL + 100*time.Millisecond)))
	for i, u := range users {
		for _, kind := range []foKind{foLegacyRead, foV2Read, foPaintList} {
			s.onBoth(t, fmt.Sprintf("fo-after-%d-%d-", i, kind), func(id string) string { return u.request(kind, id).problem },
				"user %d: %s", i, foKindNames[kind])
		}
		// Every acknowledged save is listed, with its actions.
		r := u.p.must(t, http.MethodGet, "/applet/session/paints/list", fmt.Sprintf("fo-list-%d", i), codeOnly(u.legacy.Code), "")
		if !assert.Equal(t, http.StatusOK, r.status, "user %d: the list: %s", i, r.body) {
			continue
		}
		var list []drawing
		data(t, r, &list)
		require.Less(t, len(list), 100, "user %d: the list shows every drawing", i)
		listed := map[string]string{}
		for _, d := range list {
			listed[d.ID] = d.Actions
		}
		for id, actions := range u.saved {
			assert.Equal(t, actions, listed[id], "user %d: the acknowledged save %s is listed", i, id)
		}
	}
	for _, in := range []*instance{s.a, s.b} {
		r := call(t, &http.Client{Timeout: 5 * time.Second}, http.MethodGet, in.ops+"/readyz", nil, "", "")
		assert.Equal(t, http.StatusOK, r.status, "%s /readyz: %s", in.name, r.body)
	}
}

// onBoth sends a request through nginx until both instances have answered
// it (nginx's round robin alternates them; at most 6 tries), and requires
// every answer to succeed: send returns the problem of one answer.
func (s *scaleout) onBoth(t *testing.T, prefix string, send func(id string) string, what string, args ...any) {
	t.Helper()
	var hits map[string]int
	for n := 1; n <= 6; n++ {
		assert.Empty(t, send(fmt.Sprintf("%s%d", prefix, n)), append([]any{what + " (try %d)"}, append(args, n)...)...)
		if hits = s.nginx.landedOn(t, prefix, n); len(hits) == 2 {
			break
		}
	}
	assert.Len(t, hits, 2, append([]any{what + ": answered on both instances %v"}, append(args, hits)...)...)
}

// metric reads one counter of an instance's /metrics (the operator listener).
func (s *scaleout) metric(t *testing.T, in *instance, name string) float64 {
	t.Helper()
	r := call(t, &http.Client{Timeout: 5 * time.Second}, http.MethodGet, in.ops+"/metrics", nil, "", "")
	require.Equal(t, http.StatusOK, r.status)
	for _, line := range strings.Split(string(r.body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			require.NoError(t, err, "%s", line)
			return f
		}
	}
	t.Fatalf("%s has no %s", in.name, name)
	return 0
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// redisServerVersion is "redis-server v=…" of the machine's redis-server.
func redisServerVersion(t *testing.T) string {
	out, err := exec.Command("redis-server", "--version").Output()
	require.NoError(t, err)
	for _, f := range strings.Fields(string(out)) {
		if strings.HasPrefix(f, "v=") {
			return "redis-server " + f
		}
	}
	return strings.TrimSpace(string(out))
}
