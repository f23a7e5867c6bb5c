package porttest

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
)

// setProfile applies u to the owner's profile, as the profile use case does.
func setProfile(t testing.TB, repo ports.ProfileRepository, owner string, u domain.ProfileUpdate) domain.Profile {
	t.Helper()
	p, err := repo.UpdateProfile(context.Background(), owner, func(cur domain.Profile) (domain.Profile, error) { return cur.Apply(u) })
	require.NoError(t, err)
	return p
}

func text(s string) *string { return &s }

// TestProfileRepository runs the ProfileRepository contract. newRepo must
// return an empty repository isolated from every other test's.
func TestProfileRepository(t *testing.T, newRepo func(t *testing.T) ports.ProfileRepository) {
	ctx := context.Background()

	t.Run("Profile_OfAnOwnerWhoSetNoneIsZero", func(t *testing.T) {
		repo := newRepo(t)
		p, err := repo.Profile(ctx, "oNOBODY")
		require.NoError(t, err)
		assert.True(t, p.IsZero(), "%+v", p)
	})

	t.Run("UpdateProfile_SeesZeroFirstAndRoundTrips", func(t *testing.T) {
		repo := newRepo(t)
		var seen []domain.Profile
		stored, err := repo.UpdateProfile(ctx, "oALICE", func(cur domain.Profile) (domain.Profile, error) {
			seen = append(seen, cur)
			return cur.Apply(domain.ProfileUpdate{NickName: text("Alice"), AvatarURL: text("https://cdn.example.com/a.png")})
		})
		require.NoError(t, err)
		require.NotEmpty(t, seen)
		assert.True(t, seen[0].IsZero(), "update is called with the zero profile first")
		assert.Equal(t, "Alice", stored.NickName(), "UpdateProfile returns what it stored")
		assert.Equal(t, "https://cdn.example.com/a.png", stored.AvatarURL())

		got, err := repo.Profile(ctx, "oALICE")
		require.NoError(t, err)
		assert.Equal(t, stored, got)

		// a nil field of the next update keeps what is stored
		seen = nil
		next, err := repo.UpdateProfile(ctx, "oALICE", func(cur domain.Profile) (domain.Profile, error) {
			seen = append(seen, cur)
			return cur.Apply(domain.ProfileUpdate{NickName: text("Alice B.")})
		})
		require.NoError(t, err)
		require.NotEmpty(t, seen)
		assert.Equal(t, got, seen[len(seen)-1], "update is called with the stored profile")
		assert.Equal(t, "Alice B.", next.NickName())
		assert.Equal(t, "https://cdn.example.com/a.png", next.AvatarURL())
		got, err = repo.Profile(ctx, "oALICE")
		require.NoError(t, err)
		assert.Equal(t, next, got)
	})

	t.Run("UpdateProfile_StoresWhatUpdateReturns", func(t *testing.T) {
		repo := newRepo(t)
		setProfile(t, repo, "oALICE", domain.ProfileUpdate{NickName: text("Alice"), AvatarURL: text("https://cdn.example.com/a.png")})
		want := domain.UnmarshalProfileFromStorage("Replaced", "", domain.PhoneNumber{}, false)
		stored, err := repo.UpdateProfile(ctx, "oALICE", func(domain.Profile) (domain.Profile, error) { return want, nil })
		require.NoError(t, err)
		assert.Equal(t, want, stored)
		got, err := repo.Profile(ctx, "oALICE")
		require.NoError(t, err)
		assert.Equal(t, want, got, "an avatarUrl cleared by update stays cleared")
	})

	t.Run("UpdateProfile_UpdateErrorStoresNothing", func(t *testing.T) {
		repo := newRepo(t)
		before := setProfile(t, repo, "oALICE", domain.ProfileUpdate{NickName: text("Alice")})
		refusal := domain.Errorf(domain.EINVALID, "no")
		_, err := repo.UpdateProfile(ctx, "oALICE", func(cur domain.Profile) (domain.Profile, error) {
			changed, _ := cur.Apply(domain.ProfileUpdate{NickName: text("Mallory")})
			return changed, refusal // a changed profile with an error: nothing is stored
		})
		assert.Equal(t, domain.EINVALID, domain.ErrorCode(err))
		got, err := repo.Profile(ctx, "oALICE")
		require.NoError(t, err)
		assert.Equal(t, before, got)

		// the domain's own refusal (a good nickName, a bad avatarUrl)
		_, err = repo.UpdateProfile(ctx, "oALICE", func(cur domain.Profile) (domain.Profile, error) {
			return cur.Apply(domain.ProfileUpdate{NickName: text("Bob"), AvatarURL: text("http://insecure.example/a.png")})
		})
		assert.Equal(t, domain.EINVALID, domain.ErrorCode(err))
		got, err = repo.Profile(ctx, "oALICE")
		require.NoError(t, err)
		assert.Equal(t, before, got)

		// an owner who had none still has none
		_, err = repo.UpdateProfile(ctx, "oBOB", func(domain.Profile) (domain.Profile, error) {
			return domain.UnmarshalProfileFromStorage("Bob", "", domain.PhoneNumber{}, false), refusal
		})
		assert.Equal(t, domain.EINVALID, domain.ErrorCode(err))
		bob, err := repo.Profile(ctx, "oBOB")
		require.NoError(t, err)
		assert.True(t, bob.IsZero(), "%+v", bob)
	})

	t.Run("UpdateProfile_KeepsThePhoneNumberAndTheReviewFlag", func(t *testing.T) {
		repo := newRepo(t)
		cn := domain.PhoneNumber{PhoneNumber: "13800138000", PurePhoneNumber: "13800138000", CountryCode: "86"}
		abroad := domain.PhoneNumber{PhoneNumber: "+1 (415) 555-0100", PurePhoneNumber: "4155550100", CountryCode: "1"}

		// A phone number alone is a profile, and is kept by itself.
		stored, err := repo.UpdateProfile(ctx, "oALICE", func(cur domain.Profile) (domain.Profile, error) { return cur.WithPhoneNumber(cn) })
		require.NoError(t, err)
		assert.Equal(t, cn, stored.PhoneNumber())
		got, err := repo.Profile(ctx, "oALICE")
		require.NoError(t, err)
		assert.Equal(t, stored, got)
		assert.False(t, got.IsZero())

		// A nickName judged "review" is stored flagged; the phone number stays.
		flagged, err := repo.UpdateProfile(ctx, "oALICE", func(cur domain.Profile) (domain.Profile, error) {
			return cur.Apply(domain.ProfileUpdate{NickName: text("可疑的名字"), AvatarURL: text("https://cdn.example.com/a.png"), NickNameVerdict: domain.ContentReview})
		})
		require.NoError(t, err)
		got, err = repo.Profile(ctx, "oALICE")
		require.NoError(t, err)
		assert.Equal(t, flagged, got)
		assert.True(t, got.NickNameInReview(), "the flag is stored")
		assert.Equal(t, cn, got.PhoneNumber(), "the phone number is kept by a profile update")
		assert.Equal(t, "可疑的名字", got.NickName())

		// A new phone number replaces the old one and keeps the flag.
		_, err = repo.UpdateProfile(ctx, "oALICE", func(cur domain.Profile) (domain.Profile, error) { return cur.WithPhoneNumber(abroad) })
		require.NoError(t, err)
		got, err = repo.Profile(ctx, "oALICE")
		require.NoError(t, err)
		assert.Equal(t, abroad, got.PhoneNumber(), "every part of the number, byte for byte")
		assert.True(t, got.NickNameInReview())

		// A nickName that passes clears the flag, and the cleared flag is what is read.
		_, err = repo.UpdateProfile(ctx, "oALICE", func(cur domain.Profile) (domain.Profile, error) {
			return cur.Apply(domain.ProfileUpdate{NickName: text("Alice"), NickNameVerdict: domain.ContentPass})
		})
		require.NoError(t, err)
		got, err = repo.Profile(ctx, "oALICE")
		require.NoError(t, err)
		assert.False(t, got.NickNameInReview(), "the flag is cleared in the store")
		assert.Equal(t, abroad, got.PhoneNumber())
		assert.Equal(t, "https://cdn.example.com/a.png", got.AvatarURL())

		// A flag alone (no phone number) round-trips too.
		only := domain.UnmarshalProfileFromStorage("Bob", "", domain.PhoneNumber{}, true)
		_, err = repo.UpdateProfile(ctx, "oBOB", func(domain.Profile) (domain.Profile, error) { return only, nil })
		require.NoError(t, err)
		bob, err := repo.Profile(ctx, "oBOB")
		require.NoError(t, err)
		assert.Equal(t, only, bob)

		// A refused update keeps all of it.
		before, err := repo.Profile(ctx, "oALICE")
		require.NoError(t, err)
		_, err = repo.UpdateProfile(ctx, "oALICE", func(cur domain.Profile) (domain.Profile, error) {
			return cur.Apply(domain.ProfileUpdate{NickName: text("坏"), NickNameVerdict: domain.ContentRisky})
		})
		assert.Equal(t, domain.ECONTENTRISKY, domain.ErrorCode(err))
		got, err = repo.Profile(ctx, "oALICE")
		require.NoError(t, err)
		assert.Equal(t, before, got)
	})

	t.Run("Owner_ProfilesAreIsolated", func(t *testing.T) {
		repo := newRepo(t)
		setProfile(t, repo, "oALICE", domain.ProfileUpdate{NickName: text("Alice"), AvatarURL: text("https://cdn.example.com/alice.png")})
		bob, err := repo.Profile(ctx, "oBOB")
		require.NoError(t, err)
		assert.True(t, bob.IsZero(), "bob never sees alice's profile")

		var seen domain.Profile
		_, err = repo.UpdateProfile(ctx, "oBOB", func(cur domain.Profile) (domain.Profile, error) {
			seen = cur
			return cur.Apply(domain.ProfileUpdate{NickName: text("Bob")})
		})
		require.NoError(t, err)
		assert.True(t, seen.IsZero(), "bob's update starts from bob's (zero) profile")

		alice, err := repo.Profile(ctx, "oALICE")
		require.NoError(t, err)
		assert.Equal(t, "Alice", alice.NickName(), "alice's profile is not overwritten")
		assert.Equal(t, "https://cdn.example.com/alice.png", alice.AvatarURL())
		bob, err = repo.Profile(ctx, "oBOB")
		require.NoError(t, err)
		assert.Equal(t, "Bob", bob.NickName())
		assert.Equal(t, "", bob.AvatarURL())

		// owners that are prefixes of each other, or differ only in case
		for _, other := range []string{"oALIC", "oALICEx", "oalice"} {
			p, err := repo.Profile(ctx, other)
			require.NoError(t, err)
			assert.True(t, p.IsZero(), other)
		}
	})

	t.Run("Concurrency_UpdatesOfOneOwnerAreNotLost", func(t *testing.T) {
		repo := newRepo(t)
		// Each writer appends its own digit to the nickName: a lost update
		// shows as a missing digit, whatever order they ran in.
		const writers = 10
		var wg sync.WaitGroup
		errs := make([]error, writers)
		for i := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = repo.UpdateProfile(ctx, "oALICE", func(cur domain.Profile) (domain.Profile, error) {
					return cur.Apply(domain.ProfileUpdate{NickName: text(cur.NickName() + strconv.Itoa(i))})
				})
			}()
		}
		wg.Wait()
		for i, err := range errs {
			require.NoError(t, err, "writer %d", i)
		}
		got, err := repo.Profile(ctx, "oALICE")
		require.NoError(t, err)
		digits := strings.Split(got.NickName(), "")
		sort.Strings(digits)
		assert.Equal(t, "0123456789", strings.Join(digits, ""), "every writer's digit is kept once (stored %q)", got.NickName())
	})

	t.Run("Concurrency_UpdatesOfDifferentOwnersAreAllKept", func(t *testing.T) {
		repo := newRepo(t)
		var wg sync.WaitGroup
		for i := range 5 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				owner := "oUSER" + strconv.Itoa(i)
				_, err := repo.UpdateProfile(ctx, owner, func(cur domain.Profile) (domain.Profile, error) {
					return cur.Apply(domain.ProfileUpdate{NickName: text(owner)})
				})
				assert.NoError(t, err, owner)
			}()
		}
		wg.Wait()
		for i := range 5 {
			owner := "oUSER" + strconv.Itoa(i)
			p, err := repo.Profile(ctx, owner)
			require.NoError(t, err)
			assert.Equal(t, owner, p.NickName())
		}
	})

	t.Run("Unicode_IsKeptByteForByte", func(t *testing.T) {
		repo := newRepo(t)
		nick := "一笔到底🎨 e\u0301\u00e9 👩\u200d👩\u200d👧"          // NFD and NFC é, a ZWJ sequence
		avatar := "https://例子.测试/头像/%E5%A4%B4.png?名=值&a=<b>#片" // non-ASCII host, path, query, fragment
		require.NoError(t, domain.ValidateNickName(nick))
		require.NoError(t, domain.ValidateAvatarURL(avatar))
		setProfile(t, repo, "o用户", domain.ProfileUpdate{NickName: text(nick), AvatarURL: text(avatar)})
		got, err := repo.Profile(ctx, "o用户")
		require.NoError(t, err)
		assert.Equal(t, []byte(nick), []byte(got.NickName()))
		assert.Equal(t, []byte(avatar), []byte(got.AvatarURL()))
	})

	t.Run("Cancelled_ContextIsUnavailableAndStoresNothing", func(t *testing.T) {
		repo := newRepo(t)
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		_, err := repo.Profile(cancelled, "oALICE")
		assert.Equal(t, domain.EUNAVAILABLE, domain.ErrorCode(err))
		_, err = repo.UpdateProfile(cancelled, "oALICE", func(cur domain.Profile) (domain.Profile, error) {
			return cur.Apply(domain.ProfileUpdate{NickName: text("Alice")})
		})
		assert.Equal(t, domain.EUNAVAILABLE, domain.ErrorCode(err))
		p, err := repo.Profile(ctx, "oALICE")
		require.NoError(t, err)
		assert.True(t, p.IsZero(), "%+v", p)
	})
}
