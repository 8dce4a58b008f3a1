package admin

import (
	"cmp"
	"slices"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/archway-gateway/archway/internal/store"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// Count limits, as in Amazon API Gateway's default quotas; docs/limits.md
// lists them for users.
const (
	maxAPIs         = 600
	maxRoutes       = 300
	maxIntegrations = 300
	maxStages       = 10
	maxDeployments  = 100
	// maxContentBytes bounds the encoded routes and integrations of an API.
	// A deployment copies them, so this also bounds every deployment, and
	// keeps the largest transaction (an apply that also deploys) well
	// inside the etcd request limit the store documents.
	maxContentBytes = 1 << 20
)

// draft is an API as one change leaves it: the snapshot read from the
// store, with the change applied in memory, and a record of every resource
// written or deleted. Building the whole result before writing lets one
// transaction carry the change together with what follows from it (an
// automatic deployment, pruned deployments), and lets limits be checked on
// the final state.
type draft struct {
	*store.APIState
	now *timestamppb.Timestamp
	// creating is set when the API itself is new: the store writes the API
	// record and its name with CreateAPI instead of CommitAPI.
	creating bool
	// apiName is the API's name as read; a rename moves the reservation.
	apiName string
	// existed holds the keys present in the snapshot, which tells created
	// resources from updated ones.
	existed map[string]bool
	puts    map[string]proto.Message
	deletes map[string]proto.Message
	// newDeployments holds the ids of deployments this change creates;
	// they are never pruned by it.
	newDeployments map[string]bool
	// contentChanged records a change to the routes, integrations or
	// models, which auto-deploying stages must follow.
	contentChanged bool
	// forceDeploy records that a stage started to auto-deploy, so it must
	// serve the current routes, integrations and models at once.
	forceDeploy bool
	// read counts the collections as read, for checkLimits.
	read struct{ routes, integrations, stages int }
}

// newDraft starts a change of the API read in st at time now. The draft
// changes st in place, so st must be a fresh read used for nothing else.
func newDraft(st *store.APIState, now *timestamppb.Timestamp) *draft {
	d := &draft{
		APIState:       st,
		now:            now,
		apiName:        st.API.GetName(),
		existed:        map[string]bool{store.APIKey(st.API.GetId()): true},
		puts:           map[string]proto.Message{},
		deletes:        map[string]proto.Message{},
		newDeployments: map[string]bool{},
	}
	d.read.routes, d.read.integrations, d.read.stages = len(st.Routes), len(st.Integrations), len(st.Stages)
	id := st.API.GetId()
	for _, r := range st.Routes {
		d.existed[store.RouteKey(id, r.GetId())] = true
	}
	for _, i := range st.Integrations {
		d.existed[store.IntegrationKey(id, i.GetId())] = true
	}
	for _, s := range st.Stages {
		d.existed[store.StageKey(id, s.GetName())] = true
	}
	for _, dep := range st.Deployments {
		d.existed[store.DeploymentKey(id, dep.ID)] = true
	}
	return d
}

// newAPIDraft starts the creation of api with its first resources.
func newAPIDraft(api *adminv1.Api, now *timestamppb.Timestamp) *draft {
	d := newDraft(&store.APIState{API: api}, now)
	d.creating = true
	d.existed = map[string]bool{}
	d.puts[store.APIKey(api.GetId())] = api
	return d
}

func (d *draft) apiID() string { return d.API.GetId() }

func (d *draft) put(key string, m proto.Message) {
	delete(d.deletes, key)
	d.puts[key] = m
}

func (d *draft) del(key string, m proto.Message) {
	delete(d.puts, key)
	if d.existed[key] {
		d.deletes[key] = m
	}
}

// putAPI replaces the API record. A change of its models is a change of
// content: deployments snapshot them.
func (d *draft) putAPI(api *adminv1.Api) {
	if !slices.EqualFunc(api.GetModels(), d.API.GetModels(), func(a, b *adminv1.Model) bool { return proto.Equal(a, b) }) {
		d.contentChanged = true
	}
	d.API = api
	d.put(store.APIKey(api.GetId()), api)
}

// route returns the route with the given id, or nil.
func (d *draft) route(id string) *adminv1.Route {
	return find(d.Routes, func(r *adminv1.Route) bool { return r.GetId() == id })
}

// putRoute adds or replaces a route.
func (d *draft) putRoute(r *adminv1.Route) {
	d.Routes = upsert(d.Routes, r, func(o *adminv1.Route) bool { return o.GetId() == r.GetId() })
	d.put(store.RouteKey(d.apiID(), r.GetId()), r)
	d.contentChanged = true
}

// deleteRoute removes a route.
func (d *draft) deleteRoute(r *adminv1.Route) {
	d.Routes = slices.DeleteFunc(d.Routes, func(o *adminv1.Route) bool { return o.GetId() == r.GetId() })
	d.del(store.RouteKey(d.apiID(), r.GetId()), r)
	d.contentChanged = true
}

// integration returns the integration with the given id, or nil.
func (d *draft) integration(id string) *adminv1.Integration {
	return find(d.Integrations, func(i *adminv1.Integration) bool { return i.GetId() == id })
}

// integrationNamed returns the integration with the given name, or nil.
func (d *draft) integrationNamed(name string) *adminv1.Integration {
	return find(d.Integrations, func(i *adminv1.Integration) bool { return i.GetName() == name })
}

// putIntegration adds or replaces an integration.
func (d *draft) putIntegration(i *adminv1.Integration) {
	d.Integrations = upsert(d.Integrations, i, func(o *adminv1.Integration) bool { return o.GetId() == i.GetId() })
	d.put(store.IntegrationKey(d.apiID(), i.GetId()), i)
	d.contentChanged = true
}

// deleteIntegration removes an integration.
func (d *draft) deleteIntegration(i *adminv1.Integration) {
	d.Integrations = slices.DeleteFunc(d.Integrations, func(o *adminv1.Integration) bool { return o.GetId() == i.GetId() })
	d.del(store.IntegrationKey(d.apiID(), i.GetId()), i)
	d.contentChanged = true
}

// stage returns the stage with the given name, or nil.
func (d *draft) stage(name string) *adminv1.Stage {
	return find(d.Stages, func(s *adminv1.Stage) bool { return s.GetName() == name })
}

// putStage adds or replaces a stage.
func (d *draft) putStage(s *adminv1.Stage) {
	d.Stages = upsert(d.Stages, s, func(o *adminv1.Stage) bool { return o.GetName() == s.GetName() })
	d.put(store.StageKey(d.apiID(), s.GetName()), s)
}

// deleteStage removes a stage.
func (d *draft) deleteStage(s *adminv1.Stage) {
	d.Stages = slices.DeleteFunc(d.Stages, func(o *adminv1.Stage) bool { return o.GetName() == s.GetName() })
	d.del(store.StageKey(d.apiID(), s.GetName()), s)
}

// hasDeployment reports whether the API has a deployment with the id.
func (d *draft) hasDeployment(id string) bool {
	return slices.ContainsFunc(d.Deployments, func(r store.DeploymentRef) bool { return r.ID == id })
}

// putDeployment adds or replaces a deployment.
func (d *draft) putDeployment(dep *adminv1.Deployment) {
	if !d.hasDeployment(dep.GetId()) {
		d.Deployments = append(d.Deployments, store.DeploymentRef{ID: dep.GetId()})
		d.newDeployments[dep.GetId()] = true
	}
	d.put(store.DeploymentKey(d.apiID(), dep.GetId()), dep)
}

// deleteDeployment removes a deployment.
func (d *draft) deleteDeployment(id string) {
	d.Deployments = slices.DeleteFunc(d.Deployments, func(r store.DeploymentRef) bool { return r.ID == id })
	d.del(store.DeploymentKey(d.apiID(), id), &adminv1.Deployment{Id: id, ApiId: d.apiID()})
}

// servedBy returns the names of the stages that serve a deployment.
func (d *draft) servedBy(id string) []string {
	var names []string
	for _, s := range d.Stages {
		if s.GetDeploymentId() == id {
			names = append(names, s.GetName())
		}
	}
	return names
}

// newDeployment adds a deployment of the API's routes, integrations and
// models as they are now in the draft.
func (d *draft) newDeployment(description string, tags map[string]string) *adminv1.Deployment {
	dep := &adminv1.Deployment{
		Id:           newID(),
		ApiId:        d.apiID(),
		Description:  description,
		Tags:         tags,
		Routes:       snapshot(d.Routes, (*adminv1.Route).GetId),
		Integrations: snapshot(d.Integrations, (*adminv1.Integration).GetId),
		Models:       snapshot(d.API.GetModels(), (*adminv1.Model).GetName),
		CreateTime:   d.now,
		UpdateTime:   d.now,
	}
	d.putDeployment(dep)
	return dep
}

// serve points a stage at a deployment, creating the stage if it does not
// exist, and returns it.
func (d *draft) serve(stageName, deploymentID string) *adminv1.Stage {
	s := d.stage(stageName)
	if s == nil {
		s = &adminv1.Stage{ApiId: d.apiID(), Name: stageName, CreateTime: d.now}
	}
	s.DeploymentId, s.UpdateTime = deploymentID, d.now
	d.putStage(s)
	return s
}

// snapshot copies resources into a deployment, in id order and without
// etags: a deployment's copies never change, so they have no version.
func snapshot[T proto.Message](list []T, id func(T) string) []T {
	out := make([]T, 0, len(list))
	for _, m := range list {
		c := proto.CloneOf(m)
		if fd := c.ProtoReflect().Descriptor().Fields().ByName("etag"); fd != nil {
			c.ProtoReflect().Clear(fd)
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b T) int { return cmp.Compare(id(a), id(b)) })
	return out
}

func find[T any](list []T, match func(T) bool) T {
	var zero T
	if i := slices.IndexFunc(list, match); i >= 0 {
		return list[i]
	}
	return zero
}

func upsert[T any](list []T, m T, same func(T) bool) []T {
	if i := slices.IndexFunc(list, same); i >= 0 {
		list[i] = m
		return list
	}
	return append(list, m)
}
