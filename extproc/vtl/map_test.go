package vtl

import (
	"slices"
	"strconv"
	"testing"
)

// TestMapSizes checks a Map's order and lookups at every size its layout
// changes: inside a NewMapCap block, past it, and past indexFrom.
func TestMapSizes(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 8, 9, indexFrom, indexFrom + 1, 3 * indexFrom} {
		for _, capHint := range []int{0, 2, 8, n} {
			m := NewMapCap(capHint)
			var want []string
			for i := range n {
				k := "k" + strconv.Itoa(i)
				m.Set(k, int64(i))
				want = append(want, k)
			}
			if n > 0 {
				m.Set("k0", "again") // an existing key keeps its place
				if v, _ := m.Get("k0"); v != "again" {
					t.Fatalf("n=%d cap=%d: k0 = %v", n, capHint, v)
				}
			}
			if !slices.Equal(m.Keys(), want) || m.Len() != n {
				t.Fatalf("n=%d cap=%d: keys %v, want %v", n, capHint, m.Keys(), want)
			}
			for i := n - 1; i >= 1; i -= 2 { // delete every other key, from the end
				if !m.Delete("k" + strconv.Itoa(i)) {
					t.Fatalf("n=%d: k%d not deleted", n, i)
				}
				want = slices.Delete(want, i, i+1)
			}
			if !slices.Equal(m.Keys(), want) {
				t.Fatalf("n=%d cap=%d: after deletes keys %v, want %v", n, capHint, m.Keys(), want)
			}
			for _, k := range want[min(1, len(want)):] { // k0 was set again
				j, _ := strconv.Atoi(k[1:])
				if v, ok := m.Peek(k); !ok || v != int64(j) {
					t.Fatalf("n=%d cap=%d: Peek(%s) = %v, %v", n, capHint, k, v, ok)
				}
			}
			if _, ok := m.Get("absent"); ok || m.Delete("absent") {
				t.Fatalf("n=%d: an absent key is found", n)
			}
		}
	}
}

// TestMapPeekShares checks that Peek and All give a list without copying
// it, and Get a copy.
func TestMapPeekShares(t *testing.T) {
	m := NewMap()
	m.Set("l", []any{"a"})
	if _, ok := m.get("l"); !ok { // the engine reads it: now a *list
		t.Fatal("l is missing")
	}
	peeked, _ := m.Peek("l")
	got, _ := m.Get("l")
	peeked.([]any)[0] = "changed"
	if got.([]any)[0] != "a" {
		t.Error("Get shares the list")
	}
	for k, v := range m.All() {
		if k != "l" || v.([]any)[0] != "changed" {
			t.Errorf("All gives %s=%v, want the shared list", k, v)
		}
	}
}
