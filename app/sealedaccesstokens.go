package app

import (
	"context"
	"strconv"
	"time"

	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
)

// SealAccessTokens returns store with the token sealed at rest: Complete
// stores it sealed (domain.AccessTokenSealer, bound to its end), Current
// opens it. Anyone who reads the shared store (a Redis dump, a replica)
// finds no usable access_token there; a stored value that does not open
// (written under another app secret, or changed) reads as no token, so
// the next call fetches one.
func SealAccessTokens(store ports.AccessTokenStore, sealer *domain.AccessTokenSealer) ports.AccessTokenStore {
	return &sealedAccessTokens{AccessTokenStore: store, sealer: sealer}
}

type sealedAccessTokens struct {
	ports.AccessTokenStore
	sealer *domain.AccessTokenSealer
}

// bound ties a sealed token to its end (to the millisecond, as stores keep
// it): moved to another end, it does not open.
func bound(expires time.Time) string { return strconv.FormatInt(expires.UnixMilli(), 10) }

func (s *sealedAccessTokens) Current(ctx context.Context) (ports.StoredAccessToken, error) {
	cur, err := s.AccessTokenStore.Current(ctx)
	if err != nil || cur.Token == "" {
		return cur, err
	}
	tok, ok := s.sealer.Open(cur.Token, bound(cur.Expires))
	if !ok {
		return ports.StoredAccessToken{}, nil
	}
	return ports.StoredAccessToken{Token: tok, Expires: cur.Expires}, nil
}

func (s *sealedAccessTokens) Complete(ctx context.Context, holder string, tok ports.StoredAccessToken, now time.Time) (bool, error) {
	if tok.Token == "" {
		return s.AccessTokenStore.Complete(ctx, holder, tok, now) // the store refuses it
	}
	sealed, err := s.sealer.Seal(tok.Token, bound(tok.Expires))
	if err != nil {
		return false, err
	}
	return s.AccessTokenStore.Complete(ctx, holder, ports.StoredAccessToken{Token: sealed, Expires: tok.Expires}, now)
}
