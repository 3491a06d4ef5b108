package logcheck_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// testOnly are the packages of test code outside _test.go files: this log
// checker, the starter of whole ledgers for tests, and the HTML queries of
// the pack's tests.
var testOnly = []string{
	"github.com/roadmap-ledger/roadmap/internal/logcheck",
	"github.com/roadmap-ledger/roadmap/internal/app/apptest",
	"github.com/roadmap-ledger/roadmap/internal/htmltest",
	"github.com/roadmap-ledger/roadmap/internal/spectest",
}

// TestOnlyTestsImportIt walks the module's Go files and fails on any file
// that is not a test yet imports a test-only package: test code must never
// become part of the server.
func TestOnlyTestsImportIt(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if slices.Contains(testOnly, p) {
				rel, _ := filepath.Rel(root, path)
				t.Errorf("%s imports %s, which only tests may import", rel, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		// A walk that found nothing checks nothing.
		t.Fatalf("checked %d Go files under %s, want the whole module", checked, root)
	}
}
