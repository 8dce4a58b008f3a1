package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// APIState is a consistent read of one API and everything under it, taken at
// one etcd revision. Validate against it, then pass it to CommitAPI: the
// commit fails with ErrConflict if anything under the API changed since.
type APIState struct {
	// Revision is the etcd revision the state was read at.
	Revision     int64
	API          *adminv1.Api
	Routes       []*adminv1.Route
	Integrations []*adminv1.Integration
	Stages       []*adminv1.Stage
	// Deployments lists the API's deployments oldest first, without their
	// contents (which can be large); use GetDeployment for those.
	Deployments []DeploymentRef

	apiModRev int64
	seqModRev int64
}

// DeploymentRef names a deployment without loading its contents.
type DeploymentRef struct {
	ID             string
	CreateRevision int64
}

// ReadAPI reads an API and all its routes, integrations, stages and
// deployment ids in one transaction. It returns ErrNotFound if the API does
// not exist.
func (s *Store) ReadAPI(ctx context.Context, apiID string) (*APIState, error) {
	resp, err := s.cli.Txn(ctx).Then(
		clientv3.OpGet(APIKey(apiID)),
		clientv3.OpGet(SeqKey(apiID)),
		clientv3.OpGet(RoutesPrefix(apiID), clientv3.WithPrefix()),
		clientv3.OpGet(IntegrationsPrefix(apiID), clientv3.WithPrefix()),
		clientv3.OpGet(StagesPrefix(apiID), clientv3.WithPrefix()),
		clientv3.OpGet(DeploymentsPrefix(apiID), clientv3.WithPrefix(), clientv3.WithKeysOnly()),
	).Commit()
	if err != nil {
		return nil, fmt.Errorf("read api %s: %w", apiID, err)
	}
	r := resp.Responses
	apiKVs := r[0].GetResponseRange().Kvs
	if len(apiKVs) == 0 {
		return nil, ErrNotFound
	}
	st := &APIState{Revision: resp.Header.Revision, API: &adminv1.Api{}, apiModRev: apiKVs[0].ModRevision}
	if seq := r[1].GetResponseRange().Kvs; len(seq) > 0 {
		st.seqModRev = seq[0].ModRevision
	}
	if err := unmarshal(apiKVs[0], st.API); err != nil {
		return nil, err
	}
	if st.Routes, err = decodeAll(r[2].GetResponseRange().Kvs, newRoute); err != nil {
		return nil, err
	}
	if st.Integrations, err = decodeAll(r[3].GetResponseRange().Kvs, newIntegration); err != nil {
		return nil, err
	}
	if st.Stages, err = decodeAll(r[4].GetResponseRange().Kvs, newStage); err != nil {
		return nil, err
	}
	st.Deployments = deploymentRefs(r[5].GetResponseRange().Kvs)
	return st, nil
}

func deploymentRefs(kvs []*mvccpb.KeyValue) []DeploymentRef {
	refs := make([]DeploymentRef, 0, len(kvs))
	for _, kv := range kvs {
		if key, ok := ParseKey(string(kv.Key)); ok {
			refs = append(refs, DeploymentRef{ID: key.Name, CreateRevision: kv.CreateRevision})
		}
	}
	slices.SortFunc(refs, func(a, b DeploymentRef) int { return cmp.Compare(a.CreateRevision, b.CreateRevision) })
	return refs
}

