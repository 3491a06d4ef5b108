// Package bench measures the ledger beside raw JetStream.
package bench

import (
	"context"
	"errors"
	"io"
)

// Run is a placeholder until the benchmark lands.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("bench: not yet written")
}
