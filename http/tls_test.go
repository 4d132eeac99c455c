package http_test

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
	nethttp "net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	vanehttp "github.com/vanehq/vane/http"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key
// as PEM files, and returns their paths with a pool trusting it.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "vane test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	s := vanehttp.NewServer()
	s.Addr = "127.0.0.1:0"
	s.Store = MustOpenStore(t)
	s.TLSCertFile, s.TLSKeyFile = certFile, keyFile
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !strings.HasPrefix(s.URL(), "https://") {
		t.Fatalf("URL() = %q, want https", s.URL())
	}
	c := &nethttp.Client{Timeout: 5 * time.Second, Transport: &nethttp.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := c.Get(s.URL() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil {
		t.Errorf("GET /healthz over TLS: %d, TLS %v", resp.StatusCode, resp.TLS != nil)
	}
	// Plain HTTP to the TLS port gets no API answer.
	resp, err = nethttp.Get("http://" + strings.TrimPrefix(s.URL(), "https://") + "/healthz")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Error("plain HTTP was served on the TLS port")
		}
	}

	bad := vanehttp.NewServer()
	bad.Addr, bad.Store, bad.TLSCertFile = "127.0.0.1:0", s.Store, certFile
	if err := bad.Open(); err == nil || !strings.Contains(err.Error(), "both") {
		bad.Close()
		t.Errorf("a certificate without a key: %v", err)
	}
}

// TestSessionCookieSecureUnderTLS: over HTTPS the session cookie is
// Secure, so the browser never sends it over plain HTTP.
func TestSessionCookieSecureUnderTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	a := mustOpenAccess(t, func(s *vanehttp.Server) { s.TLSCertFile, s.TLSKeyFile = certFile, keyFile })
	a.client = &nethttp.Client{Timeout: 5 * time.Second, Transport: &nethttp.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	c := a.creds["admin"]
	r := a.Do(t, "POST", "/v1/session", `{"key_id":"`+c[0]+`","secret":"`+c[1]+`"}`)
	r.Want(t, 200, nil)
	set := r.Header.Get("Set-Cookie")
	for _, attr := range []string{"Secure", "HttpOnly", "SameSite=Strict"} {
		if !strings.Contains(set, attr) {
			t.Errorf("session cookie over TLS %q lacks %s", set, attr)
		}
	}
}
