package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/onestroke/onestroke/adapters/wechat/wechattest"
)

// runOptions are the orchestrator's flags.
type runOptions struct {
	out          string
	duration     time.Duration
	warmup       time.Duration
	conns        int
	connsHigh    int
	service      string
	redisServer  string
	configs      []string
	logins       int
	loginRate    int
	loginUsers   int
	seed         int
	seedBudget   time.Duration
	saveActions  int
	idsPerWorker int
	mongoImage   string
	keep         bool
	profileDir   string

	nginx         string
	nginxTemplate string

	slowReaders      int
	slowOnly         bool
	slowDuration     time.Duration
	slowDrawings     int
	slowActionsBytes int
	slowChunk        int
	slowPause        time.Duration
	slowRecvBuf      int
}

const (
	basePath      = "/applet"
	benchAppID    = "wxbench0000000000"
	ceilingKey    = "onestroke-bench:ceiling"
	mongoPort     = "27017/tcp"
	defaultFerret = "onestroke-test/ferretdb:1.24.2-pg15-local"
)

// cmdRun is `onestroke-bench run`: it starts Redis, the ceiling, the mock
// WeChat and the service in each configuration, drives every scenario,
// and writes the report.
func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o runOptions
	var configs string
	fs.StringVar(&o.out, "out", "bench/results.md", "Markdown report to write (its folder is created)")
	fs.DurationVar(&o.duration, "d", 10*time.Second, "measured time of each scenario")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "warm-up before each measured window")
	fs.IntVar(&o.conns, "c", 64, "connections of the main scenarios")
	fs.IntVar(&o.connsHigh, "c-high", 256, "connections of the peak-RSS scenario (cached-session on a fresh service)")
	fs.StringVar(&o.service, "service", "bin/onestroke", "the service binary")
	fs.StringVar(&o.redisServer, "redis-server", "redis-server", "the redis-server binary")
	fs.StringVar(&configs, "configs", cfgEmbedded+","+cfgRedis+","+cfgMongo, "service configurations to run, in order")
	fs.IntVar(&o.logins, "logins", 0, "first-login devices to mint per configuration (0: login-rate × (warmup + d))")
	fs.IntVar(&o.loginRate, "login-rate", 25000, "the first-login rate the device count is sized for; if the devices run out, the report says so")
	fs.IntVar(&o.loginUsers, "login-users", 10000, "distinct users behind the first-login devices (each logs in again with a new code)")
	fs.IntVar(&o.seed, "seed", 10000, "drawings of the big list user")
	fs.DurationVar(&o.seedBudget, "seed-budget", 30*time.Second, "most time the seeding of the big list user may take (then the list runs on what was saved, and its target is not judged)")
	fs.IntVar(&o.saveActions, "save-actions", 2000, "actions in the saved drawing")
	fs.IntVar(&o.idsPerWorker, "save-ids", 8, "drawing ids each save connection cycles through")
	fs.StringVar(&o.mongoImage, "mongo-image", firstNonEmpty(os.Getenv("ONESTROKE_BENCH_MONGO_IMAGE"), os.Getenv("ONESTROKE_TEST_MONGO_IMAGE"), defaultFerret),
		"MongoDB-protocol image for the redis+mongo configuration ($ONESTROKE_BENCH_MONGO_IMAGE, else $ONESTROKE_TEST_MONGO_IMAGE from scripts/testworld.sh)")
	var notes noteFlags
	fs.Var(&notes, "note", "a line for the report's notes (repeatable), e.g. why a configuration was left out")
	fs.StringVar(&o.profileDir, "profile", "", "also write the service's CPU profile of every measured window to this folder (<config>_<scenario>_<conns>.pprof), through its pprof listener; profiling costs the service a little CPU, so figures taken with it are not the report's")
	fs.IntVar(&o.slowReaders, "slow-readers", 32, "slow-list: readers at once of the list of a user with -slow-drawings big drawings, on a fresh service (0: skip the scenario)")
	fs.BoolVar(&o.slowOnly, "slow-list-only", false, "run only the slow-list scenario (no ceiling, no other scenario)")
	fs.DurationVar(&o.slowDuration, "slow-d", 10*time.Second, "slow-list: how long each reader reads before it closes")
	fs.IntVar(&o.slowDrawings, "slow-drawings", 100, "slow-list: drawings of the user (the list's first page)")
	fs.IntVar(&o.slowActionsBytes, "slow-actions-bytes", 1<<20, "slow-list: bytes of actions of each drawing, all escaped quotes (they double when quoted)")
	fs.IntVar(&o.slowChunk, "slow-chunk", 16<<10, "slow-list: bytes a reader reads at a time")
	fs.DurationVar(&o.slowPause, "slow-pause", 20*time.Millisecond, "slow-list: a reader's pause between reads")
	fs.IntVar(&o.slowRecvBuf, "slow-rcvbuf", 4096, "slow-list: a reader's socket receive buffer")
	fs.StringVar(&o.nginx, "nginx", "nginx", "the nginx binary of the redis configuration's rows through nginx (missing: those rows are skipped, with the reason)")
	fs.StringVar(&o.nginxTemplate, "nginx-template", "docker/nginx/onestroke.conf.template", "the production nginx template those rows render (its TLS server made plain HTTP)")
	fs.BoolVar(&o.keep, "keep", false, "keep the work folder (service logs, data) instead of deleting it")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for _, c := range strings.Split(configs, ",") {
		switch c = strings.TrimSpace(c); c {
		case cfgEmbedded, cfgRedis, cfgMongo:
			o.configs = append(o.configs, c)
		case "":
		default:
			return fmt.Errorf("-configs: unknown configuration %q (want %s, %s, %s)", c, cfgEmbedded, cfgRedis, cfgMongo)
		}
	}
	if o.conns < 1 || o.connsHigh < 1 || o.duration <= 0 || o.warmup < 0 {
		return errors.New("-c, -c-high and -d must be positive")
	}
	if o.logins == 0 {
		o.logins = int(float64(o.loginRate) * (o.warmup + o.duration).Seconds())
	}
	if _, err := os.Stat(o.service); err != nil {
		return fmt.Errorf("the service binary: %w (build it first: make bench does)", err)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	workdir, err := os.MkdirTemp("", "onestroke-bench-")
	if err != nil {
		return err
	}
	secret := make([]byte, 16)
	_, _ = rand.Read(secret)

	if o.profileDir != "" {
		if err := os.MkdirAll(o.profileDir, 0o755); err != nil {
			return err
		}
	}
	r := &runner{
		opt: o, self: self, workdir: workdir, log: stderr,
		reap:      &reaper{},
		debugAddr: map[int]string{},
		secret:    hex.EncodeToString(secret),
		client:    &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
		rep:       &Report{Command: "onestroke-bench run " + strings.Join(args, " "), Notes: notes},
	}
	defer func() {
		r.reap.cleanup()
		if o.keep {
			r.logf("work folder kept: %s", workdir)
		} else {
			os.RemoveAll(workdir)
		}
	}()

	r.rep.Machine = collectMachine()
	runErr := r.runAll(ctx)
	if runErr != nil {
		r.rep.Notes = append(r.rep.Notes, "**The run stopped early:** "+runErr.Error())
	}
	r.rep.Method = r.method()

	var buf bytes.Buffer
	r.rep.Write(&buf, o.conns, o.connsHigh)
	if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(o.out, buf.Bytes(), 0o644); err != nil {
		return err
	}
	stdout.Write(buf.Bytes())
	r.logf("report written to %s", o.out)
	switch {
	case runErr != nil:
		return runErr
	case r.failures > 0:
		return fmt.Errorf("%d scenario(s) or configuration(s) failed; see the report's notes", r.failures)
	}
	return nil
}

