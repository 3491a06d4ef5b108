// Package eventlog keeps the ledger's events in one NATS JetStream stream: it
// embeds a nats-server or connects to an external one, makes sure the stream
// exists with the guarantees the ledger relies on, appends events with an
// expected last subject sequence, and reads them back in order.
package eventlog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const (
	// DefaultStream is the name of the ledger's stream.
	DefaultStream = "ROADMAP"
	subjectPrefix = "roadmap.events."
	// DuplicateWindow is how long JetStream itself drops a message whose
	// Nats-Msg-Id it has seen. Idempotency beyond it is the ledger's job.
	DuplicateWindow = 10 * time.Minute

	// Headers that carry request metadata beside the event, outside its hash.
	HeaderIdempotencyKey = "Roadmap-Idempotency-Key"
	HeaderRequestHash    = "Roadmap-Request-Hash"
)

// Errors returned by the log.
var (
	// ErrConflict means the aggregate's subject moved on since the expected
	// sequence: another writer won the race. Nothing was appended.
	ErrConflict = errors.New("the aggregate changed since it was read")
)

// Config says where the log lives.
type Config struct {
	// DataDir holds the embedded server's file storage. Ignored with NatsURL.
	DataDir string
	// NatsURL, when set, connects to an external NATS server or cluster
	// instead of embedding one.
	NatsURL string
	// Replicas is the stream's replica count (1 when embedded).
	Replicas int
	// Stream is the stream name; DefaultStream when empty.
	Stream string
	// DuplicateWindow overrides DuplicateWindow (tests use a short one to
	// show idempotency does not depend on it).
	DuplicateWindow time.Duration
	// SystemURL is a connection to the external cluster's system account,
	// used once at start to check that every server fsyncs each write.
	SystemURL string
	// UnsafeNoFsync runs without that guarantee: the embedded server does
	// not sync each write, and an external cluster is not checked. An
	// acknowledged decision can then be lost in a power cut.
	UnsafeNoFsync bool
	// Logger receives the log's own messages; none when nil.
	Logger *slog.Logger
	// CredsFile is a NATS credentials file (a user JWT and its NKey seed)
	// for the external cluster; none when empty.
	CredsFile string
	// RootCAFile is a PEM file of the certificate authorities the external
	// cluster's TLS certificates are checked against, instead of the
	// system's; the URL's tls:// scheme or the server asks for TLS.
	RootCAFile string
	// GroupCommit gathers the appends that arrive together into one
	// JetStream atomic batch, synced once, instead of publishing each on
	// its own (see committer). It needs nats-server 2.12 or later and
	// turns on the stream's AllowAtomicPublish; the log publishes one by
	// one when the server does not take atomic batches. Off by default: a
	// single server stages every atomic batch in a file store of its own,
	// which costs about what the batch saves (docs/performance.md).
	GroupCommit bool

	// commitGate, when not nil, holds the committer's first batch until
	// it is closed (tests).
	commitGate <-chan struct{}
}

// Log is the ledger's event stream.
type Log struct {
	server *server.Server // nil when connected to an external server
	nc     *nats.Conn
	js     jetstream.JetStream
	stream jetstream.Stream
	name   string
	logger *slog.Logger
	unsafe bool // running without fsync on every write
	// commits gathers concurrent appends into atomic batches; nil when
	// every append is published on its own.
	commits *committer
}

