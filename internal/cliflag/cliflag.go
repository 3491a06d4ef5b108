// Package cliflag holds what the roadmap command's subcommands share in
// reading their flags.
package cliflag

import (
	"flag"
	"fmt"
)

// Parse parses args with fs; the command takes flags and no arguments.
func Parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s takes no arguments, got %q", fs.Name(), fs.Args())
	}
	return nil
}
