//go:build pact

// Package pact holds the contract suites (pact-go v2): the service as the
// consumer of WeChat's code2Session, and the service as the provider the
// mini-program client library (client/) verifies against. They need the
// native pact library: `make pact` (and `make test`) fetch the pinned one
// with scripts/pact-ffi.sh and build with the pact tag.
package pact

import (
	"io"

	"github.com/pact-foundation/pact-go/v2/log"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

var (
	_, thisFile, _, _ = runtime.Caller(0)
	repoRoot          = filepath.Join(filepath.Dir(thisFile), "..", "..")
	// wechatPactDir holds the committed WeChat pact, written by the consumer tests.
	wechatPactDir = filepath.Join(repoRoot, "tests", "pact", "pacts")
	// clientPact is the committed pact of the client library (client/pacts).
	clientPact = filepath.Join(repoRoot, "client", "pacts", "onestroke-miniprogram-client-onestroke.json")
)

func TestMain(m *testing.M) {
	os.Setenv("PACT_DO_NOT_TRACK", "true")
	log.SetLogLevel("WARN")
	if os.Getenv("PACT_LOG_LEVEL") == "" {
		os.Setenv("PACT_LOG_LEVEL", "WARN")
	}
	os.Exit(m.Run())
}

func bodyOf(s string) io.ReadCloser { return io.NopCloser(strings.NewReader(s)) }
