package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is a child process of the orchestrator, its output in a log file.
type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	waitErr error
}

// startProc starts bin with args and env (the whole environment), its
// stdout and stderr going to logPath.
func startProc(name, logPath string, env []string, bin string, args ...string) (*proc, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, waits up to grace, then kills.
func (p *proc) stop(grace time.Duration) {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// logTail returns the last n lines of the process's output.
func (p *proc) logTail(n int) string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// waitLine waits until the process's output has a line containing substr
// and returns that line.
func (p *proc) waitLine(ctx context.Context, substr string, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		if b, err := os.ReadFile(p.logPath); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if strings.Contains(line, substr) {
					return line, nil
				}
			}
		}
		if p.exited() {
			return "", fmt.Errorf("%s exited (%v) before printing %q; its output:\n%s", p.name, p.waitErr, substr, p.logTail(20))
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("%s did not print %q within %s; its output:\n%s", p.name, substr, timeout, p.logTail(20))
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// reaper remembers everything the orchestrator started, to stop it on any
// exit: normal, error, or Ctrl-C.
type reaper struct {
	mu         sync.Mutex
	procs      []*proc
	containers []string
}

func (r *reaper) addProc(p *proc) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.procs = append(r.procs, p)
}

func (r *reaper) addContainer(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.containers = append(r.containers, id)
}

func (r *reaper) removeContainer(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, c := range r.containers {
		if c == id {
			r.containers = append(r.containers[:i], r.containers[i+1:]...)
			return
		}
	}
}

// cleanup stops every process still running (newest first) and removes
// every container still there.
func (r *reaper) cleanup() {
	r.mu.Lock()
	procs, containers := r.procs, r.containers
	r.procs, r.containers = nil, nil
	r.mu.Unlock()
	for i := len(procs) - 1; i >= 0; i-- {
		procs[i].stop(5 * time.Second)
	}
	for _, id := range containers {
		_, _ = docker(context.Background(), 30*time.Second, "rm", "-f", id)
	}
}

// docker runs the docker CLI and returns its trimmed stdout.
func docker(ctx context.Context, timeout time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return "", fmt.Errorf("docker %s: %s", args[0], msg)
	}
	return strings.TrimSpace(stdout.String()), nil
}

// freeLoopbackAddr returns a loopback address with a port nobody listens
// on right now. (The service logs its address only at info level, and the
// benchmark runs it at warn: so the orchestrator picks the port.)
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// ---- /proc ----

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's CPU times: 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// procCPU returns the CPU time (user + system) process pid has used.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; fields are counted after
	// its closing parenthesis. utime and stime are fields 14 and 15.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("unexpected /proc stat format")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("unexpected /proc stat format")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("unexpected /proc stat format")
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// machineBusy returns the CPU time all CPUs together have spent not idle
// (idle and iowait excluded), from /proc/stat: set against the processes'
// own times, it shows whether anything else ran during a measurement.
func machineBusy() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0, errors.New("unexpected /proc/stat format")
	}
	var busy int64
	for i, v := range f[1:] {
		if i >= 8 { // guest times are already counted in user
			break
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, errors.New("unexpected /proc/stat format")
		}
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return time.Duration(busy) * time.Second / clockTicks, nil
}

// procStatusKB returns a "kB" field of /proc/<pid>/status, such as VmHWM
// (peak resident set size) or VmRSS.
func procStatusKB(pid int, field string) (int64, error) {
	return procFileKB(fmt.Sprintf("/proc/%d/status", pid), field)
}

// procFileKB reads the number of a "Name:   N kB" line of a /proc file.
func procFileKB(path, field string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		name, rest, ok := strings.Cut(line, ":")
		if ok && name == field {
			if v := strings.Fields(rest); len(v) >= 1 {
				return strconv.ParseInt(v[0], 10, 64)
			}
		}
	}
	return 0, fmt.Errorf("no %s in %s", field, path)
}
