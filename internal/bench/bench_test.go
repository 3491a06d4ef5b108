package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"math"
	"os"
	"strings"
	"testing"
	"time"
)

func TestRunRefusesWhatItDoesNotKnow(t *testing.T) {
	ctx := context.Background()
	if err := Run(ctx, nil, io.Discard, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("no benchmark: %v, want flag.ErrHelp", err)
	}
	if err := Run(ctx, []string{"nosuch"}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "nosuch") {
		t.Errorf("unknown benchmark: %v", err)
	}
	checkRefuses(t, parseWrite, []string{"-clients", "0"}, []string{"-duration", "0"}, []string{"-rounds", "0"},
		[]string{"-payload", "10"}, []string{"-warmup", "-1s"}, []string{"extra"})
}

func TestPercentile(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{0.50, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}, {0.001, time.Millisecond}} {
		if got := percentile(ds, c.p); got != c.want {
			t.Errorf("percentile(1..100 ms, %v) = %v, want %v", c.p, got, c.want)
		}
	}
	if got := percentile([]time.Duration{7}, 0.99); got != 7 {
		t.Errorf("percentile of one sample = %v, want it", got)
	}
}

// useTempDir points TMPDIR at a directory of the test's own and checks,
// once the test is over, that nothing is left in it.
func useTempDir(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	t.Cleanup(func() {
		left, err := os.ReadDir(tmp)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range left {
			t.Errorf("left behind in the temporary directory: %s", e.Name())
		}
	})
}

// runJSON runs a benchmark through Run as the command does, with -json and
// within 30 seconds, in a temporary directory of its own (useTempDir), and
// reads its report into rep.
func runJSON(t *testing.T, rep any, args ...string) {
	t.Helper()
	useTempDir(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	if err := Run(ctx, append(args, "-timeout", "30s", "-json"), &stdout, &stderr); err != nil {
		t.Fatalf("Run: %v\nstderr: %s", err, stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), rep); err != nil {
		t.Fatalf("the -json output is not a report: %v\n%s", err, stdout.String())
	}
}

// checkTable fails the test unless the table of rep holds every string of
// want.
func checkTable(t *testing.T, rep tableWriter, want ...string) {
	t.Helper()
	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, w := range want {
		if !strings.Contains(table.String(), w) {
			t.Errorf("the table lacks %q:\n%s", w, table.String())
		}
	}
}

// checkRatio fails the test unless got is the ledger's rate b over the raw
// side's rate a, rounded.
func checkRatio(t *testing.T, name string, got, b, a float64) {
	t.Helper()
	if want := round(b/a, 3); got <= 0 || math.Abs(got-want) > 0.0015 {
		t.Errorf("%sratio %v, want (b)/(a) = %v", name, got, want)
	}
}

// checkRefuses fails the test if parse accepts any of the argument lists.
func checkRefuses[C any](t *testing.T, parse func([]string, io.Writer) (C, error), args ...[]string) {
	t.Helper()
	for _, a := range args {
		if _, err := parse(a, io.Discard); err == nil {
			t.Errorf("the flags %q were accepted", a)
		}
	}
}