type runner struct {
	opt     runOptions
	self    string
	workdir string
	log     io.Writer
	reap    *reaper
	secret  string
	client  *http.Client
	rep     *Report

	redisAddr string
	redisPID  int
	redisErr  error

	ceil         *ceiling
	ceilingValue string
	ceilingCfg   string       // the configuration the ceiling is measured in
	ceilingDone  map[int]bool // connection counts the ceiling has a row for
	rdb          *redis.Client
	poolSize     int
	failures     int

	debugAddr map[int]string // service pid → its pprof listener, with -profile
	floorDone bool           // the list floor has its rows
}

func (r *runner) logf(format string, args ...any) {
	fmt.Fprintf(r.log, "bench: "+format+"\n", args...)
}

// fail records a failed row (or a configuration that could not start). The
// report gets the error's first lines; the progress log all of it.
func (r *runner) fail(row Row, err error) {
	r.failures++
	row.Ran = false
	row.Note = "FAILED: " + summarize(err.Error())
	r.rep.Rows = append(r.rep.Rows, row)
	r.logf("%s, %s, %d conns: FAILED: %v", row.Scenario, row.Config, row.Conns, err)
}

// summarize keeps an error's first line and, when it has more (a log
// tail), its last one, each cut to 300 bytes.
func summarize(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	out := lastLines(lines[0], 1, 300)
	if len(lines) > 1 {
		out += " … " + lastLines(lines[len(lines)-1], 1, 300)
	}
	return out
}

// lastLines keeps the last n lines of s, each cut to at most width bytes.
func lastLines(s string, n, width int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	for i, l := range lines {
		if len(l) > width {
			lines[i] = l[:width] + "…"
		}
	}
	return strings.Join(lines, "\n")
}

