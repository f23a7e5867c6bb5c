package memstore

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
)

var _ ports.DrawingRepository = (*Drawings)(nil)

// Drawings is the in-memory drawing repository, for tests and benchmarks:
// what it holds vanishes with the process. Each owner's drawings sit in a
// map by id and in two sorted indexes, one per order (the legacy list's and
// the v2 pages'), so that a page is a binary search and a slice of the rows
// it returns, whatever the owner keeps. The zero value is not usable; call
// NewDrawings.
type Drawings struct {
	mu     sync.RWMutex
	owners map[string]*ownerDrawings
}

type ownerDrawings struct {
	byID map[string]*domain.Drawing
	// byUpdated is the legacy list's order: updatedAt desc, then id asc.
	byUpdated []position
	// byCreated is the v2 pages' order: createdAt desc, then id desc.
	byCreated []position
	usage     domain.Usage
}

// position is a drawing's place in an index: its time (Unix nanoseconds)
// and id.
type position struct {
	at int64
	id string
}

func byUpdatedOrder(a, b position) int {
	return cmp.Or(cmp.Compare(b.at, a.at), strings.Compare(a.id, b.id))
}

func byCreatedOrder(a, b position) int {
	return cmp.Or(cmp.Compare(b.at, a.at), strings.Compare(b.id, a.id))
}

// NewDrawings returns an empty repository.
func NewDrawings() *Drawings { return &Drawings{owners: map[string]*ownerDrawings{}} }

func drawingsCancelled(ctx context.Context, what string) error {
	if err := ctx.Err(); err != nil {
		return domain.Wrap(domain.EUNAVAILABLE, err, what+" was cancelled.")
	}
	return nil
}

// clone copies a drawing so that no caller shares the stored one (its
// strings are immutable: a copy of the struct is a copy of the drawing).
func clone(d *domain.Drawing) *domain.Drawing {
	c := *d
	return &c
}

// Save implements ports.DrawingRepository: update runs under the
// repository's lock, so a save is atomic and the quota exact.
func (r *Drawings) Save(ctx context.Context, owner, id string, quota domain.Quota, update func(*domain.Drawing) (*domain.Drawing, error)) error {
	if err := drawingsCancelled(ctx, "Saving"); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	o := r.owners[owner]
	var current *domain.Drawing
	if o != nil && o.byID[id] != nil {
		current = clone(o.byID[id])
	}
	old := current // update may change it in place: keep its positions now
	var oldUpdated, oldCreated position
	if old != nil {
		oldUpdated, oldCreated = position{old.UpdatedAt().UnixNano(), id}, position{old.CreatedAt().UnixNano(), id}
	}
	before := current.Usage()
	next, err := update(current)
	if err != nil {
		return err
	}
	if next.Owner() != owner || next.ID() != id {
		return domain.Errorf(domain.EINTERNAL, "A save may not change a drawing's owner or id.")
	}
	var usage domain.Usage
	if o != nil {
		usage = o.usage
	}
	delta := next.Usage().Minus(before)
	if err := quota.Allow(usage, delta); err != nil {
		return err
	}
	if o == nil {
		o = &ownerDrawings{byID: map[string]*domain.Drawing{}}
		r.owners[owner] = o
	}
	if old != nil {
		o.byUpdated = remove(o.byUpdated, oldUpdated, byUpdatedOrder)
		o.byCreated = remove(o.byCreated, oldCreated, byCreatedOrder)
	}
	o.byUpdated = insert(o.byUpdated, position{next.UpdatedAt().UnixNano(), id}, byUpdatedOrder)
	o.byCreated = insert(o.byCreated, position{next.CreatedAt().UnixNano(), id}, byCreatedOrder)
	o.byID[id] = clone(next)
	o.usage = usage.Plus(delta)
	return nil
}

func insert(index []position, p position, order func(a, b position) int) []position {
	i, _ := slices.BinarySearchFunc(index, p, order)
	return slices.Insert(index, i, p)
}

func remove(index []position, p position, order func(a, b position) int) []position {
	if i, found := slices.BinarySearchFunc(index, p, order); found {
		return slices.Delete(index, i, i+1)
	}
	return index
}

// following returns where the rows after the position p begin in index.
func following(index []position, p position, order func(a, b position) int) int {
	i, found := slices.BinarySearchFunc(index, p, order)
	if found {
		i++
	}
	return i
}

