package main

import (
	"os"
	"strings"
	"testing"
)

// The bench serves the production template, only without TLS.
func TestRenderBenchNginx_TheProductionSiteInPlainHTTP(t *testing.T) {
	tmpl, err := os.ReadFile("../../docker/nginx/onestroke.conf.template")
	if err != nil {
		t.Fatal(err)
	}
	site, err := renderBenchNginx(string(tmpl), [2]string{"127.0.0.1:1001", "127.0.0.1:1002"}, 8080)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"listen 127.0.0.1:8080;",
		"server 127.0.0.1:1001 max_fails=1 fail_timeout=5s;",
		"server 127.0.0.1:1002 max_fails=1 fail_timeout=5s;",
		"keepalive 64;",
		"location /applet/ {",
		"proxy_next_upstream error timeout;",
		"proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
	} {
		if !strings.Contains(site, want) {
			t.Errorf("the site lacks %q:\n%s", want, site)
		}
	}
	for _, gone := range []string{" ssl;", "ssl_", "Strict-Transport-Security", "${"} {
		if strings.Contains(site, gone) {
			t.Errorf("the site still has %q:\n%s", gone, site)
		}
	}
}

func TestRenderBenchNginx_RefusesATemplateItDoesNotKnow(t *testing.T) {
	for name, tmpl := range map[string]string{
		"no listen ssl":  "upstream u { server ${ONESTROKE_UPSTREAM_1}; server ${ONESTROKE_UPSTREAM_2}; }\nserver {\n listen ${ONESTROKE_HTTPS_PORT};\n ssl_certificate ${ONESTROKE_TLS_CERT}; ssl_certificate_key ${ONESTROKE_TLS_KEY};\n location ${ONESTROKE_BASE_PATH}/ {}\n}\n",
		"an unknown var": "${ONESTROKE_UPSTREAM_1} ${ONESTROKE_UPSTREAM_2} ${ONESTROKE_TLS_CERT} ${ONESTROKE_TLS_KEY} ${ONESTROKE_BASE_PATH}\nlisten ${ONESTROKE_HTTPS_PORT} ssl;\n${ONESTROKE_NEW}\n",
		"a missing var":  "listen ${ONESTROKE_HTTPS_PORT} ssl;\n",
	} {
		if _, err := renderBenchNginx(tmpl, [2]string{"a:1", "b:2"}, 1); err == nil {
			t.Errorf("%s: rendered", name)
		}
	}
}
