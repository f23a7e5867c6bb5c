package app

import (
	"context"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
)

// DefaultListLimit caps the legacy list: the original returned every drawing.
const DefaultListLimit = 100

// DefaultListBatchBytes bounds the actions EachListed copies from the
// repository at once: a page of ordinary drawings is one batch, a page of
// megabyte drawings one drawing at a time.
const DefaultListBatchBytes = 256 << 10

// Page limits of the v2 list (PROTOCOL §7).
const (
	DefaultPageLimit = 20
	MaxPageLimit     = 100
)

// ContentCheck asks WeChat whether a text other users may see is fit to
// show; TokenService.CheckContent is the one, with the user's platform
// rate limit and timeout.
type ContentCheck interface {
	CheckContent(ctx context.Context, openID string, scene domain.ContentScene, text string) (domain.ContentSuggestion, error)
}

// DrawingService holds the drawing use cases of a signed-in user: the
// legacy paints routes (PROTOCOL §3) and the v2 drawing routes (§7), on
// one repository and one owner scope.
type DrawingService struct {
	Repo            ports.DrawingRepository
	Now             ports.Clock
	MaxActionsBytes int // 0 means domain.DefaultMaxActionsBytes
	ListLimit       int // 0 means DefaultListLimit
	ListBatchBytes  int // 0 means DefaultListBatchBytes
	// Quota bounds each owner's drawings; a zero field means its default,
	// domain.DefaultMaxDrawingsPerOwner or domain.DefaultMaxBytesPerOwner.
	Quota domain.Quota
	// Content checks a new, non-empty title (PROTOCOL §8, scene forum);
	// nil stores titles unchecked and never flagged (development and
	// tests; production wiring sets the TokenService).
	Content ContentCheck
	// Renderer draws renderings (Render); nil answers EINTERNAL there.
	Renderer ports.Renderer
	// RenderConcurrency bounds the renderings drawn at once: each holds a
	// raster of up to 1024×1024 (about 8 MiB with its buffers) and a core
	// while it draws; 0 means GOMAXPROCS.
	RenderConcurrency int
	// RenderCacheEntries bounds the renderings kept in memory, each by its
	// owner and ETag (a save changes the tag, so an entry is never stale):
	// thumbnails are asked again and again. 0 means DefaultRenderCacheEntries,
	// negative none. Only renderings of at most MaxCachedRenderingBytes are
	// kept.
	RenderCacheEntries int

	renderInit  sync.Once
	renderSlots chan struct{}
	renderCache *lru.Cache[string, []byte]
}

// Save creates the user's drawing id or replaces its actions, within the
// user's quota: the legacy save, which keeps the title. Errors: EUNAUTHORIZED without a user, EINVALID, ETOOLARGE,
// EQUOTA, EUNAVAILABLE.
func (s *DrawingService) Save(ctx context.Context, user *domain.UserInfo, id, actions string) error {
	if err := requireUser(user); err != nil {
		return err
	}
	// Validate before touching the store: bad input changes nothing.
	if err := domain.ValidateDrawingID(id); err != nil {
		return err
	}
	parsed, err := domain.ParseActions(actions, s.maxActionsBytes())
	if err != nil {
		return err
	}
	return s.Repo.Save(ctx, user.OpenID(), id, s.quota(), func(current *domain.Drawing) (*domain.Drawing, error) {
		return s.replaced(current, user.OpenID(), id, parsed)
	})
}

// List returns the user's drawings, most recently saved first, at most
// ListLimit. Errors: EUNAUTHORIZED without a user, EUNAVAILABLE.
func (s *DrawingService) List(ctx context.Context, user *domain.UserInfo) ([]*domain.Drawing, error) {
	if err := requireUser(user); err != nil {
		return nil, err
	}
	return s.Repo.List(ctx, user.OpenID(), s.listLimit())
}

