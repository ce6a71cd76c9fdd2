// Package internal_test holds checks over every package of the module.
package internal_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPackageDocs keeps each package's documentation in one place: every library
// package has exactly one package comment, in doc.go, starting "Package NAME "; a
// command has one, starting "Command NAME ", in the file that holds it.
func TestPackageDocs(t *testing.T) {
	root := ".."
	dirs := map[string][]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() && path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "build" || name == "dist" || name == "bin") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") {
			dirs[filepath.Dir(path)] = append(dirs[filepath.Dir(path)], path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d packages checked", len(dirs))
	if len(dirs) < 5 {
		t.Fatalf("found only %d packages under %s", len(dirs), root)
	}
	for dir, files := range dirs {
		var docs []string
		pkg := ""
		for _, path := range files {
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.PackageClauseOnly|parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			pkg = f.Name.Name
			if f.Doc == nil || strings.TrimSpace(f.Doc.Text()) == "" {
				continue
			}
			docs = append(docs, filepath.Base(path))
			want := "Package " + f.Name.Name + " "
			if f.Name.Name == "main" {
				want = "Command " + filepath.Base(dir) + " "
			}
			if !strings.HasPrefix(f.Doc.Text(), want) {
				t.Errorf("%s: the package comment should start %q", path, want)
			}
		}
		switch {
		case len(docs) == 0:
			t.Errorf("%s: package %s has no package comment", dir, pkg)
		case len(docs) > 1:
			t.Errorf("%s: package comments in %v; keep one", dir, docs)
		case pkg != "main" && docs[0] != "doc.go":
			if _, err := os.Stat(filepath.Join(dir, "doc.go")); err == nil || len(files) > 1 {
				t.Errorf("%s: the package comment is in %s; it belongs in doc.go", dir, docs[0])
			}
		}
	}
}
