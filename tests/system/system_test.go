//go:build integration

// Package system tests the whole system as it is deployed: the onestroke and
// wechat-mock binaries in containers built from docker/Dockerfile.prebuilt,
// on one Docker network with Redis and MongoDB, driven over HTTP from outside
// the way a mini-program drives it. The service runs in production mode: an
// appid, its secret from a file, and the (mock) WeChat API over https with a
// certificate from a CA made for the run.
package system

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/onestroke/onestroke/tests/testenv"
)

// The mock WeChat app the service is configured for.
const (
	wxAppID  = "wxsystemtest00001"
	wxSecret = "system-test-secret"
)

var (
	buildOnce sync.Once
	binDir    string // the static binaries and Dockerfile.prebuilt: the images' build context
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// buildContext builds static Linux binaries of ./cmd/onestroke and
// ./cmd/wechat-mock from this tree, once per run, into a folder with
// docker/Dockerfile.prebuilt: a build context that needs no registry. The
// scale-out tests run the same onestroke binary on the host.
func buildContext(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "onestroke-system")
		if buildErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
		cmd := exec.CommandContext(ctx, goTool, "build", "-trimpath", "-o", binDir+string(filepath.Separator),
			"./cmd/onestroke", "./cmd/wechat-mock")
		cmd.Dir = "../.."
		// The daemon runs Linux on this machine's architecture.
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		dockerfile, err := os.ReadFile("../../docker/Dockerfile.prebuilt")
		if err == nil {
			err = os.WriteFile(filepath.Join(binDir, "Dockerfile.prebuilt"), dockerfile, 0o644)
		}
		buildErr = err
	})
	require.NoError(t, buildErr)
	return binDir
}

// runID keeps this run's image tags apart from a concurrent run's.
var runID = strings.ToLower(rand.Text()[:8])

// prebuilt is one container of a binary of this tree.
type prebuilt struct {
	binary string   // onestroke or wechat-mock
	alias  string   // its name on the network
	ports  []string // container ports to map to the host, like "5757"
	env    map[string]string
	// files are copied in before the start. The image runs as uid 65532 and
	// Docker writes them as root, so each needs a mode that lets others read.
	files []testcontainers.ContainerFile
	ready wait.Strategy
}

// startPrebuilt builds the image of one binary from docker/Dockerfile.prebuilt
// and starts it on the network under its alias. The image is removed with the
// container. On failure the container's log is printed.
func startPrebuilt(t *testing.T, netName string, p prebuilt) testcontainers.Container {
	t.Helper()
	ctx := context.Background()
	binary := p.binary
	image := "onestroke-test/" + binary + ":system-" + runID
	msg := fmt.Sprintf("system: %s image = %s (FROM scratch, docker/Dockerfile.prebuilt, %s built from this tree)", binary, image, binary)
	t.Log(msg)
	fmt.Fprintln(os.Stderr, msg)

	exposed := make([]string, len(p.ports))
	for i, port := range p.ports {
		exposed[i] = port + "/tcp"
	}
	var buildLog bytes.Buffer
	c, err := testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{
			FromDockerfile: testcontainers.FromDockerfile{
				Context:        buildContext(t),
				Dockerfile:     "Dockerfile.prebuilt",
				BuildArgs:      map[string]*string{"BINARY": &binary},
				Repo:           "onestroke-test/" + binary,
				Tag:            "system-" + runID,
				BuildLogWriter: &buildLog,
			},
			Env:            p.env,
			Files:          p.files,
			ExposedPorts:   exposed,
			Networks:       []string{netName},
			NetworkAliases: map[string][]string{netName: {p.alias}},
			WaitingFor:     p.ready,
		},
		Started: true,
	})
	testcontainers.CleanupContainer(t, c)
	// Registered after CleanupContainer, so it runs before the container is removed.
	t.Cleanup(func() {
		if dc, ok := c.(*testcontainers.DockerContainer); ok && dc != nil && t.Failed() {
			dumpLogs(t, binary, dc)
		}
	})
	require.NoError(t, err, "build and start %s\nbuild log:\n%s", image, &buildLog)
	return c
}

