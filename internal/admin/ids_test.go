package admin

import "testing"

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := newID()
		if !validID(id) {
			t.Fatalf("newID() = %q, not a valid id", id)
		}
		if seen[id] {
			t.Fatalf("newID() repeated %q", id)
		}
		seen[id] = true
	}
}

func TestValidID(t *testing.T) {
	tests := map[string]struct {
		id   string
		want bool
	}{
		"generated form": {"a1b2c3d4e5", true},
		"empty":          {"", false},
		"too short":      {"a1b2c3d4e", false},
		"too long":       {"a1b2c3d4e5f", false},
		"upper case":     {"A1b2c3d4e5", false},
		"slash":          {"a1b2c/d4e5", false},
		"non-ascii":      {"a1b2c3d4é", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := validID(tc.id); got != tc.want {
				t.Errorf("validID(%q) = %v, want %v", tc.id, got, tc.want)
			}
		})
	}
}