// Open starts or connects to NATS and makes sure the stream exists with file
// storage, no deletes or purges, discard-new and direct get. It returns an
// error when the server cannot start or the stream cannot be made.
func Open(ctx context.Context, cfg Config) (*Log, error) {
	l := &Log{name: cfg.Stream, logger: cfg.Logger}
	if l.name == "" {
		l.name = DefaultStream
	}
	if l.logger == nil {
		l.logger = slog.New(slog.DiscardHandler)
	}
	replicas := max(cfg.Replicas, 1)
	window := cfg.DuplicateWindow
	if window == 0 {
		window = DuplicateWindow
	}
	var err error
	if cfg.NatsURL == "" {
		if l.server, err = startEmbedded(cfg.DataDir, !cfg.UnsafeNoFsync); err != nil {
			return nil, err
		}
		l.nc, err = nats.Connect("", nats.InProcessServer(l.server), nats.Name("roadmap-ledger"))
	} else {
		if !cfg.UnsafeNoFsync {
			var opts []nats.Option
			if cfg.RootCAFile != "" {
				// The system account's user is in its URL; the
				// cluster's authorities are the same.
				opts = append(opts, nats.RootCAs(cfg.RootCAFile))
			}
			if err := verifyFsync(cfg.SystemURL, opts...); err != nil {
				return nil, err
			}
		}
		l.nc, err = nats.Connect(cfg.NatsURL, append(connectOptions(cfg), nats.Name("roadmap-ledger"), nats.MaxReconnects(-1))...)
	}
	l.unsafe = cfg.UnsafeNoFsync
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("connect to nats: %w", err)
	}
	if l.js, err = jetstream.New(l.nc); err != nil {
		l.Close()
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	l.stream, err = l.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        l.name,
		Description: "Roadmap decision ledger: the only source of truth",
		Subjects:    []string{subjectPrefix + ">"},
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardNew,
		DenyDelete:  true,
		DenyPurge:   true,
		AllowDirect: true,
		Duplicates:  window,
		// A server before 2.12 does not know the setting and leaves it
		// out of the stream's configuration.
		AllowAtomicPublish: cfg.GroupCommit,
	})
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("create stream %s: %w", l.name, err)
	}
	if cfg.GroupCommit {
		if info := l.stream.CachedInfo(); info != nil && info.Config.AllowAtomicPublish {
			l.commits = newCommitter(l, cfg.commitGate)
		} else {
			l.logger.Warn("the server does not take atomic batches (nats-server 2.12 or later): publishing one decision at a time", "stream", l.name)
		}
	}
	return l, nil
}

// startEmbedded starts an in-process nats-server with JetStream storing its
// files under dataDir, syncing every write to disk before acknowledging it
// unless told not to. It listens on no port.
func startEmbedded(dataDir string, syncAlways bool) (*server.Server, error) {
	if dataDir == "" {
		return nil, errors.New("embedded nats: a data directory is required")
	}
	ns, err := server.NewServer(&server.Options{
		ServerName: "roadmap-embedded",
		DontListen: true,
		JetStream:  true,
		StoreDir:   dataDir,
		SyncAlways: syncAlways,
		NoSigs:     true,
		NoLog:      true,
	})
	if err != nil {
		return nil, fmt.Errorf("embedded nats: %w", err)
	}
	ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		ns.Shutdown()
		return nil, errors.New("embedded nats: not ready after 30s")
	}
	return ns, nil
}

// Close drains the connection and stops the embedded server, if any, after
// everything it acknowledged is on disk.
func (l *Log) Close() {
	if l.commits != nil {
		l.commits.stop()
	}
	if l.nc != nil {
		_ = l.nc.Drain()
		for l.nc.IsDraining() {
			time.Sleep(5 * time.Millisecond)
		}
		l.nc.Close()
	}
	if l.server != nil {
		l.server.Shutdown()
		l.server.WaitForShutdown()
	}
}

// Stream returns the stream's name.
func (l *Log) Stream() string { return l.name }

// JetStream returns the JetStream context the log uses, for tools that need
// the raw engine (benchmarks, verification).
func (l *Log) JetStream() jetstream.JetStream { return l.js }

// Conn returns the NATS connection the log uses.
func (l *Log) Conn() *nats.Conn { return l.nc }