// skip records rows that cannot run here, with the reason.
func (r *runner) skip(scenarios []string, config string, conns []int, why string) {
	for i, s := range scenarios {
		r.rep.Rows = append(r.rep.Rows, Row{Scenario: s, Config: config, Conns: conns[i], Note: "skipped: " + why})
	}
	r.logf("%s: skipped: %s", config, why)
}

func (r *runner) runAll(ctx context.Context) error {
	o := r.opt
	needRedis := !o.slowOnly
	for _, c := range o.configs {
		needRedis = needRedis || c != cfgEmbedded
	}
	// The ceiling needs Redis whatever the configurations.
	r.redisErr = errors.New("not needed: -slow-list-only with the embedded configuration alone")
	if needRedis {
		r.redisErr = r.startRedis(ctx)
	}
	if !needRedis {
		r.rep.Machine.Redis = r.redisErr.Error()
	} else if r.redisErr != nil {
		r.rep.Machine.Redis = "not available: " + r.redisErr.Error()
		r.rep.Notes = append(r.rep.Notes, "No Redis ("+r.redisErr.Error()+"): the ceiling and the Redis configurations were skipped.")
	}
	// The ceiling is measured inside the first configuration with Redis
	// sessions, right around that configuration's cached-session scenarios
	// (see runConfig), so that the two figures of the main ratio are taken
	// seconds apart on a machine whose speed drifts. Without such a
	// configuration (or if it failed early) it is measured on its own at
	// the end.
	for _, c := range o.configs {
		if c != cfgEmbedded {
			r.ceilingCfg = c
			break
		}
	}
	if o.slowOnly {
		r.ceilingCfg = ""
	}
	r.rep.CeilingConfig = r.ceilingCfg
	for _, cfg := range o.configs {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.runConfig(ctx, cfg)
	}
	for _, n := range []int{o.conns, o.connsHigh} {
		if !r.ceilingDone[n] && ctx.Err() == nil && !o.slowOnly {
			r.measureCeiling(ctx, n, "")
		}
	}
	return ctx.Err()
}

func (r *runner) scenarioList() ([]string, []int) {
	return []string{scCached, scBearer, scFirst, scV2Login, scList10, scList100, scList10000, scPage10, scPage10000, scPNGKept, scPNGDrawn, scCached, scSave},
		[]int{r.opt.conns, r.opt.conns, r.opt.conns, r.opt.conns, r.opt.conns, r.opt.conns, r.opt.conns, r.opt.conns, r.opt.conns, r.opt.connsHigh, r.opt.conns}
}

