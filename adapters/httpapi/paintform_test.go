package httpapi

import (
	"encoding/json"
	"testing"
)

// FuzzDecodePaintForm holds the fast body decoder to encoding/json: when it
// takes a body, encoding/json takes it too, with the same id and actions.
func FuzzDecodePaintForm(f *testing.F) {
	for _, s := range []string{
		`{"id":"d1","actions":"[]"}`,
		` { "actions" : "[{\"type\":\"lineTo\",\"x\":1.5}]" , "id" : "mi3k9x2a7q4z" } `,
		`{"id":"d1","actions":"\u4e00\u7b14 \ud83c\udfa8 \\ \/ \b\f\n\r\t"}`,
		`{"id":"d1","id":"d2"}`, `{}`, `{"ID":"d1"}`, `{"id":1}`, `{"id":null}`, `{"id":"d1"} x`,
		`{"id":"d1",}`, `{"id":"\ud800"}`, "{\"id\":\"\xff\"}", `{"i\u0064":"d1"}`, `{"actions":"a	b"}`,
		`[]`, `"str"`, ``, `{"id":"d1","other":2}`, `{"id":"d1" "actions":"x"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, ok := decodePaintForm(body)
		if !ok {
			return
		}
		var want paintForm
		if err := json.Unmarshal(body, &want); err != nil {
			t.Fatalf("fast path took %q, encoding/json refuses it: %v", body, err)
		}
		if got != want {
			t.Fatalf("body %q: fast path %+v, encoding/json %+v", body, got, want)
		}
	})
}

func TestDecodePaintForm_TakesWhatClientsSend(t *testing.T) {
	for _, body := range []string{
		`{"id":"d1","actions":"[]"}`,
		`{"actions":"[{\"type\":\"moveTo\",\"x\":10,\"y\":20}]","id":"mi3k9x2a7q4z"}`,
		"{\n  \"id\": \"d1\",\n  \"actions\": \"[\\\"\\u4e00\\\"]\"\n}",
		`{"id":"d1"}`,
	} {
		got, ok := decodePaintForm([]byte(body))
		if !ok {
			t.Errorf("fast path refused %s", body)
			continue
		}
		var want paintForm
		if err := json.Unmarshal([]byte(body), &want); err != nil || got != want {
			t.Errorf("%s: got %+v, encoding/json %+v (%v)", body, got, want, err)
		}
	}
}

// BenchmarkSaveBody decodes a save body of 2,000 actions (about 160 kB),
// the fast path against encoding/json.
func BenchmarkSaveBody(b *testing.B) {
	var actions []byte
	actions = append(actions, '[')
	for i := range 2000 {
		if i > 0 {
			actions = append(actions, ',')
		}
		actions = append(actions, `{"type":"lineTo","x":123.5,"y":456.25,"color":"#ff0000","width":3}`...)
	}
	actions = append(actions, ']')
	body, _ := json.Marshal(paintForm{ID: "mi3k9x2a7q4z", Actions: string(actions)})
	b.Run("fast", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := decodePaintForm(body); !ok {
				b.Fatal("refused")
			}
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			var f paintForm
			if err := json.Unmarshal(body, &f); err != nil {
				b.Fatal(err)
			}
		}
	})
}
