package domain_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/onestroke/onestroke/domain"
)

// shanghai is a fixed zone so that the UTC conversions are visible without
// depending on the machine's tzdata.
var shanghai = time.FixedZone("CST", 8*60*60)

const sampleActions = `[{"type":"moveTo","x":1,"y":2},{"type":"lineTo","x":30,"y":40}]`

func TestValidateDrawingID(t *testing.T) {
	tests := []struct {
		name    string
		id      string
		wantErr bool
	}{
		{"client style base36", "lx2k9a0f3qzd", false},
		{"one character", "a", false},
		{"all allowed classes", "AZaz09_-", false},
		{"exactly 64 characters", strings.Repeat("a", domain.MaxDrawingIDLength), false},
		{"empty", "", true},
		{"65 characters", strings.Repeat("a", domain.MaxDrawingIDLength+1), true},
		{"space", "ab cd", true},
		{"leading space", " abc", true},
		{"slash", "a/b", true},
		{"backslash", `a\b`, true},
		{"dot", "a.b", true},
		{"dot dot", "..", true},
		{"unicode letter", "画画", true},
		{"accented latin", "café", true},
		{"percent", "a%2Fb", true},
		{"NUL", "a\x00b", true},
		{"newline", "a\nb", true},
		{"dollar (mongo operator)", "$where", true},
		{"braces", "{}", true},
		{"colon", "a:b", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := domain.ValidateDrawingID(tt.id)
			if !tt.wantErr {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Equal(t, domain.EINVALID, domain.ErrorCode(err))
			assert.NotEmpty(t, domain.ErrorMessage(err))
		})
	}
}

func TestParseActions(t *testing.T) {
	const max = 16
	tests := []struct {
		name     string
		actions  string
		max      int
		wantCode string // "" means valid
	}{
		{"json array", sampleActions, domain.DefaultMaxActionsBytes, ""},
		{"empty json array", `[]`, max, ""},
		{"json object", `{"a":[1,2]}`, max, ""},
		{"json string", `"abc"`, max, ""},
		{"json number", `12`, max, ""},
		{"json null", `null`, max, ""},
		{"whitespace around json", " [1] \n", max, ""},
		{"exactly max bytes", `"` + strings.Repeat("x", max-2) + `"`, max, ""},
		{"exactly the default max", `"` + strings.Repeat("x", domain.DefaultMaxActionsBytes-2) + `"`, domain.DefaultMaxActionsBytes, ""},
		{"max plus one byte", `"` + strings.Repeat("x", max-1) + `"`, max, domain.ETOOLARGE},
		{"default max plus one byte", `"` + strings.Repeat("x", domain.DefaultMaxActionsBytes-1) + `"`, domain.DefaultMaxActionsBytes, domain.ETOOLARGE},
		{"oversized invalid json is too large first", strings.Repeat("x", max+1), max, domain.ETOOLARGE},
		{"empty", "", max, domain.EINVALID},
		{"only whitespace", "  ", max, domain.EINVALID},
		{"invalid json", `[1,2`, max, domain.EINVALID},
		{"bare word", `hello`, max, domain.EINVALID},
		{"two json values", `[1][2]`, max, domain.EINVALID},
		{"single quotes", `['a']`, max, domain.EINVALID},
		{"invalid UTF-8 inside a JSON string", "[\"\xff\"]", max, domain.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := domain.ParseActions(tt.actions, tt.max)
			if tt.wantCode == "" {
				require.NoError(t, err)
				assert.Equal(t, tt.actions, a.Text(), "the text is kept verbatim")
				assert.False(t, a.IsZero())
				return
			}
			require.Error(t, err)
			assert.Equal(t, tt.wantCode, domain.ErrorCode(err))
			assert.True(t, a.IsZero(), "a refused text yields no actions")
		})
	}
}

func TestActions_QuotedForm(t *testing.T) {
	for _, text := range []string{sampleActions, `"a\\b"`, "[\"\u2028 一笔到底 🎨\\n\"]", `["tab\tnewline\n"]`, `[]`} {
		a, err := domain.ParseActions(text, domain.DefaultMaxActionsBytes)
		require.NoError(t, err)
		want, err := json.Marshal(text) // HTML escaping differs; the samples have no <, > or &
		require.NoError(t, err)
		assert.Equal(t, string(want), a.Quoted(), "Quoted is the text as a JSON string")
		assert.Equal(t, a.Quoted(), a.WithQuoted().Quoted())
		assert.Equal(t, "x"+a.Quoted(), string(a.AppendQuoted([]byte("x"))))
		assert.Equal(t, "x"+a.Quoted(), string(a.WithQuoted().AppendQuoted([]byte("x"))))

		stored, err := domain.ActionsFromStorageQuoted(a.Quoted())
		require.NoError(t, err)
		assert.Equal(t, text, stored.Text(), "the quoted form gives the text back")
		assert.Equal(t, a.Quoted(), stored.Quoted())
		assert.Equal(t, a.Quoted(), domain.ActionsFromStorage(text).Quoted())
	}
	t.Run("a stored legacy empty text still quotes to a JSON string", func(t *testing.T) {
		assert.Equal(t, `""`, domain.ActionsFromStorage("").Quoted())
	})
	t.Run("a stored quoted form must be delimited as a JSON string", func(t *testing.T) {
		for _, bad := range []string{"", `"`, `[1]`, `"abc`} {
			_, err := domain.ActionsFromStorageQuoted(bad)
			assert.Equal(t, domain.EINTERNAL, domain.ErrorCode(err), "%q", bad)
		}
	})
}

