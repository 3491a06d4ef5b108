package eventlog

import "context"

// Reads made for an answer streamed to a client (the raw log, the audit
// trail's and the backlog's exports) hold only a little of the log ahead of
// the client: a client that stops reading then holds a few hundred
// kilobytes of the server's memory, not megabytes. The process's own reads
// (replays, rebuilds, time travel) read far ahead, for speed. A read is a
// client's when its context says so (ForClient), whichever path it takes
// to the log.

// clientRead is how far a client's read runs ahead of what it has taken.
var clientRead = readSize{batch: 64, queue: 16}

type forClientKey struct{}

// ForClient returns ctx for the reads of an answer streamed to a client.
func ForClient(ctx context.Context) context.Context {
	return context.WithValue(ctx, forClientKey{}, true)
}

// sizeFor is size, or less for a client's read.
func sizeFor(ctx context.Context, size readSize) readSize {
	if ctx.Value(forClientKey{}) == nil {
		return size
	}
	return readSize{batch: min(size.batch, clientRead.batch), queue: min(size.queue, clientRead.queue)}
}