// runConfig runs every scenario against one configuration of the service.
func (r *runner) runConfig(ctx context.Context, cfg string) {
	redisErr := r.redisErr
	withCeiling := cfg == r.ceilingCfg
	scen, conns := r.scenarioList()
	var env, freshEnv []string
	deps := []int{}
	switch cfg {
	case cfgRedis, cfgMongo:
		if redisErr != nil {
			r.skip(scen, cfg, conns, "no Redis: "+redisErr.Error())
			return
		}
		if err := r.rdb.FlushAll(ctx).Err(); err != nil {
			r.fail(Row{Scenario: scCached, Config: cfg, Conns: conns[0]}, err)
			return
		}
		env = append(env, "ONESTROKE_REDIS_URL=redis://"+r.redisAddr+"/0")
		deps = append(deps, r.redisPID)
	}
	if cfg == cfgMongo {
		uri, pids, cleanup, err := r.startMongo(ctx)
		if err != nil {
			r.rep.Machine.Mongo = "not available: " + err.Error()
			r.skip(scen, cfg, conns, err.Error())
			return
		}
		defer cleanup()
		r.rep.Machine.Mongo = r.mongoDescription(ctx)
		env = append(env, "ONESTROKE_MONGO_URI="+uri)
		deps = append(deps, pids...)
		if strings.Contains(strings.ToLower(r.rep.Machine.Mongo), "ferretdb") {
			// The stand-in is slow enough (no secondary index: every find
			// scans the collection) to exceed the default 5 s. Seen here:
			// once an operation times out, FerretDB 1.24.2 panics on every
			// new connection of the service from then on, taking the rest
			// of the configuration down. A long timeout keeps it alive;
			// the latencies show what it costs.
			env = append(env, "ONESTROKE_MONGO_TIMEOUT=60s")
			// It also panics on every connection of a second service that
			// starts against a database whose indexes exist already: the
			// restarted service gets a database of its own.
			freshEnv = []string{"ONESTROKE_MONGO_DB=qcloud-applet-session-restart"}
			r.rep.Notes = append(r.rep.Notes, "redis+mongo ran with ONESTROKE_MONGO_TIMEOUT=60s (default 5s) because its MongoDB is the FerretDB stand-in: "+
				"its drawing figures (list, save, seeding) measure FerretDB on PostgreSQL, not MongoDB. Its session figures (cached-session, first-login, peak RSS) do not touch it. "+
				"The restarted service (peak RSS, then save) uses a second database: FerretDB 1.24.2 panics on every new connection once a service starts against a database whose indexes it already created.")
		}
	}

	mock, mockURL, stopMock, err := r.startMock()
	if err != nil {
		r.fail(Row{Scenario: scCached, Config: cfg, Conns: conns[0]}, err)
		return
	}
	defer stopMock()
	dataDir := filepath.Join(r.workdir, cfg, "data")
	env = append(env,
		"ONESTROKE_WX_APPID="+benchAppID,
		"ONESTROKE_WX_SECRET="+r.secret,
		"ONESTROKE_WX_API_URL="+mockURL,
		"ONESTROKE_LOG_LEVEL=warn",
		"ONESTROKE_DATA_DIR="+dataDir,
		"ONESTROKE_SHUTDOWN_TIMEOUT=2s",
		// Every login of the generator comes from one loopback address: a
		// limit no generator reaches keeps the limiter's cost (one more
		// Redis call per login with Redis) in the figures without refusing.
		"ONESTROKE_LOGIN_RATE=1000000/s",
		"ONESTROKE_LOGIN_BURST=1000000",
	)

	if r.opt.slowOnly {
		r.runSlowListIn(ctx, cfg, env, mock)
		return
	}
	r.logf("[%s] starting the service", cfg)
	svc, err := r.startService(ctx, cfg, env)
	if err != nil {
		r.fail(Row{Scenario: scCached, Config: cfg, Conns: conns[0]}, err)
		return
	}
	defer func() {
		if svc != nil {
			svc.p.stop(10 * time.Second)
		}
	}()
	n := r.opt.conns
	host := svc.addr

	// Every connection is its own signed-in user, as on a real server.
	cachedCodes, err := r.loginUsers(svc, mock, "cached", n)
	if err != nil {
		r.fail(Row{Scenario: scCached, Config: cfg, Conns: n}, err)
		return
	}
	if withCeiling {
		r.measureCeiling(ctx, n, "measured just before "+cfg+"'s cached-session")
	}
	r.measure(ctx, Row{Scenario: scCached, Config: cfg, Conns: n}, svc.p.pid(), deps, host,
		cachedSources(host, basePath+"/session", cachedCodes))
	if withCeiling {
		r.measureCeiling(ctx, n, "measured just after "+cfg+"'s cached-session")
	}
	if ctx.Err() == nil {
		r.runBearer(ctx, cfg, svc, mock, deps)
	}
	if ctx.Err() == nil && cfg != cfgEmbedded {
		r.runCacheOff(ctx, cfg, env, mock, deps)
	}
	if ctx.Err() == nil && cfg == cfgRedis {
		r.runNginx(ctx, cfg, svc, env, mock, deps)
	}
	if ctx.Err() == nil && cfg != cfgEmbedded {
		r.runRevocation(ctx, cfg, svc, env, mock)
	}

	if ctx.Err() == nil {
		r.runFirstLogin(ctx, cfg, svc, mock, deps)
	}
	if ctx.Err() == nil {
		r.runV2Login(ctx, cfg, svc, mock, deps)
	}
	if ctx.Err() == nil {
		r.runLists(ctx, cfg, svc, mock, deps)
	}
	if ctx.Err() == nil && cfg == cfgEmbedded { // rendering needs no store but the drawing's read
		r.runPNG(ctx, cfg, svc, env, mock, deps)
	}
	if ctx.Err() != nil {
		return
	}

	// Peak RSS at many connections: a fresh process, so that VmHWM is this
	// scenario's own.
	svc.p.stop(10 * time.Second)
	r.logf("[%s] restarting the service for the %d-connection peak-RSS scenario", cfg, r.opt.connsHigh)
	svc, err = r.startService(ctx, cfg+"-fresh", append(env, freshEnv...))
	if err != nil {
		r.fail(Row{Scenario: scCached, Config: cfg, Conns: r.opt.connsHigh}, err)
		return
	}
	host = svc.addr
	highCodes, err := r.loginUsers(svc, mock, "high", r.opt.connsHigh)
	if err != nil {
		r.fail(Row{Scenario: scCached, Config: cfg, Conns: r.opt.connsHigh}, err)
		return
	}
	if withCeiling {
		r.measureCeiling(ctx, r.opt.connsHigh, "measured just before "+cfg+"'s cached-session")
	}
	r.measure(ctx, Row{Scenario: scCached, Config: cfg, Conns: r.opt.connsHigh, FreshHWM: true}, svc.p.pid(), deps, host,
		cachedSources(host, basePath+"/session", highCodes))

	// The save scenario comes last: it is the heaviest on the drawing store
	// (the FerretDB stand-in has been seen to break under it), and its
	// 160 kB bodies would dominate every VmHWM after it.
	if ctx.Err() == nil {
		r.runSave(ctx, cfg, svc, mock, deps)
	}
	// The slow readers last, on services of their own: their page is
	// 100 MiB of drawings.
	svcLog := svc.p.logPath
	svc.p.stop(10 * time.Second)
	svc = nil
	if ctx.Err() == nil {
		r.runSlowListIn(ctx, cfg, env, mock)
	}
	if warns := countWarnings(svcLog) + countWarnings(filepath.Join(r.workdir, cfg+".log")); warns > 0 {
		r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("%s: the service logged %d warning/error lines (run with -keep to read them).", cfg, warns))
	}
}

