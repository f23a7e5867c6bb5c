package domain_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/onestroke/onestroke/domain"
)

// FuzzAppendJSONString holds AppendJSONString to encoding/json's output,
// and the quoted form of actions to their text and size.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", `"quoted" \ back`, "\n\r\t\b\f\x00\x1f", "<&>", "一笔到底🎨", "\xff\xfe bad", "\u2028\u2029", `[{"type":"lineTo","x":1}]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		got := domain.AppendJSONString([]byte("prefix"), s)
		if !bytes.Equal(got, append([]byte("prefix"), bytes.TrimSuffix(want.Bytes(), []byte("\n"))...)) {
			t.Fatalf("AppendJSONString(%q) = %s, encoding/json: %s", s, got, want.Bytes())
		}
		if a, err := domain.ParseActions(s, len(s)); err == nil {
			back, err := domain.ActionsFromStorageQuoted(a.Quoted())
			if err != nil || back.Text() != s {
				t.Fatalf("actions %q: quoted %s gives back %q (%v)", s, a.Quoted(), back.Text(), err)
			}
			if back.Size() != len(s) {
				t.Fatalf("actions %q: Size of the quoted form %d, want %d", s, back.Size(), len(s))
			}
		}
	})
}
