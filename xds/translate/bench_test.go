package translate

import (
	"fmt"
	"slices"
	"testing"

	"github.com/archway-gateway/archway/internal/model"
)

// BenchmarkTranslate measures a full translation of Configs of 1,000 to
// 100,000 routes (APIs of 100 routes each), host-style as in production and
// path-style as with --dev (where every route is emitted twice), and a
// translation by a warm Translator after one API changed, the common case
// while the gateway runs.
func BenchmarkTranslate(b *testing.B) {
	modes := []struct {
		name string
		opts Options
	}{{"host-style", Options{}}, {"path-style", Options{PathStyle: true}}}
	for _, n := range []int{1000, 10000, 100000} {
		cfg := benchConfig(b, n)
		for _, m := range modes {
			b.Run(fmt.Sprintf("%s/routes=%d", m.name, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := Translate(cfg, m.opts); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(fmt.Sprintf("%s/routes=%d/one-api-changed", m.name, n), func(b *testing.B) {
				benchOneChanged(b, cfg, m.opts)
			})
		}
	}
}

// benchOneChanged translates cfg with one API replaced by a new pointer,
// which a warm Translator translates again while reusing the others.
func benchOneChanged(b *testing.B, cfg *model.Config, opts Options) {
	tr, err := NewTranslator(opts)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := tr.Translate(cfg); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		apis := slices.Clone(cfg.APIs)
		changed := *apis[0]
		apis[0] = &changed // a new pointer: translated again
		next, err := model.NewConfig(cfg.Revision+1, apis)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tr.Translate(next); err != nil {
			b.Fatal(err)
		}
	}
}

// benchConfig returns a Config of n routes in APIs of 100 routes: literal,
// parameter and greedy paths, proxied to one of ten backends or mocked.
func benchConfig(b *testing.B, n int) *model.Config {
	b.Helper()
	apis := make([]*model.API, 0, n/benchRoutesPerAPI)
	for a := range n / benchRoutesPerAPI {
		apis = append(apis, benchAPI(b, a, 200))
	}
	cfg, err := model.NewConfig(1, apis)
	if err != nil {
		b.Fatal(err)
	}
	return cfg
}

// benchRoutesPerAPI is the size of every API of benchConfig.
const benchRoutesPerAPI = 100

// benchAPI returns the a-th API of benchConfig, whose mocks answer with
// mockStatus.
func benchAPI(b *testing.B, a, mockStatus int) *model.API {
	b.Helper()
	var routes []*model.Route
	var ints []*model.Integration
	for r := range benchRoutesPerAPI {
		path, uri := benchRoute(a, r)
		p, err := model.ParsePathTemplate(path)
		if err != nil {
			b.Fatal(err)
		}
		in := &model.Integration{ID: fmt.Sprintf("i%03d", r)}
		if r%10 == 9 {
			in.Mock = &model.Mock{StatusCode: mockStatus, Body: `{"ok":true}`}
		} else {
			in.HTTPProxy = &model.HTTPProxy{URI: uri, Timeout: model.DefaultTimeout}
		}
		ints = append(ints, in)
		routes = append(routes, &model.Route{ID: fmt.Sprintf("r%03d", r), Method: model.Methods()[r%len(model.Methods())], Path: p, Integration: in})
	}
	d, err := model.NewDeployment("d1", routes, ints)
	if err != nil {
		b.Fatal(err)
	}
	api, err := model.NewAPI(fmt.Sprintf("api%07d", a), "bench", model.ProtocolHTTP, []*model.Stage{{Name: "prod", Deployment: d}})
	if err != nil {
		b.Fatal(err)
	}
	return api
}

func benchRoute(api, r int) (path, uri string) {
	backend := fmt.Sprintf("https://backend%d.internal", (api+r)%10)
	switch r % 3 {
	case 0:
		return fmt.Sprintf("/resources%d/items", r), backend + "/items"
	case 1:
		return fmt.Sprintf("/resources%d/{id}/parts/{part}", r), backend + "/parts/{part}"
	default:
		return fmt.Sprintf("/resources%d/{proxy+}", r), backend + "/{proxy}"
	}
}