// AppendOptions carries what an append knows beside the event.
type AppendOptions struct {
	// ExpectedSequence is the aggregate's last subject sequence as the
	// decision saw it, 0 for a new aggregate.
	ExpectedSequence uint64
	// IdempotencyKey and RequestHash identify the request that made the
	// event, so a retry can be recognised after JetStream's duplicate window.
	IdempotencyKey string
	RequestHash    string
}

// Appended is the acknowledgement of an append.
type Appended struct {
	Sequence uint64
	// Duplicate is true when JetStream recognised the message as a retry of
	// one it already stored at Sequence; nothing new was appended.
	Duplicate bool
}

// Append seals e onto the chain after prevHash and appends it to its
// aggregate's subject, expecting the subject's last sequence to be
// opts.ExpectedSequence. It returns ErrConflict when another event was
// appended to the aggregate meanwhile. The event is on disk when Append
// returns without error. With GroupCommit, appends that arrive together
// share one atomic batch and its fsync; each keeps its own check.
func (l *Log) Append(ctx context.Context, e *Envelope, prevHash string, opts AppendOptions) (Appended, error) {
	msg, err := NewMessage(e, prevHash, l.name, opts)
	if err != nil {
		return Appended{}, err
	}
	publish := l.publish
	if l.commits != nil {
		publish = l.commits.publish
	}
	ack, resent, err := publish(ctx, msg)
	if err != nil {
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
			apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant) {
			// A single server checks the expected sequence before it
			// recognises a duplicate: a resend of a copy it stored meanwhile
			// is refused as a conflict. The copy is then the subject's last.
			if seq, ok := l.storedLast(ctx, msg, resent); ok {
				return Appended{Sequence: seq}, nil
			}
			return Appended{}, fmt.Errorf("%w: %s %s expected at sequence %d", ErrConflict, e.AggregateType, e.AggregateID, opts.ExpectedSequence)
		}
		if unavailable(err) {
			return Appended{}, fmt.Errorf("%w: append %s: %v", ErrUnavailable, e.Type, err)
		}
		return Appended{}, fmt.Errorf("append %s: %w", e.Type, err)
	}
	// A duplicate acknowledged after a resend is most likely the first
	// copy this call sent, not an earlier request's: it is reported as new.
	return Appended{Sequence: ack.Sequence, Duplicate: ack.Duplicate && !resent}, nil
}

// storedLast returns the sequence of msg when a resent msg is the last
// message of its subject, as its message id says.
func (l *Log) storedLast(ctx context.Context, msg *nats.Msg, resent bool) (uint64, bool) {
	if !resent {
		return 0, false
	}
	last, err := l.stream.GetLastMsgForSubject(ctx, msg.Subject)
	if err != nil || last.Header.Get(jetstream.MsgIDHeader) != msg.Header.Get(jetstream.MsgIDHeader) {
		return 0, false
	}
	return last.Sequence, true
}

// publishAttempt is how long one publish waits for its acknowledgement
// before the message is sent again. A healthy append takes milliseconds; an
// acknowledgement lost while the stream changes leader would otherwise hold
// the write until its deadline.
const publishAttempt = 3 * time.Second

// errCodeDuplicateInProcess is JetStream's answer to a message whose id it
// is still storing: the first copy is being replicated.
const errCodeDuplicateInProcess jetstream.ErrorCode = 10158

// publish sends msg until JetStream acknowledges it or ctx ends, sending it
// again, unchanged, when an acknowledgement does not come within
// publishAttempt or the stream has no leader for the moment. A copy is
// never stored twice: JetStream knows it by its message id and acknowledges
// the first as a duplicate. resent is true when the message was sent more
// than once.
func (l *Log) publish(ctx context.Context, msg *nats.Msg) (ack *jetstream.PubAck, resent bool, err error) {
	for attempt := 0; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, publishAttempt)
		ack, err = l.js.PublishMsg(actx, msg)
		cancel()
		var apiErr *jetstream.APIError
		inProcess := errors.As(err, &apiErr) && apiErr.ErrorCode == errCodeDuplicateInProcess
		if err == nil || ctx.Err() != nil || !(inProcess || unavailable(err)) {
			return ack, attempt > 0, err
		}
		select {
		case <-ctx.Done():
			return nil, attempt > 0, fmt.Errorf("%w (last: %v)", ctx.Err(), err)
		case <-time.After(100 * time.Millisecond << min(attempt, 3)):
		}
	}
}