// EachListed calls fn with each drawing List would return, in its order,
// reading them from the repository in batches of at most ListBatchBytes of
// actions (or one drawing): what a caller writing to a slow client holds
// is one batch, never the page. fn's error stops the walk and is returned.
// Errors: EUNAUTHORIZED without a user, EUNAVAILABLE.
func (s *DrawingService) EachListed(ctx context.Context, user *domain.UserInfo, fn func(*domain.Drawing) error) error {
	if err := requireUser(user); err != nil {
		return err
	}
	remaining := s.listLimit()
	batchBytes := s.ListBatchBytes
	if batchBytes <= 0 {
		batchBytes = DefaultListBatchBytes
	}
	after := ""
	for remaining > 0 {
		batch, next, err := s.Repo.ListBatch(ctx, user.OpenID(), after, remaining, batchBytes)
		if err != nil {
			return err
		}
		for _, d := range batch {
			if err := fn(d); err != nil {
				return err
			}
		}
		remaining -= len(batch)
		if next == "" || len(batch) == 0 {
			return nil
		}
		after = next
	}
	return nil
}

func (s *DrawingService) listLimit() int {
	if s.ListLimit <= 0 {
		return DefaultListLimit
	}
	return s.ListLimit
}

// Delete removes the user's drawing id when pre holds for it (the zero
// Precondition for none; the legacy route sends none), checked atomically
// with the delete. Errors: EUNAUTHORIZED without a user, EINVALID for a
// malformed id, ECONFLICT when pre does not hold, ENOTFOUND when the user
// has no such drawing, EUNAVAILABLE.
func (s *DrawingService) Delete(ctx context.Context, user *domain.UserInfo, id string, pre domain.Precondition) error {
	if err := requireUser(user); err != nil {
		return err
	}
	if err := domain.ValidateDrawingID(id); err != nil {
		return err
	}
	return s.Repo.Delete(ctx, user.OpenID(), id, pre)
}

// Get returns the user's drawing id, whole. Errors: EUNAUTHORIZED without
// a user, EINVALID for a malformed id, ENOTFOUND, EUNAVAILABLE.
func (s *DrawingService) Get(ctx context.Context, user *domain.UserInfo, id string) (*domain.Drawing, error) {
	if err := requireUser(user); err != nil {
		return nil, err
	}
	if err := domain.ValidateDrawingID(id); err != nil {
		return nil, err
	}
	return s.Repo.Get(ctx, user.OpenID(), id)
}

// Page returns a page of the user's drawings, newest created first
// (createdAt desc, then id desc), after cursor ("" for the first), and the
// cursor of the next page, "" after the last. limit is 1 to MaxPageLimit,
// 0 for DefaultPageLimit. Following the cursors from "" reaches every
// drawing that exists throughout exactly once, whatever is saved, created
// or deleted meanwhile (ports.DrawingRepository.Page).
// Errors: EUNAUTHORIZED without a user, EINVALID for a limit out of range
// or a cursor this server did not give this user, EUNAVAILABLE.
func (s *DrawingService) Page(ctx context.Context, user *domain.UserInfo, cursor string, limit int) ([]domain.DrawingSummary, string, error) {
	if err := requireUser(user); err != nil {
		return nil, "", err
	}
	if limit == 0 {
		limit = DefaultPageLimit
	}
	if limit < 1 || limit > MaxPageLimit {
		return nil, "", domain.Errorf(domain.EINVALID, "limit must be 1 to %d.", MaxPageLimit)
	}
	return s.Repo.Page(ctx, user.OpenID(), cursor, limit)
}

// DrawingPut is a v2 save of a drawing (PUT {base}/v2/drawings/{id}).
type DrawingPut struct {
	ID string
	// Title is the drawing's new title; nil keeps the stored one (""
	// when the PUT creates the drawing).
	Title *string
	// Actions is the JSON text of the canvas action list, an array.
	Actions string
	// Pre is the request's If-Match / If-None-Match: *.
	Pre domain.Precondition
}

