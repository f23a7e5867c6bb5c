package domain_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/onestroke/onestroke/domain"
)

var strongETag = regexp.MustCompile(`^"[0-9a-f]{16}"$`)

func TestDrawing_EverySaveDrawsANewRevision(t *testing.T) {
	at := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	d, err := domain.NewDrawing("oOwner", "id1", mustActions(t, `[1]`), at)
	require.NoError(t, err)
	seen := map[string]bool{}
	see := func(what string) {
		t.Helper()
		assert.True(t, strongETag.MatchString(d.ETag()), "%s: ETag %s", what, d.ETag())
		assert.NotEqual(t, uint64(0), d.Revision(), what)
		assert.False(t, seen[d.ETag()], "%s: a new ETag", what)
		seen[d.ETag()] = true
		assert.Equal(t, domain.ETagOf(d.Revision()), d.ETag())
	}
	see("created")
	require.NoError(t, d.ReplaceActions(mustActions(t, `[1]`), at)) // same actions, same instant: still a new save
	see("replaced")
	require.NoError(t, d.SetTitle("Sunset", domain.ContentPass))
	see("titled")
	assert.Equal(t, "Sunset", d.Title())
	require.NoError(t, d.ReplaceActions(mustActions(t, `[2]`), at.Add(time.Minute)))
	see("replaced again")
	assert.Equal(t, "Sunset", d.Title(), "replacing the actions keeps the title")

	before := *d
	assert.Error(t, d.ReplaceActions(domain.Actions{}, at))
	assert.Equal(t, before, *d, "a refused change keeps the revision")
}

func TestETagOf_IsSixteenHexDigitsQuoted(t *testing.T) {
	assert.Equal(t, `"0000000000000001"`, domain.ETagOf(1))
	assert.Equal(t, `"ffffffffffffffff"`, domain.ETagOf(^uint64(0)))
	assert.Equal(t, `"00000000deadbeef"`, domain.ETagOf(0xdeadbeef))
}

func TestDerivedRevision_StableAndStartsWithZero(t *testing.T) {
	a := domain.DerivedRevision(`[1,2]`)
	assert.Equal(t, a, domain.DerivedRevision(`[1,2]`), "stable for what is stored")
	assert.NotEqual(t, a, domain.DerivedRevision(`[1,3]`))
	assert.NotEqual(t, domain.DerivedRevision("ab", "c"), domain.DerivedRevision("a", "bc"), "parts are delimited")
	assert.True(t, strings.HasPrefix(domain.ETagOf(a), `"0`), "a derived ETag reads \"0…: %s", domain.ETagOf(a))
	assert.True(t, strongETag.MatchString(domain.ETagOf(a)))
}

func TestDrawing_StoredWithoutRevisionHasADerivedETagUntilItsNextSave(t *testing.T) {
	at := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	d, err := domain.UnmarshalDrawingFromStorage(storedDrawing("oOwner", "old", domain.ActionsFromStorage(`["old"]`), at, at))
	require.NoError(t, err)
	assert.Equal(t, uint64(0), d.StoredRevision())
	assert.Equal(t, domain.DerivedRevision(`["old"]`), d.Revision(), "derived from the actions text")
	assert.Equal(t, d.ETag(), d.ETag())
	assert.Equal(t, d.ETag(), d.Summary().ETag())
	derived := d.ETag()
	require.NoError(t, d.ReplaceActions(mustActions(t, `["old"]`), at))
	assert.NotEqual(t, uint64(0), d.StoredRevision(), "a save draws a real revision")
	assert.NotEqual(t, derived, d.ETag())
}

func TestStoredDrawing_RoundTripsEveryField(t *testing.T) {
	at := time.Date(2026, 12, 1, 8, 0, 0, 0, shanghai)
	s := domain.StoredDrawing{Owner: "oOwner", ID: "id1", Actions: domain.ActionsFromStorage(`[1]`), Title: "一笔",
		TitleInReview: true, Revision: 0xabc, CreatedAt: at, UpdatedAt: at.Add(time.Hour)}
	d, err := domain.UnmarshalDrawingFromStorage(s)
	require.NoError(t, err)
	assert.Equal(t, "一笔", d.Title())
	assert.True(t, d.TitleInReview())
	assert.Equal(t, uint64(0xabc), d.Revision())
	assert.Equal(t, `"0000000000000abc"`, d.ETag())
	assert.Equal(t, domain.DrawingSummary{ID: "id1", Title: "一笔", TitleInReview: true, CreatedAt: at.UTC(),
		UpdatedAt: at.Add(time.Hour).UTC(), Bytes: 3, Revision: 0xabc}, d.Summary())
}