// runSlowListIn runs the slow-list scenario in configurations whose
// drawings are embedded; the FerretDB stand-in panics when a second service
// starts against a database whose indexes exist (the scenario restarts the
// service after seeding), and the figure is about the service's memory.
func (r *runner) runSlowListIn(ctx context.Context, cfg string, env []string, mock *wechattest.Server) {
	switch {
	case r.opt.slowReaders < 1:
	case cfg == cfgMongo:
		r.skip([]string{scSlowList}, cfg, []int{r.opt.slowReaders}, "the FerretDB stand-in cannot serve a restarted service (see the notes); the embedded configurations measure the service's memory")
	default:
		r.runSlowList(ctx, cfg, env, mock)
	}
}

func (r *runner) runFirstLogin(ctx context.Context, cfg string, svc *service, mock *wechattest.Server, deps []int) {
	row := Row{Scenario: scFirst, Config: cfg, Conns: r.opt.conns}
	host, path := svc.addr, basePath+"/session"
	// Mint every device before the clock starts: minting is the device's
	// and WeChat's work, not the service's. Users repeat (each logs in again
	// with a new code, which revokes its previous one), so the session
	// store reaches a steady size as on a real server.
	t0 := time.Now()
	devs := &onceEach{}
	devs.arena = make([]byte, 0, r.opt.logins*480)
	devs.ends = make([]int32, 0, r.opt.logins)
	for i := 0; i < r.opt.logins; i++ {
		d, err := mock.Mint(fmt.Sprintf("fl%05d", i%r.opt.loginUsers), wechattest.Profile{})
		if err != nil {
			r.fail(row, err)
			return
		}
		devs.add(firstLoginRequest(host, path, d))
	}
	r.logf("[%s] minted %d first-login devices for %d users in %s", cfg, devs.len(), min(r.opt.loginUsers, r.opt.logins), time.Since(t0).Round(time.Millisecond))
	// Probe: one real first login, answered with the user.
	d, _ := mock.Mint("fl-probe", wechattest.Profile{})
	if err := r.expectUser(d.Headers(), svc); err != nil {
		r.fail(row, fmt.Errorf("probe: %w", err))
		return
	}
	r.measure(ctx, row, svc.p.pid(), deps, host, func(int) Source { return devs.source() })
}

// runBearer measures the modern protocol's cached path: every connection
// its own user, signed in with a token, asking GET /v2/me (one token store
// read and one profile read), in whatever token store the service is
// configured with.
func (r *runner) runBearer(ctx context.Context, cfg string, svc *service, mock *wechattest.Server, deps []int) {
	row := Row{Scenario: scBearer, Config: cfg, Conns: r.opt.conns}
	tokens, err := r.loginTokens(svc, mock, "bearer", r.opt.conns)
	if err != nil {
		r.fail(row, err)
		return
	}
	r.measure(ctx, row, svc.p.pid(), deps, svc.addr, bearerSources(svc.addr, basePath+"/v2/me", tokens))
}

// runCacheOff measures both cached paths again on a service of their own
// started with the session cache off (ONESTROKE_SESSION_CACHE_SIZE=0), the
// figures the report prints beside the ones with the cache on.
func (r *runner) runCacheOff(ctx context.Context, cfg string, env []string, mock *wechattest.Server, deps []int) {
	n := r.opt.conns
	rowS := Row{Scenario: scCachedOff, Config: cfg, Conns: n}
	rowB := Row{Scenario: scBearerOff, Config: cfg, Conns: n}
	r.logf("[%s] starting a service with the session cache off", cfg)
	svc, err := r.startService(ctx, cfg+"-nocache", append(slices.Clone(env), "ONESTROKE_SESSION_CACHE_SIZE=0",
		"ONESTROKE_DATA_DIR="+filepath.Join(r.workdir, cfg, "data-nocache"))) // the running service holds the other's lock
	if err != nil {
		r.fail(rowS, err)
		r.fail(rowB, err)
		return
	}
	defer svc.p.stop(10 * time.Second)
	codes, err := r.loginUsers(svc, mock, "nocache", n)
	if err != nil {
		r.fail(rowS, err)
	} else {
		r.measure(ctx, rowS, svc.p.pid(), deps, svc.addr, cachedSources(svc.addr, basePath+"/session", codes))
	}
	if ctx.Err() != nil {
		return
	}
	tokens, err := r.loginTokens(svc, mock, "nocache-bearer", n)
	if err != nil {
		r.fail(rowB, err)
		return
	}
	r.measure(ctx, rowB, svc.p.pid(), deps, svc.addr, bearerSources(svc.addr, basePath+"/v2/me", tokens))
}

