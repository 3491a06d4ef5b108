package eventlog

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/synadia-io/orbit.go/jetstreamext"
)

// groupCommitMax bounds how many appends one atomic batch carries. The
// server takes up to 1,000; a batch is gathered from the appends waiting
// while the previous one was in flight, about one per concurrent writer.
const groupCommitMax = 64

// A committer gathers the appends that arrive while a publish is in flight
// and sends them to JetStream as one atomic batch: the server checks every
// message's expected stream and expected last subject sequence and
// recognises every message id as it would for single publishes, stores all
// of them or none, and, on a server that syncs every write, syncs the batch
// once before it acknowledges it. A decision is therefore acknowledged only
// once the batch that holds it is stored and synced, as before; what the
// batch saves is one fsync per decision.
//
// Within one batch the server refuses an expected last subject sequence on
// a subject the batch already writes to, so a batch holds at most one
// append per aggregate; the next append to the same aggregate waits for
// the next batch, where its own expected sequence is checked against what
// the first stored. The hash chain needs nothing more: every event is
// sealed after the head its decision saw, and the expected sequence makes
// sure that head is still the aggregate's last when it is stored.
//
// When the batch is refused as a whole (one message's expected sequence is
// stale, one message id was seen before), nobody can tell from the answer
// which message it was, so each append of the batch is published again on
// its own and gets its own answer: a conflict for the stale one, a
// duplicate for the retry, a sequence for the others. A batch whose answer
// never came is sent again the same way, message by message, so a copy
// stored meanwhile is recognised (Append's storedLast).
type committer struct {
	l       *Log
	in      chan *pendingAppend
	quit    chan struct{}
	stopped chan struct{}
	once    sync.Once
	// gate, when not nil, holds the first batch until it is closed: tests
	// queue appends first, so that they are gathered into one batch.
	gate <-chan struct{}
	// off is set once the stream refuses atomic publish: from then on the
	// gathered appends are published one by one.
	off atomic.Bool
	// batches and batched count the atomic batches stored and the appends
	// they held; refused counts the batches sent again one by one.
	batches, batched, refused atomic.Uint64
}

// pendingAppend is one append waiting for the committer.
type pendingAppend struct {
	ctx  context.Context
	msg  *nats.Msg
	done chan publishResult // buffered: the committer never waits on a caller
}

// publishResult is what publish returns, for an append sent by the
// committer.
type publishResult struct {
	ack    *jetstream.PubAck
	resent bool
	err    error
}

// errClosed answers the appends still waiting when the log closes.
var errClosed = errors.New("the event log is closed")

func newCommitter(l *Log, gate <-chan struct{}) *committer {
	c := &committer{
		l:       l,
		in:      make(chan *pendingAppend, groupCommitMax),
		quit:    make(chan struct{}),
		stopped: make(chan struct{}),
		gate:    gate,
	}
	go c.run()
	return c
}