func TestDrawing_BytesIsTheActionsTextLength(t *testing.T) {
	d := drawingOf(t, "d1", `["一笔"]`)
	assert.Equal(t, int64(len(`["一笔"]`)), d.Bytes())
	q, err := domain.ActionsFromStorageQuoted(`"[\"\\\"\"]"`) // the text ["\""]
	require.NoError(t, err)
	stored, err := domain.UnmarshalDrawingFromStorage(storedDrawing("o", "d", q, time.Time{}, time.Time{}))
	require.NoError(t, err)
	assert.Equal(t, int64(6), stored.Bytes(), "the text's bytes, not the quoted form's")
}

func TestValidateTitle(t *testing.T) {
	for _, ok := range []string{"", "Sunset", strings.Repeat("长", domain.MaxTitleLength), "a b · 🎨"} {
		assert.NoError(t, domain.ValidateTitle(ok), "%q", ok)
	}
	for _, bad := range []string{strings.Repeat("a", domain.MaxTitleLength+1), "a\nb", "tab\t", "\x00", "bad \xff utf-8", "del\x7f", "c1 \u0085"} {
		err := domain.ValidateTitle(bad)
		assert.Equal(t, domain.EINVALID, domain.ErrorCode(err), "%q", bad)
	}
}

func TestDrawing_SetTitleFollowsTheVerdict(t *testing.T) {
	tests := []struct {
		name, title string
		verdict     domain.ContentSuggestion
		inReview    bool
		code        string
	}{
		{"pass", "Sunset", domain.ContentPass, false, ""},
		{"no check configured", "Sunset", "", false, ""},
		{"review is stored flagged", "Sunset", domain.ContentReview, true, ""},
		{"an unknown verdict is stored flagged", "Sunset", "maybe", true, ""},
		{"risky is refused", "Sunset", domain.ContentRisky, false, domain.ECONTENTRISKY},
		{"untitled needs no verdict", "", domain.ContentRisky, false, ""},
		{"an invalid title is refused first", "a\nb", domain.ContentPass, false, domain.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := drawingOf(t, "d1", `[1]`)
			require.NoError(t, d.SetTitle("Before", domain.ContentReview))
			before := *d
			err := d.SetTitle(tt.title, tt.verdict)
			if tt.code != "" {
				assert.Equal(t, tt.code, domain.ErrorCode(err))
				assert.Equal(t, before, *d, "unchanged")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.title, d.Title())
			assert.Equal(t, tt.inReview, d.TitleInReview())
			assert.NotEqual(t, before.ETag(), d.ETag())
		})
	}
}

func TestParseActionList_WantsAnArray(t *testing.T) {
	for _, ok := range []string{`[]`, `[{"method":"save"}]`, " \n[1]"} {
		_, err := domain.ParseActionList(ok, 64)
		assert.NoError(t, err, "%q", ok)
	}
	for bad, code := range map[string]string{`{}`: domain.EINVALID, `"[]"`: domain.EINVALID, `null`: domain.EINVALID, `[`: domain.EINVALID,
		``: domain.EINVALID, `[` + strings.Repeat("1,", 40) + `1]`: domain.ETOOLARGE} {
		_, err := domain.ParseActionList(bad, 64)
		assert.Equal(t, code, domain.ErrorCode(err), "%q", bad)
	}
}