// endpoint is the base URL of a container port as the host reaches it.
func endpoint(t *testing.T, c testcontainers.Container, port, scheme string) string {
	t.Helper()
	u, err := c.PortEndpoint(context.Background(), port+"/tcp", scheme)
	require.NoError(t, err)
	return u
}

func dumpLogs(t *testing.T, name string, c testcontainers.Container) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rc, err := c.Logs(ctx)
	if err != nil {
		t.Logf("logs of %s: %v", name, err)
		return
	}
	defer rc.Close()
	logs, _ := io.ReadAll(rc)
	t.Logf("----- logs of the %s container -----\n%s----- end of %s logs -----", name, logs, name)
}

// system is the running system seen from outside, through mapped ports.
type system struct {
	api    string       // base URL of onestroke's API listener
	ops    string       // base URL of onestroke's operator listener (ONESTROKE_OPS_LISTEN)
	wechat string       // base URL of the mock WeChat (its control routes), https
	client *http.Client // for the service (plain HTTP, as behind the TLS proxy)
	wx     *http.Client // for the mock: trusts only the test's CA
	redis  *redis.Client
}

// Where the files copied into the containers go.
const (
	mockCertPath  = "/etc/wechat-mock/tls/cert.pem"
	mockKeyPath   = "/etc/wechat-mock/tls/key.pem"
	serviceCAPath = "/etc/onestroke/test-ca.pem"
	secretPath    = "/run/secrets/wx_secret"
)

