package porttest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
)

// BenchmarkPageFirstPage measures a v2 first page of 10 summaries of an
// owner with 10 drawings and of one with 10,000 (equal pages: the second
// only adds a next cursor), in the repository newRepo returns, as the
// sub-benchmarks /10 and /10000.
// The second also reports its time per page as a multiple of the first's
// (x-of-10; PROTOCOL §7's goal: ≤ 1.2): a page reads the rows it returns,
// whatever the owner keeps.
func BenchmarkPageFirstPage(b *testing.B, newRepo func(b *testing.B) ports.DrawingRepository) {
	ctx := context.Background()
	var small float64 // ns per page of the /10 run
	for _, n := range []int{10, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			repo := newRepo(b)
			fill(b, repo, "oBENCH", n)
			const limit = 10
			b.ReportAllocs()
			for b.Loop() {
				items, _, err := repo.Page(ctx, "oBENCH", "", limit)
				if err != nil || len(items) != limit {
					b.Fatalf("%d items, %v", len(items), err)
				}
			}
			perPage := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			if n == 10 {
				small = perPage
			} else if small > 0 {
				b.ReportMetric(perPage/small, "x-of-10")
			}
		})
	}
}

// fill saves n drawings of three actions for owner, from 50 goroutines
// (a store that batches commits, bbolt, shares their fsyncs).
func fill(b *testing.B, repo ports.DrawingRepository, owner string, n int) {
	b.Helper()
	at := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for w := range 50 {
		wg.Go(func() {
			for i := w; i < n; i += 50 {
				actions, err := domain.ParseActions(fmt.Sprintf(`[{"method":"moveTo","data":[%d,2]},{"method":"lineTo","data":[3,4]},{"method":"lineTo","data":[5,6]}]`, i), domain.DefaultMaxActionsBytes)
				if err != nil {
					errs <- err
					return
				}
				id := fmt.Sprintf("d%05d", i)
				if err := repo.Save(context.Background(), owner, id, domain.Quota{}, func(*domain.Drawing) (*domain.Drawing, error) {
					return domain.NewDrawing(owner, id, actions, at.Add(time.Duration(i)*time.Millisecond))
				}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}