// NewMessage seals e onto the chain after prevHash and returns the message
// Append publishes for it to stream: the sealed body on the aggregate's
// subject, with the headers that make JetStream check the append (its
// message id, the stream, the aggregate's expected last sequence) and
// those that name the request behind it. Tools that write a ledger
// without a ledger in front (the benchmarks' generator) publish the same
// messages through it. It returns an error when e cannot be sealed.
func NewMessage(e *Envelope, prevHash, stream string, opts AppendOptions) (*nats.Msg, error) {
	body, err := e.Seal(prevHash)
	if err != nil {
		return nil, fmt.Errorf("seal event: %w", err)
	}
	msg := nats.NewMsg(Subject(e.AggregateType, e.AggregateID))
	msg.Data = body
	msgID := e.ID
	if opts.IdempotencyKey != "" {
		msg.Header.Set(HeaderIdempotencyKey, opts.IdempotencyKey)
		msg.Header.Set(HeaderRequestHash, opts.RequestHash)
		msgID = "idem:" + opts.IdempotencyKey
	}
	msg.Header.Set(jetstream.MsgIDHeader, msgID)
	msg.Header.Set(jetstream.ExpectedStreamHeader, stream)
	msg.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(opts.ExpectedSequence, 10))
	return msg, nil
}

// LastSequence returns the sequence of the last event in the stream, 0 when
// it is empty.
func (l *Log) LastSequence(ctx context.Context) (uint64, error) {
	info, err := l.stream.Info(ctx)
	if err != nil {
		if unavailable(err) {
			return 0, fmt.Errorf("%w: stream info: %v", ErrUnavailable, err)
		}
		return 0, fmt.Errorf("stream info: %w", err)
	}
	return info.State.LastSeq, nil
}

// Head returns the sequence and hash of the last event of an aggregate, or
// zeros when it has none.
func (l *Log) Head(ctx context.Context, aggregateType, aggregateID string) (uint64, string, error) {
	msg, err := l.stream.GetLastMsgForSubject(ctx, Subject(aggregateType, aggregateID))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return 0, "", nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("head of %s %s: %w", aggregateType, aggregateID, err)
	}
	e, err := Decode(msg.Data)
	if err != nil {
		return 0, "", fmt.Errorf("sequence %d: %w", msg.Sequence, err)
	}
	return msg.Sequence, e.Hash, nil
}

// Record is one event as read back from the stream.
type Record struct {
	Sequence uint64
	Envelope Envelope
	// Body is the stored message body, for verification. Envelope.Data is
	// a part of it.
	Body           []byte
	IdempotencyKey string
	RequestHash    string
	// Decoded is the event's data decoded into what the reader's DataFunc
	// gave for its type (FollowDecoded, ReadRangeDecoded), nil otherwise.
	// With DomainData it is the roadmap.Event itself (see Event).
	Decoded any
}

// Follow calls fn with every event from sequence from (1 for the start) on,
// in order, until ctx ends or fn returns an error, which Follow returns. It
// does not verify hashes: Verify does.
func (l *Log) Follow(ctx context.Context, from uint64, fn func(Record) error) error {
	return l.follow(ctx, from, nil, bulk, nil, fn)
}

// FollowDecoded is Follow that also decodes each event's data, in the same
// pass as its envelope, into what data gives for the event's type
// (Record.Decoded). The decoding happens while fn runs on earlier events.
func (l *Log) FollowDecoded(ctx context.Context, from uint64, data DataFunc, fn func(Record) error) error {
	return l.follow(ctx, from, nil, bulk, data, fn)
}

