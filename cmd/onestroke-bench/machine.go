package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

func (r *runner) method() []string {
	o := r.opt
	pool := "go-redis's default"
	if r.poolSize > 0 {
		pool = fmt.Sprintf("go-redis's default, %d here", r.poolSize)
	}
	return []string{
		fmt.Sprintf("Every scenario: %s of warm-up, then %s measured. req/s counts the 2xx responses of requests started in the window; p50/p99 are their latencies (HdrHistogram, 3 significant digits); errors are non-2xx responses and transport errors.", o.warmup, o.duration),
		"The generator runs in the orchestrator process on the same machine, over raw HTTP/1.1 keep-alive connections (one per worker, each sending its next request when the previous answer is read) with every request built before the clock starts; it does not use net/http's client, which would take a large share of the 2 cores from the server.",
		"The service is `" + o.service + "` in production mode (ONESTROKE_WX_APPID set, ONESTROKE_LOG_LEVEL=warn, GOMAXPROCS left at its default), against a mock WeChat (`wechattest`) served by the orchestrator that answers code2Session at once. Configurations: **embedded** = memory sessions + bbolt drawings in a temp folder; **redis** = Redis sessions + bbolt; **redis+mongo** = Redis sessions + MongoDB drawings (the image in the Machine table). Each configuration starts from empty stores.",
		fmt.Sprintf("cached-session: `GET %s/session` with X-WX-Code only; each connection is its own signed-in user. first-login: X-WX-Code + X-WX-RawData + X-WX-Signature, every request a new code; %s devices minted per configuration beforehand for %s users (a user logs in again with a new code, revoking the previous one).", basePath, fmtRate(float64(o.logins)), fmtRate(float64(min(o.loginUsers, o.logins)))),
		fmt.Sprintf("save: `POST %s/session/paints/save`, a %s-action drawing (%s of action text, %s body) as JSON; each connection is its own user cycling over %d ids, so most saves replace a drawing.", basePath, fmtRate(float64(o.saveActions)), fmtBytes(float64(len(actionsText(o.saveActions, 1)))), fmtBytes(float64(len(saveBody("bw000d00", actionsText(o.saveActions, 1))))), o.idsPerWorker),
		fmt.Sprintf("list: `GET %s/session/paints/list` (the first page, the service's default limit) of one user with 10 drawings, of one with 100 and of one with %s, seeded through the save route with 3-action drawings; all connections list as that user. The first page of 100 and of 10,000 drawings are the same size (the default limit is 100), so their ratio isolates what the number of drawings costs; the target's ratio (10,000 vs 10) also includes a 10× larger page.", basePath, fmtRate(float64(o.seed))),
		fmt.Sprintf("v2 first page: `GET %s/v2/drawings?limit=10` with a bearer token of the list's users with 10 and with %s drawings (the same drawings): two pages of the same 10 summaries (v2 pages carry no actions), the second with a next cursor; all connections ask as that user.", basePath, fmtRate(float64(o.seed))),
		"The list floor: `onestroke-bench static`, a bare net/http server that answers every request with one fixed body and the service's headers, doing nothing else. It serves, in turn, the 10-drawing and the 10,000-drawing list answers the first configuration gave, driven like the list scenarios; the ratio of its two p50s is what moving a page of 100 drawings instead of 10 costs any server on this machine, before any store or encoding work.",
		fmt.Sprintf("The ceiling: `onestroke-bench ceiling`, a bare net/http server doing one go-redis GET of one key (a session-sized value) per request on the same redis-server and writing the value back; pool size %s, RESP2 (the service's defaults). It gets the same request bytes as cached-session, from the same generator. It is measured at %d connections just before and just after the cached-session of the first configuration with Redis sessions (the ratio uses the mean of the two) and at %d just before that configuration's %d-connection run; only that configuration's ratio at %d is judged, the others are for information.", pool, o.conns, o.connsHigh, o.connsHigh, o.conns),
		fmt.Sprintf("slow readers (hardening finding 4): one user with %d drawings of %s of actions made of escaped quotes (`\\\"`), so each doubles when quoted for the answer, saved through the save route; then a fresh service (ONESTROKE_DRAWINGS_PER_USER raised to the readers, so that one user's page stands for that many users') and %d connections at once that each ask for the list and read its answer %s at a time every %s through a %d-byte socket receive buffer for %s, then close. Its req/s column counts answers begun (status 200), its response column the bytes read; its VmHWM is the fresh service's peak with every reader in flight.", o.slowDrawings, fmtBytes(float64(o.slowActionsBytes)), o.slowReaders, fmtBytes(float64(o.slowChunk)), o.slowPause, o.slowRecvBuf, o.slowDuration),
		fmt.Sprintf("Through nginx (redis configuration): `%s` rendered as the production site, except that its TLS server listens in plain HTTP (the generator has no TLS: the `listen … ssl` line becomes a plain `listen`, the ssl_* lines and HSTS go); keep-alive to the upstreams, buffering, headers and retries are the template's. nginx runs with one worker and no access log. First its upstream is the running service twice (1 instance), then that service and a second instance started on the same Redis with a bbolt folder of its own (2 instances); the same users' cached-session and cached bearer requests as direct, %d connections to nginx. The server CPU column is the instances' together, the stores column includes nginx's master and worker; VmHWM is the larger instance's. The 2/1 ratio is what the second instance adds on this %d-CPU machine, where nginx, both instances, Redis and the generator share the cores.", o.nginxTemplate, o.conns, runtime.NumCPU()),
		"server VmHWM is the peak resident set of the server process read from /proc after the scenario; it is cumulative since that process started (so it grows along a configuration's rows), except rows marked (fresh): there the service was restarted just before that scenario, and that figure is the peak-RSS target's.",
		fmt.Sprintf("CPU cores: the CPU time used during the measured window, divided by its length, of the server under test / of the orchestrator (generator + mock WeChat) / of the stores (redis-server, the MongoDB container) / of everything else on the machine (all %d CPUs' busy time less the first three: the kernel's unattributed work and any other process — if this is large, someone else was using the machine and the row's figures are low). server CPU µs/req is the server's CPU time per 2xx response.", runtime.NumCPU()),
		fmt.Sprintf("For reference, the issue quotes the original Node service at ~%s req/s on the cached path and ~%s req/s for a ceiling like this one, measured elsewhere; they are not measured here.", fmtRate(nodeCachedRate), fmtRate(refCeilingRate)),
	}
}

func collectMachine() Machine {
	m := Machine{NProc: runtime.NumCPU(), GoVersion: runtime.Version() + " (the bench binary's)", Date: time.Now()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if kb, err := procFileKB("/proc/meminfo", "MemTotal"); err == nil {
		m.Memory = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
	}
	if out, err := exec.Command("go", "version").Output(); err == nil {
		m.GoVersion = strings.TrimSpace(string(out))
	}
	if out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		m.Git = "commit " + strings.TrimSpace(string(out))
		if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
			m.Git += " + uncommitted changes"
		}
	}
	return m
}

// noteFlags collects repeated -note flags.
type noteFlags []string

func (n *noteFlags) String() string     { return strings.Join(*n, "; ") }
func (n *noteFlags) Set(v string) error { *n = append(*n, v); return nil }

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
