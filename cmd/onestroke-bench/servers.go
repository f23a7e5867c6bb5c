package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/onestroke/onestroke/adapters/wechat/wechattest"
)

// The processes a run starts: Redis, the ceiling, the service, the mock
// WeChat and the MongoDB container.

// startRedis starts a throw-away redis-server on a free loopback port,
// without persistence.
func (r *runner) startRedis(ctx context.Context) error {
	bin, err := exec.LookPath(r.opt.redisServer)
	if err != nil {
		return fmt.Errorf("%s not found (scripts/testworld.sh installs it on Debian)", r.opt.redisServer)
	}
	if out, err := exec.Command(bin, "--version").Output(); err == nil {
		r.rep.Machine.Redis = strings.TrimSpace(string(out)) + " (a local process)"
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ { // the free port may be taken meanwhile
		addr, err := freeLoopbackAddr()
		if err != nil {
			return err
		}
		_, port, _ := net.SplitHostPort(addr)
		p, err := startProc("redis-server", filepath.Join(r.workdir, "redis.log"), os.Environ(), bin,
			"--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--daemonize", "no", "--logfile", "", "--databases", "1")
		if err != nil {
			return err
		}
		r.reap.addProc(p)
		if _, err := p.waitLine(ctx, "Ready to accept connections", 15*time.Second); err != nil {
			lastErr = err
			p.stop(time.Second)
			continue
		}
		r.redisAddr, r.redisPID = addr, p.pid()
		r.rdb = redis.NewClient(&redis.Options{Addr: addr})
		r.poolSize = r.rdb.Options().PoolSize
		if err := r.rdb.Ping(ctx).Err(); err != nil {
			return fmt.Errorf("redis-server started but PING failed: %w", err)
		}
		r.logf("redis-server on %s", addr)
		return nil
	}
	return lastErr
}

// ceiling is the running ceiling server.
type ceiling struct {
	p    *proc
	addr string
	code string // the X-WX-Code its requests carry, like cached-session's
}

// startCeiling starts the ceiling server once; it idles between its
// measurements.
func (r *runner) startCeiling(ctx context.Context) (*ceiling, error) {
	if r.ceil != nil {
		return r.ceil, nil
	}
	if r.redisErr != nil {
		return nil, r.redisErr
	}
	p, err := startProc("ceiling", filepath.Join(r.workdir, "ceiling.log"), os.Environ(), r.self,
		"ceiling", "-listen", "127.0.0.1:0", "-redis", r.redisAddr, "-key", ceilingKey)
	if err != nil {
		return nil, err
	}
	r.reap.addProc(p)
	line, err := p.waitLine(ctx, "ceiling listening", 15*time.Second)
	if err != nil {
		return nil, err
	}
	var info struct {
		Addr     string `json:"addr"`
		PoolSize int    `json:"pool_size"`
	}
	if err := json.Unmarshal([]byte(line), &info); err != nil {
		return nil, fmt.Errorf("the ceiling's line %q: %w", line, err)
	}
	r.poolSize = info.PoolSize
	m := wechattest.New(benchAppID, r.secret, nil)
	d, _ := m.Mint("ceiling-user", wechattest.Profile{})
	r.ceil = &ceiling{p: p, addr: info.Addr, code: d.Code}
	// The value: a session as the service stores it (the user info JSON).
	r.ceilingValue = strings.TrimSuffix(d.RawData, "}") + `,"openId":"` + d.OpenID + `"}`
	return r.ceil, nil
}

// measureCeiling drives the ceiling with n connections and appends its row.
func (r *runner) measureCeiling(ctx context.Context, n int, note string) {
	row := Row{Scenario: scCeiling, Config: cfgCeiling, Conns: n, Note: note}
	if r.ceilingDone == nil {
		r.ceilingDone = map[int]bool{}
	}
	r.ceilingDone[n] = true
	if r.redisErr != nil {
		r.skip([]string{scCeiling}, cfgCeiling, []int{n}, "no Redis")
		return
	}
	c, err := r.startCeiling(ctx)
	if err != nil {
		r.fail(row, err)
		return
	}
	// Set again each time: a configuration flushes Redis before it starts.
	if err := r.rdb.Set(ctx, ceilingKey, r.ceilingValue, 0).Err(); err != nil {
		r.fail(row, err)
		return
	}
	// The same request bytes as the cached-session scenario: same path,
	// same header, so both servers parse the same thing.
	r.measure(ctx, row, c.p.pid(), []int{r.redisPID}, c.addr, cachedSources(c.addr, basePath+"/session", []string{c.code}))
}

// ---- the service ----

type service struct {
	p    *proc
	addr string
	env  []string
}

func (s *service) url(path string) string { return "http://" + s.addr + basePath + path }

// startService starts bin/onestroke in production mode against the mock
// WeChat at mockURL, and waits until /readyz answers 200.
func (r *runner) startService(ctx context.Context, name string, extraEnv []string) (*service, error) {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		addr, err := freeLoopbackAddr()
		if err != nil {
			return nil, err
		}
		env := append(serviceBaseEnv(), "ONESTROKE_LISTEN="+addr, "ONESTROKE_OPS_LISTEN=off")
		env = append(env, extraEnv...)
		var debugAddr string
		if r.opt.profileDir != "" {
			if debugAddr, err = freeLoopbackAddr(); err != nil {
				return nil, err
			}
			env = append(env, "ONESTROKE_OPS_LISTEN="+debugAddr) // pprof is on the operator listener
		}
		p, err := startProc("onestroke", filepath.Join(r.workdir, name+".log"), env, r.opt.service)
		if err != nil {
			return nil, err
		}
		r.reap.addProc(p)
		if debugAddr != "" {
			r.debugAddr[p.pid()] = debugAddr
		}
		s := &service{p: p, addr: addr, env: env}
		if lastErr = r.waitReady(ctx, s); lastErr == nil {
			return s, nil
		}
		p.stop(5 * time.Second)
		if !strings.Contains(lastErr.Error(), "address already in use") {
			break
		}
	}
	return nil, lastErr
}