// errRangeEnd ends a ReadRange once its last event is handled.
var errRangeEnd = errors.New("end of range")

// ReadRange calls fn with the events from sequence from to sequence to, both
// included, in order, fetching no more than the range: a short read of a long
// log (time travel from a checkpoint) costs what it reads. to must not be
// beyond the log's end, or ReadRange waits for it.
func (l *Log) ReadRange(ctx context.Context, from, to uint64, fn func(Record) error) error {
	return l.ReadRangeDecoded(ctx, from, to, nil, fn)
}

// ReadRangeDecoded is ReadRange that also decodes each event's data, as
// FollowDecoded does.
func (l *Log) ReadRangeDecoded(ctx context.Context, from, to uint64, data DataFunc, fn func(Record) error) error {
	if from > to {
		return nil
	}
	err := l.follow(ctx, from, nil, bulk.upTo(to-from+1), data, func(r Record) error {
		if err := fn(r); err != nil {
			return err
		}
		if r.Sequence >= to {
			return errRangeEnd
		}
		return nil
	})
	if errors.Is(err, errRangeEnd) {
		return nil
	}
	return err
}

// Read calls fn with the events of one aggregate, oldest first, and returns
// once the last of them has been handled. Events are verified (Decode).
func (l *Log) Read(ctx context.Context, aggregateType, aggregateID string, fn func(Record) error) error {
	return l.read(ctx, aggregateType, aggregateID, bulk, fn)
}

