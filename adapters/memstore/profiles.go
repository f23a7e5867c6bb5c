package memstore

import (
	"context"
	"sync"

	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
)

var _ ports.ProfileRepository = (*Profiles)(nil)

// Profiles keeps the modern protocol's profiles in memory: for tests and
// for development until the drawing store's database keeps them (the
// bbolt and MongoDB repositories). Unlike sessions, profiles are not meant
// to vanish on restart; production wiring must not use this one.
type Profiles struct {
	mu sync.Mutex
	m  map[string]domain.Profile
}

// NewProfiles returns an empty repository.
func NewProfiles() *Profiles { return &Profiles{m: map[string]domain.Profile{}} }

// Profile implements ports.ProfileRepository.
func (p *Profiles) Profile(ctx context.Context, owner string) (domain.Profile, error) {
	if err := ctx.Err(); err != nil {
		return domain.Profile{}, domain.Wrap(domain.EUNAVAILABLE, err, "The profile lookup was cancelled.")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.m[owner], nil
}

// UpdateProfile implements ports.ProfileRepository. The update runs under
// the lock: concurrent updates of one owner apply one after the other.
func (p *Profiles) UpdateProfile(ctx context.Context, owner string, update func(domain.Profile) (domain.Profile, error)) (domain.Profile, error) {
	if err := ctx.Err(); err != nil {
		return domain.Profile{}, domain.Wrap(domain.EUNAVAILABLE, err, "The profile update was cancelled.")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	next, err := update(p.m[owner])
	if err != nil {
		return domain.Profile{}, err
	}
	if next.IsZero() {
		delete(p.m, owner)
	} else {
		p.m[owner] = next
	}
	return next, nil
}

// Len returns the number of stored profiles; for tests.
func (p *Profiles) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.m)
}
