package memstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/adapters/memstore"
	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports/porttest"
)

func TestSessionStoreContract(t *testing.T) {
	porttest.TestSessionStore(t, func(t *testing.T) porttest.SessionHarness {
		clock := porttest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		return porttest.SessionHarness{Store: memstore.NewSessionStore(clock.Now), Advance: clock.Advance}
	})
}

func TestSessionStore_SweepDropsExpiredEntries(t *testing.T) {
	clock := porttest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s := memstore.NewSessionStore(clock.Now)
	ctx := context.Background()
	for i := 0; i < 100; i++ {
		u := porttest.User(t, fmt.Sprintf("o%d", i), `{}`)
		require.NoError(t, s.Login(ctx, domain.Session{Code: fmt.Sprintf("c%d", i), User: u}, time.Minute))
	}
	assert.Equal(t, 100, s.Len())
	clock.Advance(2 * time.Minute)
	require.NoError(t, s.Login(ctx, domain.Session{Code: "fresh", User: porttest.User(t, "oFRESH", `{}`)}, time.Minute))
	assert.Equal(t, 1, s.Len(), "expired sessions do not accumulate")
}

func TestSessionStore_CancelledContextIsUnavailable(t *testing.T) {
	s := memstore.NewSessionStore(nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Get(ctx, "c")
	assert.Equal(t, domain.EUNAVAILABLE, domain.ErrorCode(err))
}