// publish hands msg to the committer and waits for its answer, or for ctx
// to end; it returns what Log.publish returns.
func (c *committer) publish(ctx context.Context, msg *nats.Msg) (*jetstream.PubAck, bool, error) {
	p := &pendingAppend{ctx: ctx, msg: msg, done: make(chan publishResult, 1)}
	select {
	case c.in <- p:
	case <-c.quit:
		return nil, false, errClosed
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
	select {
	case r := <-p.done:
		return r.ack, r.resent, r.err
	case <-c.stopped:
		// Every batch the committer took is answered before it stops; an
		// append that queued after its last one never will be.
		select {
		case r := <-p.done:
			return r.ack, r.resent, r.err
		default:
			return nil, false, errClosed
		}
	case <-ctx.Done():
		// The message may still be stored: the caller's deadline ended
		// first, as it can during a single publish.
		return nil, false, ctx.Err()
	}
}

// stop ends the committer once its batch in flight is answered; appends
// still waiting are answered with errClosed. It may be called more than
// once, as Close may.
func (c *committer) stop() {
	c.once.Do(func() { close(c.quit) })
	<-c.stopped
	for {
		select {
		case p := <-c.in:
			p.done <- publishResult{err: errClosed}
		default:
			return
		}
	}
}

func (c *committer) run() {
	defer close(c.stopped)
	if c.gate != nil {
		select {
		case <-c.gate:
		case <-c.quit:
			return
		}
	}
	// waiting holds the appends to an aggregate the previous batch already
	// wrote to, in the order they came.
	var waiting []*pendingAppend
	for {
		if len(waiting) == 0 {
			select {
			case p := <-c.in:
				waiting = append(waiting, p)
			case <-c.quit:
				return
			}
		}
		var batch []*pendingAppend
		batch, waiting = c.gather(waiting)
		c.commit(batch)
	}
}

// gather makes the next batch from the appends left waiting and those that
// queued up meanwhile, without waiting for more: at most one append per
// subject and groupCommitMax in all. It returns the batch and the appends
// left for the next one.
func (c *committer) gather(waiting []*pendingAppend) (batch, rest []*pendingAppend) {
	subjects := make(map[string]struct{}, groupCommitMax)
	add := func(p *pendingAppend) {
		if _, taken := subjects[p.msg.Subject]; taken || len(batch) == groupCommitMax {
			rest = append(rest, p)
			return
		}
		subjects[p.msg.Subject] = struct{}{}
		batch = append(batch, p)
	}
	for _, p := range waiting {
		add(p)
	}
	for range groupCommitMax {
		if len(batch) == groupCommitMax {
			break
		}
		select {
		case p := <-c.in:
			add(p)
			continue
		default:
		}
		break
	}
	return batch, rest
}

// commit publishes batch, atomically when it holds more than one append and
// the stream allows it, and answers every append in it.
func (c *committer) commit(batch []*pendingAppend) {
	live := batch[:0]
	for _, p := range batch {
		if err := p.ctx.Err(); err != nil {
			p.done <- publishResult{err: err}
			continue
		}
		live = append(live, p)
	}
	if len(live) == 0 {
		return
	}
	if len(live) == 1 || c.off.Load() {
		c.each(live, false)
		return
	}
	msgs := make([]*nats.Msg, len(live))
	for i, p := range live {
		msgs[i] = p.msg
	}
	ctx, cancel := context.WithTimeout(context.Background(), publishAttempt)
	// No flow control: the batch is small, and every message of it is
	// checked at the commit, whose answer is the batch's only one.
	ack, err := jetstreamext.PublishMsgBatch(ctx, c.l.js, msgs, jetstreamext.BatchFlowControl{})
	cancel()
	if err == nil && ack.BatchSize == uint64(len(live)) {
		c.batches.Add(1)
		c.batched.Add(uint64(len(live)))
		// A batch is stored in one run of sequences, nothing between its
		// messages, in the order they were sent; the answer names the last.
		first := ack.Sequence - ack.BatchSize + 1
		for i, p := range live {
			p.done <- publishResult{ack: &jetstream.PubAck{Stream: ack.Stream, Domain: ack.Domain, Sequence: first + uint64(i)}}
		}
		return
	}
	var apiErr *jetstream.APIError
	refused := errors.As(err, &apiErr)
	if refused && apiErr.ErrorCode == jetstreamext.JSErrCodeBatchPublishNotEnabled {
		c.off.Store(true)
		c.l.logger.Warn("the stream refuses atomic batches: publishing one decision at a time", "stream", c.l.name)
	}
	// Refused as a whole, nothing of it was stored; without an answer, it
	// may have been.
	c.refused.Add(1)
	c.each(live, !refused)
}

// each publishes every append of batch on its own, all at once, and answers
// each. resent says the appends may already be stored.
func (c *committer) each(batch []*pendingAppend, resent bool) {
	if len(batch) == 1 {
		c.one(batch[0], resent)
		return
	}
	var wg sync.WaitGroup
	for _, p := range batch {
		wg.Go(func() { c.one(p, resent) })
	}
	wg.Wait()
}

func (c *committer) one(p *pendingAppend, resent bool) {
	ack, again, err := c.l.publish(p.ctx, p.msg)
	p.done <- publishResult{ack: ack, resent: resent || again, err: err}
}

// GroupCommitStats returns how many atomic batches the log stored and how
// many appends they held, zeros without group commit: what benchmarks
// report beside their rates.
func (l *Log) GroupCommitStats() (batches, appends uint64) {
	if l.commits == nil {
		return 0, 0
	}
	return l.commits.batches.Load(), l.commits.batched.Load()
}
