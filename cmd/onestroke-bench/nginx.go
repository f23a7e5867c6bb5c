package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/onestroke/onestroke/adapters/wechat/wechattest"
)

// The cached paths through nginx (issue 12): the production template in
// front of one instance, then of two on the same Redis.

// nginxProxy is a running nginx in front of the service.
type nginxProxy struct {
	p    *proc
	addr string
}

// renderBenchNginx renders the production template (docker/nginx) for the
// bench: the variables replaced as envsubst would, and its TLS server made
// a plain HTTP one (a `listen` without `ssl`, the ssl_* lines and HSTS
// dropped), because the generator speaks HTTP/1.1 on raw TCP. Everything
// else (keep-alive to the upstreams, buffering, headers, retries) is the
// template's. Errors: a variable the template lacks or one it has that the
// bench does not know.
func renderBenchNginx(tmpl string, upstreams [2]string, port int) (string, error) {
	vars := map[string]string{
		"ONESTROKE_UPSTREAM_1": upstreams[0],
		"ONESTROKE_UPSTREAM_2": upstreams[1],
		"ONESTROKE_TLS_CERT":   "unused.pem",
		"ONESTROKE_TLS_KEY":    "unused.key",
		"ONESTROKE_HTTPS_PORT": strconv.Itoa(port),
		"ONESTROKE_BASE_PATH":  basePath,
	}
	out := tmpl
	for k, v := range vars {
		if !strings.Contains(out, "${"+k+"}") {
			return "", fmt.Errorf("the nginx template has no ${%s}", k)
		}
		out = strings.ReplaceAll(out, "${"+k+"}", v)
	}
	if i := strings.Index(out, "${ONESTROKE_"); i >= 0 {
		return "", fmt.Errorf("the nginx template uses a variable the bench does not know: %.40s", out[i:])
	}
	var b strings.Builder
	listen := false
	for _, line := range strings.SplitAfter(out, "\n") {
		t := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(t, "#"):
			continue // the comments describe the TLS server
		case strings.HasPrefix(t, "listen ") && strings.Contains(t, " ssl"):
			fmt.Fprintf(&b, "    listen 127.0.0.1:%d; # plain HTTP: the bench's generator has no TLS\n", port)
			listen = true
			continue
		case strings.HasPrefix(t, "ssl_"), strings.HasPrefix(t, "add_header Strict-Transport-Security"):
			continue
		}
		b.WriteString(line)
	}
	if !listen {
		return "", errors.New("the nginx template has no `listen … ssl` line to make plain")
	}
	return b.String(), nil
}

// findNginx returns the nginx binary, or why there is none.
func (r *runner) findNginx() (string, error) {
	if p, err := exec.LookPath(r.opt.nginx); err == nil {
		return p, nil
	}
	if r.opt.nginx == "nginx" {
		if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
			return "/usr/sbin/nginx", nil // root's PATH lacks sbin on some machines
		}
	}
	return "", fmt.Errorf("%s not found (scripts/testworld.sh installs nginx-light)", r.opt.nginx)
}

// startNginx renders the template for upstreams into a folder of its own
// and runs nginx in the foreground on a free loopback port, one worker, no
// access log (a log line per request would be the disk's figure).
func (r *runner) startNginx(ctx context.Context, bin, name string, upstreams [2]string) (*nginxProxy, error) {
	tmpl, err := os.ReadFile(r.opt.nginxTemplate)
	if err != nil {
		return nil, fmt.Errorf("the nginx template: %w", err)
	}
	dir := filepath.Join(r.workdir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ { // the free port may be taken meanwhile
		addr, err := freeLoopbackAddr()
		if err != nil {
			return nil, err
		}
		_, portText, _ := net.SplitHostPort(addr)
		port, _ := strconv.Atoi(portText)
		site, err := renderBenchNginx(string(tmpl), upstreams, port)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, "onestroke.conf"), []byte(site), 0o644); err != nil {
			return nil, err
		}
		var conf strings.Builder
		if os.Geteuid() == 0 {
			conf.WriteString("user root;\n") // workers as nobody could not enter the 0700 work folder
		}
		fmt.Fprintf(&conf, "daemon off;\nworker_processes 1;\npid %[1]s/nginx.pid;\nerror_log %[1]s/error.log warn;\n"+
			"events { worker_connections 4096; }\n"+
			"http {\n    access_log off;\n"+
			"    client_body_temp_path %[1]s/client_body;\n    proxy_temp_path %[1]s/proxy;\n"+
			"    fastcgi_temp_path %[1]s/fastcgi;\n    uwsgi_temp_path %[1]s/uwsgi;\n    scgi_temp_path %[1]s/scgi;\n"+
			"    include %[1]s/onestroke.conf;\n}\n", dir)
		confPath := filepath.Join(dir, "nginx.conf")
		if err := os.WriteFile(confPath, []byte(conf.String()), 0o644); err != nil {
			return nil, err
		}
		args := []string{"-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", confPath}
		if out, err := exec.CommandContext(ctx, bin, append([]string{"-t"}, args...)...).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("nginx -t: %v: %s", err, strings.TrimSpace(string(out)))
		}
		p, err := startProc(name, filepath.Join(dir, "nginx.out"), os.Environ(), bin, args...)
		if err != nil {
			return nil, err
		}
		r.reap.addProc(p)
		deadline := time.Now().Add(10 * time.Second)
		for {
			c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
			// The master listens before it forks its worker: wait for
			// both, so that the worker's CPU is counted.
			if err == nil {
				c.Close()
				if len(workerPIDs(p.pid())) > 0 {
					return &nginxProxy{p: p, addr: addr}, nil
				}
			}
			if p.exited() || time.Now().After(deadline) {
				errLog, _ := os.ReadFile(filepath.Join(dir, "error.log"))
				lastErr = fmt.Errorf("nginx did not listen on %s: %s", addr, lastLines(string(errLog), 3, 300))
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		p.stop(5 * time.Second)
	}
	return nil, lastErr
}

