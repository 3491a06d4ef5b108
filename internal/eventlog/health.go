package eventlog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ErrUnavailable means the log cannot take a write right now: NATS is not
// connected, or the stream has no leader (a failover is under way). Nothing
// was appended unless the caller's retry says otherwise; retry later.
var ErrUnavailable = errors.New("the event log is unavailable")

// Health is what the log knows of its own state.
type Health struct {
	// Writable is false when an append would fail now.
	Writable bool
	// Problems says what is wrong: why it is not writable, or what makes it
	// degraded (a replica offline or catching up) while it still is.
	Problems []string
}

// Health asks the stream how it is, within two seconds.
func (l *Log) Health(ctx context.Context) Health {
	h := Health{Writable: true}
	if l.unsafe {
		h.Problems = append(h.Problems, "writes are not synced to disk one by one (--unsafe-no-fsync): an acknowledged decision can be lost in a power cut")
	}
	if st := l.nc.Status(); st != nats.CONNECTED {
		return Health{Problems: []string{"not connected to NATS (" + st.String() + ")"}}
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	info, err := l.stream.Info(ctx)
	if err != nil {
		return Health{Problems: []string{"the stream does not answer: " + err.Error()}}
	}
	cl := info.Cluster
	if cl == nil {
		return h
	}
	if cl.Leader == "" {
		return Health{Problems: []string{"the stream has no leader: an election is under way"}}
	}
	for _, p := range cl.Replicas {
		switch {
		case p.Offline:
			h.Problems = append(h.Problems, fmt.Sprintf("replica %s is offline", p.Name))
		case !p.Current:
			h.Problems = append(h.Problems, fmt.Sprintf("replica %s is catching up (%d behind)", p.Name, p.Lag))
		}
	}
	if got, want := 1+len(cl.Replicas), info.Config.Replicas; got < want {
		h.Problems = append(h.Problems, fmt.Sprintf("%d of %d replicas are known", got, want))
	}
	return h
}

// unavailable reports whether err means the log could not be reached, as
// opposed to a refusal of the append itself.
func unavailable(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		return apiErr.Code == 503
	}
	return errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse) ||
		errors.Is(err, nats.ErrConnectionClosed) || errors.Is(err, nats.ErrConnectionDraining) ||
		errors.Is(err, nats.ErrConnectionReconnecting) || errors.Is(err, nats.ErrDisconnected)
}
