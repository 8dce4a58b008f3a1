package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"sigs.k8s.io/yaml"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

var update = flag.Bool("update", false, "rewrite testdata/output/*.golden from the current output")

var created = timestamppb.New(time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC))

func sampleAPIs() []*adminv1.Api {
	return []*adminv1.Api{
		{
			Id: "a1b2c3d4e5", Name: "petstore", Protocol: adminv1.Protocol_PROTOCOL_HTTP, CreateTime: created, Etag: "12",
			Tags:   map[string]string{"version": "1", "on": "true", "window": "1:30"},
			Status: &adminv1.ApiStatus{State: adminv1.ApiStatus_STATE_SERVING, Revision: 12, UpdateTime: created},
		},
		{
			Id: "z9y8x7w6v5", Name: "orders", Protocol: adminv1.Protocol_PROTOCOL_REST, Description: "Line one.\nLine two.",
			Status: &adminv1.ApiStatus{
				State: adminv1.ApiStatus_STATE_FAILED, Revision: 15,
				Message: `stage prod: route r1 (GET /x): integration URI uses stage variable "backend", which the stage does not define`,
			},
		},
		{Id: "n0status00", Name: "fresh", Protocol: adminv1.Protocol_PROTOCOL_HTTP},
	}
}

func sampleFleet() []*adminv1.EnvoyNode {
	return []*adminv1.EnvoyNode{
		{
			Id: "edge-1", Cluster: "archway", EnvoyVersion: "1.40.0", ControlPlane: "cp-1/10.0.0.7:18000",
			AckedVersion: "42-0123456789ab", ConnectTime: created, AckTime: created,
		},
		{
			Id: "edge-2", Cluster: "archway", EnvoyVersion: "1.40.0", ControlPlane: "cp-1/10.0.0.7:18000", Delta: true,
			AckedVersion: "41-ba9876543210", ConnectTime: created, LastNack: &adminv1.Nack{
				Version: "42-0123456789ab", TypeUrl: "type.googleapis.com/envoy.config.listener.v3.Listener",
				Error: "Error adding/updating listener(s) archway_http: cannot bind '10.0.0.9:8080': Cannot assign requested address",
				Time:  created,
			},
		},
	}
}

func sampleIntegrations() []*adminv1.Integration {
	return []*adminv1.Integration{
		{Id: "i1", Name: "backend", Kind: &adminv1.Integration_HttpProxy{HttpProxy: &adminv1.HttpProxyIntegration{
			Uri: "http://127.0.0.1:8081/{proxy}", Method: "POST", Timeout: durationpb.New(29 * time.Second),
		}}},
		{Id: "i2", Name: "health", Kind: &adminv1.Integration_Mock{Mock: &adminv1.MockIntegration{StatusCode: 204}}},
	}
}

// TestPrintResources compares each output format with a golden file. The
// tables are for people; JSON and YAML are checked further by
// TestStructuredOutputRoundTrips.
func TestPrintResources(t *testing.T) {
	routes := []*adminv1.Route{
		{Id: "r1", Method: "GET", Path: "/pets/{petId}", IntegrationId: "i1", ApiKeyRequired: true},
		{Id: "r2", Method: "ANY", Path: "/{proxy+}", IntegrationId: "gone"},
	}
	stages := []*adminv1.Stage{
		{
			Name: "$default", DeploymentId: "d1", AutoDeploy: true, UpdateTime: created,
			Throttle:       &adminv1.ThrottleSettings{RateLimit: 0.5, BurstLimit: 2},
			RouteThrottles: map[string]*adminv1.ThrottleSettings{"GET /pets": {RateLimit: 100, BurstLimit: 200}},
		},
		{Name: "prod"},
	}
	deployments := []*adminv1.Deployment{
		{Id: "d1", Description: "first\tcut", AutoDeployed: true, CreateTime: created},
	}
	tests := map[string]func(*bytes.Buffer) error{
		"apis.table": func(b *bytes.Buffer) error {
			return printResources(b, formatTable, apiColumns(), sampleAPIs(), true)
		},
		"apis.json": func(b *bytes.Buffer) error {
			return printResources(b, formatJSON, apiColumns(), sampleAPIs(), true)
		},
		"apis.yaml": func(b *bytes.Buffer) error {
			return printResources(b, formatYAML, apiColumns(), sampleAPIs(), true)
		},
		"api.json": func(b *bytes.Buffer) error {
			return printResources(b, formatJSON, apiColumns(), sampleAPIs()[:1], false)
		},
		"empty.json": func(b *bytes.Buffer) error {
			return printResources(b, formatJSON, apiColumns(), nil, true)
		},
		"empty.table": func(b *bytes.Buffer) error {
			return printResources(b, formatTable, apiColumns(), nil, true)
		},
		"routes.table": func(b *bytes.Buffer) error {
			return printResources(b, formatTable, routeColumns(map[string]string{"i1": "backend"}), routes, true)
		},
		"integrations.table": func(b *bytes.Buffer) error {
			return printResources(b, formatTable, integrationColumns(), sampleIntegrations(), true)
		},
		"integrations.yaml": func(b *bytes.Buffer) error {
			return printResources(b, formatYAML, integrationColumns(), sampleIntegrations(), true)
		},
		"stages.table": func(b *bytes.Buffer) error {
			return printResources(b, formatTable, stageColumns(), stages, true)
		},
		"deployments.table": func(b *bytes.Buffer) error {
			return printResources(b, formatTable, deploymentColumns(), deployments, true)
		},
		"fleet.table": func(b *bytes.Buffer) error {
			return printResources(b, formatTable, fleetColumns(), sampleFleet(), true)
		},
		"fleet.yaml": func(b *bytes.Buffer) error {
			return printResources(b, formatYAML, fleetColumns(), sampleFleet(), true)
		},
	}
	for name, print := range tests {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := print(&b); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "output", name+".golden")
			if *update {
				if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if b.String() != string(want) {
				t.Errorf("output:\n%s\nwant (%s):\n%s", b.String(), golden, want)
			}
		})
	}
}

// TestStructuredOutputRoundTrips checks that -o json and -o yaml carry
// every field: reading the output back gives the same messages. The YAML
// samples hold strings that plain YAML would read as other types.
func TestStructuredOutputRoundTrips(t *testing.T) {
	for _, format := range []outputFormat{formatJSON, formatYAML} {
		t.Run(string(format), func(t *testing.T) {
			var b bytes.Buffer
			if err := printResources(&b, format, apiColumns(), sampleAPIs(), true); err != nil {
				t.Fatal(err)
			}
			js := b.Bytes()
			if format == formatYAML {
				var err error
				if js, err = yaml.YAMLToJSON(js); err != nil {
					t.Fatal(err)
				}
			}
			var raw []json.RawMessage
			if err := json.Unmarshal(js, &raw); err != nil {
				t.Fatalf("%s output is not an array: %v\n%s", format, err, b.String())
			}
			want := sampleAPIs()
			if len(raw) != len(want) {
				t.Fatalf("read back %d APIs, want %d", len(raw), len(want))
			}
			for i, r := range raw {
				got := &adminv1.Api{}
				if err := protojson.Unmarshal(r, got); err != nil {
					t.Fatal(err)
				}
				if !proto.Equal(got, want[i]) {
					t.Errorf("API %d read back as %v, want %v", i, got, want[i])
				}
			}
		})
	}
}
