// Package webpage is the development web page (issue 13): a newcomer who
// runs `make run` signs in as a test user through the development mint,
// draws in the seed's colours, and browses, re-opens and deletes drawings
// through the v2 routes (PROTOCOL §7). It is plain HTML, CSS and JavaScript
// embedded in the binary, with no build step. cmd/onestroke serves it in
// development mode only: it signs in through /_dev/wx-login, which mints a
// login for anybody.
package webpage

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

// indexFile is the page itself, a template of the base path; it is served
// at / and not under /static/.
const indexFile = "index.html"

// StaticPrefix is where the page's files are served.
const StaticPrefix = "/static/"

// ContentSecurityPolicy is the policy of every answer: scripts and styles
// from this origin's files only (no inline script, no eval), requests to
// this origin only, images from it or from the blob: URLs the page makes of
// the thumbnails it fetched with its token, and no framing.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// contentTypes are the types of the files the page may have; New refuses a
// file of any other kind rather than let a browser guess.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
}

// Page serves the web page and its files.
type Page struct {
	files map[string]file // by URL path
}

type file struct {
	body        []byte
	contentType string
	etag        string
}

// New builds the page for a service whose routes sit under basePath (as
// httpapi.Config.BasePath, e.g. /applet): the page learns it from a meta
// tag. It fails if an embedded file has no known content type or the page's
// template does not execute.
func New(basePath string) (*Page, error) {
	p := &Page{files: map[string]file{}}
	err := fs.WalkDir(static, "static", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ct, ok := contentTypes[path.Ext(name)]
		if !ok {
			return fmt.Errorf("webpage: %s has no known content type", name)
		}
		body, err := static.ReadFile(name)
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(name, "static/")
		urlPath := StaticPrefix + rel
		if rel == indexFile {
			if body, err = renderIndex(body, basePath); err != nil {
				return err
			}
			urlPath = "/"
		}
		sum := sha256.Sum256(body)
		p.files[urlPath] = file{body: body, contentType: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if _, ok := p.files["/"]; !ok {
		return nil, fmt.Errorf("webpage: static/%s is missing", indexFile)
	}
	return p, nil
}

func renderIndex(src []byte, basePath string) ([]byte, error) {
	t, err := template.New(indexFile).Parse(string(src))
	if err != nil {
		return nil, fmt.Errorf("webpage: %w", err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, struct{ BasePath string }{"/" + strings.Trim(basePath, "/")}); err != nil {
		return nil, fmt.Errorf("webpage: %w", err)
	}
	return b.Bytes(), nil
}

// Paths are the URL paths the page answers, sorted: / and one per file. A
// router sends exactly these here, so that any other path keeps the API's
// own 404.
func (p *Page) Paths() []string {
	paths := make([]string, 0, len(p.files))
	for k := range p.files {
		paths = append(paths, k)
	}
	sort.Strings(paths)
	return paths
}

// ServeHTTP answers GET and HEAD of the page's paths; any other path is a
// plain 404 (a router that routes Paths only never sends one). Every answer
// is revalidated (no-cache with a strong ETag of the content), so that a
// rebuilt binary's page is never mixed with a cached script of the last.
func (p *Page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f, ok := p.files[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", f.etag)
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	// ServeContent answers If-None-Match with 304, HEAD and ranges.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
}