// runV2Login measures POST /v2/login with a new code each, against the
// mock WeChat, beside the legacy first login: as many codes as that, for
// as many users.
func (r *runner) runV2Login(ctx context.Context, cfg string, svc *service, mock *wechattest.Server, deps []int) {
	row := Row{Scenario: scV2Login, Config: cfg, Conns: r.opt.conns}
	host, path := svc.addr, basePath+"/v2/login"
	devs := &onceEach{}
	devs.arena = make([]byte, 0, r.opt.logins*200)
	devs.ends = make([]int32, 0, r.opt.logins)
	for i := 0; i < r.opt.logins; i++ {
		d, err := mock.Mint(fmt.Sprintf("v2%05d", i%r.opt.loginUsers), wechattest.Profile{})
		if err != nil {
			r.fail(row, err)
			return
		}
		devs.add(v2LoginRequest(host, path, d.Code))
	}
	d, _ := mock.Mint("v2-probe", wechattest.Profile{})
	if _, err := r.v2Login(svc, d.Code); err != nil {
		r.fail(row, fmt.Errorf("probe: %w", err))
		return
	}
	r.measure(ctx, row, svc.p.pid(), deps, host, func(int) Source { return devs.source() })
}

func (r *runner) runSave(ctx context.Context, cfg string, svc *service, mock *wechattest.Server, deps []int) {
	row := Row{Scenario: scSave, Config: cfg, Conns: r.opt.conns}
	codes, err := r.loginUsers(svc, mock, "save", r.opt.conns)
	if err != nil {
		r.fail(row, err)
		return
	}
	actions := actionsText(r.opt.saveActions, 1)
	if err := r.save(svc, codes[0], "probe0000001", actions); err != nil {
		r.fail(row, fmt.Errorf("probe: %w", err))
		return
	}
	r.measure(ctx, row, svc.p.pid(), deps, svc.addr,
		saveSources(svc.addr, basePath+"/session/paints/save", codes, actions, r.opt.idsPerWorker))
}

func (r *runner) runLists(ctx context.Context, cfg string, svc *service, mock *wechattest.Server, deps []int) {
	n := r.opt.conns
	small, mid, big := Row{Scenario: scList10, Config: cfg, Conns: n}, Row{Scenario: scList100, Config: cfg, Conns: n}, Row{Scenario: scList10000, Config: cfg, Conns: n}
	codes, err := r.loginUsers(svc, mock, "list", 3)
	if err != nil {
		r.fail(small, err)
		return
	}
	// Small drawings: the figure is about finding the first page among
	// many, not about moving bytes.
	actions := actionsText(3, 2)
	for i, want := range []int{10, 100} {
		if saved, _, err := r.seed(ctx, svc, codes[i], want, actions, time.Minute); err != nil || saved < want {
			r.fail([]Row{small, mid}[i], fmt.Errorf("seeding %d drawings: %d saved, %v", want, saved, err))
			return
		}
	}
	// A time budget: a store without a secondary index (the FerretDB
	// stand-in) slows down with every drawing, and past a few thousand its
	// operations exceed the service's timeout.
	saved, el, err := r.seed(ctx, svc, codes[2], r.opt.seed, actions, r.opt.seedBudget)
	r.logf("[%s] seeded %d drawings through the save route in %s", cfg, saved, el.Round(time.Millisecond))
	r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("%s: seeding %s small drawings through the save route (%d concurrent requests) took %s: %s saves/s.",
		cfg, fmtRate(float64(saved)), seedConcurrency, el.Round(10*time.Millisecond), fmtRate(perSecond(int64(saved), el))))
	if err != nil {
		r.fail(big, fmt.Errorf("seeding: %d of %d saved, then: %w", saved, r.opt.seed, err))
		return
	}
	switch {
	case saved < r.opt.seed:
		big.Partial = fmt.Sprintf("only %s drawings seeded within -seed-budget %s, not 10,000", fmtRate(float64(saved)), r.opt.seedBudget)
	case saved != 10000:
		big.Partial = fmt.Sprintf("%s drawings seeded (-seed), not 10,000", fmtRate(float64(saved)))
	}

	answers := make([][]byte, 3)
	for i, row := range []Row{small, mid, big} {
		items, body, err := r.listAnswer(svc, codes[i])
		if err != nil {
			r.fail(row, fmt.Errorf("probe: %w", err))
			continue
		}
		answers[i] = body
		row.Note = fmt.Sprintf("first page: %d drawings", items)
		if row.Partial != "" {
			row.Note += "; " + row.Partial
		}
		r.measure(ctx, row, svc.p.pid(), deps, svc.addr,
			cachedSources(svc.addr, basePath+"/session/paints/list", codes[i:i+1]))
	}
	r.runPages(ctx, cfg, svc, mock, deps, big.Partial)
	// The floor, once: the same two answers from a server that does nothing
	// else, over the same connections.
	if !r.floorDone && answers[0] != nil && answers[2] != nil && big.Partial == "" && ctx.Err() == nil {
		r.floorDone = true
		for i, sc := range []string{scFloor10, scFloor10000} {
			r.measureFloor(ctx, Row{Scenario: sc, Config: cfgBare, Conns: n,
				Note: fmt.Sprintf("the %s answer %s gave, from a bare net/http server", []string{"10-drawing", "10,000-drawing"}[i], cfg)},
				answers[i*2])
		}
	}
}

