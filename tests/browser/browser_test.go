//go:build browser

// Package browser runs the browser tests (the *.test.js files beside this
// one, node's test runner driving Debian's Chromium through playwright-core)
// against the built service in development mode, as `make run` starts it.
// scripts/browser.sh provides Chromium and the npm packages; run it through
// `make test-browser`.
package browser

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onestroke/onestroke/adapters/render"
	"github.com/onestroke/onestroke/domain"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "onestroke-browser")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "onestroke")
	build := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", binary, "./cmd/onestroke")
	build.Dir = "../.."
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build onestroke:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// service is the binary in development mode on a free port with a fresh
// data directory; it returns the base URL and the process's log.
func service(t *testing.T) (url string, logs func() string) {
	t.Helper()
	cmd := exec.Command(binary)
	cmd.Env = append(os.Environ(),
		"ONESTROKE_DEV=true", "ONESTROKE_LISTEN=127.0.0.1:0", "ONESTROKE_OPS_LISTEN=off",
		"ONESTROKE_LOG_FORMAT=json", "ONESTROKE_DATA_DIR="+t.TempDir())
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var log strings.Builder
	logs = func() string { mu.Lock(); defer mu.Unlock(); return log.String() }
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			mu.Lock()
			log.WriteString(line + "\n")
			mu.Unlock()
			var entry struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "onestroke listening" {
				addr <- entry.Addr
			}
		}
		done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	select {
	case a := <-addr:
		return "http://" + a, logs
	case err := <-done:
		t.Fatalf("onestroke exited before listening: %v\n%s", err, logs())
	case <-time.After(30 * time.Second):
		t.Fatalf("onestroke did not start listening:\n%s", logs())
	}
	return "", nil
}

// TestBrowser runs every *.test.js here with node's test runner against
// one service; a failing browser test fails this test with node's report.
func TestBrowser(t *testing.T) {
	url, logs := service(t)
	shots := os.Getenv("ONESTROKE_SCREENSHOTS")
	if shots == "" {
		shots = filepath.Join(t.TempDir(), "screenshots")
	}
	files, err := filepath.Glob("*.test.js")
	if err != nil || len(files) == 0 {
		t.Fatalf("no browser tests found (%v)", err)
	}
	renders := filepath.Join(t.TempDir(), "renders")
	renderFixtures(t, renders)
	args := append([]string{"--test", "--test-concurrency=1", "--test-reporter=spec"}, files...)
	node := exec.Command("node", args...)
	node.Env = append(os.Environ(), "ONESTROKE_URL="+url, "ONESTROKE_SCREENSHOTS="+shots, "ONESTROKE_RENDERS="+renders)
	node.Stdout, node.Stderr = os.Stdout, os.Stderr
	start := time.Now()
	if err := node.Run(); err != nil {
		t.Fatalf("browser tests failed (%v) after %s; the service's log:\n%s", err, time.Since(start).Round(time.Millisecond), tail(logs(), 60))
	}
	t.Logf("browser tests passed in %s; screenshots in %s", time.Since(start).Round(time.Millisecond), shots)
}

// renderWidth is the width of the server's PNGs that render.test.js holds
// to the browser's canvas.
const renderWidth = 256

// renderFixtures renders every testdata/render/*.json as the service does
// (domain.InterpretActions, Scene.Raster, adapters/render) into dir:
// NAME.png, NAME.svg, and NAME.json with the frame (image size, and the transform
// from canvas pixels to image pixels) and the action counts, which
// render.test.js reproduces in Chromium.
func renderFixtures(t *testing.T, dir string) {
	t.Helper()
	fixtures, err := filepath.Glob(filepath.Join("testdata", "render", "*.json"))
	if err != nil || len(fixtures) == 0 {
		t.Fatalf("no render fixtures found (%v)", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	rd := render.New()
	for _, f := range fixtures {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		text, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		scene, err := domain.InterpretActions(string(text))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		r, err := scene.Raster(renderWidth)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out, err := os.Create(filepath.Join(dir, name+".png"))
		if err != nil {
			t.Fatal(err)
		}
		if err := rd.PNG(out, scene, r); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := out.Close(); err != nil {
			t.Fatal(err)
		}
		var svg strings.Builder
		if err := rd.SVG(&svg, scene); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".svg"), []byte(svg.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		m := r.ToImage()
		v := scene.View()
		frame, _ := json.Marshal(map[string]any{
			"svgWidth": v.Width() * r.Scale, "svgHeight": v.Height() * r.Scale,
			"width": r.Width, "height": r.Height,
			"transform": []float64{m.A, m.B, m.C, m.D, m.E, m.F},
			"drawn":     scene.Drawn, "skipped": scene.Skipped,
		})
		if err := os.WriteFile(filepath.Join(dir, name+".json"), frame, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