func TestNewDrawing(t *testing.T) {
	now := time.Date(2024, 5, 6, 15, 4, 5, 123, shanghai)

	t.Run("valid drawing", func(t *testing.T) {
		d, err := domain.NewDrawing("oOwner", "lx2k9a0f3qzd", mustActions(t, sampleActions), now)
		require.NoError(t, err)
		assert.Equal(t, "oOwner", d.Owner())
		assert.Equal(t, "lx2k9a0f3qzd", d.ID())
		assert.Equal(t, sampleActions, d.Actions().Text())
	})
	t.Run("timestamps are UTC and equal", func(t *testing.T) {
		d, err := domain.NewDrawing("oOwner", "id1", mustActions(t, sampleActions), now)
		require.NoError(t, err)
		assert.Equal(t, time.UTC, d.CreatedAt().Location())
		assert.Equal(t, time.UTC, d.UpdatedAt().Location())
		assert.True(t, d.CreatedAt().Equal(now))
		assert.Equal(t, d.CreatedAt(), d.UpdatedAt())
		assert.Equal(t, 7, d.CreatedAt().Hour(), "15:04 in UTC+8 is 07:04 UTC")
	})
	t.Run("owner of maximum length", func(t *testing.T) {
		_, err := domain.NewDrawing(strings.Repeat("o", domain.MaxOwnerLength), "id1", mustActions(t, sampleActions), now)
		assert.NoError(t, err)
	})

	valid := mustActions(t, sampleActions)
	invalid := []struct {
		name     string
		owner    string
		id       string
		actions  domain.Actions
		wantCode string
	}{
		{"empty owner", "", "id1", valid, domain.EINVALID},
		{"owner too long", strings.Repeat("o", domain.MaxOwnerLength+1), "id1", valid, domain.EINVALID},
		{"empty id", "oOwner", "", valid, domain.EINVALID},
		{"bad id", "oOwner", "../etc", valid, domain.EINVALID},
		{"no actions (the zero value)", "oOwner", "id1", domain.Actions{}, domain.EINVALID},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			d, err := domain.NewDrawing(tt.owner, tt.id, tt.actions, now)
			require.Error(t, err)
			assert.Nil(t, d)
			assert.Equal(t, tt.wantCode, domain.ErrorCode(err))
		})
	}
}

func TestDrawing_ReplaceActions(t *testing.T) {
	created := time.Date(2024, 5, 6, 12, 0, 0, 0, time.UTC)
	newDrawing := func(t *testing.T) *domain.Drawing {
		t.Helper()
		d, err := domain.NewDrawing("oOwner", "id1", mustActions(t, sampleActions), created)
		require.NoError(t, err)
		return d
	}

	t.Run("updates actions and updatedAt, keeps createdAt", func(t *testing.T) {
		d := newDrawing(t)
		later := created.Add(time.Hour).In(shanghai)
		require.NoError(t, d.ReplaceActions(mustActions(t, `[{"type":"clear"}]`), later))
		assert.Equal(t, `[{"type":"clear"}]`, d.Actions().Text())
		assert.True(t, d.UpdatedAt().Equal(later))
		assert.Equal(t, time.UTC, d.UpdatedAt().Location())
		assert.Equal(t, created, d.CreatedAt())
		assert.Equal(t, "oOwner", d.Owner())
		assert.Equal(t, "id1", d.ID())
	})
	t.Run("same instant", func(t *testing.T) {
		d := newDrawing(t)
		require.NoError(t, d.ReplaceActions(mustActions(t, `[]`), created))
		assert.Equal(t, created, d.UpdatedAt())
	})
	t.Run("clock going backwards never puts updatedAt before createdAt", func(t *testing.T) {
		d := newDrawing(t)
		require.NoError(t, d.ReplaceActions(mustActions(t, `[]`), created.Add(-time.Minute)))
		assert.Equal(t, `[]`, d.Actions().Text())
		assert.Equal(t, d.CreatedAt(), d.UpdatedAt())
		assert.False(t, d.UpdatedAt().Before(d.CreatedAt()))
	})

	t.Run("no actions (the zero value) leave the drawing unchanged", func(t *testing.T) {
		d := newDrawing(t)
		before := *d
		err := d.ReplaceActions(domain.Actions{}, created.Add(time.Hour))
		require.Error(t, err)
		assert.Equal(t, domain.EINVALID, domain.ErrorCode(err))
		assert.Equal(t, before, *d)
		assert.Equal(t, sampleActions, d.Actions().Text())
		assert.Equal(t, created, d.UpdatedAt())
	})
}

