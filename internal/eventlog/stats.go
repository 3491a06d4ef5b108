package eventlog

import (
	"context"
	"fmt"
)

// StreamStats is what the stream holds, as JetStream counts it.
type StreamStats struct {
	Messages, Bytes, LastSequence uint64
}

// Stats returns the stream's message count, its size in bytes and its last
// sequence, of one moment. It returns ErrUnavailable when the stream has no
// leader.
func (l *Log) Stats(ctx context.Context) (StreamStats, error) {
	info, err := l.stream.Info(ctx)
	if err != nil {
		if unavailable(err) {
			return StreamStats{}, fmt.Errorf("%w: stream info: %v", ErrUnavailable, err)
		}
		return StreamStats{}, fmt.Errorf("stream info: %w", err)
	}
	return StreamStats{Messages: info.State.Msgs, Bytes: info.State.Bytes, LastSequence: info.State.LastSeq}, nil
}
