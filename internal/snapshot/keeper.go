package snapshot

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/proof"
	"github.com/roadmap-ledger/roadmap/projections"
)

// Keeper writes snapshots of the read models a runner feeds, one at a time.
type Keeper struct {
	Path     string
	Stream   string
	Runner   *projections.Runner
	Current  *projections.Current
	Requests *projections.Idempotency
	Tree     *proof.Tree
	Logger   *slog.Logger

	mu      sync.Mutex
	written uint64 // the sequence of the last snapshot written or loaded
}

// NewKeeper returns a keeper of the snapshot at path of the read models
// runner feeds; the snapshot there is at sequence loaded (0 when none was
// loaded).
func NewKeeper(path, stream string, loaded uint64, runner *projections.Runner, current *projections.Current,
	requests *projections.Idempotency, tree *proof.Tree, logger *slog.Logger) *Keeper {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	// A snapshot being written when the process was killed stays under its
	// temporary name (internal/safefile): nothing reads it, so it goes.
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")); len(left) > 0 {
		for _, f := range left {
			if err := os.Remove(f); err != nil {
				logger.Warn("cannot remove a snapshot left half-written", "file", f, "error", err)
			}
		}
	}
	return &Keeper{Path: path, Stream: stream, Runner: runner, Current: current, Requests: requests, Tree: tree, Logger: logger, written: loaded}
}

// Save writes a snapshot of the read models as they stand, unless the last
// one is at the same sequence. The runner waits only while the images are
// taken, not while they are encoded and written. It returns the error of
// the write, or of a tree that stopped growing (it is not written).
func (k *Keeper) Save() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	var im Images
	var err error
	k.Runner.Hold(func(applied uint64) {
		if applied <= k.written {
			return
		}
		im = Images{Stream: k.Stream, Sequence: applied, Current: k.Current.Image(), Requests: k.Requests.Image()}
		im.Tree, err = k.Tree.Image()
	})
	if err != nil || im.Sequence == 0 {
		return err
	}
	start := time.Now()
	// The images name the files of the tree and the history up to their
	// last whole chunks: that much must be on disk before a snapshot says
	// so.
	if err := errors.Join(k.Tree.Sync(), k.Current.Sync()); err != nil {
		return err
	}
	if err := Write(k.Path, im); err != nil {
		return err
	}
	k.written = im.Sequence
	k.Logger.Info("wrote a snapshot of the read models", "sequence", im.Sequence, "file", k.Path, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// Run saves a snapshot every interval until ctx ends.
func (k *Keeper) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := k.Save(); err != nil {
				k.Logger.Warn("cannot write a snapshot of the read models", "file", k.Path, "error", err)
			}
		}
	}
}