func startSystem(t *testing.T) *system {
	t.Helper()
	testenv.RequireDocker(t)
	ctx := context.Background()

	nw, err := network.New(ctx)
	testcontainers.CleanupNetwork(t, nw)
	require.NoError(t, err)

	msg := fmt.Sprintf("system: redis image = %s (stand-in: %v), mongodb image = %s (FerretDB stand-in: %v)",
		testenv.RedisImage(), os.Getenv("ONESTROKE_TEST_REDIS_IS_STANDIN") == "true", testenv.MongoImage(), testenv.MongoIsStandIn())
	t.Log(msg)
	fmt.Fprintln(os.Stderr, msg)
	redisSrv := testenv.StartRedis(t, testenv.Options{Network: nw.Name, Aliases: []string{"redis"}})
	testenv.StartMongo(t, testenv.Options{Network: nw.Name, Aliases: []string{"mongo"}})

	// The mock WeChat speaks HTTPS with a certificate for its network alias,
	// signed by a CA made for this run; the service trusts that CA only
	// (SSL_CERT_FILE: the scratch image has no other roots).
	certs := testenv.NewTLS(t, "wechat")
	// The key is a throwaway of this run: readable by the image's uid 65532.
	readable := func(data []byte, path string) testcontainers.ContainerFile {
		return testcontainers.ContainerFile{Reader: bytes.NewReader(data), ContainerFilePath: path, FileMode: 0o444}
	}
	// The host dials localhost:PORT, so the name is checked as wechat. Each
	// user gets a config of its own: an http.Transport adds h2 to the
	// NextProtos of the config it is given, and a second transport sharing it
	// would then negotiate HTTP/2 and speak HTTP/1.1.
	wxTLS := func() *tls.Config { return certs.ClientConfig("wechat") }
	wechat := startPrebuilt(t, nw.Name, prebuilt{
		binary: "wechat-mock",
		alias:  "wechat",
		ports:  []string{"8443"},
		env: map[string]string{
			"ONESTROKE_MOCK_LISTEN":   ":8443",
			"ONESTROKE_MOCK_APPID":    wxAppID,
			"ONESTROKE_MOCK_SECRET":   wxSecret,
			"ONESTROKE_MOCK_TLS_CERT": mockCertPath,
			"ONESTROKE_MOCK_TLS_KEY":  mockKeyPath,
		},
		files: []testcontainers.ContainerFile{readable(certs.Cert, mockCertPath), readable(certs.Key, mockKeyPath)},
		ready: wait.ForHTTP("/mock/stats").WithPort("8443/tcp").WithTLS(true, wxTLS()).WithStartupTimeout(30 * time.Second),
	})

	// Production mode: an appid, its secret from a file (as a Docker or
	// Kubernetes secret gives it, with the newline an editor or echo leaves),
	// and the WeChat API over https. /readyz answers 200 only once Redis and
	// MongoDB both answer.
	service := startPrebuilt(t, nw.Name, prebuilt{
		binary: "onestroke",
		alias:  "onestroke",
		ports:  []string{"5757", "9090"},
		env: map[string]string{
			"ONESTROKE_LISTEN":         ":5757",
			"ONESTROKE_OPS_LISTEN":     ":9090", // in the container; the default 127.0.0.1:9090 is unreachable through a mapped port
			"ONESTROKE_WX_APPID":       wxAppID,
			"ONESTROKE_WX_SECRET_FILE": secretPath,
			"ONESTROKE_WX_API_URL":     "https://wechat:8443",
			"SSL_CERT_FILE":            serviceCAPath,
			"ONESTROKE_REDIS_URL":      "redis://redis:6379/0",
			"ONESTROKE_MONGO_URI":      "mongodb://mongo:27017/",
			"ONESTROKE_LOG_LEVEL":      "debug",
		},
		files: []testcontainers.ContainerFile{readable(certs.CA, serviceCAPath), readable([]byte(wxSecret+"\n"), secretPath)},
		ready: wait.ForHTTP("/readyz").WithPort("5757/tcp").
			WithStatusCodeMatcher(func(status int) bool { return status == http.StatusOK }).
			WithStartupTimeout(60 * time.Second),
	})

	rdb := redis.NewClient(&redis.Options{Addr: redisSrv.HostPort})
	t.Cleanup(func() { rdb.Close() })
	return &system{
		api:    endpoint(t, service, "5757", "http"),
		ops:    endpoint(t, service, "9090", "http"),
		wechat: endpoint(t, wechat, "8443", "https"),
		client: &http.Client{Timeout: 15 * time.Second},
		wx:     &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{TLSClientConfig: wxTLS()}},
		redis:  rdb,
	}
}

// reply is an HTTP answer.
type reply struct {
	status int
	body   []byte
}

func (r reply) decode(t *testing.T, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.body, v), "body: %s", r.body)
}

func call(t *testing.T, client *http.Client, method, u string, h http.Header, contentType, body string) reply {
	t.Helper()
	r, err := try(client, method, u, h, contentType, body)
	require.NoError(t, err, "%s %s", method, u)
	return r
}

// try is call for a request that may fail.
func try(client *http.Client, method, u string, h http.Header, contentType, body string) (reply, error) {
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		return reply{}, err
	}
	for k, vs := range h {
		req.Header[k] = vs
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := client.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	return reply{status: resp.StatusCode, body: raw}, nil
}

func (s *system) get(t *testing.T, path string, h http.Header) reply {
	t.Helper()
	return call(t, s.client, http.MethodGet, s.api+path, h, "", "")
}

func (s *system) postJSON(t *testing.T, path string, h http.Header, v any) reply {
	t.Helper()
	body, err := json.Marshal(v)
	require.NoError(t, err)
	return call(t, s.client, http.MethodPost, s.api+path, h, "application/json", string(body))
}

func (s *system) postForm(t *testing.T, path string, h http.Header, form url.Values) reply {
	t.Helper()
	return call(t, s.client, http.MethodPost, s.api+path, h, "application/x-www-form-urlencoded", form.Encode())
}

// device is what wx.login + wx.getUserInfo give a mini-program, minted by
// the mock WeChat.
type device struct {
	OpenID    string            `json:"openId"`
	Code      string            `json:"code"`
	RawData   string            `json:"rawData"`
	Signature string            `json:"signature"`
	Headers   map[string]string `json:"headers"`
}

