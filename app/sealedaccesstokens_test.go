package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/adapters/memstore"
	"github.com/onestroke/onestroke/app"
	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
	"github.com/onestroke/onestroke/ports/porttest"
)

func TestSealAccessTokens_TheStoreNeverHoldsTheTokenAndAnotherSecretReadsNone(t *testing.T) {
	clock := porttest.NewClock(porttest.Start)
	inner := memstore.NewAccessTokens(clock.Now)
	sealer, err := domain.NewAccessTokenSealer(appSecret)
	require.NoError(t, err)
	store := app.SealAccessTokens(inner, sealer)
	ctx := context.Background()

	ok, err := store.Lease(ctx, "holder-1", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	tok := ports.StoredAccessToken{Token: "ACCESS-TOKEN-1234567890", Expires: clock.Now().Add(2 * time.Hour).Add(123456 * time.Nanosecond)}
	done, err := store.Complete(ctx, "holder-1", tok, clock.Now())
	require.NoError(t, err)
	require.True(t, done)

	raw, err := inner.Current(ctx)
	require.NoError(t, err)
	assert.NotEmpty(t, raw.Token)
	assert.NotContains(t, raw.Token.Reveal(), "ACCESS-TOKEN", "the store holds it sealed")
	got, err := store.Current(ctx)
	require.NoError(t, err)
	assert.Equal(t, domain.AccessToken("ACCESS-TOKEN-1234567890"), got.Token, "and it opens")
	assert.Equal(t, tok.Expires.UnixMilli(), got.Expires.UnixMilli())

	other, err := domain.NewAccessTokenSealer("another-app-secret-0123")
	require.NoError(t, err)
	none, err := app.SealAccessTokens(inner, other).Current(ctx)
	require.NoError(t, err)
	assert.Zero(t, none, "sealed under another secret: as no token")
}
