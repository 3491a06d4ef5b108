package projections

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// TestReadModelsHaveNoJSONShape holds the read models to plain Go values:
// JSON field names are a promise to API clients, so they live in api/,
// beside openapi.yaml, and nowhere in this package. No struct field of a
// file of the package (tests aside) carries a json tag, and no type of it
// marshals itself to JSON.
func TestReadModelsHaveNoJSONShape(t *testing.T) {
	fset := token.NewFileSet()
	files, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, e := range files {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.Field:
				if n.Tag == nil {
					break
				}
				tag, err := strconv.Unquote(n.Tag.Value)
				if err != nil {
					t.Errorf("%s: tag %s does not unquote: %v", fset.Position(n.Pos()), n.Tag.Value, err)
					break
				}
				if _, ok := reflect.StructTag(tag).Lookup("json"); ok || strings.Contains(tag, "json:") {
					t.Errorf("%s: json tag %s: give the API a wire type in api/ instead", fset.Position(n.Tag.Pos()), n.Tag.Value)
				}
			case *ast.FuncDecl:
				if n.Recv != nil && (n.Name.Name == "MarshalJSON" || n.Name.Name == "MarshalJSONTo") {
					t.Errorf("%s: %s: give the API a wire type in api/ instead", fset.Position(n.Pos()), n.Name.Name)
				}
			}
			return true
		})
	}
	if checked == 0 {
		t.Fatal("no Go files checked")
	}
}
