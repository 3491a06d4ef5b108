package eventlog

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"
)

// TestAResendOfAStoredCopyIsNotAConflict sends one append twice, as publish
// does when the first acknowledgement is late: a single server checks the
// expected sequence before it recognises the duplicate, and refuses the
// second copy as a conflict. Append's check finds the copy stored as the
// subject's last message, so the write is acknowledged, not a 409; a
// conflict with another message stays one.
func TestAResendOfAStoredCopyIsNotAConflict(t *testing.T) {
	ctx := context.Background()
	l, err := Open(ctx, Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	id := uuid.NewString()
	e := &Envelope{ID: uuid.NewString(), Type: "item.removed", SchemaVersion: 1, AggregateType: "item", AggregateID: id, Actor: "a", Data: []byte(`{"rationale":"r","evidence":[]}`)}
	msg, err := NewMessage(e, "", l.name, AppendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	first, err := l.js.PublishMsg(ctx, msg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.js.PublishMsg(ctx, msg)
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode != jetstream.JSErrCodeStreamWrongLastSequence {
		t.Fatalf("the second copy: %v; this test needs the server to refuse it as a wrong last sequence", err)
	}
	if seq, ok := l.storedLast(ctx, msg, true); !ok || seq != first.Sequence {
		t.Errorf("storedLast of the resent copy: %d, %v; want %d, true", seq, ok, first.Sequence)
	}
	if _, ok := l.storedLast(ctx, msg, false); ok {
		t.Error("a message sent once was taken for a stored copy")
	}
	other, _ := NewMessage(&Envelope{ID: uuid.NewString(), Type: "item.removed", SchemaVersion: 1, AggregateType: "item", AggregateID: id, Actor: "b", Data: []byte(`{"rationale":"s","evidence":[]}`)}, "", l.name, AppendOptions{})
	if _, ok := l.storedLast(ctx, other, true); ok {
		t.Error("another message on the subject was taken for the resent copy")
	}
}
