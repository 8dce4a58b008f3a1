package watcher

import (
	"cmp"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"slices"

	"github.com/archway-gateway/archway/internal/model"
	"github.com/archway-gateway/archway/internal/store"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
	"github.com/archway-gateway/archway/ratelimit"
)

// usageRecords are the gateway-level records ext_authz meters requests by:
// API keys, usage plans and their associations. They change independently
// of APIs, so they are rebuilt into one *model.Keys only when one of them
// changed, and every other Config shares the last one.
type usageRecords struct {
	keys  map[string]*adminv1.ApiKey
	plans map[string]*adminv1.UsagePlan
	// assoc maps a key's id to the ids of its plans.
	assoc map[string]map[string]bool

	built *model.Keys
	dirty bool
}

func newUsageRecords() *usageRecords {
	return &usageRecords{
		keys:  make(map[string]*adminv1.ApiKey),
		plans: make(map[string]*adminv1.UsagePlan),
		assoc: make(map[string]map[string]bool),
	}
}

// isUsageKind reports whether records of kind k belong to usageRecords.
func isUsageKind(k store.Kind) bool {
	return k == store.KindAPIKey || k == store.KindUsagePlan || k == store.KindUsagePlanKey
}

// put records a decoded usage record.
func (u *usageRecords) put(key store.Key, msg any) {
	u.dirty = true
	switch m := msg.(type) {
	case *adminv1.ApiKey:
		u.keys[key.Name] = m
	case *adminv1.UsagePlan:
		u.plans[key.Name] = m
	case *adminv1.UsagePlanKey:
		plans := u.assoc[key.Name]
		if plans == nil {
			plans = make(map[string]bool)
			u.assoc[key.Name] = plans
		}
		plans[key.PlanID] = true
	}
}

// remove forgets a usage record.
func (u *usageRecords) remove(key store.Key) {
	u.dirty = true
	switch key.Kind {
	case store.KindAPIKey:
		delete(u.keys, key.Name)
	case store.KindUsagePlan:
		delete(u.plans, key.Name)
	case store.KindUsagePlanKey:
		delete(u.assoc[key.Name], key.PlanID)
		if len(u.assoc[key.Name]) == 0 {
			delete(u.assoc, key.Name)
		}
	}
}

// build returns the keys index, rebuilding it if a record changed. A plan
// that cannot be converted is logged and left out, so its keys are refused
// rather than metered wrongly.
func (u *usageRecords) build(log *slog.Logger) *model.Keys {
	if !u.dirty {
		return u.built
	}
	u.dirty = false
	plans := make(map[string]*model.UsagePlan, len(u.plans))
	for id, p := range u.plans {
		mp, err := convertPlan(p)
		if err != nil {
			log.Warn("skipping usage plan", "plan", id, "err", err)
			continue
		}
		plans[id] = mp
	}
	keys := make([]*model.APIKey, 0, len(u.keys))
	for id, k := range u.keys {
		mk, ok := convertKey(k)
		if !ok {
			log.Warn("skipping API key without a valid hash", "key", id)
			continue
		}
		for planID := range u.assoc[id] {
			if p := plans[planID]; p != nil {
				mk.Plans = append(mk.Plans, p)
			}
		}
		slices.SortFunc(mk.Plans, func(a, b *model.UsagePlan) int { return cmp.Compare(a.ID, b.ID) })
		keys = append(keys, mk)
	}
	u.built = model.NewKeys(keys)
	return u.built
}

func convertKey(k *adminv1.ApiKey) (*model.APIKey, bool) {
	mk := &model.APIKey{ID: k.GetId(), Name: k.GetName(), Enabled: k.GetEnabled()}
	if len(k.GetValueHash()) != sha256.Size {
		return nil, false
	}
	copy(mk.Hash[:], k.GetValueHash())
	return mk, true
}

func convertPlan(p *adminv1.UsagePlan) (*model.UsagePlan, error) {
	mp := &model.UsagePlan{
		ID:       p.GetId(),
		Name:     p.GetName(),
		FailOpen: p.GetFailureMode() == adminv1.FailureMode_FAILURE_MODE_FAIL_OPEN,
		Stages:   make(map[string]*model.PlanStage, len(p.GetApiStages())),
	}
	var err error
	if mp.Throttle, err = convertThrottle(p.GetThrottle()); err != nil {
		return nil, err
	}
	if mp.Quota, err = convertQuota(p); err != nil {
		return nil, err
	}
	for _, as := range p.GetApiStages() {
		rt, err := convertRouteThrottles(as.GetRouteThrottles())
		if err != nil {
			return nil, fmt.Errorf("stage %s/%s: %w", as.GetApiId(), as.GetStage(), err)
		}
		mp.Stages[model.StageKey(as.GetApiId(), as.GetStage())] = &model.PlanStage{RouteThrottles: rt}
	}
	return mp, nil
}

// convertThrottle converts a throttle; nil stays nil (no throttle). A
// throttle the limiter cannot enforce is an error.
func convertThrottle(t *adminv1.ThrottleSettings) (*model.Throttle, error) {
	if t == nil {
		return nil, nil
	}
	mt := &model.Throttle{Rate: t.GetRateLimit(), Burst: int64(t.GetBurstLimit())}
	if err := (ratelimit.Bucket{Rate: mt.Rate, Burst: mt.Burst}).Validate(); err != nil {
		return nil, fmt.Errorf("throttle: %w", err)
	}
	return mt, nil
}

func convertRouteThrottles(m map[string]*adminv1.ThrottleSettings) (map[string]*model.Throttle, error) {
	if len(m) == 0 {
		return nil, nil
	}
	out := make(map[string]*model.Throttle, len(m))
	for route, t := range m {
		mt, err := convertThrottle(t)
		if err != nil {
			return nil, fmt.Errorf("route %q: %w", route, err)
		}
		if mt != nil {
			out[route] = mt
		}
	}
	return out, nil
}

func convertPeriod(p adminv1.QuotaSettings_Period) (model.QuotaPeriod, bool) {
	switch p {
	case adminv1.QuotaSettings_PERIOD_DAY:
		return model.QuotaDay, true
	case adminv1.QuotaSettings_PERIOD_WEEK:
		return model.QuotaWeek, true
	case adminv1.QuotaSettings_PERIOD_MONTH:
		return model.QuotaMonth, true
	}
	return "", false
}

func convertQuota(p *adminv1.UsagePlan) (*model.Quota, error) {
	q := p.GetQuota()
	if q == nil {
		return nil, nil
	}
	period, ok := convertPeriod(q.GetPeriod())
	if !ok || q.GetLimit() < 0 || q.GetOffset() < 0 {
		return nil, fmt.Errorf("quota %d per %v offset %d is invalid", q.GetLimit(), q.GetPeriod(), q.GetOffset())
	}
	mq := &model.Quota{Limit: q.GetLimit(), Period: period, Offset: q.GetOffset()}
	if st := p.GetQuotaStartTime(); st != nil {
		mq.Start = st.AsTime()
	}
	return mq, nil
}
