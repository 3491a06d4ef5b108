package eventlog_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats-server/v2/server"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
)

// TestAnExternalServerOverTLS starts a NATS server with JetStream that
// speaks only TLS, with a certificate of an authority made for the test,
// and a user and password: the log connects to it with RootCAFile and
// appends and reads; without the authority, the connection is refused.
func TestAnExternalServerOverTLS(t *testing.T) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "roadmap test authority"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}

	ns, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoSigs: true, NoLog: true,
		Username: "ledger", Password: "s3cret",
		TLS:       true,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12},
	})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	t.Cleanup(ns.Shutdown)
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("the server is not ready")
	}
	url := fmt.Sprintf("tls://ledger:s3cret@127.0.0.1:%d", ns.Addr().(*net.TCPAddr).Port)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	l, err := eventlog.Open(ctx, eventlog.Config{NatsURL: url, RootCAFile: caFile, UnsafeNoFsync: true})
	if err != nil {
		t.Fatalf("open over TLS with the authority: %v", err)
	}
	defer l.Close()
	if !l.Conn().TLSRequired() {
		t.Error("the connection does not use TLS")
	}
	id := uuid.NewString()
	ack, err := l.Append(ctx, event(id, 1), "", eventlog.AppendOptions{})
	if err != nil {
		t.Fatalf("append over TLS: %v", err)
	}
	if recs := readAll(t, l, id); len(recs) != 1 || recs[0].Sequence != ack.Sequence {
		t.Fatalf("read back %d records, want the one appended at %d", len(recs), ack.Sequence)
	}

	if l, err := eventlog.Open(ctx, eventlog.Config{NatsURL: url, UnsafeNoFsync: true}); err == nil {
		l.Close()
		t.Error("a connection without the authority was accepted")
	} else if !strings.Contains(err.Error(), "certificate") {
		t.Errorf("without the authority: %v; want an error about the certificate", err)
	}
}
