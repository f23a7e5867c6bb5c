//go:build integration

package containers

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/testcontainers/testcontainers-go"

	"github.com/onestroke/onestroke/adapters/boltstore"
	"github.com/onestroke/onestroke/adapters/httpapi"
	"github.com/onestroke/onestroke/adapters/memstore"
	"github.com/onestroke/onestroke/adapters/mongostore"
	"github.com/onestroke/onestroke/adapters/redisstore"
	"github.com/onestroke/onestroke/adapters/wechat"
	"github.com/onestroke/onestroke/adapters/wechat/wechattest"
	"github.com/onestroke/onestroke/app"
	"github.com/onestroke/onestroke/ports"
	"github.com/onestroke/onestroke/tests/testenv"
)

// service is the real router and use cases over HTTP, on the given stores,
// with the mock WeChat.
type service struct {
	t   *testing.T
	url string
	wx  *wechattest.Server
}

func newService(t *testing.T, sessions ports.SessionStore, drawings ports.DrawingRepository) *service {
	t.Helper()
	wx := wechattest.New("wxFAULTS", "faults-secret", nil)
	wxSrv := httptest.NewServer(wx)
	t.Cleanup(wxSrv.Close)
	api := httptest.NewServer(httpapi.New(httpapi.Config{
		Sessions: &app.SessionService{Store: sessions, TTL: time.Hour,
			Exchanger: wechat.NewClient("wxFAULTS", "faults-secret", wxSrv.URL, 2*time.Second)},
		Drawings: &app.DrawingService{Repo: drawings, ListLimit: 10000},
	}))
	t.Cleanup(api.Close)
	return &service{t: t, url: api.URL, wx: wx}
}

type answer struct {
	status  int
	body    map[string]any
	elapsed time.Duration
	err     error
}

func (s *service) call(method, path string, headers http.Header, body string) answer {
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
	if err != nil {
		return answer{err: err}
	}
	req.Header = headers.Clone()
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return answer{err: err, elapsed: time.Since(start)}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, elapsed: time.Since(start), err: err}
	if err == nil {
		a.err = json.Unmarshal(raw, &a.body)
	}
	return a
}

// login returns the code-only headers of a fresh session of user.
func (s *service) login(user string) http.Header {
	s.t.Helper()
	d, err := s.wx.Mint(user, wechattest.Profile{})
	require.NoError(s.t, err)
	a := s.call("GET", "/applet/session", d.Headers(), "")
	require.NoError(s.t, a.err)
	require.Equal(s.t, http.StatusOK, a.status, a.body)
	return http.Header{"X-Wx-Code": {d.Code}}
}

func dockerClient(t *testing.T) *testcontainers.DockerClient {
	t.Helper()
	cli, err := testcontainers.NewDockerClientWithOpts(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { cli.Close() })
	return cli
}