func (l *Log) read(ctx context.Context, aggregateType, aggregateID string, size readSize, fn func(Record) error) error {
	subject := Subject(aggregateType, aggregateID)
	last, err := l.stream.GetLastMsgForSubject(ctx, subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("last message of %s: %w", subject, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errDone := errors.New("done")
	err = l.follow(ctx, 1, []string{subject}, size, nil, func(r Record) error {
		if _, err := Decode(r.Body); err != nil {
			return fmt.Errorf("sequence %d: %w", r.Sequence, err)
		}
		if err := fn(r); err != nil {
			return err
		}
		if r.Sequence >= last.Sequence {
			return errDone
		}
		return nil
	})
	if errors.Is(err, errDone) {
		return nil
	}
	return err
}

func (l *Log) follow(ctx context.Context, from uint64, subjects []string, size readSize, data DataFunc, fn func(Record) error) error {
	p := newParser(data)
	return consume(ctx, l, from, subjects, size, p.parseMsg, fn)
}

// readSize is how much of the log a read holds ahead of its reader: batch
// messages pulled from the server, and queue read ones waiting for fn.
type readSize struct{ batch, queue int }

// bulk is the read ahead of the process's own reads (replays, rebuilds,
// time travel): large, for speed.
var bulk = readSize{batch: 4096, queue: 1024}

// upTo is size for a read of n messages at most: no more is pulled.
func (size readSize) upTo(n uint64) readSize {
	size.batch = int(min(n, uint64(size.batch)))
	return size
}

// consume reads the stream (the given subjects, or all of it) from sequence
// from on with an ordered consumer, turns each message into a T with read,
// and calls fn with each in order, until ctx ends or read or fn fails.
func consume[T any](ctx context.Context, l *Log, from uint64, subjects []string, size readSize, read func(jetstream.Msg) (T, error), fn func(T) error) error {
	// An ordered consumer is state on the server: it is deleted when the
	// read ends, and the server drops it by itself after InactiveThreshold if
	// this process dies first. Without that every read would leave one
	// behind until the server refused to make more.
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: subjects, DeliverPolicy: jetstream.DeliverAllPolicy, InactiveThreshold: 30 * time.Second}
	if from > 1 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, from
	}
	cons, err := l.stream.OrderedConsumer(ctx, cfg)
	if err != nil {
		return fmt.Errorf("ordered consumer: %w", err)
	}
	size = sizeFor(ctx, size)

	// Short heartbeats notice a lost leader or connection within seconds and
	// make the ordered consumer start again where it was.
	msgs, err := cons.Messages(jetstream.PullMaxMessages(size.batch), jetstream.PullHeartbeat(time.Second), jetstream.PullExpiry(5*time.Second))
	if err != nil {
		return fmt.Errorf("consume: %w", err)
	}
	defer func() {
		// Stop first, or the ordered consumer would make itself again when
		// it sees its consumer deleted; it may have been re-made under
		// another name on the way.
		msgs.Stop()
		if info := cons.CachedInfo(); info != nil {
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_ = l.stream.DeleteConsumer(dctx, info.Name)
		}
	}()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		<-ctx.Done()
		msgs.Stop()
	}()

	// One goroutine fetches and reads while the caller's fn runs on the
	// previous events: a replay uses both cores.
	type item struct {
		v   T
		err error
	}
	ready := make(chan item, size.queue)
	go func() {
		defer close(ready)
		for {
			msg, err := msgs.Next()
			if err != nil {
				if ctx.Err() == nil {
					ready <- item{err: fmt.Errorf("next event: %w", err)}
				}
				return
			}
			v, err := read(msg)
			// A replay finds room in the queue nearly every time: try that
			// first, which costs far less than a select on two channels.
			select {
			case ready <- item{v: v, err: err}:
			default:
				select {
				case ready <- item{v: v, err: err}:
				case <-ctx.Done():
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	for it := range ready {
		if it.err != nil {
			return it.err
		}
		if err := fn(it.v); err != nil {
			return err
		}
	}
	return ctx.Err()
}

func (p *parser) parseMsg(msg jetstream.Msg) (Record, error) {
	seq, ok := streamSequence(msg.Reply())
	if !ok {
		meta, err := msg.Metadata()
		if err != nil {
			return Record{}, fmt.Errorf("event metadata: %w", err)
		}
		seq = meta.Sequence.Stream
	}
	rec := Record{Sequence: seq, Body: msg.Data()}
	if err := p.parse(msg.Data(), &rec); err != nil {
		return rec, fmt.Errorf("%w: sequence %d is not an event envelope: %v", ErrTampered, rec.Sequence, err)
	}
	if h := msg.Headers(); h != nil {
		rec.IdempotencyKey = h.Get(HeaderIdempotencyKey)
		rec.RequestHash = h.Get(HeaderRequestHash)
	}
	return rec, nil
}

// streamSequence reads the stream sequence of a delivered message from its
// reply subject, without the allocations of Metadata, which reads everything
// else too: $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.… (9
// tokens), or $JS.ACK.<domain>.<account hash>.<stream>.<consumer>.
// <delivered>.<stream seq>.… (11 or more). It returns false for anything
// else, which Metadata then reads or refuses.
func streamSequence(reply string) (uint64, bool) {
	rest, ok := strings.CutPrefix(reply, "$JS.ACK.")
	if !ok {
		return 0, false
	}
	skip := 3 // stream, consumer, delivered
	switch tokens := strings.Count(reply, ".") + 1; {
	case tokens == 9:
	case tokens >= 11:
		skip += 2 // domain, account hash
	default:
		return 0, false
	}
	for range skip {
		_, rest, _ = strings.Cut(rest, ".")
	}
	token, _, _ := strings.Cut(rest, ".")
	if token == "" || len(token) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range []byte(token) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

// connectOptions are the options of a connection to the external cluster:
// its credentials and the authorities its TLS certificates are checked
// against, when given.
func connectOptions(cfg Config) []nats.Option {
	var opts []nats.Option
	if cfg.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(cfg.CredsFile))
	}
	if cfg.RootCAFile != "" {
		opts = append(opts, nats.RootCAs(cfg.RootCAFile))
	}
	return opts
}
