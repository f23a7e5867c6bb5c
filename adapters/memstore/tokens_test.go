package memstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/adapters/memstore"
	"github.com/onestroke/onestroke/ports"
	"github.com/onestroke/onestroke/ports/porttest"
)

func TestTokenSessionsContract(t *testing.T) {
	porttest.TestTokenSessionStore(t, func(t *testing.T) porttest.TokenSessionHarness {
		return porttest.TokenSessionHarness{Store: memstore.NewTokenSessions()}
	})
}

func TestLoginCodesContract(t *testing.T) {
	porttest.TestLoginCodes(t, func(t *testing.T) porttest.LoginCodesHarness {
		clock := porttest.NewClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
		return porttest.LoginCodesHarness{Codes: memstore.NewLoginCodes(clock.Now), Advance: clock.Advance}
	})
}

func TestProfilesContract(t *testing.T) {
	porttest.TestProfileRepository(t, func(t *testing.T) ports.ProfileRepository { return memstore.NewProfiles() })
}

// Claims cost the same however many codes the last minutes saw: the walk
// over ended codes runs once a minute, not in every claim (it ran in every
// claim past 1,024 codes, and a burst of logins went quadratic), and it
// does run.
func TestLoginCodes_EndedCodesAreSweptOnceAMinuteNotPerClaim(t *testing.T) {
	clock := porttest.NewClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	c := memstore.NewLoginCodes(clock.Now)
	ctx := context.Background()
	for i := range 2000 {
		_, _, err := c.Claim(ctx, fmt.Sprintf("code-%d", i), time.Second)
		require.NoError(t, err)
	}
	clock.Advance(2 * time.Second) // every claim has ended
	_, _, err := c.Claim(ctx, "a-later-code", time.Second)
	require.NoError(t, err)
	assert.Equal(t, 2001, c.Len(), "no walk within the minute")
	clock.Advance(time.Minute)
	_, _, err = c.Claim(ctx, "the-next-minute", time.Second)
	require.NoError(t, err)
	assert.Equal(t, 1, c.Len(), "the ended codes are gone at the minute's sweep")
}
