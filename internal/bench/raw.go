package bench

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
)

// Operations of the raw side, named after the subject they publish to.
const (
	opNewSubject      = "new-subject"
	opExistingSubject = "existing-subject"
)

// rawSide is the ceiling: the ledger's own stream (eventlog.Open, so the same
// embedded server options and stream configuration) published to directly,
// with nothing of the ledger around it.
type rawSide struct {
	log     *eventlog.Log
	payload []byte
}

func openRaw(ctx context.Context, dir string, payloadBytes int) (*rawSide, error) {
	log, err := eventlog.Open(ctx, eventlog.Config{DataDir: dir})
	if err != nil {
		return nil, err
	}
	return &rawSide{log: log, payload: fakeEvent(payloadBytes)}, nil
}

func (r *rawSide) workers(n int) []worker {
	ws := make([]worker, n)
	for i := range ws {
		ws[i] = &rawWorker{js: r.log.JetStream(), stream: r.log.Stream(), payload: r.payload}
	}
	return ws
}

// storedBytes returns the stream's average stored bytes per message.
func (r *rawSide) storedBytes(ctx context.Context) (float64, error) {
	return averageStored(ctx, r.log.JetStream(), r.log.Stream())
}

func (r *rawSide) close(context.Context) error {
	r.log.Close()
	return nil
}

// rawWorker publishes synchronously, as eventlog.Append does: a message id,
// the expected stream and the expected last sequence of the subject. It
// alternates between a new subject (expected 0, like a proposal) and the
// subject it has just created (expected its sequence, like the
// prioritisation of an item proposed earlier), so no two workers ever
// contend for a subject.
type rawWorker struct {
	js      jetstream.JetStream
	stream  string
	payload []byte
	subject string // the subject published once, awaiting its second message
	last    uint64 // its sequence
}

func (w *rawWorker) Do(ctx context.Context) (string, error) {
	op, subject, expected := opExistingSubject, w.subject, w.last
	if subject == "" {
		op, subject, expected = opNewSubject, eventlog.Subject("item", uuid.Must(uuid.NewV7()).String()), 0
	}
	msg := nats.NewMsg(subject)
	msg.Data = w.payload
	ack, err := w.js.PublishMsg(ctx, msg,
		jetstream.WithMsgID(uuid.Must(uuid.NewV7()).String()),
		jetstream.WithExpectStream(w.stream),
		jetstream.WithExpectLastSequencePerSubject(expected))
	if err != nil {
		return op, fmt.Errorf("publish to %s expecting %d: %w", subject, expected, err)
	}
	if op == opNewSubject {
		w.subject, w.last = subject, ack.Sequence
	} else {
		w.subject, w.last = "", 0
	}
	return op, nil
}

// fakeEvent returns a JSON object of exactly size bytes (at least a few
// dozen) shaped like a stored event, so the raw side moves as many bytes as
// the ledger does.
func fakeEvent(size int) []byte {
	head := `{"id":"` + uuid.Must(uuid.NewV7()).String() + `","type":"bench.raw","data":{"text":"`
	tail := `"}}`
	fill := max(size-len(head)-len(tail), 0)
	return []byte(head + strings.Repeat("x", fill) + tail)
}

// averageStored returns a stream's stored bytes per message, headers and
// JetStream's own per-message overhead included.
func averageStored(ctx context.Context, js jetstream.JetStream, name string) (float64, error) {
	s, err := js.Stream(ctx, name)
	if err != nil {
		return 0, err
	}
	info, err := s.Info(ctx)
	if err != nil {
		return 0, err
	}
	if info.State.Msgs == 0 {
		return 0, nil
	}
	return float64(info.State.Bytes) / float64(info.State.Msgs), nil
}
