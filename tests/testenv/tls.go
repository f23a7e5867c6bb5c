package testenv

// This file has no build tag: unit tests (cmd/wechat-mock) use it too, and it
// needs only the standard library.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TLS is a throwaway certificate authority and one server certificate it
// signed, all PEM-encoded: for a test server that speaks HTTPS and a client
// that trusts only this CA.
type TLS struct {
	CA   []byte // the CA certificate (what a client trusts, e.g. SSL_CERT_FILE)
	Cert []byte // the server's leaf certificate
	Key  []byte // the leaf's private key (PKCS #8)

	pool *x509.CertPool
}

// NewTLS makes a fresh CA and a server certificate for hosts: each one an IP
// address (127.0.0.1, ::1) or a DNS name (wechat, localhost). Both are valid
// from an hour ago for a day, ECDSA P-256 (quick to make), and exist only in
// this test's memory until written.
func NewTLS(t testing.TB, hosts ...string) *TLS {
	t.Helper()
	if len(hosts) == 0 {
		t.Fatal("testenv.NewTLS: name at least one host")
	}
	notBefore := time.Now().Add(-time.Hour)
	notAfter := notBefore.Add(25 * time.Hour)

	caKey := newKey(t)
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: "onestroke test CA " + t.Name()},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatalf("testenv.NewTLS: CA certificate: %v", err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatalf("testenv.NewTLS: parse CA certificate: %v", err)
	}

	leafKey := newKey(t)
	leafTmpl := &x509.Certificate{
		SerialNumber: serial(t),
		Subject:      pkix.Name{CommonName: hosts[0]},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			leafTmpl.IPAddresses = append(leafTmpl.IPAddresses, ip)
		} else {
			leafTmpl.DNSNames = append(leafTmpl.DNSNames, h)
		}
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caCert, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatalf("testenv.NewTLS: server certificate: %v", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(leafKey)
	if err != nil {
		t.Fatalf("testenv.NewTLS: marshal key: %v", err)
	}

	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return &TLS{
		CA:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		Cert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}),
		Key:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		pool: pool,
	}
}

// ClientConfig is a client TLS configuration that trusts only the CA.
// serverName, when not empty, is the name the certificate is checked against
// instead of the dialled host: a container's network alias (wechat) reached
// from the host through a mapped port on localhost.
func (c *TLS) ClientConfig(serverName string) *tls.Config {
	return &tls.Config{RootCAs: c.pool, ServerName: serverName, MinVersion: tls.VersionTLS12}
}

// WriteFiles writes ca.pem, cert.pem and key.pem into a fresh temporary
// folder of t and returns their paths.
func (c *TLS) WriteFiles(t testing.TB) (ca, cert, key string) {
	t.Helper()
	dir := t.TempDir()
	ca, cert, key = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for _, f := range []struct {
		path string
		data []byte
		mode os.FileMode
	}{{ca, c.CA, 0o644}, {cert, c.Cert, 0o644}, {key, c.Key, 0o600}} {
		if err := os.WriteFile(f.path, f.data, f.mode); err != nil {
			t.Fatalf("testenv: write %s: %v", f.path, err)
		}
	}
	return ca, cert, key
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("testenv.NewTLS: key: %v", err)
	}
	return k
}

func serial(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatalf("testenv.NewTLS: serial: %v", err)
	}
	return n
}
