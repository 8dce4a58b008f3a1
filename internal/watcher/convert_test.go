package watcher

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"

	"github.com/archway-gateway/archway/internal/model"
	"github.com/archway-gateway/archway/internal/store"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// fixture is one testdata/convert case: the records in etcd, and the
// deployed model they must produce.
type fixture struct {
	Records struct {
		APIs        []json.RawMessage `json:"apis"`
		Stages      []json.RawMessage `json:"stages"`
		Deployments []json.RawMessage `json:"deployments"`
		Routes      []json.RawMessage `json:"routes"`
		// Garbage lists keys whose values do not decode.
		Garbage []string `json:"garbage"`
	} `json:"records"`
	Want []apiSummary `json:"want"`
	// WantLogs are substrings the log must contain: what was skipped, and
	// why.
	WantLogs []string `json:"wantLogs"`
}

// apiSummary is a readable rendering of a model.API for fixtures.
type apiSummary struct {
	ID       string         `json:"id"`
	Name     string         `json:"name"`
	Protocol string         `json:"protocol"`
	Stages   []stageSummary `json:"stages,omitempty"`
}

type stageSummary struct {
	Name         string            `json:"name"`
	Deployment   string            `json:"deployment,omitempty"`
	AutoDeploy   bool              `json:"autoDeploy,omitempty"`
	Variables    map[string]string `json:"variables,omitempty"`
	Routes       []string          `json:"routes,omitempty"`
	Integrations []string          `json:"integrations,omitempty"`
}

func TestConvertFixtures(t *testing.T) {
	files, err := filepath.Glob("testdata/convert/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			f := readFixture(t, file)
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			s := newState(1)
			for _, kv := range fixtureKVs(t, f) {
				s.put(log, kv)
			}
			cfg := s.build(log)
			if cfg == nil {
				t.Fatalf("build returned nil; log:\n%s", logs.String())
			}
			got := summarize(cfg)
			if !reflect.DeepEqual(got, f.Want) {
				out, _ := yaml.Marshal(got)
				t.Errorf("model differs from want; got:\n%s\nlog:\n%s", out, logs.String())
			}
			for _, want := range f.WantLogs {
				if !strings.Contains(logs.String(), want) {
					t.Errorf("log lacks %q:\n%s", want, logs.String())
				}
			}
			if strings.Contains(logs.String(), "s3cret") {
				t.Errorf("log leaks a URI password:\n%s", logs.String())
			}
		})
	}
}

func readFixture(t *testing.T, file string) fixture {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var f fixture
	if err := yaml.UnmarshalStrict(raw, &f); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return f
}

// fixtureKVs encodes a fixture's records as the store writes them, each at
// its own revision.
func fixtureKVs(t *testing.T, f fixture) []*mvccpb.KeyValue {
	t.Helper()
	var kvs []*mvccpb.KeyValue
	add := func(key string, value []byte) {
		kvs = append(kvs, &mvccpb.KeyValue{Key: []byte(key), Value: value, ModRevision: int64(len(kvs) + 2)})
	}
	for _, raw := range f.Records.APIs {
		m := unmarshalRecord(t, raw, &adminv1.Api{})
		add(store.APIKey(m.GetId()), marshal(t, m))
	}
	for _, raw := range f.Records.Stages {
		m := unmarshalRecord(t, raw, &adminv1.Stage{})
		add(store.StageKey(m.GetApiId(), m.GetName()), marshal(t, m))
	}
	for _, raw := range f.Records.Deployments {
		m := unmarshalRecord(t, raw, &adminv1.Deployment{})
		add(store.DeploymentKey(m.GetApiId(), m.GetId()), marshal(t, m))
	}
	for _, raw := range f.Records.Routes {
		m := unmarshalRecord(t, raw, &adminv1.Route{})
		add(store.RouteKey(m.GetApiId(), m.GetId()), marshal(t, m))
	}
	for _, key := range f.Records.Garbage {
		add(key, []byte{0xff, 0xff, 0xff})
	}
	return kvs
}

func unmarshalRecord[T proto.Message](t *testing.T, raw json.RawMessage, m T) T {
	t.Helper()
	if err := protojson.Unmarshal(raw, m); err != nil {
		t.Fatalf("record %s: %v", raw, err)
	}
	return m
}

func marshal(t testing.TB, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func summarize(cfg *model.Config) []apiSummary {
	var out []apiSummary
	for _, a := range cfg.APIs {
		as := apiSummary{ID: a.ID, Name: a.Name, Protocol: a.Protocol.String()}
		for _, s := range a.Stages {
			as.Stages = append(as.Stages, summarizeStage(s))
		}
		out = append(out, as)
	}
	return out
}

func summarizeStage(s *model.Stage) stageSummary {
	ss := stageSummary{Name: s.Name, AutoDeploy: s.AutoDeploy, Variables: s.Variables}
	d := s.Deployment
	if d == nil {
		return ss
	}
	ss.Deployment = d.ID
	for _, r := range d.Routes {
		ss.Routes = append(ss.Routes, fmt.Sprintf("%s %s %s -> %s", r.ID, r.Method, r.Path, r.Integration.ID))
	}
	for _, in := range d.Integrations {
		switch {
		case in.HTTPProxy != nil:
			ss.Integrations = append(ss.Integrations, fmt.Sprintf("%s %s http_proxy method=%s timeout=%v",
				in.ID, in.Name, in.HTTPProxy.Method, in.HTTPProxy.Timeout))
		case in.Mock != nil:
			ss.Integrations = append(ss.Integrations, fmt.Sprintf("%s %s mock %d headers=%d body=%d",
				in.ID, in.Name, in.Mock.StatusCode, len(in.Mock.Headers), len(in.Mock.Body)))
		}
	}
	return ss
}
