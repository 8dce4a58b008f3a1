package translate

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"google.golang.org/protobuf/proto"

	"github.com/archway-gateway/archway/internal/model"
)

// BenchmarkPushSize measures what delta xDS sends to each Envoy when one
// API of 100 routes changes (a mock's status), in gateways of 100 to
// 100,000 routes, host-style:
//
//   - per-api-B/change: the bytes of the resources whose content changed,
//     which is what delta xDS sends now that each API has a route
//     configuration of its own;
//   - single-B/change: the bytes of all route configurations together,
//     which is what it sent when one route configuration held every API
//     (and what state of the world still sends, in either layout, since it
//     re-sends every route configuration Envoy subscribes to).
//
// An iteration is the translation of the change by a warm Translator plus
// finding what changed.
func BenchmarkPushSize(b *testing.B) {
	for _, n := range []int{100, 1000, 10000, 100000} {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			cfg := benchConfig(b, n)
			tr, err := NewTranslator(Options{})
			if err != nil {
				b.Fatal(err)
			}
			// Two versions of the first API, of the same size.
			variants := []*model.API{benchAPI(b, 0, 202), benchAPI(b, 0, 203)}
			prev, err := tr.Translate(cfg)
			if err != nil {
				b.Fatal(err)
			}
			sent, changes := 0, 0
			for b.Loop() {
				apis := slices.Clone(cfg.APIs)
				apis[0] = variants[changes%2]
				next, err := model.NewConfig(cfg.Revision+int64(changes)+1, apis)
				if err != nil {
					b.Fatal(err)
				}
				cur, err := tr.Translate(next)
				if err != nil {
					b.Fatal(err)
				}
				sent += changedBytes(b, &prev, &cur)
				prev = cur
				changes++
			}
			single := 0
			for _, rc := range prev.Routes {
				single += proto.Size(rc)
			}
			b.ReportMetric(float64(sent)/float64(changes), "per-api-B/change")
			b.ReportMetric(float64(single), "single-B/change")
		})
	}
}

// changedBytes returns the marshaled size of the resources of cur that
// prev does not hold with the same bytes: what delta xDS sends, since its
// per-resource versions are hashes of these bytes.
func changedBytes(b *testing.B, prev, cur *Resources) int {
	b.Helper()
	total := 0
	before := prev.ByType()
	for typ, list := range cur.ByType() {
		old := make(map[string]types.Resource, len(before[typ]))
		for _, r := range before[typ] {
			old[cachev3.GetResourceName(r)] = r
		}
		for _, r := range list {
			o := old[cachev3.GetResourceName(r)]
			if o == r {
				continue // the same proto: the Translator reused it
			}
			data := marshal(b, r)
			if o == nil || !bytes.Equal(marshal(b, o), data) {
				total += len(data)
			}
		}
	}
	return total
}

func marshal(b *testing.B, r types.Resource) []byte {
	b.Helper()
	data, err := cachev3.MarshalResource(r)
	if err != nil {
		b.Fatal(err)
	}
	return data
}
