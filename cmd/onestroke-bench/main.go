// Command onestroke-bench measures the service under load (issue 5): a load
// generator, a ceiling server to hold the service against, and the
// orchestrator that `make bench` runs.
//
//	onestroke-bench run [-out bench/results.md] [-d 10s] [-c 64] ...
//	    start Redis, the ceiling, a mock WeChat and bin/onestroke in each
//	    configuration, drive every scenario, write the report
//	onestroke-bench load -url URL -c N -d DURATION [-scenario get|save|first-login] ...
//	    drive one running server (loopback only) and print req/s, p50, p99, errors
//	onestroke-bench ceiling -listen ADDR -redis ADDR -key KEY
//	    the bare net/http + one go-redis GET server
//
// Figures come from here, never from timed assertions in tests.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/onestroke/onestroke/adapters/wechat/wechattest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := dispatch(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "onestroke-bench:", err)
		}
		stop()
		os.Exit(1)
	}
}

const usage = `usage:
  onestroke-bench run [-out bench/results.md] [-d 10s] [-c 64] [-c-high 256] [flags]
  onestroke-bench load -url URL -c N -d DURATION [-scenario get|save|first-login] [flags]
  onestroke-bench ceiling -listen ADDR -redis ADDR -key KEY
  onestroke-bench static -listen ADDR -body FILE
Run a subcommand with -h for its flags.`

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return errors.New("no subcommand")
	}
	switch args[0] {
	case "run":
		return cmdRun(ctx, args[1:], stdout, stderr)
	case "load":
		return cmdLoad(ctx, args[1:], stdout, stderr)
	case "ceiling":
		return cmdCeiling(ctx, args[1:], stdout, stderr)
	case "static":
		return cmdStatic(ctx, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	fmt.Fprintln(stderr, usage)
	return fmt.Errorf("unknown subcommand %q", args[0])
}

// headerFlags collects repeated -H "Name: value" flags.
type headerFlags []string

func (h *headerFlags) String() string { return strings.Join(*h, ", ") }
func (h *headerFlags) Set(v string) error {
	if name, _, ok := strings.Cut(v, ":"); !ok || strings.TrimSpace(name) == "" || strings.ContainsAny(v, "\r\n") {
		return fmt.Errorf("want \"Name: value\", got %q", v)
	}
	*h = append(*h, v)
	return nil
}

// cmdLoad drives one running server: the generator on its own.
func cmdLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rawURL := fs.String("url", "", "http://127.0.0.1:PORT/path to drive (loopback only)")
	conns := fs.Int("c", 64, "concurrent keep-alive connections")
	duration := fs.Duration("d", 10*time.Second, "measured time")
	warmup := fs.Duration("warmup", time.Second, "warm-up before the measured time")
	scenario := fs.String("scenario", "get", "get: GET url with the -H headers; "+
		"save: POST a drawing of -actions actions to url (a paints/save route) as the user of -code, rotating ids; "+
		"first-login: GET url once per device of -devices")
	var headers headerFlags
	fs.Var(&headers, "H", "extra request header \"Name: value\" (repeatable)")
	code := fs.String("code", "", "save: the X-WX-Code of a signed-in user")
	nActions := fs.Int("actions", 2000, "save: actions in the drawing")
	devicesFile := fs.String("devices", "", "first-login: file of devices, one JSON object per line with code, rawData (decoded) and signature, as the mock WeChat's /mock/login answers")
	if err := fs.Parse(args); err != nil {
		return err
	}
	u, err := url.Parse(*rawURL)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return errors.New("-url must be an http:// URL")
	}
	if u.Port() == "" {
		u.Host += ":80"
	}
	if *conns < 1 || *duration <= 0 {
		return errors.New("-c and -d must be positive")
	}
	dial, err := loopbackDialer(u.Host)
	if err != nil {
		return err
	}
	path := u.RequestURI()

	var sources func(int) Source
	switch *scenario {
	case "get":
		req := getRequest(u.Host, path, headers...)
		sources = func(int) Source { return &fixedSource{parts: [][]byte{req}} }
	case "save":
		if *code == "" {
			return errors.New("-scenario save needs -code")
		}
		sources = saveSources(u.Host, path, []string{*code}, actionsText(*nActions, 1), 8)
	case "first-login":
		devs, err := readDevices(*devicesFile, u.Host, path)
		if err != nil {
			return err
		}
		sources = func(int) Source { return devs.source() }
	default:
		return fmt.Errorf("unknown -scenario %q", *scenario)
	}

	res := RunLoad(ctx, LoadOptions{Conns: *conns, Warmup: *warmup, Duration: *duration, Dial: dial, NewSource: sources})
	fmt.Fprintf(stdout, "scenario=%s conns=%d measured=%s req/s=%.0f p50=%s p99=%s errors=%d\n",
		*scenario, *conns, res.Elapsed.Round(time.Millisecond), res.ReqPerSec(),
		fmtDur(res.P50()), fmtDur(res.P99()), res.Errors)
	if s := res.ErrorSummary(); s != "" {
		fmt.Fprintf(stdout, "errors: %s\n", s)
	}
	if res.Exhausted {
		fmt.Fprintln(stdout, "note: the devices ran out before the end; the rate is a lower bound")
	}
	return ctx.Err()
}

// readDevices loads first-login devices and builds one request for each.
func readDevices(path, host, reqPath string) (*onceEach, error) {
	if path == "" {
		return nil, errors.New("-scenario first-login needs -devices FILE")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	devs := &onceEach{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var d wechattest.Device // its JSON names are the mock's
		if err := json.Unmarshal([]byte(line), &d); err != nil || d.Code == "" {
			return nil, fmt.Errorf("%s: a line is not a device: %.80q", path, line)
		}
		devs.add(firstLoginRequest(host, reqPath, d))
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if devs.len() == 0 {
		return nil, fmt.Errorf("%s has no devices", path)
	}
	return devs, nil
}