// Get implements ports.DrawingRepository.
func (r *Drawings) Get(ctx context.Context, owner, id string) (*domain.Drawing, error) {
	if err := drawingsCancelled(ctx, "Reading the drawing"); err != nil {
		return nil, err
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if o := r.owners[owner]; o != nil && o.byID[id] != nil {
		return clone(o.byID[id]), nil
	}
	return nil, domain.Errorf(domain.ENOTFOUND, "You have no drawing with id %q.", id)
}

// List implements ports.DrawingRepository.
func (r *Drawings) List(ctx context.Context, owner string, limit int) ([]*domain.Drawing, error) {
	if limit < 1 {
		return nil, domain.Errorf(domain.EINVALID, "List limit must be at least 1.")
	}
	out, _, err := r.ListBatch(ctx, owner, "", limit, int(^uint(0)>>1))
	return out, err
}

// ListBatch implements ports.DrawingRepository. A position is a
// domain.PagePosition cursor of the last drawing's updatedAt and id.
func (r *Drawings) ListBatch(ctx context.Context, owner, after string, limit, maxBytes int) ([]*domain.Drawing, string, error) {
	if limit < 1 || maxBytes < 1 {
		return nil, "", domain.Errorf(domain.EINVALID, "A list batch needs a limit and a byte bound of at least 1.")
	}
	from, err := parsePosition(owner, after)
	if err != nil {
		return nil, "", err
	}
	if err := drawingsCancelled(ctx, "Listing"); err != nil {
		return nil, "", err
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := []*domain.Drawing{}
	o := r.owners[owner]
	if o == nil {
		return out, "", nil
	}
	i := 0
	if from != nil {
		i = following(o.byUpdated, *from, byUpdatedOrder)
	}
	size := 0
	for ; i < len(o.byUpdated) && len(out) < limit; i++ {
		d := o.byID[o.byUpdated[i].id]
		if len(out) > 0 && size+d.Actions().Len() > maxBytes {
			break
		}
		size += d.Actions().Len()
		out = append(out, clone(d))
	}
	if i == len(o.byUpdated) {
		return out, "", nil
	}
	last := o.byUpdated[i-1]
	return out, domain.PagePosition{CreatedAt: last.at, ID: last.id}.Cursor(owner), nil
}

func parsePosition(owner, cursor string) (*position, error) {
	if cursor == "" {
		return nil, nil
	}
	p, err := domain.ParsePageCursor(owner, cursor)
	if err != nil || p.Undated {
		return nil, domain.Errorf(domain.EINVALID, "Not a position of this store.")
	}
	return &position{p.CreatedAt, p.ID}, nil
}

// Page implements ports.DrawingRepository: a binary search in the owner's
// createdAt index, then the rows of the page.
func (r *Drawings) Page(ctx context.Context, owner, cursor string, limit int) ([]domain.DrawingSummary, string, error) {
	if limit < 1 {
		return nil, "", domain.Errorf(domain.EINVALID, "A page needs a limit of at least 1.")
	}
	from, err := parsePosition(owner, cursor)
	if err != nil {
		return nil, "", domain.Errorf(domain.EINVALID, "cursor is not one this server gave for your drawings; start again without it.")
	}
	if err := drawingsCancelled(ctx, "Listing"); err != nil {
		return nil, "", err
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	o := r.owners[owner]
	if o == nil {
		return []domain.DrawingSummary{}, "", nil
	}
	i := 0
	if from != nil {
		i = following(o.byCreated, *from, byCreatedOrder)
	}
	end := i + min(limit, len(o.byCreated)-i)
	items := make([]domain.DrawingSummary, 0, end-i)
	for _, p := range o.byCreated[i:end] {
		items = append(items, o.byID[p.id].Summary())
	}
	if end == len(o.byCreated) {
		return items, "", nil
	}
	last := o.byCreated[end-1]
	return items, domain.PagePosition{CreatedAt: last.at, ID: last.id}.Cursor(owner), nil
}

// Delete implements ports.DrawingRepository: the precondition is checked
// under the lock the delete holds.
func (r *Drawings) Delete(ctx context.Context, owner, id string, pre domain.Precondition) error {
	if err := drawingsCancelled(ctx, "Deleting"); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	o := r.owners[owner]
	var d *domain.Drawing
	if o != nil {
		d = o.byID[id]
	}
	if d == nil {
		if err := pre.Check(""); err != nil {
			return err
		}
		return domain.Errorf(domain.ENOTFOUND, "You have no drawing with id %q.", id)
	}
	if err := pre.Check(d.ETag()); err != nil {
		return err
	}
	o.byUpdated = remove(o.byUpdated, position{d.UpdatedAt().UnixNano(), id}, byUpdatedOrder)
	o.byCreated = remove(o.byCreated, position{d.CreatedAt().UnixNano(), id}, byCreatedOrder)
	delete(o.byID, id)
	o.usage = o.usage.Minus(d.Usage())
	if len(o.byID) == 0 {
		delete(r.owners, owner)
	}
	return nil
}
