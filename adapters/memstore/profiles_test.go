package memstore_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/adapters/memstore"
	"github.com/onestroke/onestroke/domain"
)

// Cases of the in-memory adapter beyond the contract suite
// (porttest.TestProfileRepository, run in tokens_test.go).

func ptr(s string) *string { return &s }

func TestProfiles_UnknownOwnerHasTheZeroProfile(t *testing.T) {
	p, err := memstore.NewProfiles().Profile(context.Background(), "oNOBODY")
	require.NoError(t, err)
	assert.True(t, p.IsZero())
}

func TestProfiles_UpdateIsStoredAndScopedToTheOwner(t *testing.T) {
	ctx := context.Background()
	r := memstore.NewProfiles()
	got, err := r.UpdateProfile(ctx, "oALICE", func(p domain.Profile) (domain.Profile, error) {
		assert.True(t, p.IsZero(), "called with the zero profile first")
		return p.Apply(domain.ProfileUpdate{NickName: ptr("Alice 一笔")})
	})
	require.NoError(t, err)
	assert.Equal(t, "Alice 一笔", got.NickName())
	got, err = r.UpdateProfile(ctx, "oALICE", func(p domain.Profile) (domain.Profile, error) {
		assert.Equal(t, "Alice 一笔", p.NickName(), "called with the stored profile")
		return p.Apply(domain.ProfileUpdate{AvatarURL: ptr("https://cdn.example/a.png")})
	})
	require.NoError(t, err)
	stored, err := r.Profile(ctx, "oALICE")
	require.NoError(t, err)
	assert.Equal(t, got, stored)
	assert.Equal(t, "Alice 一笔", stored.NickName(), "fields not in the update stay")
	bob, err := r.Profile(ctx, "oBOB")
	require.NoError(t, err)
	assert.True(t, bob.IsZero(), "another owner's profile is its own")
}

func TestProfiles_AFailedUpdateStoresNothing(t *testing.T) {
	ctx := context.Background()
	r := memstore.NewProfiles()
	_, err := r.UpdateProfile(ctx, "oALICE", func(p domain.Profile) (domain.Profile, error) {
		return p.Apply(domain.ProfileUpdate{NickName: ptr("Alice")})
	})
	require.NoError(t, err)
	_, err = r.UpdateProfile(ctx, "oALICE", func(p domain.Profile) (domain.Profile, error) {
		return p.Apply(domain.ProfileUpdate{NickName: ptr("Mallory"), AvatarURL: ptr("http://not-https.example/a.png")})
	})
	assert.Equal(t, domain.EINVALID, domain.ErrorCode(err), "the update's error is returned")
	stored, err := r.Profile(ctx, "oALICE")
	require.NoError(t, err)
	assert.Equal(t, "Alice", stored.NickName(), "nothing of the failed update is stored")
}

func TestProfiles_ConcurrentUpdatesOfOneOwnerAreAtomic(t *testing.T) {
	ctx := context.Background()
	r := memstore.NewProfiles()
	var wg sync.WaitGroup
	for range 30 {
		wg.Go(func() {
			_, err := r.UpdateProfile(ctx, "oALICE", func(p domain.Profile) (domain.Profile, error) {
				return p.Apply(domain.ProfileUpdate{NickName: ptr(p.NickName() + "x")})
			})
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	p, err := r.Profile(ctx, "oALICE")
	require.NoError(t, err)
	assert.Len(t, p.NickName(), 30, "no update was lost")
}

func TestProfiles_ACancelledCallIsUnavailable(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := memstore.NewProfiles()
	_, err := r.Profile(ctx, "oALICE")
	assert.Equal(t, domain.EUNAVAILABLE, domain.ErrorCode(err))
	_, err = r.UpdateProfile(ctx, "oALICE", func(p domain.Profile) (domain.Profile, error) { return p, nil })
	assert.Equal(t, domain.EUNAVAILABLE, domain.ErrorCode(err))
}
