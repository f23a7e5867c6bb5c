package domain_test

import (
	"strings"
	"testing"
	"time"

	"github.com/onestroke/onestroke/domain"
)

func drawingOf(t *testing.T, id, text string) *domain.Drawing {
	t.Helper()
	a, err := domain.ParseActions(text, domain.DefaultMaxActionsBytes)
	require.NoError(t, err)
	d, err := domain.NewDrawing("oALICE", id, a, time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	return d
}

func TestQuota_Allow(t *testing.T) {
	q := domain.Quota{MaxDrawings: 3, MaxBytes: 100}
	small, big := drawingOf(t, "d", `[1]`), drawingOf(t, "d", `["`+strings.Repeat("x", 60)+`"]`)
	delta := func(before, after *domain.Drawing) domain.Usage { return after.Usage().Minus(before.Usage()) }
	tests := []struct {
		name    string
		usage   domain.Usage
		delta   domain.Usage
		wantErr bool
	}{
		{"new drawing within both limits", domain.Usage{Drawings: 1, Bytes: 10}, delta(nil, small), false},
		{"new drawing reaching the count exactly", domain.Usage{Drawings: 2, Bytes: 10}, delta(nil, small), false},
		{"new drawing over the count", domain.Usage{Drawings: 3, Bytes: 10}, delta(nil, small), true},
		{"new drawing over the bytes", domain.Usage{Drawings: 1, Bytes: 50}, delta(nil, big), true},
		{"replacing counts only the size difference", domain.Usage{Drawings: 3, Bytes: 95}, delta(drawingOf(t, "d", `[12]`), drawingOf(t, "d", `[123]`)), false},
		{"replacing over the bytes", domain.Usage{Drawings: 3, Bytes: 50}, delta(small, big), true},
		{"shrinking an owner over both limits", domain.Usage{Drawings: 9, Bytes: 900}, delta(big, small), false},
		{"same size at the limit", domain.Usage{Drawings: 3, Bytes: 100}, delta(small, drawingOf(t, "d", `[2]`)), false},
		{"a delete over both limits", domain.Usage{Drawings: 9, Bytes: 900}, delta(big, nil), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := q.Allow(tt.usage, tt.delta)
			grow, _ := tt.delta.Split()
			assert.Equal(t, !tt.wantErr, q.Bound(grow).Holds(tt.usage), "Bound of the growth agrees with Allow")
			if !tt.wantErr {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Equal(t, domain.EQUOTA, domain.ErrorCode(err))
			assert.NotEmpty(t, domain.ErrorMessage(err))
		})
	}
	assert.NoError(t, domain.Quota{}.Allow(domain.Usage{Drawings: 1 << 40, Bytes: 1 << 50}, big.Usage()), "the zero quota has no limit")
}

func TestUsage_OfDrawingsAddsUp(t *testing.T) {
	var u domain.Usage
	a, b := drawingOf(t, "a", `[1]`), drawingOf(t, "b", `[1,2]`)
	u = u.Plus(a.Usage()).Plus(b.Usage())
	assert.Equal(t, domain.Usage{Drawings: 2, Bytes: 8}, u)
	before := a.Usage()
	require.NoError(t, a.ReplaceActions(domain.ActionsFromStorage(`[1,2,3]`), time.Now()))
	u = u.Plus(a.Usage().Minus(before)) // a save changes its drawing in place
	assert.Equal(t, domain.Usage{Drawings: 2, Bytes: 12}, u)
	u = u.Minus(b.Usage())
	assert.Equal(t, domain.Usage{Drawings: 1, Bytes: 7}, u)
	grow, shrink := domain.Usage{Drawings: 1, Bytes: -5}.Split()
	assert.Equal(t, domain.Usage{Drawings: 1}, grow)
	assert.Equal(t, domain.Usage{Bytes: -5}, shrink)
	var none *domain.Drawing
	assert.Equal(t, domain.Usage{}, none.Usage())
}

// Size is the length of the text whichever form the actions hold: a store
// that keeps only the quoted form counts usage without decoding it.
func TestActions_SizeIsTheTextLengthInEitherForm(t *testing.T) {
	for _, text := range []string{
		`[1]`,
		`["\"quoted\" and \\ back"]`,
		"[\"tab\\t\", \"\u2028\u2029\", \"一笔到底🎨\", \"\\u0001\"]",
		`["` + strings.Repeat(`\"`, 1000) + `"]`,
		"[\"<&>\"]",
	} {
		a, err := domain.ParseActions(text, domain.DefaultMaxActionsBytes)
		require.NoError(t, err)
		assert.Equal(t, len(text), a.Size(), text)
		stored, err := domain.ActionsFromStorageQuoted(a.Quoted())
		require.NoError(t, err)
		assert.Equal(t, len(text), stored.Size(), "from the quoted form: %s", text)
		assert.Equal(t, len(text), domain.ActionsFromStorage(text).Size())
	}
}