// runPages measures the v2 first page (GET /v2/drawings?limit=10, with a
// token) of the list users with 10 drawings and with 10,000 (list-0 and
// list-2, seeded by runLists): pages of the same 10 summaries, so that
// their ratio is what the number of drawings costs a page.
func (r *runner) runPages(ctx context.Context, cfg string, svc *service, mock *wechattest.Server, deps []int, partial string) {
	n := r.opt.conns
	small, big := Row{Scenario: scPage10, Config: cfg, Conns: n}, Row{Scenario: scPage10000, Config: cfg, Conns: n}
	big.Partial = partial
	tokens, err := r.loginTokens(svc, mock, "list", 3) // the same users as the list's
	if err != nil {
		r.fail(small, err)
		r.fail(big, err)
		return
	}
	const path = basePath + "/v2/drawings?limit=10"
	for i, row := range []Row{small, big} {
		token := tokens[i*2]
		items, err := r.pageItems(svc, path, token)
		if err != nil || items != 10 {
			r.fail(row, fmt.Errorf("probe: %d items, %v", items, err))
			continue
		}
		row.Note = "a page of 10 summaries"
		if row.Partial != "" {
			row.Note += "; " + row.Partial
		}
		r.measure(ctx, row, svc.p.pid(), deps, svc.addr, bearerSources(svc.addr, path, []string{token}))
	}
}

// measure runs one scenario and appends its row.
func (r *runner) measure(ctx context.Context, row Row, svcPID int, deps []int, addr string, sources func(int) Source) {
	r.measureN(ctx, row, []int{svcPID}, deps, addr, sources)
}

// measureN is measure for a scenario served by several instances (behind
// nginx): their CPU is the server's, their VmHWM the largest of theirs;
// the profile, with -profile, is the first one's.
func (r *runner) measureN(ctx context.Context, row Row, svcPIDs []int, deps []int, addr string, sources func(int) Source) {
	svcPID := svcPIDs[0]
	dial, err := loopbackDialer(addr)
	if err != nil {
		r.fail(row, err)
		return
	}
	self := os.Getpid()
	var before [4]time.Duration
	var beforeOnce sync.Once
	snapshot := func() (s [4]time.Duration) {
		for _, p := range svcPIDs {
			d, _ := procCPU(p)
			s[0] += d
		}
		s[1], _ = procCPU(self)
		for _, p := range deps {
			d, _ := procCPU(p)
			s[2] += d
		}
		s[3], _ = machineBusy()
		return s
	}
	// CPU is counted over the measured window only, like the requests.
	var profiled sync.WaitGroup
	timer := time.AfterFunc(r.opt.warmup, func() {
		beforeOnce.Do(func() { before = snapshot() })
		if dbg := r.debugAddr[svcPID]; dbg != "" {
			profiled.Go(func() { r.saveProfile(ctx, dbg, row) })
		}
	})
	r.logf("%s, %s, %d conns: warm-up %s, then %s", row.Scenario, row.Config, row.Conns, r.opt.warmup, r.opt.duration)
	res := RunLoad(ctx, LoadOptions{Conns: row.Conns, Warmup: r.opt.warmup, Duration: r.opt.duration, Dial: dial, NewSource: sources})
	timer.Stop()
	profiled.Wait()
	if ctx.Err() != nil {
		return // interrupted: a partial window is no figure
	}
	beforeOnce.Do(func() { before = snapshot() })
	after := snapshot()
	secs := res.Elapsed.Seconds()
	if secs > 0 {
		row.CPUSvc = (after[0] - before[0]).Seconds() / secs
		row.CPUBench = (after[1] - before[1]).Seconds() / secs
		row.CPUDeps = (after[2] - before[2]).Seconds() / secs
		row.CPUOther = max(0, (after[3]-before[3]).Seconds()/secs-row.CPUSvc-row.CPUBench-row.CPUDeps)
	}
	for _, p := range svcPIDs {
		if kb, err := procStatusKB(p, "VmHWM"); err == nil {
			row.HWMKB = max(row.HWMKB, kb)
		}
	}
	row.Res, row.Ran = res, true
	if row.CPUOther > otherLoadWarn {
		row.Note = strings.TrimPrefix(row.Note+fmt.Sprintf("; other processes used %.2f cores during the window: the figures are low", row.CPUOther), "; ")
	}
	r.rep.Rows = append(r.rep.Rows, row)
	r.logf("%s, %s, %d conns: %s req/s, p50 %s, p99 %s, errors %d, server VmHWM %.1f MiB",
		row.Scenario, row.Config, row.Conns, fmtRate(res.ReqPerSec()), fmtDur(res.P50()), fmtDur(res.P99()),
		res.Errors, float64(row.HWMKB)/1024)
}

