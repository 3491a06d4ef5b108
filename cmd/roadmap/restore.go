package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/roadmap-ledger/roadmap/internal/backup"
	"github.com/roadmap-ledger/roadmap/internal/termtext"
)

const restoreUsage = `usage: roadmap restore FILE --data DIR [--public-key FILE]

Restores a backup (roadmap backup) into DIR, which must be empty or not
exist yet. Before it writes anything it checks the whole backup: the
signature of its checkpoint, every event's bytes and hash, every
aggregate's hash chain, that no sequence is missing, the Merkle root of the
events the checkpoint covers, and that the file is whole. Then it stores the
same events at the same sequences in DIR, and "roadmap serve --data DIR"
answers as the ledger did when the backup was taken.

Give --public-key the verifier key you pinned; without it the backup's own
key is used, which proves only that the backup agrees with itself. The
signing key is not in the backup: put the original in DIR/signing.key
(mode 600) or pass --signing-key to serve, or the restored ledger makes a
new one, and tokens made under the old key no longer work.

`

func restoreCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("restore", restoreUsage, stderr)
	var file, dir, keyFile string
	fs.StringVar(&dir, "data", "", "the empty data directory to restore into")
	fs.StringVar(&keyFile, "public-key", "", "file of the verifier key you pinned")
	// FILE may come before the flags or after them.
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		file, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() == 1 && file == "":
		file = fs.Arg(0)
	case fs.NArg() > 0:
		return fmt.Errorf("restore takes one FILE, got %q", append([]string{file}, fs.Args()...))
	}
	if file == "" || dir == "" {
		fs.Usage()
		return errors.New("restore needs a FILE and --data DIR")
	}
	var vkey string
	if keyFile != "" {
		b, err := os.ReadFile(keyFile)
		if err != nil {
			return fmt.Errorf("the pinned key: %w", err)
		}
		vkey = strings.TrimSpace(string(b))
	}
	r, err := backup.Restore(ctx, file, dir, vkey)
	if err != nil {
		return fmt.Errorf("restore %s: %w", file, err)
	}
	if vkey == "" {
		fmt.Fprintf(stderr, "roadmap restore: warning: checked with the backup's own key %s, not a pinned one (--public-key FILE)\n", termtext.Escape(r.Header.VerifierKey))
	}
	fmt.Fprintf(stdout, "restored %d events of %d aggregates into %s; the checkpoint of %d events verifies. Put the signing key in place before serving.\n",
		r.Events, r.Aggregates, termtext.Escape(dir), r.Checkpoint.Size)
	return nil
}