func decodeAll[T proto.Message](kvs []*mvccpb.KeyValue, newT func() T) ([]T, error) {
	out := make([]T, 0, len(kvs))
	for _, kv := range kvs {
		m := newT()
		if err := unmarshal(kv, m); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

func newAPI() *adminv1.Api                 { return &adminv1.Api{} }
func newRoute() *adminv1.Route             { return &adminv1.Route{} }
func newIntegration() *adminv1.Integration { return &adminv1.Integration{} }
func newStage() *adminv1.Stage             { return &adminv1.Stage{} }
func newDeployment() *adminv1.Deployment   { return &adminv1.Deployment{} }

// CommitAPI writes b in one transaction, together with the API's guard, if
// nothing under the API changed since st was read; otherwise it writes
// nothing and returns ErrConflict (or ErrAlreadyExists if a name b reserves
// was taken). It returns the revision of the write, which is the new etag of
// every resource b put.
func (s *Store) CommitAPI(ctx context.Context, st *APIState, b *Batch) (int64, error) {
	apiID := st.API.GetId()
	cmps := append([]clientv3.Cmp{
		clientv3.Compare(clientv3.ModRevision(APIKey(apiID)), "=", st.apiModRev),
		clientv3.Compare(clientv3.ModRevision(SeqKey(apiID)), "=", st.seqModRev),
	}, b.cmps...)
	return s.commit(ctx, cmps, b, clientv3.OpPut(SeqKey(apiID), ""))
}

// CreateAPI writes a new API, reserves its name, and writes b (the API's
// first routes, integrations, stages...) in one transaction. It returns
// ErrAlreadyExists if the name is taken.
func (s *Store) CreateAPI(ctx context.Context, api *adminv1.Api, b *Batch) (int64, error) {
	b.Put(APIKey(api.GetId()), api)
	b.ReserveName(api.GetName(), api.GetId())
	cmps := append([]clientv3.Cmp{
		clientv3.Compare(clientv3.CreateRevision(APIKey(api.GetId())), "=", 0),
	}, b.cmps...)
	return s.commit(ctx, cmps, b, clientv3.OpPut(SeqKey(api.GetId()), ""))
}

// DeleteAPI deletes the API read in st, its name reservation, its status
// and everything under it in one transaction, or returns ErrConflict if
// anything under the API changed since st was read.
func (s *Store) DeleteAPI(ctx context.Context, st *APIState) error {
	apiID := st.API.GetId()
	var b Batch
	b.Delete(APIKey(apiID))
	b.Delete(APINameKey(st.API.GetName()))
	b.Delete(StatusKey(apiID))
	b.ops = append(b.ops, clientv3.OpDelete(APIDataPrefix(apiID), clientv3.WithPrefix()))
	cmps := []clientv3.Cmp{
		clientv3.Compare(clientv3.ModRevision(APIKey(apiID)), "=", st.apiModRev),
		clientv3.Compare(clientv3.ModRevision(SeqKey(apiID)), "=", st.seqModRev),
	}
	_, err := s.commit(ctx, cmps, &b)
	return err
}

func (s *Store) commit(ctx context.Context, cmps []clientv3.Cmp, b *Batch, extra ...clientv3.Op) (int64, error) {
	if b.err != nil {
		return 0, b.err
	}
	ops := append(slices.Clip(b.ops), extra...)
	resp, err := s.cli.Txn(ctx).If(cmps...).Then(ops...).Commit()
	if err != nil {
		return 0, fmt.Errorf("commit: %w", err)
	}
	if !resp.Succeeded {
		return 0, s.whyFailed(ctx, b)
	}
	return resp.Header.Revision, nil
}

// whyFailed tells a taken name from any other concurrent change.
func (s *Store) whyFailed(ctx context.Context, b *Batch) error {
	for key, id := range b.names {
		resp, err := s.cli.Get(ctx, key)
		if err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		if len(resp.Kvs) > 0 && string(resp.Kvs[0].Value) != id {
			return fmt.Errorf("%s: %w", key, ErrAlreadyExists)
		}
	}
	return ErrConflict
}

// GetAPI reads one API.
func (s *Store) GetAPI(ctx context.Context, id string) (*adminv1.Api, error) {
	m := newAPI()
	return m, s.get(ctx, APIKey(id), m)
}

// APIIDByName returns the id of the API with the given name.
func (s *Store) APIIDByName(ctx context.Context, name string) (string, error) {
	resp, err := s.cli.Get(ctx, APINameKey(name))
	if err != nil {
		return "", fmt.Errorf("get api name %q: %w", name, err)
	}
	if len(resp.Kvs) == 0 {
		return "", ErrNotFound
	}
	return string(resp.Kvs[0].Value), nil
}

// CountAPIs returns how many APIs exist.
func (s *Store) CountAPIs(ctx context.Context) (int64, error) {
	resp, err := s.cli.Get(ctx, apisPrefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		return 0, fmt.Errorf("count apis: %w", err)
	}
	return resp.Count, nil
}

// GetRoute reads one route.
func (s *Store) GetRoute(ctx context.Context, apiID, id string) (*adminv1.Route, error) {
	m := newRoute()
	return m, s.get(ctx, RouteKey(apiID, id), m)
}

// GetIntegration reads one integration.
func (s *Store) GetIntegration(ctx context.Context, apiID, id string) (*adminv1.Integration, error) {
	m := newIntegration()
	return m, s.get(ctx, IntegrationKey(apiID, id), m)
}

// GetStage reads one stage by name.
func (s *Store) GetStage(ctx context.Context, apiID, name string) (*adminv1.Stage, error) {
	m := newStage()
	return m, s.get(ctx, StageKey(apiID, name), m)
}

// GetDeployment reads one deployment with its routes and integrations.
func (s *Store) GetDeployment(ctx context.Context, apiID, id string) (*adminv1.Deployment, error) {
	m := newDeployment()
	return m, s.get(ctx, DeploymentKey(apiID, id), m)
}

// ListAPIs reads one page of APIs in id order.
func (s *Store) ListAPIs(ctx context.Context, p Page) ([]*adminv1.Api, string, error) {
	return list(ctx, s, apisPrefix, p, newAPI)
}

// ListRoutes reads one page of an API's routes in id order.
func (s *Store) ListRoutes(ctx context.Context, apiID string, p Page) ([]*adminv1.Route, string, error) {
	return list(ctx, s, RoutesPrefix(apiID), p, newRoute)
}

// ListIntegrations reads one page of an API's integrations in id order.
func (s *Store) ListIntegrations(ctx context.Context, apiID string, p Page) ([]*adminv1.Integration, string, error) {
	return list(ctx, s, IntegrationsPrefix(apiID), p, newIntegration)
}

// ListStages reads one page of an API's stages in name order.
func (s *Store) ListStages(ctx context.Context, apiID string, p Page) ([]*adminv1.Stage, string, error) {
	return list(ctx, s, StagesPrefix(apiID), p, newStage)
}

// ListDeployments reads one page of an API's deployments in id order, with
// their contents.
func (s *Store) ListDeployments(ctx context.Context, apiID string, p Page) ([]*adminv1.Deployment, string, error) {
	return list(ctx, s, DeploymentsPrefix(apiID), p, newDeployment)
}
