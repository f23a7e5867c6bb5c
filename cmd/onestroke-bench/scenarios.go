package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/onestroke/onestroke/adapters/wechat/wechattest"
)

// Request sources of the orchestrator's scenarios. Every request is built
// before the clock starts; the hot loop only hands out byte slices.

// cachedSources: worker i sends the cached-session request of its own
// signed-in user (X-WX-Code only), again and again.
func cachedSources(host, path string, codes []string) func(i int) Source {
	reqs := make([][]byte, len(codes))
	for i, c := range codes {
		reqs[i] = getRequest(host, path, "X-WX-Code: "+c)
	}
	return func(i int) Source { return &fixedSource{parts: [][]byte{reqs[i%len(reqs)]}} }
}

// firstLoginRequest is the first request of a visit: code, rawData and
// signature, as the mini-program sends them.
func firstLoginRequest(host, path string, d wechattest.Device) []byte {
	return getRequest(host, path,
		"X-WX-Code: "+d.Code,
		"X-WX-RawData: "+wechattest.EncodeURIComponent(d.RawData),
		"X-WX-Signature: "+d.Signature)
}

// actionsText returns the JSON text of a canvas action list of n actions,
// the way the draw page records strokes: a moveTo, then lineTo points with
// their colour and width, deterministic for a seed.
func actionsText(n int, seed uint64) string {
	rng := rand.New(rand.NewPCG(seed, 0x6f6e657374726f6b))
	colors := []string{"#ff0000", "#00a0e9", "#333333", "#22ac38", "#f39800"}
	var b strings.Builder
	b.Grow(n * 70)
	b.WriteByte('[')
	color, width := colors[0], 3
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		typ := "lineTo"
		if i%200 == 0 { // a new stroke now and then, sometimes in another pen
			typ = "moveTo"
			color, width = colors[rng.IntN(len(colors))], 1+rng.IntN(8)
		}
		// Canvas coordinates in quarter pixels, as touch events give them.
		x := float64(rng.IntN(375*4)) / 4
		y := float64(rng.IntN(600*4)) / 4
		b.WriteString(`{"type":"`)
		b.WriteString(typ)
		b.WriteString(`","x":`)
		b.WriteString(strconv.FormatFloat(x, 'f', -1, 64))
		b.WriteString(`,"y":`)
		b.WriteString(strconv.FormatFloat(y, 'f', -1, 64))
		b.WriteString(`,"color":"`)
		b.WriteString(color)
		b.WriteString(`","width":`)
		b.WriteString(strconv.Itoa(width))
		b.WriteByte('}')
	}
	b.WriteByte(']')
	return b.String()
}

// saveBody is the JSON body of a save: {"id": id, "actions": "<text>"}.
func saveBody(id, actions string) []byte {
	b, _ := json.Marshal(struct {
		ID      string `json:"id"`
		Actions string `json:"actions"`
	}{id, actions})
	return b
}

// saveSources: worker i saves one shared 2,000-action drawing as its own
// user, cycling through idsPerWorker ids, so that most saves replace a
// drawing (the draw page re-opens and saves again) and the store does not
// grow without bound. The escaped action text, the bulk of each body, is
// one shared slice, written with writev after the per-request head.
func saveSources(host, path string, codes []string, actions string, idsPerWorker int) func(i int) Source {
	escaped, _ := json.Marshal(actions) // the JSON string, quotes included
	tail := []byte("}")
	return func(i int) Source {
		code := codes[i%len(codes)]
		reqs := make([][][]byte, idsPerWorker)
		for k := range reqs {
			id := fmt.Sprintf("bw%03dd%02d", i, k) // like the client's base36 ids
			prefix := `{"id":"` + id + `","actions":`
			bodyLen := len(prefix) + len(escaped) + len(tail)
			head := postHead(host, path, "application/json", bodyLen, "X-WX-Code: "+code)
			reqs[k] = [][]byte{append(head, prefix...), escaped, tail}
		}
		return &rotatingSource{reqs: reqs}
	}
}

// bearerSources: worker i sends the cached request of the modern protocol
// as its own signed-in user: GET path with its bearer token.
func bearerSources(host, path string, tokens []string) func(i int) Source {
	reqs := make([][]byte, len(tokens))
	for i, t := range tokens {
		reqs[i] = getRequest(host, path, "Authorization: Bearer "+t)
	}
	return func(i int) Source { return &fixedSource{parts: [][]byte{reqs[i%len(reqs)]}} }
}

// v2LoginRequest is a modern login: POST path {"code": code}.
func v2LoginRequest(host, path, code string) []byte {
	body := `{"code":"` + code + `"}`
	return append(postHead(host, path, "application/json", len(body)), body...)
}

// seedStrokes is a drawing in the seed's format (PROTOCOL §7.1: per
// stroke save, setStrokeStyle ["normal", COLOR], setLineWidth [5],
// strokePath of moveTo/lineTo, restore), strokes of points points each in
// the seed's seven colours over a phone's canvas: 5 × strokes actions.
func seedStrokes(strokes, points int, seed uint64) string {
	rng := rand.New(rand.NewPCG(seed, 0x7365656473747273))
	colours := []string{"#666666", "#FF0000", "#FFA500", "#FFFF00", "#008000", "#0000FF", "#8A2BE2"}
	var b strings.Builder
	b.WriteByte('[')
	for s := 0; s < strokes; s++ {
		if s > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"method":"save","data":[]},{"method":"setStrokeStyle","data":["normal","%s"]},{"method":"setLineWidth","data":[5]},{"method":"strokePath","data":[`, colours[s%len(colours)])
		x, y := float64(rng.IntN(375)), float64(rng.IntN(600))
		for p := 0; p < points; p++ {
			if p > 0 {
				b.WriteByte(',')
				x = min(375, max(0, x+float64(rng.IntN(41)-20)))
				y = min(600, max(0, y+float64(rng.IntN(41)-20)))
			}
			op := "lineTo"
			if p == 0 {
				op = "moveTo"
			}
			fmt.Fprintf(&b, `{"method":"%s","data":[%g,%g]}`, op, x, y)
		}
		b.WriteString(`]},{"method":"restore","data":[]}`)
	}
	b.WriteByte(']')
	return b.String()
}