func TestPrecondition_Check(t *testing.T) {
	const cur, other = `"00000000000000aa"`, `"00000000000000bb"`
	tests := []struct {
		name    string
		p       domain.Precondition
		current string
		holds   bool
	}{
		{"none, existing", domain.Precondition{}, cur, true},
		{"none, missing", domain.Precondition{}, "", true},
		{"If-Match the current", domain.Precondition{IfMatch: []string{cur}}, cur, true},
		{"If-Match one of several", domain.Precondition{IfMatch: []string{other, cur}}, cur, true},
		{"If-Match another", domain.Precondition{IfMatch: []string{other}}, cur, false},
		{"If-Match a weak form of the current", domain.Precondition{IfMatch: []string{"W/" + cur}}, cur, false},
		{"If-Match unquoted", domain.Precondition{IfMatch: []string{strings.Trim(cur, `"`)}}, cur, false},
		{"If-Match on a missing drawing", domain.Precondition{IfMatch: []string{cur}}, "", false},
		{"If-Match * on an existing one", domain.Precondition{IfMatch: []string{"*"}}, cur, true},
		{"If-Match * on a missing one", domain.Precondition{IfMatch: []string{"*"}}, "", false},
		{"If-None-Match * on a missing one", domain.Precondition{IfNoneMatchAny: true}, "", true},
		{"If-None-Match * on an existing one", domain.Precondition{IfNoneMatchAny: true}, cur, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Check(tt.current)
			if tt.holds {
				assert.NoError(t, err)
			} else {
				assert.Equal(t, domain.ECONFLICT, domain.ErrorCode(err))
			}
		})
	}
	assert.True(t, domain.Precondition{}.IsZero())
	assert.False(t, domain.Precondition{IfNoneMatchAny: true}.IsZero())
}

func TestPageCursor_RoundTripsForItsOwnerOnly(t *testing.T) {
	for _, p := range []domain.PagePosition{
		{CreatedAt: time.Date(2026, 12, 1, 8, 0, 0, 123, time.UTC).UnixNano(), ID: "lx2k9a0f3qzd"},
		{CreatedAt: -1, ID: "a"},
		{Undated: true, ID: "legacy.id with spaces"},
	} {
		c := p.Cursor("oALICE")
		assert.True(t, regexp.MustCompile(`^[A-Za-z0-9_-]+$`).MatchString(c), "URL-safe: %s", c)
		got, err := domain.ParsePageCursor("oALICE", c)
		require.NoError(t, err)
		assert.Equal(t, p, got)
		_, err = domain.ParsePageCursor("oBOB", c)
		assert.Equal(t, domain.EINVALID, domain.ErrorCode(err), "another owner's cursor")
	}
}

func TestParsePageCursor_RefusesEverythingItDidNotMake(t *testing.T) {
	good := domain.PagePosition{CreatedAt: 42, ID: "d1"}.Cursor("oALICE")
	bad := []string{"", "x", "not a cursor", good[:len(good)-1], good + "A", "%%%%", strings.Repeat("A", domain.MaxPageCursorLength+1),
		"AQAAAAAAAAAAKmQx", // the right body without its digest
	}
	// Every single-character change but of the last character, whose low
	// bits base64 may ignore (an alias of the same bytes).
	for i := range len(good) - 1 {
		for _, c := range "A_-z9" {
			if rune(good[i]) != c {
				bad = append(bad, good[:i]+string(c)+good[i+1:])
			}
		}
	}
	for _, c := range bad {
		_, err := domain.ParsePageCursor("oALICE", c)
		assert.Equal(t, domain.EINVALID, domain.ErrorCode(err), "%q", c)
	}
}

func FuzzParsePageCursor(f *testing.F) {
	f.Add(domain.PagePosition{CreatedAt: 42, ID: "d1"}.Cursor("oALICE"))
	f.Add("")
	f.Add("AQE")
	f.Fuzz(func(t *testing.T, c string) {
		p, err := domain.ParsePageCursor("oALICE", c)
		if err != nil {
			assert.Equal(t, domain.EINVALID, domain.ErrorCode(err))
			return
		}
		assert.Equal(t, p, mustParse(t, p.Cursor("oALICE")), "what parses, round-trips")
	})
}

func mustParse(t *testing.T, c string) domain.PagePosition {
	t.Helper()
	p, err := domain.ParsePageCursor("oALICE", c)
	require.NoError(t, err)
	return p
}
