package fixed

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strings"
	"testing"
)

// TestNoFloat enforces the package's contract that only the conversion
// functions in round.go touch floating point: every other non-test file may
// not mention float32/float64, float literals, or any math function (only
// the integer limit constants of package math).
func TestNoFloat(t *testing.T) {
	allowedMath := map[string]bool{"MaxInt32": true, "MinInt32": true, "MaxInt64": true, "MinInt64": true, "MaxUint64": true}
	floatFuncs := map[string]bool{"FromFloat32": true, "FromFloat64": true, "ToFloat64": true}
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && name == "round.go" && floatFuncs[fd.Name.Name] {
				continue // the exact conversions and the display helper
			}
			ast.Inspect(d, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.Ident:
					if n.Name == "float32" || n.Name == "float64" {
						t.Errorf("%s: float type outside the conversion functions", fset.Position(n.Pos()))
					}
				case *ast.BasicLit:
					if n.Kind == token.FLOAT {
						t.Errorf("%s: float literal", fset.Position(n.Pos()))
					}
				case *ast.SelectorExpr:
					if x, ok := n.X.(*ast.Ident); ok && x.Name == "math" && !allowedMath[n.Sel.Name] {
						t.Errorf("%s: math.%s", fset.Position(n.Pos()), n.Sel.Name)
					}
				}
				return true
			})
		}
	}
}
