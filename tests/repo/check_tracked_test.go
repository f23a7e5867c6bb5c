// Package repo holds tests of the repository's own hygiene checks.
package repo

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// checkTracked runs scripts/check-tracked.sh on a fresh git repository
// holding files, and returns its exit error and output.
func checkTracked(t *testing.T, files map[string][]byte, executable ...string) (error, string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("git is needed: %v", err)
	}
	script, err := filepath.Abs("../../scripts/check-tracked.sh")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	run := func(args ...string) {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	run("init", "-q")
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range executable {
		if err := os.Chmod(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	run("add", ".")
	cmd := exec.Command("bash", script, dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	return err, out.String()
}

func TestCheckTracked_PassesSourcesAndScripts(t *testing.T) {
	err, out := checkTracked(t, map[string][]byte{
		"main.go": []byte("package main\n"),
		"run.sh":  []byte("#!/bin/sh\necho hi\n"),
	}, "run.sh")
	if err != nil {
		t.Fatalf("sources and scripts refused: %v\n%s", err, out)
	}
}

func TestCheckTracked_RefusesBinariesAndLargeFiles(t *testing.T) {
	for name, c := range map[string]struct {
		body       []byte
		executable bool
		says       string
	}{
		"an ELF binary":                   {append([]byte("\x7fELF\x02\x01\x01"), make([]byte, 64)...), false, "executable binary"},
		"a PE binary":                     {append([]byte("MZ\x90\x00"), make([]byte, 64)...), false, "executable binary"},
		"an executable file with NULs":    {[]byte("#!x\x00\x00\x00 binary"), true, "not text"},
		"a file over 2 MiB":               {bytes.Repeat([]byte("a\n"), 1<<20+1), false, "over the 2 MiB limit"},
		"a large binary is named as such": {append([]byte("\x7fELF"), make([]byte, 3<<20)...), true, "over the 2 MiB limit"},
	} {
		t.Run(name, func(t *testing.T) {
			var exe []string
			if c.executable {
				exe = []string{"blob"}
			}
			err, out := checkTracked(t, map[string][]byte{"ok.go": []byte("package ok\n"), "blob": c.body}, exe...)
			if err == nil {
				t.Fatalf("accepted %s:\n%s", name, out)
			}
			if !strings.Contains(out, "blob") || !strings.Contains(out, c.says) {
				t.Fatalf("the message does not name the file and the problem (%q):\n%s", c.says, out)
			}
		})
	}
}
