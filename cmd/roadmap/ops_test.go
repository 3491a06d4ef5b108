package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeMetricsApartWithJSONLogs runs serve with --metrics-addr and
// --log-format json: /metrics is served on its own address and not on the
// API's, and every log line is a JSON object, a request's access line
// among them.
func TestServeMetricsApartWithJSONLogs(t *testing.T) {
	const secret = "whg9yE25NKzGNZS9m-cDPUPREu4PonPW0bJX2-GH"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, w := io.Pipe()
	logs := newLockedBuffer()
	done := make(chan error, 1)
	env := map[string]string{"ROADMAP_BOOTSTRAP_TOKEN": secret, "ROADMAP_LOG_FORMAT": "json"}
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--metrics-addr", "127.0.0.1:0"},
			func(k string) string { return env[k] }, w, logs)
		w.Close()
	}()
	var api, metrics string
	lines := bufio.NewScanner(out)
	for (api == "" || metrics == "") && lines.Scan() {
		if rest, ok := strings.CutPrefix(lines.Text(), "roadmap: listening on "); ok {
			api, _, _ = strings.Cut(rest, " ")
		}
		if rest, ok := strings.CutPrefix(lines.Text(), "roadmap: metrics on "); ok {
			metrics = rest
		}
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	if api == "" || metrics == "" {
		cancel()
		t.Fatalf("serve did not say where it listens (API %q, metrics %q): %v", api, metrics, <-done)
	}

	req, _ := http.NewRequest("GET", api+"/v1/roadmap", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	req.Header.Set("X-Request-Id", "json-log-1")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("GET /v1/roadmap: %d", res.StatusCode)
	}
	if res := send(t, "GET", api+"/metrics", "", ""); res.StatusCode != 404 {
		t.Errorf("GET /metrics on the API's address: %d, want 404 when metrics are served apart", res.StatusCode)
	}
	res = send(t, "GET", metrics, "", "")
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !strings.Contains(string(body), `roadmap_http_request_duration_seconds_count{method="GET",route="/v1/roadmap",status="200"} 1`) {
		t.Errorf("GET %s: %d, want 200 counting the request:\n%s", metrics, res.StatusCode, body)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v after a shutdown", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop within 30s")
	}
	access := 0
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("a log line is not JSON: %v: %s", err, line)
		}
		if m["msg"] == "request" && m["request_id"] == "json-log-1" {
			access++
			if m["actor"] != "bootstrap" || m["route"] != "/v1/roadmap" || m["status"] != float64(200) {
				t.Errorf("access line %v, want actor bootstrap, route /v1/roadmap, status 200", m)
			}
		}
	}
	if access != 1 {
		t.Errorf("%d access lines of the request, want 1:\n%s", access, logs.String())
	}
	if strings.Contains(logs.String(), secret) {
		t.Error("the token's secret is in the log")
	}
}

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key
// as PEM files and returns their paths and the certificate.
func selfSigned(t *testing.T) (certFile, keyFile string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "roadmap test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if cert, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, cert
}

// TestServeOverTLS serves the API with --tls-cert and --tls-key, from a
// certificate made for the test: a client that trusts it reads and writes
// over HTTPS; plain HTTP on the port gets no answer of the API.
func TestServeOverTLS(t *testing.T) {
	certFile, keyFile, cert := selfSigned(t)
	const secret = "whg9yE25NKzGNZS9m-cDPUPREu4PonPW0bJX2-GH"
	env := map[string]string{"ROADMAP_BOOTSTRAP_TOKEN": secret, "ROADMAP_TLS_KEY": keyFile}
	base, _, stop := startServe(t, func(k string) string { return env[k] }, "--data", t.TempDir(), "--tls-cert", certFile)
	defer stop()
	if !strings.HasPrefix(base, "https://127.0.0.1:") {
		t.Fatalf("serve listens on %s, want https://127.0.0.1:PORT", base)
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}}
	req, _ := http.NewRequest("POST", base+"/v1/items", strings.NewReader(`{"title":"Over TLS","kind":"idea"}`))
	req.Header.Set("Authorization", "Bearer "+secret)
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("POST over TLS: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != 201 || res.TLS == nil || res.TLS.Version < tls.VersionTLS12 {
		t.Fatalf("POST over TLS: %d, TLS %v; want 201 over TLS 1.2 or later", res.StatusCode, res.TLS)
	}
	if res, err := client.Get(base + "/metrics"); err != nil || res.StatusCode != 200 {
		t.Errorf("GET /metrics over TLS: %v", err)
	} else {
		res.Body.Close()
	}
	// A client that does not trust the certificate is refused by its own
	// check; one speaking plain HTTP gets no API answer.
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("a client without the certificate's authority connected")
	}
	if res, err := http.Get("http://" + strings.TrimPrefix(base, "https://") + "/healthz"); err == nil {
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode == 200 {
			t.Errorf("plain HTTP on the TLS port answered 200: %s", body)
		}
	}
}

func TestPrintedNATSURLsHideTheirPasswords(t *testing.T) {
	got := redactURLs("tls://ledger:s3cret@n1:4222,nats://n2:4222,tls://admin@n3:4222")
	if strings.Contains(got, "s3cret") || !strings.Contains(got, "tls://ledger:xxxxx@n1:4222") || !strings.Contains(got, "nats://n2:4222") || !strings.Contains(got, "tls://admin@n3:4222") {
		t.Errorf("redacted %q", got)
	}
}
