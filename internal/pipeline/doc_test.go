package pipeline

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPackageDoc keeps the package documentation in one place: doc.go
// has it, no other file does.
func TestPackageDoc(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case name == "doc.go" && (f.Doc == nil || !strings.HasPrefix(f.Doc.Text(), "Package pipeline ")):
			t.Errorf("doc.go: want a package comment starting %q", "Package pipeline ")
		case name != "doc.go" && f.Doc != nil:
			t.Errorf("%s: package comment belongs in doc.go", name)
		}
	}
}