// firstRequest returns the headers of a visit's first request: code, rawData
// and signature.
func (d device) firstRequest() http.Header {
	h := http.Header{}
	for k, v := range d.Headers {
		h.Set(k, v)
	}
	return h
}

// later returns the headers of the later requests: the code only.
func (d device) later() http.Header { return codeOnly(d.Code) }

func codeOnly(code string) http.Header { return http.Header{"X-Wx-Code": {code}} }

func (s *system) mint(t *testing.T, user string) device {
	t.Helper()
	r := call(t, s.wx, http.MethodPost, s.wechat+"/mock/login?user="+url.QueryEscape(user), nil, "", "")
	require.Equal(t, http.StatusOK, r.status, "mint: %s", r.body)
	var d device
	r.decode(t, &d)
	require.NotEmpty(t, d.Headers["X-WX-Signature"])
	return d
}

// failNextExchange makes WeChat refuse the next code2Session call.
func (s *system) failNextExchange(t *testing.T, errcode int) {
	t.Helper()
	r := call(t, s.wx, http.MethodPost, fmt.Sprintf("%s/mock/fail?errcode=%d", s.wechat, errcode), nil, "", "")
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
}

func (s *system) exchanges(t *testing.T) int {
	t.Helper()
	var stats struct{ Exchanges int }
	call(t, s.wx, http.MethodGet, s.wechat+"/mock/stats", nil, "", "").decode(t, &stats)
	return stats.Exchanges
}

// login sends the first request of a visit and requires it to succeed.
func (s *system) login(t *testing.T, d device) {
	t.Helper()
	r := s.get(t, "/applet/session", d.firstRequest())
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
}

// userInfo is what the service must answer and store for d: the parsed
// rawData, every field as sent, with openId from WeChat.
func userInfo(t *testing.T, d device) string {
	t.Helper()
	var u map[string]any
	require.NoError(t, json.Unmarshal([]byte(d.RawData), &u))
	u["openId"] = d.OpenID
	b, err := json.Marshal(u)
	require.NoError(t, err)
	return string(b)
}

type drawing struct {
	ID      string `json:"id"`
	Actions string `json:"actions"`
}

func (s *system) list(t *testing.T, h http.Header) []drawing {
	t.Helper()
	r := s.get(t, "/applet/session/paints/list", h)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	var env struct {
		Code int
		Msg  string
		Data []drawing
	}
	r.decode(t, &env)
	require.Equal(t, 0, env.Code, "%s", r.body)
	require.NotNil(t, env.Data, "data is a list, never null: %s", r.body)
	return env.Data
}

const success = `{"code":0,"msg":"success","data":{}}`

func requireSuccess(t *testing.T, r reply) {
	t.Helper()
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	require.JSONEq(t, success, string(r.body))
}

// requireBusinessError checks the business envelope and its reason.
func requireBusinessError(t *testing.T, r reply, status int, reason string) {
	t.Helper()
	var env struct {
		Code  int
		Msg   string
		Error struct{ Reason string }
	}
	r.decode(t, &env)
	assert.Equal(t, status, r.status, "%s", r.body)
	assert.Equal(t, -1, env.Code)
	assert.Equal(t, "fail", env.Msg)
	assert.Equal(t, reason, env.Error.Reason)
}

// requireSessionError checks the session error body the client library
// recognises (PROTOCOL §2) and its reason.
func requireSessionError(t *testing.T, r reply, status int, reason string) {
	t.Helper()
	var body struct {
		Marker int    `json:"F2C224D4-2BCE-4C64-AF9F-A6D872000D1A"`
		Reason string `json:"reason"`
		Error  struct{ Name, Message string }
	}
	r.decode(t, &body)
	assert.Equal(t, status, r.status, "%s", r.body)
	assert.Equal(t, 1, body.Marker, "%s", r.body)
	assert.Equal(t, reason, body.Reason)
	assert.Equal(t, "Error", body.Error.Name)
}

