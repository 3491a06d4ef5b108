package webhook

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

func TestForbiddenAddresses(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1": true, "::1": true, "10.0.0.1": true, "172.16.5.4": true, "192.168.1.1": true,
		"169.254.169.254": true, "fe80::1": true, "fd00:ec2::254": true, "0.0.0.0": true, "::": true,
		"100.64.0.1": true, "224.0.0.1": true, "::ffff:127.0.0.1": true, "::ffff:10.0.0.1": true, "64:ff9b::a00:1": true,
		"93.184.215.14": false, "2606:2800:21f:cb07:6820:80da:af6b:8b2c": false, "8.8.8.8": false,
	} {
		if got := Forbidden(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Forbidden(%s) = %v, want %v", addr, got, want)
		}
	}
}

// TestDeliveryClientRefusesInternalAddressesAfterResolving dials a real
// receiver on 127.0.0.1 by a name that resolves to it: the check runs on
// the address dialled, not on the URL.
func TestDeliveryClientRefusesInternalAddressesAfterResolving(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	_, port, _ := netSplit(srv.URL)
	for _, u := range []string{srv.URL, "http://localhost:" + port + "/"} {
		_, err := NewClient(2*time.Second, false).Post(u, "application/json", nil)
		if !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("POST %s: %v, want ErrForbiddenAddress", u, err)
		}
	}
	res, err := NewClient(2*time.Second, true).Post(srv.URL, "application/json", nil)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("with private addresses allowed: %v", err)
	}
	res.Body.Close()
}

func TestDeliveryClientFollowsNoRedirect(t *testing.T) {
	target := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/elsewhere" {
			target++
			return
		}
		http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	res, err := NewClient(2*time.Second, true).Post(srv.URL+"/hook", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusTemporaryRedirect || target != 0 {
		t.Fatalf("got %d and %d requests to the target, want 307 and none", res.StatusCode, target)
	}
}

func TestCheckURLRefusesInternalHosts(t *testing.T) {
	ctx := context.Background()
	for _, u := range []string{"http://127.0.0.1/", "http://localhost:8080/", "https://[::1]/", "http://169.254.169.254/", "http://app.localhost/"} {
		if err := CheckURL(ctx, u, false); !errors.Is(err, roadmap.ErrInvalid) {
			t.Errorf("CheckURL(%s) = %v, want ErrInvalid", u, err)
		}
		if err := CheckURL(ctx, u, true); err != nil {
			t.Errorf("CheckURL(%s) with private allowed = %v", u, err)
		}
	}
	if err := CheckURL(ctx, "https://93.184.215.14/hook", false); err != nil {
		t.Errorf("a public address: %v", err)
	}
}

func netSplit(raw string) (host, port string, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", err
	}
	return u.Hostname(), u.Port(), nil
}
