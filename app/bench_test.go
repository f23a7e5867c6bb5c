package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/onestroke/onestroke/adapters/memstore"
	"github.com/onestroke/onestroke/app"
	"github.com/onestroke/onestroke/domain"
)

// BenchmarkAuthenticate_Cached is a code-only request through the session
// use case with the in-memory store.
func BenchmarkAuthenticate_Cached(b *testing.B) {
	store := memstore.NewSessionStore(nil)
	s := &app.SessionService{Store: store, Exchanger: newWeChat(), TTL: time.Hour}
	if _, err := s.Authenticate(context.Background(), firstHeaders("c1")); err != nil {
		b.Fatal(err)
	}
	c := domain.Credentials{Code: "c1"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Authenticate(context.Background(), c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuthenticate_RepeatOfVerifiedHeaders is a first request whose
// headers were already verified: answered from the store.
func BenchmarkAuthenticate_RepeatOfVerifiedHeaders(b *testing.B) {
	store := memstore.NewSessionStore(nil)
	s := &app.SessionService{Store: store, Exchanger: newWeChat(), TTL: time.Hour}
	c := firstHeaders("c1")
	if _, err := s.Authenticate(context.Background(), c); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Authenticate(context.Background(), c); err != nil {
			b.Fatal(err)
		}
	}
}
