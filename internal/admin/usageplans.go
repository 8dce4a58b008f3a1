package admin

import (
	"context"
	"errors"
	"slices"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/archway-gateway/archway/internal/model"
	"github.com/archway-gateway/archway/internal/store"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// Usage plan limits. The first three are AWS's default quotas.
const (
	maxUsagePlans  = 300
	maxPlanStages  = 100
	maxPlansPerKey = 10
	// maxKeysPerPlan keeps the deletion of a plan, which removes every
	// association in one transaction, inside etcd's --max-txn-ops.
	maxKeysPerPlan = 4000
	// maxQuotaLimit is 2^53, the largest count Redis's Lua numbers hold
	// exactly.
	maxQuotaLimit = 1 << 53
)

// usagePlanMutable lists the fields of a UsagePlan that updates may change.
func usagePlanMutable() []string {
	return []string{"name", "description", "throttle", "quota", "api_stages", "failure_mode", "tags"}
}

// validateUsagePlan checks the fields of a plan that need no other
// resource.
func validateUsagePlan(v *violations, field string, p *adminv1.UsagePlan) {
	v.name(field+".name", p.GetName())
	v.description(field+".description", p.GetDescription())
	v.throttle(field+".throttle", p.GetThrottle())
	v.quota(field+".quota", p.GetQuota())
	if _, known := adminv1.FailureMode_name[int32(p.GetFailureMode())]; !known {
		v.add(field+".failure_mode", "must be FAILURE_MODE_FAIL_CLOSED or FAILURE_MODE_FAIL_OPEN, got %v", p.GetFailureMode())
	}
	v.tags(field+".tags", p.GetTags())
	stages := p.GetApiStages()
	if len(stages) > maxPlanStages {
		v.add(field+".api_stages", "at most %d api stages are allowed, got %d", maxPlanStages, len(stages))
	}
	seen := make(map[string]int, len(stages))
	for i, s := range stages {
		f := listField(field+".api_stages", i)
		v.id(f+".api_id", s.GetApiId())
		v.stageName(f+".stage", s.GetStage())
		v.routeThrottles(f+".route_throttles", s.GetRouteThrottles())
		key := model.StageKey(s.GetApiId(), s.GetStage())
		if j, dup := seen[key]; dup {
			v.add(f, "api stage %s is already covered at api_stages[%d]", key, j)
		} else {
			seen[key] = i
		}
	}
}

// quota checks a quota. A nil quota means none and is valid.
func (v *violations) quota(field string, q *adminv1.QuotaSettings) {
	if q == nil {
		return
	}
	if l := q.GetLimit(); l < 0 || l > maxQuotaLimit {
		v.add(field+".limit", "must be 0 to %d, got %d", int64(maxQuotaLimit), l)
	}
	switch q.GetPeriod() {
	case adminv1.QuotaSettings_PERIOD_DAY, adminv1.QuotaSettings_PERIOD_WEEK, adminv1.QuotaSettings_PERIOD_MONTH:
	default:
		v.add(field+".period", "must be PERIOD_DAY, PERIOD_WEEK or PERIOD_MONTH, got %v", q.GetPeriod())
	}
	if o := q.GetOffset(); o < 0 || o > max(q.GetLimit()-1, 0) {
		v.add(field+".offset", "must be 0 to limit-1 (%d), got %d", max(q.GetLimit()-1, 0), o)
	}
}

// checkPlanStages checks that every API stage a plan covers exists. A
// missing one is a field violation naming the api_id or the stage.
func (s *Server) checkPlanStages(ctx context.Context, v *violations, field string, p *adminv1.UsagePlan) error {
	if len(p.GetApiStages()) > maxPlanStages {
		return nil // validateUsagePlan reported it; reading them all helps nobody.
	}
	for i, st := range p.GetApiStages() {
		if !validID(st.GetApiId()) {
			continue
		}
		f := listField(field+".api_stages", i)
		_, err := s.store.GetStage(ctx, st.GetApiId(), st.GetStage())
		if !errors.Is(err, store.ErrNotFound) {
			if err != nil {
				return s.storeError(ctx, err)
			}
			continue
		}
		switch _, err := s.store.GetAPI(ctx, st.GetApiId()); {
		case errors.Is(err, store.ErrNotFound):
			v.add(f+".api_id", "no api %s", st.GetApiId())
		case err != nil:
			return s.storeError(ctx, err)
		default:
			v.add(f+".stage", "no stage %q in api %s", st.GetStage(), st.GetApiId())
		}
	}
	return nil
}

// CreateUsagePlan creates a usage plan. Its quota, if any, starts now.
func (s *Server) CreateUsagePlan(ctx context.Context, req *adminv1.CreateUsagePlanRequest) (*adminv1.UsagePlan, error) {
	v := newViolations(req)
	in := req.GetUsagePlan()
	now := s.timestamp()
	p := &adminv1.UsagePlan{
		Id: newID(), Name: in.GetName(), Description: in.GetDescription(), Throttle: in.GetThrottle(),
		Quota: in.GetQuota(), ApiStages: in.GetApiStages(), FailureMode: in.GetFailureMode(), Tags: in.GetTags(),
		CreateTime: now, UpdateTime: now,
	}
	if p.GetQuota() != nil {
		p.QuotaStartTime = now
	}
	validateUsagePlan(v, "usage_plan", p)
	if err := s.checkPlanStages(ctx, v, "usage_plan", p); err != nil {
		return nil, err
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if n, err := s.store.CountUsagePlans(ctx); err != nil {
		return nil, s.storeError(ctx, err)
	} else if n >= maxUsagePlans {
		return nil, limitExceeded("usage plans per gateway", maxUsagePlans, "gateway")
	}
	rev, err := s.store.CreateUsagePlan(ctx, p)
	switch {
	case errors.Is(err, store.ErrAlreadyExists):
		return nil, alreadyExists("usage plan name %q is taken", p.GetName())
	case err != nil:
		// ErrConflict here means a clash of random ids; the client may retry.
		return nil, s.storeError(ctx, err)
	}
	store.SetEtag(p, rev)
	s.log.InfoContext(ctx, "usage plan created", "usage_plan_id", p.GetId(), "name", p.GetName(), "revision", rev)
	return p, nil
}

// GetUsagePlan returns one usage plan.
func (s *Server) GetUsagePlan(ctx context.Context, req *adminv1.GetUsagePlanRequest) (*adminv1.UsagePlan, error) {
	v := newViolations(req)
	v.id("id", req.GetId())
	if err := v.err(); err != nil {
		return nil, err
	}
	return s.getUsagePlan(ctx, req.GetId())
}

func (s *Server) getUsagePlan(ctx context.Context, id string) (*adminv1.UsagePlan, error) {
	get := func(ctx context.Context, _, id string) (*adminv1.UsagePlan, error) {
		return s.store.GetUsagePlan(ctx, id)
	}
	return getResource(ctx, s, get, "usage plan", "", id)
}

// ListUsagePlans returns one page of usage plans in id order: every plan,
// or those of one API key.
func (s *Server) ListUsagePlans(ctx context.Context, req *adminv1.ListUsagePlansRequest) (*adminv1.ListUsagePlansResponse, error) {
	v := newViolations(req)
	size := v.pageSize("page_size", req.GetPageSize())
	after := v.pageToken("page_token", req.GetPageToken(), store.UsagePlansPrefix())
	if req.GetKeyId() != "" {
		v.id("key_id", req.GetKeyId())
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if req.GetKeyId() != "" {
		return s.keyUsagePlans(ctx, req.GetKeyId(), store.Page{After: after, Limit: size})
	}
	plans, next, err := s.store.ListUsagePlans(ctx, store.Page{After: after, Limit: size})
	if err != nil {
		return nil, s.storeError(ctx, err)
	}
	return &adminv1.ListUsagePlansResponse{UsagePlans: plans, NextPageToken: pageTokenOf(next)}, nil
}

// keyUsagePlans lists one page of the plans of an API key. A key has few
// plans, so they are paged in memory.
func (s *Server) keyUsagePlans(ctx context.Context, keyID string, p store.Page) (*adminv1.ListUsagePlansResponse, error) {
	ids, err := s.store.KeyPlanIDs(ctx, keyID, 0)
	if err != nil {
		return nil, s.storeError(ctx, err)
	}
	resp := &adminv1.ListUsagePlansResponse{}
	for _, id := range ids {
		if store.UsagePlanRecord(id) <= p.After {
			continue
		}
		if len(resp.UsagePlans) == p.Limit {
			resp.NextPageToken = encodePageToken(store.UsagePlanRecord(resp.UsagePlans[p.Limit-1].GetId()))
			break
		}
		plan, err := s.store.GetUsagePlan(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue // Deleted since the index was read.
		} else if err != nil {
			return nil, s.storeError(ctx, err)
		}
		resp.UsagePlans = append(resp.UsagePlans, plan)
	}
	return resp, nil
}

// UpdateUsagePlan changes a usage plan. A changed quota starts again now:
// its offset applies to the period that holds the change. Covering a new
// API stage fails if a key of the plan already meets that stage through
// another plan.
func (s *Server) UpdateUsagePlan(ctx context.Context, req *adminv1.UpdateUsagePlanRequest) (*adminv1.UsagePlan, error) {
	v := newViolations(req)
	in := req.GetUsagePlan()
	v.id("usage_plan.id", in.GetId())
	paths := v.updatePaths("update_mask", req.GetUpdateMask(), in.ProtoReflect().Descriptor(), usagePlanMutable())
	if err := v.err(); err != nil {
		return nil, err
	}
	var out *adminv1.UsagePlan
	err := s.retry(ctx, "usage plan "+in.GetId(), func() (err error) {
		out, err = s.updateUsagePlan(ctx, req, paths)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// updateUsagePlan is one attempt of UpdateUsagePlan. It returns
// store.ErrConflict, for retry, if the plans changed since it read them.
func (s *Server) updateUsagePlan(ctx context.Context, req *adminv1.UpdateUsagePlanRequest, paths []string) (*adminv1.UsagePlan, error) {
	in := req.GetUsagePlan()
	plans, err := s.store.ReadUsagePlans(ctx)
	if err != nil {
		return nil, s.storeError(ctx, err)
	}
	old := plans.Get(in.GetId())
	if old == nil {
		return nil, notFound("usage plan", in.GetId(), "")
	}
	if err := checkEtag("usage plan "+in.GetId(), in.GetEtag(), old.GetEtag()); err != nil {
		return nil, err
	}
	changed := proto.CloneOf(old)
	applyPaths(changed, in, paths)
	v := newViolations(req)
	validateUsagePlan(v, "usage_plan", changed)
	if err := s.checkPlanStages(ctx, v, "usage_plan", changed); err != nil {
		return nil, err
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if proto.Equal(changed, old) {
		return old, nil
	}
	changed.UpdateTime = s.timestamp()
	if !proto.Equal(changed.GetQuota(), old.GetQuota()) {
		changed.QuotaStartTime = nil
		if changed.GetQuota() != nil {
			changed.QuotaStartTime = changed.GetUpdateTime()
		}
	}
	g, err := s.checkNewStages(ctx, plans, changed, addedStages(old, changed))
	if err != nil {
		return nil, err
	}
	rev, err := s.store.UpdateUsagePlan(ctx, old, changed, g)
	switch {
	case errors.Is(err, store.ErrConflict):
		return nil, err
	case errors.Is(err, store.ErrAlreadyExists):
		return nil, alreadyExists("usage plan name %q is taken", changed.GetName())
	case err != nil:
		return nil, s.storeError(ctx, err)
	}
	store.SetEtag(changed, rev)
	s.log.InfoContext(ctx, "usage plan updated", "usage_plan_id", changed.GetId(), "revision", rev)
	return changed, nil
}

// addedStages returns the API stages changed covers and old does not.
func addedStages(old, changed *adminv1.UsagePlan) []string {
	had := stageKeys(old)
	var added []string
	for _, k := range stageKeys(changed) {
		if !slices.Contains(had, k) {
			added = append(added, k)
		}
	}
	return added
}

// stageKeys returns the model.StageKey of every API stage a plan covers.
func stageKeys(p *adminv1.UsagePlan) []string {
	keys := make([]string, 0, len(p.GetApiStages()))
	for _, s := range p.GetApiStages() {
		keys = append(keys, model.StageKey(s.GetApiId(), s.GetStage()))
	}
	return keys
}

// sharedStage returns an API stage both plans cover, or "".
func sharedStage(a, b *adminv1.UsagePlan) string { return firstShared(stageKeys(a), stageKeys(b)) }

// firstShared returns the first element of a that b holds too, or "".
func firstShared(a, b []string) string {
	if i := slices.IndexFunc(a, func(k string) bool { return slices.Contains(b, k) }); i >= 0 {
		return a[i]
	}
	return ""
}

// checkNewStages fails if a key of plan meets one of the added stages
// through another plan, and returns the guard under which that still
// holds when the update commits: no plan changed and neither the plan nor
// any plan covering an added stage gained keys.
func (s *Server) checkNewStages(ctx context.Context, plans *store.UsagePlans, plan *adminv1.UsagePlan, added []string) (store.PlanGuard, error) {
	if len(added) == 0 {
		return store.PlanGuard{}, nil
	}
	g := store.PlanGuard{Revision: plans.Revision, AllPlans: true, PlanKeys: []string{plan.GetId()}}
	mine, err := s.store.PlanKeyIDs(ctx, plan.GetId(), plans.Revision)
	if err != nil {
		return g, s.storeError(ctx, err)
	}
	for _, other := range plans.List {
		st := firstShared(added, stageKeys(other))
		if other.GetId() == plan.GetId() || st == "" {
			continue
		}
		g.PlanKeys = append(g.PlanKeys, other.GetId())
		if len(mine) == 0 {
			continue
		}
		theirs, err := s.store.PlanKeyIDs(ctx, other.GetId(), plans.Revision)
		if err != nil {
			return g, s.storeError(ctx, err)
		}
		if key := firstShared(mine, theirs); key != "" {
			return g, failedPrecondition(failureAPIStage, "usage plan "+plan.GetId(),
				"api key %s of the plan already meets api stage %s through usage plan %s; a key may meet a stage through one plan only",
				key, st, other.GetId())
		}
	}
	return g, nil
}

// DeleteUsagePlan deletes a usage plan and all its key associations.
func (s *Server) DeleteUsagePlan(ctx context.Context, req *adminv1.DeleteUsagePlanRequest) (*emptypb.Empty, error) {
	v := newViolations(req)
	v.id("id", req.GetId())
	if err := v.err(); err != nil {
		return nil, err
	}
	err := s.retry(ctx, "usage plan "+req.GetId(), func() error {
		p, err := s.getUsagePlan(ctx, req.GetId())
		if err != nil {
			return err
		}
		if err := checkEtag("usage plan "+req.GetId(), req.GetEtag(), p.GetEtag()); err != nil {
			return err
		}
		err = s.store.DeleteUsagePlan(ctx, p)
		if err != nil && !errors.Is(err, store.ErrConflict) {
			return s.storeError(ctx, err)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "usage plan deleted", "usage_plan_id", req.GetId())
	return &emptypb.Empty{}, nil
}

// CreateUsagePlanKey associates an API key with a usage plan. As in AWS, a
// key may be on several plans only if no two of them cover the same API
// stage: the data plane must find one plan per key and stage.
func (s *Server) CreateUsagePlanKey(ctx context.Context, req *adminv1.CreateUsagePlanKeyRequest) (*adminv1.UsagePlanKey, error) {
	v := newViolations(req)
	v.id("usage_plan_id", req.GetUsagePlanId())
	v.id("key_id", req.GetKeyId())
	if err := v.err(); err != nil {
		return nil, err
	}
	var out *adminv1.UsagePlanKey
	err := s.retry(ctx, "usage plan "+req.GetUsagePlanId(), func() (err error) {
		out, err = s.createUsagePlanKey(ctx, req.GetUsagePlanId(), req.GetKeyId())
		return err
	})
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "usage plan key created", "usage_plan_id", out.GetUsagePlanId(), "api_key_id", out.GetKeyId())
	return out, nil
}

// createUsagePlanKey is one attempt of CreateUsagePlanKey. It returns
// store.ErrConflict, for retry, if a plan or the key's plans changed since
// it read them.
func (s *Server) createUsagePlanKey(ctx context.Context, planID, keyID string) (*adminv1.UsagePlanKey, error) {
	plans, err := s.store.ReadUsagePlans(ctx)
	if err != nil {
		return nil, s.storeError(ctx, err)
	}
	plan := plans.Get(planID)
	if plan == nil {
		return nil, notFound("usage plan", planID, "")
	}
	key, err := s.getAPIKey(ctx, keyID)
	if err != nil {
		return nil, err
	}
	if err := s.checkNewKey(ctx, plans, plan, keyID); err != nil {
		return nil, err
	}
	pk := &adminv1.UsagePlanKey{UsagePlanId: planID, KeyId: keyID, Name: key.GetName(), CreateTime: s.timestamp()}
	g := store.PlanGuard{Revision: plans.Revision, AllPlans: true, KeyPlans: []string{keyID}}
	_, err = s.store.CreateUsagePlanKey(ctx, plan, key, pk, g)
	switch {
	case errors.Is(err, store.ErrConflict):
		return nil, err
	case errors.Is(err, store.ErrAlreadyExists):
		return nil, alreadyExists("api key %s is already on usage plan %s", keyID, planID)
	case err != nil:
		return nil, s.storeError(ctx, err)
	}
	return pk, nil
}

// checkNewKey checks that the key may join the plan: it is not on it yet,
// both stay within their limits, and none of the key's plans covers a
// stage the plan covers.
func (s *Server) checkNewKey(ctx context.Context, plans *store.UsagePlans, plan *adminv1.UsagePlan, keyID string) error {
	theirs, err := s.store.KeyPlanIDs(ctx, keyID, plans.Revision)
	if err != nil {
		return s.storeError(ctx, err)
	}
	if slices.Contains(theirs, plan.GetId()) {
		return alreadyExists("api key %s is already on usage plan %s", keyID, plan.GetId())
	}
	if len(theirs) >= maxPlansPerKey {
		return limitExceeded("usage plans per API key", maxPlansPerKey, "api key "+keyID)
	}
	n, err := s.store.CountPlanKeys(ctx, plan.GetId())
	if err != nil {
		return s.storeError(ctx, err)
	}
	if n >= maxKeysPerPlan {
		return limitExceeded("API keys per usage plan", maxKeysPerPlan, "usage plan "+plan.GetId())
	}
	for _, id := range theirs {
		if st := sharedStage(plan, plans.Get(id)); st != "" {
			return failedPrecondition(failureAPIStage, "api key "+keyID,
				"api key %s already meets api stage %s through usage plan %s; a key may meet a stage through one plan only",
				keyID, st, id)
		}
	}
	return nil
}

// DeleteUsagePlanKey removes an API key from a usage plan.
func (s *Server) DeleteUsagePlanKey(ctx context.Context, req *adminv1.DeleteUsagePlanKeyRequest) (*emptypb.Empty, error) {
	v := newViolations(req)
	v.id("usage_plan_id", req.GetUsagePlanId())
	v.id("key_id", req.GetKeyId())
	if err := v.err(); err != nil {
		return nil, err
	}
	err := s.store.DeleteUsagePlanKey(ctx, req.GetUsagePlanId(), req.GetKeyId())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, status.Errorf(codes.NotFound, "api key %s is not on usage plan %s", req.GetKeyId(), req.GetUsagePlanId())
	case err != nil:
		return nil, s.storeError(ctx, err)
	}
	s.log.InfoContext(ctx, "usage plan key deleted", "usage_plan_id", req.GetUsagePlanId(), "api_key_id", req.GetKeyId())
	return &emptypb.Empty{}, nil
}

// ListUsagePlanKeys returns one page of a plan's keys in key id order, each
// with the key's current name.
func (s *Server) ListUsagePlanKeys(ctx context.Context, req *adminv1.ListUsagePlanKeysRequest) (*adminv1.ListUsagePlanKeysResponse, error) {
	v := newViolations(req)
	v.id("usage_plan_id", req.GetUsagePlanId())
	size := v.pageSize("page_size", req.GetPageSize())
	after := v.pageToken("page_token", req.GetPageToken(), store.UsagePlanKeysPrefix(req.GetUsagePlanId()))
	if err := v.err(); err != nil {
		return nil, err
	}
	links, next, err := s.store.ListUsagePlanKeys(ctx, req.GetUsagePlanId(), store.Page{After: after, Limit: size})
	if err != nil {
		return nil, s.storeError(ctx, err)
	}
	if len(links) == 0 {
		if _, err := s.getUsagePlan(ctx, req.GetUsagePlanId()); err != nil {
			return nil, err
		}
	}
	ids := make([]string, len(links))
	for i, l := range links {
		ids[i] = l.GetKeyId()
	}
	keys, err := s.store.GetAPIKeys(ctx, ids)
	if err != nil {
		return nil, s.storeError(ctx, err)
	}
	for i, l := range links {
		l.Name = keys[i].GetName()
	}
	return &adminv1.ListUsagePlanKeysResponse{Keys: links, NextPageToken: pageTokenOf(next)}, nil
}