// Put creates the user's drawing p.ID or replaces its actions (and its
// title, when p.Title is set), within the user's quota, when p.Pre holds
// for the stored drawing in the same atomic step; it returns the drawing
// stored and whether it was created. A changed, non-empty title first
// passes Content (msg_sec_check, scene forum, the user's openId, the
// user's platform rate limit): risky is refused, review is stored flagged
// (domain.Drawing.TitleInReview), pass is stored unflagged; the stored
// drawing is read (in the save) before WeChat is asked, so an unchanged
// title asks nothing.
// Errors: EUNAUTHORIZED without a user; EINVALID (id, title, actions not a
// JSON array) and ETOOLARGE before the store or WeChat is asked;
// ECONFLICT when p.Pre does not hold; ECONTENTRISKY;
// EEXCHANGEUNAVAILABLE when the check could not be made; ERATELIMITED;
// EQUOTA; EUNAVAILABLE. On every error nothing is stored.
func (s *DrawingService) Put(ctx context.Context, user *domain.UserInfo, p DrawingPut) (*domain.Drawing, bool, error) {
	if err := requireUser(user); err != nil {
		return nil, false, err
	}
	if err := domain.ValidateDrawingID(p.ID); err != nil {
		return nil, false, err
	}
	parsed, err := domain.ParseActionList(p.Actions, s.maxActionsBytes())
	if err != nil {
		return nil, false, err
	}
	if p.Title != nil {
		if err := domain.ValidateTitle(*p.Title); err != nil {
			return nil, false, err
		}
	}
	owner := user.OpenID()
	var verdict domain.ContentSuggestion // WeChat's on *p.Title, once asked
	checked := false
	for {
		var saved *domain.Drawing
		var created, needsCheck bool
		err := s.Repo.Save(ctx, owner, p.ID, s.quota(), func(cur *domain.Drawing) (*domain.Drawing, error) {
			saved, created, needsCheck = nil, cur == nil, false // a store may run this more than once
			current := ""
			if cur != nil {
				current = cur.ETag()
			}
			if err := p.Pre.Check(current); err != nil {
				return nil, err
			}
			if p.Title != nil && (cur == nil || *p.Title != cur.Title()) && *p.Title != "" && s.Content != nil && !checked {
				needsCheck = true // asked outside the store's atomic step, then saved again
				return nil, domain.Errorf(domain.EUNAVAILABLE, "The title must be checked first.")
			}
			next, err := s.replaced(cur, owner, p.ID, parsed)
			if err != nil {
				return nil, err
			}
			if p.Title != nil && (cur == nil || *p.Title != cur.Title()) {
				if err := next.SetTitle(*p.Title, verdict); err != nil {
					return nil, err
				}
			}
			saved = next
			return next, nil
		})
		if !needsCheck {
			if err != nil {
				return nil, false, err
			}
			return saved, created, nil
		}
		if verdict, err = s.Content.CheckContent(ctx, owner, domain.SceneForum, *p.Title); err != nil {
			return nil, false, err
		}
		checked = true
	}
}

// replaced is the drawing a save stores: a new one, or cur with the new
// actions (and a new revision), its title kept.
func (s *DrawingService) replaced(cur *domain.Drawing, owner, id string, actions domain.Actions) (*domain.Drawing, error) {
	now := s.now()
	if cur == nil {
		return domain.NewDrawing(owner, id, actions, now)
	}
	if err := cur.ReplaceActions(actions, now); err != nil {
		return nil, err
	}
	return cur, nil
}

func requireUser(user *domain.UserInfo) error {
	if user == nil || user.IsZero() {
		return domain.Errorf(domain.EUNAUTHORIZED, "This route needs a session: send X-WX-Code (and on the first request X-WX-RawData and X-WX-Signature).")
	}
	return nil
}

func (s *DrawingService) maxActionsBytes() int {
	if s.MaxActionsBytes <= 0 {
		return domain.DefaultMaxActionsBytes
	}
	return s.MaxActionsBytes
}

func (s *DrawingService) quota() domain.Quota {
	q := s.Quota
	if q.MaxDrawings <= 0 {
		q.MaxDrawings = domain.DefaultMaxDrawingsPerOwner
	}
	if q.MaxBytes <= 0 {
		q.MaxBytes = domain.DefaultMaxBytesPerOwner
	}
	return q
}

func (s *DrawingService) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}
