package e2e

import (
	"os"
	"strings"
	"testing"

	"github.com/archway-gateway/archway/internal/apply"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// applyFile applies the one API definition in file through the admin API,
// after replacing each key of vars (such as BACKEND_A) with its value, and
// returns the API.
func (g *gateway) applyFile(t *testing.T, file string, vars map[string]string) *adminv1.Api {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for k, v := range vars {
		text = strings.ReplaceAll(text, k, v)
	}
	defs, err := apply.Decode([]byte(text))
	if err != nil || len(defs) != 1 {
		t.Fatalf("%s: %d definitions, %v; want one", file, len(defs), err)
	}
	resp, err := g.admin.ApplyApi(t.Context(), &adminv1.ApplyApiRequest{Definition: defs[0]})
	if err != nil {
		t.Fatalf("ApplyApi(%s): %v", file, err)
	}
	return resp.GetApi()
}

// apiNamed returns the API called name.
func (g *gateway) apiNamed(t *testing.T, name string) *adminv1.Api {
	t.Helper()
	resp, err := g.admin.ListApis(t.Context(), &adminv1.ListApisRequest{Name: name})
	if err != nil || len(resp.GetApis()) != 1 {
		t.Fatalf("ListApis(%q) = %v, %v; want one API", name, resp, err)
	}
	return resp.GetApis()[0]
}

// integrationNamed returns the integration of an API called name.
func (g *gateway) integrationNamed(t *testing.T, apiID, name string) *adminv1.Integration {
	t.Helper()
	resp, err := g.admin.ListIntegrations(t.Context(), &adminv1.ListIntegrationsRequest{ApiId: apiID})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range resp.GetIntegrations() {
		if in.GetName() == name {
			return in
		}
	}
	t.Fatalf("API %s has no integration %q", apiID, name)
	return nil
}

// backends maps the placeholders of the testdata files to the addresses of
// the backends: BACKEND_A to the first, BACKEND_B to the second.
func backends(bs ...*backend) map[string]string {
	vars := make(map[string]string, len(bs))
	for i, b := range bs {
		vars["BACKEND_"+string(rune('A'+i))] = b.addr
	}
	return vars
}
