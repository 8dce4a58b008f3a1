package translate

import (
	"cmp"
	"slices"

	"github.com/archway-gateway/archway/internal/model"
)

// Envoy tries a virtual host's routes in order and takes the first that
// matches, while API Gateway takes the most specific route whatever the
// order it was created in. Sorting a stage's routes most specific first
// makes the two agree:
//
//   - paths are compared segment by segment from the left: at the first
//     segment where they differ in kind, a literal beats a {param}, which
//     beats a {greedy+}. Two templates that differ only in literal text,
//     or in length with no greedy parameter, never match the same request,
//     so their order (by text, then shorter first) only keeps the output
//     deterministic;
//   - for one path, routes of an explicit method come before ANY.
//
// The model already rejects two routes of one method and one path shape.

// byPrecedence returns routes sorted most specific first.
func byPrecedence(routes []*model.Route) []*model.Route {
	sorted := slices.Clone(routes)
	slices.SortFunc(sorted, compareRoutes)
	return sorted
}

// compareRoutes orders a before b if API Gateway would pick a for a
// request both match.
func compareRoutes(a, b *model.Route) int {
	if c := comparePaths(a.Path, b.Path); c != 0 {
		return c
	}
	if c := cmp.Compare(anyRank(a.Method), anyRank(b.Method)); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Method, b.Method); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// comparePaths orders path templates most specific first.
func comparePaths(a, b model.PathTemplate) int {
	for i := range min(len(a.Segments), len(b.Segments)) {
		sa, sb := a.Segments[i], b.Segments[i]
		if c := cmp.Compare(sa.Kind, sb.Kind); c != 0 {
			return c // literal < param < greedy, by SegmentKind's order
		}
		if sa.Kind != model.SegmentLiteral {
			continue // parameter names do not change what a segment matches
		}
		if c := cmp.Compare(sa.Value, sb.Value); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a.Segments), len(b.Segments))
}

// anyRank puts explicit methods before ANY.
func anyRank(method string) int {
	if method == model.MethodAny {
		return 1
	}
	return 0
}
