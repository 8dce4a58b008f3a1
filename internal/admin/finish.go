package admin

import (
	"cmp"
	"fmt"
	"maps"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/archway-gateway/archway/internal/store"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// finish completes a change with what follows from it: it checks the count
// limits on the final state, makes the automatic deployment that
// auto-deploying stages need, and prunes the oldest deployments over the
// limit. Nothing has been written when it fails.
func (d *draft) finish() error {
	if err := d.checkLimits(); err != nil {
		return err
	}
	if err := d.checkModelUse(); err != nil {
		return err
	}
	d.autoDeploy()
	return d.pruneDeployments()
}

// checkLimits fails if the change grows a collection beyond its limit. A
// collection already over a limit (lowered since) may still shrink.
func (d *draft) checkLimits() error {
	for _, c := range []struct {
		n, was, limit int
		what          string
	}{
		{len(d.Routes), d.read.routes, maxRoutes, "routes per API"},
		{len(d.Integrations), d.read.integrations, maxIntegrations, "integrations per API"},
		{len(d.Stages), d.read.stages, maxStages, "stages per API"},
	} {
		if c.n > c.limit && c.n > c.was {
			return limitExceeded(c.what, c.limit, "api "+d.apiID())
		}
	}
	if d.contentChanged && d.contentSize() > maxContentBytes {
		return limitExceeded("bytes of routes, integrations and models per API", maxContentBytes, "api "+d.apiID())
	}
	return nil
}

// contentSize is the encoded size of the draft's routes, integrations and
// models: about what a deployment of them stores.
func (d *draft) contentSize() int {
	n := modelsSize(d.API.GetModels())
	for _, r := range d.Routes {
		n += proto.Size(r)
	}
	for _, in := range d.Integrations {
		n += proto.Size(in)
	}
	return n
}

// autoDeploy deploys the draft's routes, integrations and models to every
// stage with auto_deploy set, if they changed or a stage just started to
// auto-deploy. As in HTTP APIs of Amazon API Gateway, the deployment is
// part of the same change, so an auto-deploying stage never serves a state
// the API did not have.
func (d *draft) autoDeploy() {
	if !d.contentChanged && !d.forceDeploy {
		return
	}
	var auto []*adminv1.Stage
	for _, s := range d.Stages {
		if s.GetAutoDeploy() {
			auto = append(auto, s)
		}
	}
	if len(auto) == 0 {
		return
	}
	dep := d.newDeployment("Automatic deployment", nil)
	dep.AutoDeployed = true
	for _, s := range auto {
		d.serve(s.GetName(), dep.GetId())
	}
}

// pruneDeployments deletes the oldest deployments no stage serves until the
// API keeps at most maxDeployments. Deployments made by this change are
// never pruned; if every other one is served, the change fails.
func (d *draft) pruneDeployments() error {
	for len(d.Deployments) > maxDeployments {
		i := slices.IndexFunc(d.Deployments, func(r store.DeploymentRef) bool {
			return !d.newDeployments[r.ID] && len(d.servedBy(r.ID)) == 0
		})
		if i < 0 {
			return limitExceeded("deployments per API", maxDeployments,
				fmt.Sprintf("api %s (every older deployment is served by a stage)", d.apiID()))
		}
		d.deleteDeployment(d.Deployments[i].ID)
	}
	return nil
}

// batch returns the writes of the change, in key order. A renamed API
// moves its name reservation in the same transaction.
func (d *draft) batch() *store.Batch {
	var b store.Batch
	apiKey := store.APIKey(d.apiID())
	for _, k := range slices.Sorted(maps.Keys(d.puts)) {
		if k == apiKey && d.creating {
			continue // CreateAPI writes the API record itself.
		}
		b.Put(k, d.puts[k])
	}
	for _, k := range slices.Sorted(maps.Keys(d.deletes)) {
		b.Delete(k)
	}
	if _, ok := d.puts[apiKey]; ok && !d.creating && d.API.GetName() != d.apiName {
		b.ReserveName(d.API.GetName(), d.apiID())
		b.ReleaseName(d.apiName)
	}
	return &b
}

// written reports whether the change writes anything.
func (d *draft) written() bool { return len(d.puts)+len(d.deletes) > 0 }

// committed records that the change was written at revision rev, which is
// the etag of every resource it wrote.
func (d *draft) committed(rev int64) {
	for _, m := range d.puts {
		store.SetEtag(m, rev)
	}
}

// changes lists what the change creates, updates and deletes, API first,
// then integrations, routes, stages and deployments, each by name.
func (d *draft) changes() []*adminv1.Change {
	var out []*adminv1.Change
	for k, m := range d.puts {
		action := adminv1.Change_ACTION_UPDATED
		if !d.existed[k] {
			action = adminv1.Change_ACTION_CREATED
		}
		out = append(out, describe(m, action))
	}
	for _, m := range d.deletes {
		out = append(out, describe(m, adminv1.Change_ACTION_DELETED))
	}
	slices.SortFunc(out, func(a, b *adminv1.Change) int {
		return cmp.Or(cmp.Compare(kindOrder(a.GetKind()), kindOrder(b.GetKind())),
			cmp.Compare(a.GetName(), b.GetName()), cmp.Compare(a.GetAction(), b.GetAction()))
	})
	return out
}

// describe names a resource in a Change.
func describe(m proto.Message, action adminv1.Change_Action) *adminv1.Change {
	c := &adminv1.Change{Action: action}
	switch r := m.(type) {
	case *adminv1.Api:
		c.Kind, c.Name, c.Id = "api", r.GetName(), r.GetId()
	case *adminv1.Integration:
		c.Kind, c.Name, c.Id = "integration", r.GetName(), r.GetId()
	case *adminv1.Route:
		c.Kind, c.Name, c.Id = "route", routeName(r.GetMethod(), r.GetPath()), r.GetId()
	case *adminv1.Stage:
		c.Kind, c.Name = "stage", r.GetName()
	case *adminv1.Deployment:
		c.Kind, c.Name, c.Id = "deployment", r.GetId(), r.GetId()
	}
	return c
}

func kindOrder(kind string) int {
	return slices.Index([]string{"api", "integration", "route", "stage", "deployment"}, kind)
}

// routeName names a route as people write it: "GET /pets/{petId}".
func routeName(method, path string) string { return method + " " + path }
