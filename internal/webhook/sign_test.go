package webhook

import (
	"testing"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// TestSignMatchesTheSpecificationsVector signs the example of the Standard
// Webhooks specification and compares with its published signature.
func TestSignMatchesTheSpecificationsVector(t *testing.T) {
	key, err := roadmap.WebhookSecretBytes("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	got := Sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}