func mustActions(t *testing.T, text string) domain.Actions {
	t.Helper()
	a, err := domain.ParseActions(text, domain.DefaultMaxActionsBytes)
	require.NoError(t, err)
	return a
}

func TestUnmarshalDrawingFromStorage(t *testing.T) {
	created := time.Date(2023, 1, 2, 3, 4, 5, 0, shanghai)
	updated := created.Add(time.Hour)

	t.Run("rebuilds every field in UTC", func(t *testing.T) {
		d, err := domain.UnmarshalDrawingFromStorage(storedDrawing("oOwner", "id1", domain.ActionsFromStorage(sampleActions), created, updated))
		require.NoError(t, err)
		assert.Equal(t, "oOwner", d.Owner())
		assert.Equal(t, "id1", d.ID())
		assert.Equal(t, sampleActions, d.Actions().Text())
		assert.True(t, d.CreatedAt().Equal(created))
		assert.True(t, d.UpdatedAt().Equal(updated))
		assert.Equal(t, time.UTC, d.CreatedAt().Location())
		assert.Equal(t, time.UTC, d.UpdatedAt().Location())
	})
	t.Run("trusts stored actions the original service wrote", func(t *testing.T) {
		// The original stored whatever it was sent; listing must not fail on it.
		for _, actions := range []string{"", "not json", strings.Repeat("x", domain.DefaultMaxActionsBytes+1)} {
			d, err := domain.UnmarshalDrawingFromStorage(storedDrawing("oOwner", "id1", domain.ActionsFromStorage(actions), time.Time{}, time.Time{}))
			require.NoError(t, err)
			assert.Equal(t, actions, d.Actions().Text())
		}
	})
	t.Run("trusts a stored id the validator would refuse", func(t *testing.T) {
		d, err := domain.UnmarshalDrawingFromStorage(storedDrawing("oOwner", "legacy.id with spaces", domain.ActionsFromStorage(sampleActions), created, updated))
		require.NoError(t, err)
		assert.Equal(t, "legacy.id with spaces", d.ID())
	})

	missing := []struct {
		name, owner, id string
	}{
		{"no owner", "", "id1"},
		{"no id", "oOwner", ""},
		{"neither", "", ""},
	}
	for _, tt := range missing {
		t.Run(tt.name, func(t *testing.T) {
			d, err := domain.UnmarshalDrawingFromStorage(storedDrawing(tt.owner, tt.id, domain.ActionsFromStorage(sampleActions), created, updated))
			require.Error(t, err)
			assert.Nil(t, d)
			assert.Equal(t, domain.EINTERNAL, domain.ErrorCode(err))
		})
	}
}

func TestDrawing_RestoreFromStorage(t *testing.T) {
	created := time.Date(2023, 1, 2, 3, 4, 5, 0, shanghai)
	page := make([]domain.Drawing, 2)
	require.NoError(t, page[0].RestoreFromStorage(storedDrawing("oOwner", "id1", domain.ActionsFromStorage(sampleActions), created, created)))
	require.NoError(t, page[1].RestoreFromStorage(storedDrawing("oOwner", "id2", domain.ActionsFromStorage(`[]`), created, created.Add(time.Hour))))
	assert.Equal(t, "id1", page[0].ID())
	assert.Equal(t, sampleActions, page[0].Actions().Text())
	assert.Equal(t, time.UTC, page[1].UpdatedAt().Location())
	assert.True(t, page[1].UpdatedAt().Equal(created.Add(time.Hour)))

	t.Run("never edits a drawing that is not zero", func(t *testing.T) {
		err := page[0].RestoreFromStorage(storedDrawing("oOther", "id9", domain.ActionsFromStorage(`[1]`), created, created))
		assert.Equal(t, domain.EINTERNAL, domain.ErrorCode(err))
		assert.Equal(t, "oOwner", page[0].Owner())
		assert.Equal(t, "id1", page[0].ID())
	})
	t.Run("needs an owner and an id", func(t *testing.T) {
		var d domain.Drawing
		assert.Equal(t, domain.EINTERNAL, domain.ErrorCode(d.RestoreFromStorage(storedDrawing("", "id1", domain.Actions{}, created, created))))
		assert.Equal(t, domain.EINTERNAL, domain.ErrorCode(d.RestoreFromStorage(storedDrawing("oOwner", "", domain.Actions{}, created, created))))
	})
}

// storedDrawing is what a store of the layout before titles and revisions read.
func storedDrawing(owner, id string, a domain.Actions, created, updated time.Time) domain.StoredDrawing {
	return domain.StoredDrawing{Owner: owner, ID: id, Actions: a, CreatedAt: created, UpdatedAt: updated}
}
