package wav

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestPackageDoc keeps exactly one package comment, in doc.go.
func TestPackageDoc(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		hasDoc := f.Doc != nil && strings.TrimSpace(f.Doc.Text()) != ""
		if name == "doc.go" && !(hasDoc && strings.HasPrefix(f.Doc.Text(), "Package wav ")) {
			t.Errorf("doc.go: want a comment starting \"Package wav \"")
		}
		if name != "doc.go" && hasDoc {
			t.Errorf("%s has a package comment; it belongs in doc.go", name)
		}
	}
}
