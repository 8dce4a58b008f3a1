package model

import (
	"strings"
	"testing"
)

func TestNewConfigSortsAndIndexes(t *testing.T) {
	b, err := NewAPI("bbbb", "b", ProtocolREST, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewAPI("aaaa", "a", ProtocolHTTP, nil)
	if err != nil {
		t.Fatal(err)
	}
	input := []*API{b, a}
	cfg, err := NewConfig(7, input)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Revision != 7 {
		t.Errorf("Revision = %d, want 7", cfg.Revision)
	}
	if got := ids(cfg.APIs); got != "aaaa,bbbb" {
		t.Errorf("APIs = %s, want aaaa,bbbb", got)
	}
	if input[0] != b {
		t.Error("NewConfig reordered the caller's slice")
	}
	if cfg.API("bbbb") != b || cfg.API("aaaa") != a || cfg.API("cccc") != nil {
		t.Error("API lookup returned the wrong API")
	}
	var none *Config
	if none.API("aaaa") != nil {
		t.Error("nil Config found an API")
	}
}

func TestNewConfigRejects(t *testing.T) {
	a := &API{ID: "aaaa", Protocol: ProtocolHTTP}
	tests := map[string]struct {
		apis []*API
		want string
	}{
		"duplicate id": {apis: []*API{a, {ID: "aaaa", Protocol: ProtocolREST}}, want: "twice"},
		"nil API":      {apis: []*API{a, nil}, want: "nil API"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := NewConfig(1, tc.apis)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("NewConfig error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestNewAPI(t *testing.T) {
	tests := map[string]struct {
		id       string
		protocol Protocol
		stages   []*Stage
		want     string // error substring; empty means success
	}{
		"sorted stages":     {id: "a1", protocol: ProtocolHTTP, stages: []*Stage{{Name: "prod"}, {Name: "$default"}, {Name: "dev"}}},
		"no stages":         {id: "a1", protocol: ProtocolREST},
		"empty id":          {protocol: ProtocolHTTP, want: "id is empty"},
		"unknown protocol":  {id: "a1", want: "unknown protocol Protocol(0)"},
		"duplicate stage":   {id: "a1", protocol: ProtocolHTTP, stages: []*Stage{{Name: "dev"}, {Name: "dev"}}, want: `stage "dev" appears twice`},
		"empty stage name":  {id: "a1", protocol: ProtocolHTTP, stages: []*Stage{{}}, want: "stage name is empty"},
		"nil stage":         {id: "a1", protocol: ProtocolHTTP, stages: []*Stage{nil}, want: "nil stage"},
		"protocol too high": {id: "a1", protocol: ProtocolREST + 1, want: "unknown protocol"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			api, err := NewAPI(tc.id, "name", tc.protocol, tc.stages)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("NewAPI error = %v, want one containing %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range api.Stages {
				if i > 0 && api.Stages[i-1].Name >= s.Name {
					t.Errorf("stages not sorted: %q before %q", api.Stages[i-1].Name, s.Name)
				}
				if api.Stage(s.Name) != s {
					t.Errorf("Stage(%q) did not find it", s.Name)
				}
			}
			if api.Stage("missing") != nil {
				t.Error("Stage found a missing stage")
			}
		})
	}
}

func TestProtocolString(t *testing.T) {
	tests := map[string]struct {
		p    Protocol
		want string
	}{
		"http":    {ProtocolHTTP, "HTTP"},
		"rest":    {ProtocolREST, "REST"},
		"unknown": {Protocol(9), "Protocol(9)"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tc.p.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
		})
	}
}

func ids(apis []*API) string {
	s := make([]string, len(apis))
	for i, a := range apis {
		s[i] = a.ID
	}
	return strings.Join(s, ",")
}
