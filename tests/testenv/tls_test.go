package testenv

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
)

func TestNewTLS_ServerCertificateVerifiesAgainstTheCAForEveryHost(t *testing.T) {
	c := NewTLS(t, "wechat", "127.0.0.1", "::1")
	block, _ := pem.Decode(c.Cert)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("Cert is not a PEM certificate: %q", c.Cert)
	}
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(c.CA) {
		t.Fatalf("CA is not a PEM certificate: %q", c.CA)
	}
	for _, host := range []string{"wechat", "127.0.0.1", "::1"} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: host}); err != nil {
			t.Errorf("verify for %s: %v", host, err)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: "api.weixin.qq.com"}); err == nil {
		t.Error("the certificate verifies for a host it was not made for")
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "wechat"}); err == nil {
		t.Error("the certificate verifies without its CA")
	}
	if _, err := tls.X509KeyPair(c.Cert, c.Key); err != nil {
		t.Errorf("Cert and Key are not a pair: %v", err)
	}
}

func TestNewTLS_ClientTrustingTheCAReachesAServerWithTheCertificate(t *testing.T) {
	c := NewTLS(t, "127.0.0.1")
	pair, err := tls.X509KeyPair(c.Cert, c.Key)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes below are expected
	srv.StartTLS()
	defer srv.Close()

	get := func(cfg *tls.Config) error {
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
		resp, err := client.Get(srv.URL)
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	}
	if err := get(c.ClientConfig("")); err != nil {
		t.Errorf("a client trusting the CA: %v", err)
	}
	if err := get(c.ClientConfig("wechat")); err == nil {
		t.Error("a client checking another name was answered")
	}
	if err := get(NewTLS(t, "127.0.0.1").ClientConfig("")); err == nil {
		t.Error("a client trusting another CA was answered")
	}
}

func TestTLS_WriteFilesKeepsTheKeyPrivate(t *testing.T) {
	c := NewTLS(t, "localhost")
	ca, cert, key := c.WriteFiles(t)
	if _, err := tls.LoadX509KeyPair(cert, key); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(ca)
	if err != nil || string(got) != string(c.CA) {
		t.Fatalf("ca file: %q, %v", got, err)
	}
	if st, err := os.Stat(key); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode: %v, %v", st.Mode(), err)
	}
}
