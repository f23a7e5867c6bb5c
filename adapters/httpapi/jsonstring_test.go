package httpapi

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzAppendJSONString holds appendJSONString to encoding/json's output.
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
		var got bytes.Buffer
		appendJSONString(&got, s)
		if !bytes.Equal(got.Bytes(), bytes.TrimSuffix(want.Bytes(), []byte("\n"))) {
			t.Fatalf("appendJSONString(%q) = %s, encoding/json: %s", s, got.Bytes(), want.Bytes())
		}
	})
}
