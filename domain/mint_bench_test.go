package domain_test

import (
	"testing"

	"github.com/onestroke/onestroke/domain"
)

// BenchmarkMintToken is the token of one v2 login: fresh 32-byte draws
// until one's digest falls into the user's shard (about 64 of them).
func BenchmarkMintToken(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := domain.MintToken("oGZUI0egBJY1zhBYw2KhdUfwVJJE"); err != nil {
			b.Fatal(err)
		}
	}
}