// serviceBaseEnv is the caller's environment without any ONESTROKE_*
// variable (a developer's settings must not change the measured service).
func serviceBaseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ONESTROKE_") {
			env = append(env, kv)
		}
	}
	return env
}

func (r *runner) waitReady(ctx context.Context, s *service) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := r.client.Get("http://" + s.addr + "/readyz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if s.p.exited() {
			return fmt.Errorf("the service exited (%v); its log:\n%s", s.p.waitErr, s.p.logTail(20))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the service was not ready within 60 s; its log:\n%s", s.p.logTail(20))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// startMock serves a fresh mock WeChat on a loopback port in this process:
// it answers code2Session at once. One per configuration, so that spent
// codes of one configuration do not pile up in the next.
func (r *runner) startMock() (*wechattest.Server, string, func(), error) {
	m := wechattest.New(benchAppID, r.secret, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", nil, err
	}
	srv := &http.Server{Handler: m, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	return m, "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

// startMongo starts a MongoDB-protocol container and returns its URI and
// the host pid of its main process (for CPU accounting).
func (r *runner) startMongo(ctx context.Context) (uri string, pids []int, cleanup func(), err error) {
	if _, err := docker(ctx, 15*time.Second, "info", "--format", "{{.ServerVersion}}"); err != nil {
		return "", nil, nil, fmt.Errorf("no Docker engine answers (%v); scripts/testworld.sh provides one", err)
	}
	if _, err := docker(ctx, 15*time.Second, "image", "inspect", r.opt.mongoImage); err != nil {
		return "", nil, nil, fmt.Errorf("image %s is not present (scripts/testworld.sh builds it)", r.opt.mongoImage)
	}
	// No --rm: if the server dies mid-run, its log is still there to read.
	cid, err := docker(ctx, 60*time.Second, "run", "-d", "--label", "org.onestroke.bench=1",
		"-p", "127.0.0.1::27017", r.opt.mongoImage)
	if err != nil {
		return "", nil, nil, err
	}
	r.reap.addContainer(cid)
	cleanup = func() {
		state, _ := docker(context.Background(), 15*time.Second, "inspect", "-f", "{{.State.Status}} exit={{.State.ExitCode}} oom={{.State.OOMKilled}}", cid)
		logs, _ := dockerLogs(context.Background(), cid)
		_ = os.WriteFile(filepath.Join(r.workdir, "mongo.log"), []byte(logs), 0o644)
		if n := strings.Count(logs, "error=panic"); n > 0 {
			r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("The MongoDB server (%s) logged %d connections ended by a panic; figures taken after the first one are suspect.", r.opt.mongoImage, n))
		}
		if !strings.HasPrefix(state, "running") {
			r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("The MongoDB container stopped during the run (%s); the last lines of its log: %s",
				state, cell(lastLines(logs, 5, 300))))
		}
		_, _ = docker(context.Background(), 30*time.Second, "rm", "-f", cid)
		r.reap.removeContainer(cid)
	}
	defer func() {
		if err != nil {
			cleanup()
		}
	}()
	deadline := time.Now().Add(60 * time.Second)
	for {
		logs, _ := dockerLogs(ctx, cid)
		if strings.Contains(logs, "Waiting for connections") {
			break
		}
		if time.Now().After(deadline) {
			return "", nil, nil, fmt.Errorf("%s did not log 'Waiting for connections' within 60 s", r.opt.mongoImage)
		}
		select {
		case <-ctx.Done():
			return "", nil, nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	hostPort, err := docker(ctx, 15*time.Second, "port", cid, mongoPort)
	if err != nil {
		return "", nil, nil, err
	}
	hostPort, _, _ = strings.Cut(hostPort, "\n")
	// For CPU accounting: the server, and the docker-proxy that carries
	// the published port's traffic (unless the engine runs without it).
	pidText, _ := docker(ctx, 15*time.Second, "inspect", "-f", "{{.State.Pid}}", cid)
	var pid int
	if _, err := fmt.Sscan(pidText, &pid); err == nil && pid > 0 {
		pids = append(pids, pid)
	}
	_, port, _ := net.SplitHostPort(hostPort)
	pids = append(pids, dockerProxyPIDs(port)...)
	return "mongodb://" + hostPort + "/", pids, cleanup, nil
}

// dockerProxyPIDs returns the docker-proxy processes serving host port.
func dockerProxyPIDs(port string) []int {
	var pids []int
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		var pid int
		if _, err := fmt.Sscan(d.Name(), &pid); err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + d.Name() + "/cmdline")
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if len(args) == 0 || filepath.Base(args[0]) != "docker-proxy" {
			continue
		}
		for i := 0; i+1 < len(args); i++ {
			if args[i] == "-host-port" && args[i+1] == port {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}

func dockerLogs(ctx context.Context, cid string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", "logs", cid).CombinedOutput()
	return string(out), err
}

// mongoDescription says which image the redis+mongo figures come from; a
// stand-in is never reported as MongoDB.
func (r *runner) mongoDescription(ctx context.Context) string {
	img := r.opt.mongoImage
	label, _ := docker(ctx, 15*time.Second, "image", "inspect", "-f", `{{ index .Config.Labels "org.onestroke.testworld.description" }}`, img)
	switch {
	case label != "" && label != "<no value>":
		return img + " — " + label
	case strings.Contains(strings.ToLower(img), "ferret") || os.Getenv("ONESTROKE_TEST_MONGO_IS_FERRETDB") == "true":
		return img + " — a FerretDB stand-in, not MongoDB"
	default:
		return img
	}
}