// saveProfile fetches the service's CPU profile over the measured window
// from its pprof listener and writes it to the -profile folder.
func (r *runner) saveProfile(ctx context.Context, debugAddr string, row Row) {
	secs := max(1, int(r.opt.duration.Seconds()))
	name := fmt.Sprintf("%s_%s_%d.pprof", row.Config, row.Scenario, row.Conns)
	// A file name from the scenario's: spaces and parentheses dropped, and
	// "/" (as in "GET /v2/me") never makes a folder.
	name = strings.NewReplacer(" ", "", ",", "-", "/", "-", "(", "", ")", "").Replace(name)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", debugAddr, secs), nil)
	if err != nil {
		r.logf("profile %s: %v", name, err)
		return
	}
	resp, err := r.client.Do(req)
	if err != nil {
		r.logf("profile %s: %v", name, err)
		return
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("HTTP %d: %s", resp.StatusCode, body)
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(r.opt.profileDir, name), body, 0o644)
	}
	if err != nil {
		r.logf("profile %s: %v", name, err)
		return
	}
	r.logf("profile of the service written to %s", filepath.Join(r.opt.profileDir, name))
}

// runPNG measures the PNG route (GET /v2/drawings/{id}.png?w=256 with a
// token) of one drawing of 2,000 actions in the seed's format: first on
// the running service, where the rendering cache answers all but the first
// request, then on a service of its own with the cache off
// (ONESTROKE_RENDER_CACHE=0), where every request interprets and draws.
func (r *runner) runPNG(ctx context.Context, cfg string, svc *service, env []string, mock *wechattest.Server, deps []int) {
	n := r.opt.conns
	kept, drawn := Row{Scenario: scPNGKept, Config: cfg, Conns: n}, Row{Scenario: scPNGDrawn, Config: cfg, Conns: n}
	actions := seedStrokes(400, 20, 3)
	const id, path = "render2000", basePath + "/v2/drawings/render2000.png?w=256"
	measure := func(svc *service, row Row, prefix string) {
		codes, err := r.loginUsers(svc, mock, prefix, 1)
		if err == nil {
			err = r.save(svc, codes[0], id, actions)
		}
		var tokens []string
		if err == nil {
			tokens, err = r.loginTokens(svc, mock, prefix, 1) // the same user
		}
		if err == nil {
			err = r.expectPNG(svc, path, tokens[0])
		}
		if err != nil {
			r.fail(row, fmt.Errorf("probe: %w", err))
			return
		}
		row.Note = fmt.Sprintf("one drawing of 2,000 actions (%d kB), one user", len(actions)/1000)
		r.measure(ctx, row, svc.p.pid(), deps, svc.addr, bearerSources(svc.addr, path, tokens))
	}
	measure(svc, kept, "png")
	if ctx.Err() != nil {
		return
	}
	r.logf("[%s] starting a service with the rendering cache off", cfg)
	off, err := r.startService(ctx, cfg+"-norender", append(slices.Clone(env), "ONESTROKE_RENDER_CACHE=0",
		"ONESTROKE_DATA_DIR="+filepath.Join(r.workdir, cfg, "data-norender")))
	if err != nil {
		r.fail(drawn, err)
		return
	}
	defer off.p.stop(10 * time.Second)
	measure(off, drawn, "png-off")
}

// expectPNG asks path once with token and checks the answer is a PNG.
func (r *runner) expectPNG(svc *service, path, token string) error {
	req, _ := http.NewRequest(http.MethodGet, svc.url(strings.TrimPrefix(path, basePath)), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	body, status, err := r.do(req)
	if err != nil {
		return err
	}
	if status != http.StatusOK || !bytes.HasPrefix(body, []byte("\x89PNG")) {
		return fmt.Errorf("%s answered %d %s", path, status, truncate(body, 200))
	}
	return nil
}