func TestRedisPaused_SessionRequestsFailCleanlyWithinASecondAndRecover(t *testing.T) {
	srv := testenv.StartRedis(t, testenv.Options{})
	store := redisStore(t, srv.RedisURL(), redisstore.Options{OpTimeout: 500 * time.Millisecond})
	repo, err := boltstore.Open(t.TempDir())
	require.NoError(t, err)
	defer repo.Close()
	s := newService(t, store, repo)
	alice := s.login("alice")

	cli := dockerClient(t)
	_, err = cli.ContainerPause(context.Background(), srv.Container.GetContainerID(), client.ContainerPauseOptions{})
	require.NoError(t, err)
	paused := true
	defer func() {
		if paused {
			cli.ContainerUnpause(context.Background(), srv.Container.GetContainerID(), client.ContainerUnpauseOptions{})
		}
	}()

	// Every kind of session request, several at once, while Redis does not answer.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var answers []answer
	for i := 0; i < 4; i++ {
		d, err := s.wx.Mint(fmt.Sprintf("user%d", i), wechattest.Profile{})
		require.NoError(t, err)
		for _, r := range []struct {
			path    string
			headers http.Header
		}{
			{"/applet/session", alice},
			{"/applet/session", d.Headers()},
			{"/applet/session/paints/list", alice},
		} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				a := s.call("GET", r.path, r.headers, "")
				mu.Lock()
				answers = append(answers, a)
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	for _, a := range answers {
		require.NoError(t, a.err)
		assert.Equal(t, http.StatusServiceUnavailable, a.status)
		assert.EqualValues(t, 1, a.body[httpapi.SessionErrorKey], "the session error body: %v", a.body)
		_, hasReason := a.body["reason"]
		assert.False(t, hasReason, "no reason: the client must not start a login storm")
		assert.Less(t, a.elapsed, time.Second, "answered within a second, no hang")
	}

	_, err = cli.ContainerUnpause(context.Background(), srv.Container.GetContainerID(), client.ContainerUnpauseOptions{})
	require.NoError(t, err)
	paused = false
	require.Eventually(t, func() bool {
		return s.call("GET", "/applet/session", alice, "").status == http.StatusOK
	}, 10*time.Second, 100*time.Millisecond, "the service recovers by itself when Redis returns")
}

func TestRedisStopped_SessionRequestsFailCleanlyAndRecoverAfterRestart(t *testing.T) {
	srv := testenv.StartRedis(t, testenv.Options{HostPort: testenv.FreePort(t)})
	store := redisStore(t, srv.RedisURL(), redisstore.Options{OpTimeout: 500 * time.Millisecond})
	repo, err := boltstore.Open(t.TempDir())
	require.NoError(t, err)
	defer repo.Close()
	s := newService(t, store, repo)
	s.login("alice")

	stop := 5 * time.Second
	require.NoError(t, srv.Container.Stop(context.Background(), &stop))
	for i := 0; i < 5; i++ {
		a := s.call("GET", "/applet/session", http.Header{"X-Wx-Code": {"any"}}, "")
		require.NoError(t, a.err)
		assert.Equal(t, http.StatusServiceUnavailable, a.status, a.body)
		assert.EqualValues(t, 1, a.body[httpapi.SessionErrorKey])
		assert.Less(t, a.elapsed, time.Second)
	}
	require.NoError(t, srv.Container.Start(context.Background()))
	require.Eventually(t, func() bool {
		d, _ := s.wx.Mint("bob", wechattest.Profile{})
		return s.call("GET", "/applet/session", d.Headers(), "").status == http.StatusOK
	}, 15*time.Second, 200*time.Millisecond, "the service recovers by itself when Redis returns")
}

func TestMongoStopped_SessionsKeepWorkingAndDrawingsFailCleanly(t *testing.T) {
	srv := testenv.StartMongo(t, testenv.Options{HostPort: testenv.FreePort(t)})
	repo, err := mongostoreOpen(t, srv.MongoURI(), unique("db"), time.Second)
	require.NoError(t, err)
	s := newService(t, memstore.NewSessionStore(nil), repo)
	alice := s.login("alice")
	require.Equal(t, http.StatusOK, s.call("POST", "/applet/session/paints/save", alice, `{"id":"d1","actions":"[1]"}`).status)

	stop := 5 * time.Second
	require.NoError(t, srv.Container.Stop(context.Background(), &stop))

	a := s.call("GET", "/applet/session", alice, "")
	assert.Equal(t, http.StatusOK, a.status, "session routes keep working: %v", a.body)
	for _, r := range []struct{ method, path, body string }{
		{"GET", "/applet/session/paints/list", ""},
		{"POST", "/applet/session/paints/save", `{"id":"d2","actions":"[2]"}`},
		{"POST", "/applet/session/paints/delete", `{"id":"d1"}`},
	} {
		a := s.call(r.method, r.path, alice, r.body)
		require.NoError(t, a.err, r.path)
		assert.Equal(t, http.StatusServiceUnavailable, a.status, "%s: %v", r.path, a.body)
		assert.Equal(t, "ERR_UNAVAILABLE", a.body["error"].(map[string]any)["reason"], r.path)
		assert.Less(t, a.elapsed, 3*time.Second, "answered within the store timeout: %s", r.path)
	}

	require.NoError(t, srv.Container.Start(context.Background()))
	require.Eventually(t, func() bool {
		return s.call("GET", "/applet/session/paints/list", alice, "").status == http.StatusOK
	}, 20*time.Second, 200*time.Millisecond, "drawing routes recover by themselves")
	a = s.call("GET", "/applet/session/paints/list", alice, "")
	assert.Len(t, a.body["data"], 1, "d1 is still there, d2 was never acknowledged")
}

func TestMongoRestart_EveryAcknowledgedDrawingSurvives(t *testing.T) {
	srv := testenv.StartMongo(t, testenv.Options{HostPort: testenv.FreePort(t)})
	db := unique("db")
	repo, err := mongostoreOpen(t, srv.MongoURI(), db, time.Second)
	require.NoError(t, err)
	s := newService(t, memstore.NewSessionStore(nil), repo)
	alice := s.login("alice")

	// A client saves drawing after drawing; the container restarts under it.
	var mu sync.Mutex
	var acked []string
	stopWriting := make(chan struct{})
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		for i := 0; ; i++ {
			select {
			case <-stopWriting:
				return
			default:
			}
			id := fmt.Sprintf("d%05d", i)
			a := s.call("POST", "/applet/session/paints/save", alice, `{"id":"`+id+`","actions":"[`+fmt.Sprint(i)+`]"}`)
			if a.err == nil && a.status == http.StatusOK {
				mu.Lock()
				acked = append(acked, id)
				mu.Unlock()
			}
		}
	}()
	countAcked := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	require.Eventually(t, func() bool { return countAcked() >= 20 }, 20*time.Second, 20*time.Millisecond)

	cli := dockerClient(t)
	timeout := 2
	_, err = cli.ContainerRestart(context.Background(), srv.Container.GetContainerID(), client.ContainerRestartOptions{Timeout: &timeout})
	require.NoError(t, err)
	before := countAcked()
	require.Eventually(t, func() bool { return countAcked() >= before+20 }, 30*time.Second, 50*time.Millisecond,
		"saves are acknowledged again after the restart")
	close(stopWriting)
	<-writerDone

	list, err := repo.List(context.Background(), s.wx.OpenID("alice"), 100000)
	require.NoError(t, err)
	stored := map[string]bool{}
	for _, d := range list {
		stored[d.ID()] = true
	}
	mu.Lock()
	defer mu.Unlock()
	for _, id := range acked {
		assert.True(t, stored[id], "acknowledged drawing %s is still there", id)
	}
	t.Logf("%d drawings acknowledged across the restart, all present", len(acked))
}

// mongostoreOpen opens a repository with a short call timeout, for fault tests.
func mongostoreOpen(t *testing.T, uri, db string, timeout time.Duration) (*mongostore.Repository, error) {
	t.Helper()
	repo, err := mongostore.Open(uri, mongostore.Options{Database: db, OpTimeout: timeout})
	if err == nil {
		t.Cleanup(func() { repo.Close(context.Background()) })
	}
	return repo, err
}
