package apply

import (
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// FuzzDecode checks that Decode never panics, and that whatever it accepts
// survives a round trip through protojson: what the CLI sends is exactly
// what the file said.
func FuzzDecode(f *testing.F) {
	for _, pattern := range []string{"testdata/good/*", "testdata/bad/*"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			f.Add(readFile(f, file))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		defs, err := Decode(data)
		if err != nil {
			return
		}
		for i, def := range defs {
			js, err := protojson.Marshal(def)
			if err != nil {
				t.Fatalf("definition %d: protojson.Marshal: %v", i, err)
			}
			again, err := Decode(js)
			if err != nil {
				t.Fatalf("definition %d: Decode(%s): %v", i, js, err)
			}
			if len(again) != 1 || !proto.Equal(again[0], def) {
				t.Fatalf("definition %d: round trip through %s gave %v, want %v", i, js, again, def)
			}
		}
	})
}
