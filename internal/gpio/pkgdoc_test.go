package gpio

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPackageDoc checks that each package here has exactly one package comment, in
// doc.go, starting "Package <name> ".
func TestPackageDoc(t *testing.T) {
	for _, dir := range []string{".", "gpiotest"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		fset := token.NewFileSet()
		var withDoc []string
		for _, f := range files {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			af, err := parser.ParseFile(fset, f, src, parser.PackageClauseOnly|parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			if af.Doc == nil {
				continue
			}
			withDoc = append(withDoc, filepath.Base(f))
			if want := "Package " + af.Name.Name + " "; !strings.HasPrefix(af.Doc.Text(), want) {
				t.Errorf("%s: package doc starts %q, want %q", f, firstLine(af.Doc.Text()), want)
			}
		}
		if len(withDoc) != 1 || withDoc[0] != "doc.go" {
			t.Errorf("%s: package doc in %v, want only in doc.go", dir, withDoc)
		}
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
