package jsonpath

import (
	"bufio"
	"os"
	"testing"
)

// seedPaths returns the paths in testdata/paths.txt, one per line.
func seedPaths(f *testing.F) []string {
	file, err := os.Open("testdata/paths.txt")
	if err != nil {
		f.Fatal(err)
	}
	defer func() { _ = file.Close() }()
	var paths []string
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		paths = append(paths, sc.Text())
	}
	return paths
}

// FuzzCompile checks that no path, however malformed, makes Compile panic,
// and that a compiled path evaluates over the bookstore without panicking.
func FuzzCompile(f *testing.F) {
	for _, p := range seedPaths(f) {
		f.Add(p)
	}
	doc := loadStore(f)
	f.Fuzz(func(t *testing.T, path string) {
		p, err := Compile(path)
		if err != nil {
			return
		}
		checkEval(t, p, doc)
	})
}

// FuzzEval checks evaluation over arbitrary documents: no panic, and a
// bounded number of results.
func FuzzEval(f *testing.F) {
	store, err := os.ReadFile("testdata/store.json")
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range seedPaths(f) {
		f.Add(p, string(store))
	}
	f.Add("$..*..*", `[[[1,[2]],{"a":[{"b":{}}]}]]`)
	f.Fuzz(func(t *testing.T, path, data string) {
		doc, err := Decode([]byte(data))
		if err != nil {
			return
		}
		p, err := Compile(path)
		if err != nil {
			return
		}
		checkEval(t, p, doc)
	})
}

func checkEval(t *testing.T, p *Path, doc any) {
	t.Helper()
	v, err := p.Eval(doc)
	if err != nil {
		return
	}
	if list, ok := v.([]any); ok && !p.Definite() && len(list) > MaxResults {
		t.Fatalf("Eval(%q) gave %d results, more than MaxResults", p, len(list))
	}
	if !p.Definite() {
		if _, ok := v.([]any); !ok {
			t.Fatalf("indefinite Eval(%q) = %T, want []any", p, v)
		}
	}
}