// workerPIDs returns the pids of the processes whose parent is pid (nginx's
// workers), for CPU accounting.
func workerPIDs(pid int) []int {
	var out []int
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		child, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		// The fields after the command, which is in parentheses: state, ppid.
		s := string(b)
		if i := strings.LastIndexByte(s, ')'); i >= 0 {
			if f := strings.Fields(s[i+1:]); len(f) > 1 && f[1] == strconv.Itoa(pid) {
				out = append(out, child)
			}
		}
	}
	return out
}

// runNginx measures both cached paths through nginx in front of the
// running service alone (its address twice in the upstream), then in front
// of it and a second instance on the same Redis. The rows say why when
// nginx is missing; that is never a failure of the run.
func (r *runner) runNginx(ctx context.Context, cfg string, svc *service, env []string, mock *wechattest.Server, deps []int) {
	n := r.opt.conns
	scen := []string{scCachedNginx1, scBearerNginx1, scCachedNginx2, scBearerNginx2}
	bin, err := r.findNginx()
	if err != nil {
		r.rep.Machine.Nginx = "not available: " + err.Error()
		r.skip(scen, cfg, []int{n, n, n, n}, err.Error())
		return
	}
	if out, err := exec.Command(bin, "-v").CombinedOutput(); err == nil {
		r.rep.Machine.Nginx = strings.TrimSpace(string(out))
	}
	codes, err := r.loginUsers(svc, mock, "nginx", n)
	if err != nil {
		r.fail(Row{Scenario: scCachedNginx1, Config: cfg, Conns: n}, err)
		return
	}
	tokens, err := r.loginTokens(svc, mock, "nginx-bearer", n)
	if err != nil {
		r.fail(Row{Scenario: scBearerNginx1, Config: cfg, Conns: n}, err)
		return
	}
	through := func(name string, upstreams [2]string, svcPIDs []int, rows [2]string) {
		px, err := r.startNginx(ctx, bin, name, upstreams)
		if err != nil {
			r.fail(Row{Scenario: rows[0], Config: cfg, Conns: n}, err)
			r.fail(Row{Scenario: rows[1], Config: cfg, Conns: n}, err)
			return
		}
		defer px.p.stop(5 * time.Second)
		pxDeps := append(slices.Clone(deps), px.p.pid())
		pxDeps = append(pxDeps, workerPIDs(px.p.pid())...)
		r.measureN(ctx, Row{Scenario: rows[0], Config: cfg, Conns: n}, svcPIDs, pxDeps, px.addr,
			cachedSources(px.addr, basePath+"/session", codes))
		if ctx.Err() == nil {
			r.measureN(ctx, Row{Scenario: rows[1], Config: cfg, Conns: n}, svcPIDs, pxDeps, px.addr,
				bearerSources(px.addr, basePath+"/v2/me", tokens))
		}
	}
	through("nginx-1", [2]string{svc.addr, svc.addr}, []int{svc.p.pid()}, [2]string{scCachedNginx1, scBearerNginx1})
	if ctx.Err() != nil {
		return
	}
	r.logf("[%s] starting a second instance on the same Redis", cfg)
	second, err := r.startService(ctx, cfg+"-second", append(slices.Clone(env),
		"ONESTROKE_DATA_DIR="+filepath.Join(r.workdir, cfg, "data-second"))) // the running service holds the other's lock
	if err != nil {
		r.fail(Row{Scenario: scCachedNginx2, Config: cfg, Conns: n}, err)
		r.fail(Row{Scenario: scBearerNginx2, Config: cfg, Conns: n}, err)
		return
	}
	defer second.p.stop(10 * time.Second)
	through("nginx-2", [2]string{svc.addr, second.addr}, []int{svc.p.pid(), second.p.pid()}, [2]string{scCachedNginx2, scBearerNginx2})
}
