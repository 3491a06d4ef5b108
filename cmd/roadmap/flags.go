package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
)

// newFlagSet is the flag set of the command name: it reports to stderr, and
// its usage is usage followed by the flags.
func newFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	return fs
}

// endpoint is where a command that reads a ledger over HTTP finds it, and the
// bearer token it sends with every request.
type endpoint struct {
	server, token string
}

// register defines --server, described by serverHelp, and --token, which
// default to ROADMAP_SERVER and ROADMAP_TOKEN.
func (e *endpoint) register(fs *flag.FlagSet, getenv func(string) string, serverHelp string) {
	fs.StringVar(&e.server, "server", getenv("ROADMAP_SERVER"), serverHelp)
	fs.StringVar(&e.token, "token", getenv("ROADMAP_TOKEN"), "bearer token sent to the server (ROADMAP_TOKEN)")
}

// require checks that --server and the other values a command needs are
// given, else prints the usage and returns need as the error, and then that
// --server is a URL (checkServer).
func (e *endpoint) require(fs *flag.FlagSet, need string, values ...string) error {
	if e.server == "" || slices.Contains(values, "") {
		fs.Usage()
		return errors.New(need)
	}
	return e.checkServer()
}

// checkServer checks that --server is an http or https URL and drops its
// trailing slashes.
func (e *endpoint) checkServer() error {
	u, err := url.Parse(e.server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--server %q is not an http or https URL", e.server)
	}
	e.server = strings.TrimRight(e.server, "/")
	return nil
}
