package model

import (
	"crypto/sha256"
	"time"
)

// KeySource is where requests to routes that require an API key carry it,
// as AWS's apiKeySource.
type KeySource int

// The key sources. The zero value is KeySourceHeader, AWS's default.
const (
	// KeySourceHeader reads the key from the x-api-key request header.
	KeySourceHeader KeySource = iota
	// KeySourceAuthorizer takes the key from the usage identifier an
	// authorizer of the API returned.
	KeySourceAuthorizer
)

// Throttle is a token bucket: up to Burst requests at once, refilled at Rate
// requests per second. A nil *Throttle means no throttle.
type Throttle struct {
	Rate  float64
	Burst int64
}

// QuotaPeriod is the calendar period (UTC) of a quota.
type QuotaPeriod string

// The quota periods, spelled as the ratelimit package's.
const (
	QuotaDay   QuotaPeriod = "DAY"
	QuotaWeek  QuotaPeriod = "WEEK"
	QuotaMonth QuotaPeriod = "MONTH"
)

// Quota is at most Limit requests per key in each Period. Offset is taken
// from the limit in the period that contains Start, as AWS's quota offset.
type Quota struct {
	Limit  int64
	Period QuotaPeriod
	Offset int64
	Start  time.Time
}

// UsagePlan meters the API keys associated with it on the API stages it
// covers.
type UsagePlan struct {
	ID   string
	Name string
	// Throttle applies to each key separately; nil means none.
	Throttle *Throttle
	// Quota applies to each key separately; nil means none.
	Quota *Quota
	// FailOpen admits requests unmetered while the counter store is down;
	// otherwise they are refused.
	FailOpen bool
	// Stages are the API stages the plan covers, keyed by StageKey. The map
	// must only be read.
	Stages map[string]*PlanStage
}

// PlanStage is one API stage a plan covers.
type PlanStage struct {
	// RouteThrottles replace the plan's throttle on single routes, keyed by
	// route key ("GET /pets"). The map must only be read.
	RouteThrottles map[string]*Throttle
}

// StageKey names an API stage in PlanStage maps.
func StageKey(apiID, stage string) string { return apiID + "/" + stage }

// RouteThrottle returns the throttle the plan applies to a route of a stage it
// covers: the route's override, else the plan's own. override tells which,
// since a plan's own throttle is one bucket per key shared by every stage
// the plan covers, and an override a bucket per key and route.
func (p *UsagePlan) RouteThrottle(ps *PlanStage, routeKey string) (t *Throttle, override bool) {
	if t, ok := ps.RouteThrottles[routeKey]; ok {
		return t, true
	}
	return p.Throttle, false
}

// APIKey is an API key as the data plane sees it: never its value, only the
// SHA-256 of it, and the plans it is associated with.
type APIKey struct {
	ID      string
	Name    string
	Enabled bool
	Hash    [sha256.Size]byte
	// Plans are the usage plans the key is associated with, sorted by ID.
	Plans []*UsagePlan
}

// PlanFor returns the plan of k that covers the API stage, and the plan's
// entry for that stage, or nils. A key is on at most one plan per stage;
// the admin API keeps it so.
func (k *APIKey) PlanFor(stageKey string) (*UsagePlan, *PlanStage) {
	for _, p := range k.Plans {
		if ps := p.Stages[stageKey]; ps != nil {
			return p, ps
		}
	}
	return nil, nil
}

// Keys indexes API keys by the SHA-256 of their values. It is immutable
// once built and shared between Configs until a key or plan changes.
type Keys struct {
	byHash map[[sha256.Size]byte]*APIKey
	byID   map[string]*APIKey
}

// NewKeys indexes keys. Keys with the same hash or ID are an error the
// store never lets happen; the later one wins.
func NewKeys(keys []*APIKey) *Keys {
	ks := &Keys{
		byHash: make(map[[sha256.Size]byte]*APIKey, len(keys)),
		byID:   make(map[string]*APIKey, len(keys)),
	}
	for _, k := range keys {
		ks.byHash[k.Hash] = k
		ks.byID[k.ID] = k
	}
	return ks
}

// ByHash returns the key whose value has the given SHA-256, or nil.
func (ks *Keys) ByHash(h [sha256.Size]byte) *APIKey {
	if ks == nil {
		return nil
	}
	return ks.byHash[h]
}

// ByID returns the key with the given ID, or nil.
func (ks *Keys) ByID(id string) *APIKey {
	if ks == nil {
		return nil
	}
	return ks.byID[id]
}

// Len returns how many keys there are.
func (ks *Keys) Len() int {
	if ks == nil {
		return 0
	}
	return len(ks.byID)
}
