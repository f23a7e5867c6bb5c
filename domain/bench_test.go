package domain_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/onestroke/onestroke/domain"
)

const benchKey = domain.SessionKey("HyVFkGl5F5OQWJZZaNzBBg==")

var benchRaw = `{"nickName":"一笔到底🎨","gender":1,"language":"zh_CN","city":"Shenzhen","province":"Guangdong","country":"China","avatarUrl":"https://wx.qlogo.cn/mmopen/vi_32/Q0j4TwGTfTLicIcP1IKnh0ibBX6kWQLtmic8OUo2ELbnbsic6qaoGZUbcwiaZkVmx6oj7bw/132"}`

// BenchmarkFirstRequestHeaders is the CPU work of a first request's
// headers: percent-decoding rawData, parsing it, checking the signature and
// building the user info.
func BenchmarkFirstRequestHeaders(b *testing.B) {
	encoded := domain.EncodeRawData(benchRaw)
	sig := domain.Sign(benchRaw, benchKey)
	b.ReportAllocs()
	for b.Loop() {
		raw, err := domain.DecodeRawData(encoded)
		if err != nil {
			b.Fatal(err)
		}
		if err := domain.VerifySignature(raw, benchKey, sig); err != nil {
			b.Fatal(err)
		}
		_ = domain.NewUserInfo(raw, "oGZUI0egBJY1zhBYw2KhdUfwVJJE")
	}
}

// BenchmarkUserInfoFromJSON is the per-request work of the cached path:
// rebuilding the user from what the session store holds.
func BenchmarkUserInfoFromJSON(b *testing.B) {
	raw, _ := domain.DecodeRawData(domain.EncodeRawData(benchRaw))
	stored := domain.NewUserInfo(raw, "oGZUI0egBJY1zhBYw2KhdUfwVJJE").JSON()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := domain.UserInfoFromJSON(stored); err != nil {
			b.Fatal(err)
		}
	}
}

// Actions2000 is a realistic 2,000-action canvas list.
func Actions2000() string {
	var sb strings.Builder
	sb.WriteByte('[')
	for i := 0; i < 2000; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"type":"lineTo","x":%d.5,"y":%d.25,"color":"#ff0000","width":3}`, i%375, i%667)
	}
	sb.WriteByte(']')
	return sb.String()
}

func BenchmarkParseActions2000(b *testing.B) {
	actions := Actions2000()
	b.SetBytes(int64(len(actions)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := domain.ParseActions(actions, domain.DefaultMaxActionsBytes); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQuoteActions2000 is the one pass that turns a saved drawing's
// actions into the JSON string form the embedded store keeps.
func BenchmarkQuoteActions2000(b *testing.B) {
	actions := Actions2000()
	b.SetBytes(int64(len(actions)))
	b.ReportAllocs()
	for b.Loop() {
		_ = domain.ActionsFromStorage(actions).Quoted()
	}
}
