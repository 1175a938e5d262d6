package daemon_test

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
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Every answer of the HTTP API says nosniff: the JSON answers, their
// errors, the echo of Meta's handshake (which carries what the request
// said) and the mux's own 404 and 405; Strict-Transport-Security comes only
// when vigie serves TLS itself.
func TestAnswersForbidSniffing(t *testing.T) {
	env := map[string]string{"VIGIE_WEBHOOK_SECRET": secret, "META_PAGE_TOKEN": "page-token", "META_APP_SECRET": "app-secret",
		"META_VERIFY_TOKEN": "verify-me", "META_GRAPH_URL": "http://127.0.0.1:1"}
	requests := []struct{ method, path, body string }{
		{"GET", "/healthz", ""},
		{"GET", "/metrics", ""},
		{"POST", "/v1/events", `{"id":"m-1","platform":"discord","text":"hi","at":"2026-11-20T22:10:00Z"}`}, // unsigned: 401
		{"POST", "/v1/events", "not json"},
		{"GET", "/webhooks/meta?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=%3Cscript%3Ealert(1)%3C/script%3E", ""},
		{"GET", "/webhooks/meta?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1", ""},
		{"POST", "/webhooks/meta", "{}"}, // unsigned
		{"GET", "/v1/cases", ""},
		{"GET", "/no/such/route", ""},
		{"DELETE", "/healthz", ""},
	}
	check := func(t *testing.T, client *http.Client, base string, wantHSTS bool) {
		for _, rq := range requests {
			req, err := http.NewRequest(rq.method, base+rq.path, strings.NewReader(rq.body))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", rq.method, rq.path, err)
			}
			resp.Body.Close()
			if got := resp.Header.Values("X-Content-Type-Options"); len(got) != 1 || got[0] != "nosniff" {
				t.Errorf("%s %s (%d): X-Content-Type-Options %q, want nosniff", rq.method, rq.path, resp.StatusCode, got)
			}
			hsts := resp.Header.Get("Strict-Transport-Security")
			if wantHSTS && hsts != "max-age=31536000" || !wantHSTS && hsts != "" {
				t.Errorf("%s %s (%d): Strict-Transport-Security %q, want it: %v", rq.method, rq.path, resp.StatusCode, hsts, wantHSTS)
			}
		}
	}
	t.Run("plain HTTP", func(t *testing.T) {
		in := start(t, rulesV1, env)
		check(t, http.DefaultClient, in.base, false)
	})
	t.Run("vigie's own TLS", func(t *testing.T) {
		certFile, keyFile, pool := selfSigned(t)
		tlsEnv := map[string]string{"VIGIE_TLS_CERT": certFile, "VIGIE_TLS_KEY": keyFile}
		for k, v := range env {
			tlsEnv[k] = v
		}
		in := start(t, rulesV1, tlsEnv)
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
		defer client.CloseIdleConnections()
		check(t, client, "https://"+strings.TrimPrefix(in.base, "http://"), true)
	})
}

// selfSigned writes a certificate for 127.0.0.1 and its key, and gives the
// pool that trusts it.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "vigie test"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, pool
}