// requireStoredSession checks the Redis keys of the original weapp-session
// layout: code → user info JSON, openId → the code as a JSON string, both
// with the session TTL.
func (s *system) requireStoredSession(t *testing.T, d device) {
	t.Helper()
	ctx := context.Background()
	codeKey, userKey := "weapp-session:"+d.Code, "weapp-session:"+d.OpenID

	stored, err := s.redis.Get(ctx, codeKey).Result()
	require.NoError(t, err, "GET %s", codeKey)
	assert.JSONEq(t, userInfo(t, d), stored)

	stored, err = s.redis.Get(ctx, userKey).Result()
	require.NoError(t, err, "GET %s", userKey)
	assert.Equal(t, `"`+d.Code+`"`, stored)

	for _, key := range []string{codeKey, userKey} {
		ttl, err := s.redis.TTL(ctx, key).Result()
		require.NoError(t, err)
		assert.InDelta(t, 7200, ttl.Seconds(), 60, "TTL of %s", key)
	}
}

func TestSystem_MiniProgramJourney(t *testing.T) {
	start := time.Now()
	s := startSystem(t)
	t.Logf("system started in %s", time.Since(start).Round(100*time.Millisecond))

	t.Run("readyz lists redis and mongodb as ok", func(t *testing.T) {
		r := s.get(t, "/readyz", nil)
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		assert.JSONEq(t, `{"checks":{"redis":"ok","mongodb":"ok"},"status":"ready"}`, string(r.body))
	})

	alice := s.mint(t, "alice")
	const first, second = "mi3k9x2a7q4z", "mi3k9x3b8r5y"
	actionsV1 := `[{"type":"moveTo","x":10,"y":20},{"type":"lineTo","x":90,"y":40}]`
	actionsV2 := `[{"type":"moveTo","x":10,"y":20},{"type":"lineTo","x":90,"y":40},{"type":"lineTo","x":5,"y":5}]`
	actionsForm := `[{"type":"arc","x":50,"y":50,"r":10,"note":"a & b = c?"}]`

	t.Run("first request exchanges the code with WeChat and answers the user", func(t *testing.T) {
		r := s.get(t, "/applet/session", alice.firstRequest())
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		assert.JSONEq(t, `{"wxUserInfo":`+userInfo(t, alice)+`}`, string(r.body))
	})

	t.Run("session is stored in Redis in the original key layout", func(t *testing.T) {
		s.requireStoredSession(t, alice)
	})

	t.Run("later request with the code only is answered from the store", func(t *testing.T) {
		before := s.exchanges(t)
		r := s.get(t, "/applet/session", alice.later())
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		assert.JSONEq(t, `{"wxUserInfo":`+userInfo(t, alice)+`}`, string(r.body))
		assert.Equal(t, before, s.exchanges(t), "no call to WeChat")
	})

	t.Run("save with a JSON body", func(t *testing.T) {
		requireSuccess(t, s.postJSON(t, "/applet/session/paints/save", alice.later(), drawing{first, actionsV1}))
	})

	t.Run("saving the same id again replaces the actions", func(t *testing.T) {
		requireSuccess(t, s.postJSON(t, "/applet/session/paints/save", alice.later(), drawing{first, actionsV2}))
	})

	t.Run("save with a form-encoded body", func(t *testing.T) {
		requireSuccess(t, s.postForm(t, "/applet/session/paints/save", alice.later(), url.Values{"id": {second}, "actions": {actionsForm}}))
	})

	t.Run("list answers the drawings newest first with their actions verbatim", func(t *testing.T) {
		assert.Equal(t, []drawing{{second, actionsForm}, {first, actionsV2}}, s.list(t, alice.later()))
	})

	t.Run("another user can neither see, overwrite nor delete the drawing", func(t *testing.T) {
		bob := s.mint(t, "bob")
		s.login(t, bob)
		assert.Empty(t, s.list(t, bob.later()))
		requireBusinessError(t, s.postForm(t, "/applet/session/paints/delete", bob.later(), url.Values{"id": {first}}),
			http.StatusNotFound, "ERR_NOT_FOUND")
		// Saving under the same id creates bob's own drawing.
		requireSuccess(t, s.postJSON(t, "/applet/session/paints/save", bob.later(), drawing{first, `[]`}))
		assert.Equal(t, []drawing{{first, `[]`}}, s.list(t, bob.later()))
		assert.Equal(t, []drawing{{second, actionsForm}, {first, actionsV2}}, s.list(t, alice.later()))
	})

	t.Run("delete removes the drawing", func(t *testing.T) {
		requireSuccess(t, s.postJSON(t, "/applet/session/paints/delete", alice.later(), map[string]string{"id": first}))
		assert.Equal(t, []drawing{{second, actionsForm}}, s.list(t, alice.later()))
	})

	t.Run("a newer login replaces the old code and keeps the drawings", func(t *testing.T) {
		again := s.mint(t, "alice")
		s.login(t, again)
		requireSessionError(t, s.get(t, "/applet/session", alice.later()), http.StatusUnauthorized, "ERR_SESSION_EXPIRED")
		n, err := s.redis.Exists(context.Background(), "weapp-session:"+alice.Code).Result()
		require.NoError(t, err)
		assert.Zero(t, n, "the old code's key is deleted")
		s.requireStoredSession(t, again)
		assert.Equal(t, []drawing{{second, actionsForm}}, s.list(t, again.later()))
	})

	failures := []struct {
		name    string
		headers func(t *testing.T) http.Header
		status  int
		reason  string
	}{
		{
			name:    "an unknown code answers ERR_SESSION_EXPIRED",
			headers: func(*testing.T) http.Header { return codeOnly("0a3Xk2ll2Ttd5f4YV0ml2aWkll2Xk2lK") },
			status:  http.StatusUnauthorized,
			reason:  "ERR_SESSION_EXPIRED",
		},
		{
			name: "a forged signature answers ERR_UNTRUSTED_RAW_DATA",
			headers: func(t *testing.T) http.Header {
				h := s.mint(t, "mallory").firstRequest()
				sig := h.Get("X-WX-Signature")
				forged := "0"
				if sig[len(sig)-1] == '0' {
					forged = "1"
				}
				h.Set("X-WX-Signature", sig[:len(sig)-1]+forged)
				return h
			},
			status: http.StatusUnauthorized,
			reason: "ERR_UNTRUSTED_RAW_DATA",
		},
		{
			name: "a code WeChat refuses answers ERR_SESSION_KEY_EXCHANGE_FAILED",
			headers: func(t *testing.T) http.Header {
				s.failNextExchange(t, 40029)
				return s.mint(t, "carol").firstRequest()
			},
			status: http.StatusUnauthorized,
			reason: "ERR_SESSION_KEY_EXCHANGE_FAILED",
		},
	}
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			requireSessionError(t, s.get(t, "/applet/session", tt.headers(t)), tt.status, tt.reason)
		})
	}

	t.Run("metrics are served on the operator listener, not the API", func(t *testing.T) {
		quick := &http.Client{Timeout: 5 * time.Second}
		r := call(t, quick, http.MethodGet, s.ops+"/metrics", nil, "", "")
		assert.NotEqual(t, http.StatusOK, s.get(t, "/metrics", nil).status, "/metrics must not be on the API listener")
		for _, path := range []string{"/healthz", "/readyz"} {
			assert.Equal(t, http.StatusOK, call(t, quick, http.MethodGet, s.ops+path, nil, "", "").status, "%s on the operator listener", path)
		}
		require.Equal(t, http.StatusOK, r.status)
		assert.Contains(t, string(r.body), "onestroke_http_requests_total{")
		assert.Contains(t, string(r.body), `route="/applet/session/paints/save"`)
	})
}
