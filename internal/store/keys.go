package store

import (
	"strconv"
	"strings"
)

// Root is the prefix of every key Archway writes. The version segment lets a
// later schema live beside this one during a migration.
//
// The key schema (docs/store.md has the full story):
//
//	/archway/v1/apis/{apiId}                      adminv1.Api
//	/archway/v1/api-names/{name}                  the API's id, keeping names unique
//	/archway/v1/api/{apiId}/seq                   guard: rewritten by every change under the API
//	/archway/v1/api/{apiId}/routes/{routeId}      adminv1.Route
//	/archway/v1/api/{apiId}/integrations/{id}     adminv1.Integration
//	/archway/v1/api/{apiId}/stages/{stageName}    adminv1.Stage
//	/archway/v1/api/{apiId}/deployments/{id}      adminv1.Deployment
//	/archway/v1/status/{apiId}                    adminv1.ApiStatus, written by the xDS servers
//	/archway/v1/fleet/{instance}/{nodeId}         adminv1.EnvoyNode, under an xDS server's lease
//	/archway/v1/apikeys/{id}                      adminv1.ApiKey, without its value, with its SHA-256
//	/archway/v1/apikey-names/{name}               the API key's id, keeping key names unique
//	/archway/v1/apikey-hashes/{hex sha256}        the API key's id: finds a key by value, keeps values unique
//	/archway/v1/usageplans/{id}                   adminv1.UsagePlan
//	/archway/v1/usageplan-names/{name}            the plan's id, keeping plan names unique
//	/archway/v1/usageplan-keys/{planId}/{keyId}   adminv1.UsagePlanKey: the key is associated with the plan
//	/archway/v1/apikey-plans/{keyId}/{planId}     the plan's id: the same association, indexed by key
//
// APIs and their contents live under different prefixes so that listing APIs
// never reads their routes or deployments. Statuses and the fleet are
// reports of the data plane, not definitions: nothing is built from them.
const Root = "/archway/v1/"

const (
	apisPrefix     = Root + "apis/"
	apiNamesPrefix = Root + "api-names/"
	apiDataPrefix  = Root + "api/"
	statusPrefix   = Root + "status/"
	fleetPrefix    = Root + "fleet/"

	apiKeysPrefix      = Root + "apikeys/"
	apiKeyNamesPrefix  = Root + "apikey-names/"
	apiKeyHashesPrefix = Root + "apikey-hashes/"

	usagePlansPrefix     = Root + "usageplans/"
	usagePlanNamesPrefix = Root + "usageplan-names/"
	usagePlanKeysPrefix  = Root + "usageplan-keys/"
	apiKeyPlansPrefix    = Root + "apikey-plans/"
)

// Kind says what a key holds.
type Kind int

// The kinds of keys in the schema.
const (
	KindUnknown Kind = iota
	KindAPI
	KindAPIName
	KindSeq
	KindRoute
	KindIntegration
	KindStage
	KindDeployment
	// KindStatus is an API's status as the xDS servers report it.
	KindStatus
	// KindFleet is one Envoy connected to one xDS server instance.
	KindFleet
	// KindAPIKey is an API key record (without the key's value).
	KindAPIKey
	// KindAPIKeyName reserves an API key name.
	KindAPIKeyName
	// KindAPIKeyHash maps the SHA-256 of a key's value to the key's id.
	KindAPIKeyHash
	// KindUsagePlan is a usage plan record.
	KindUsagePlan
	// KindUsagePlanName reserves a usage plan name.
	KindUsagePlanName
	// KindUsagePlanKey associates an API key with a usage plan.
	KindUsagePlanKey
	// KindAPIKeyPlan is the same association indexed by API key.
	KindAPIKeyPlan
)

// String returns the kind's lower-case name.
func (k Kind) String() string {
	switch k {
	case KindAPI:
		return "api"
	case KindAPIName:
		return "api-name"
	case KindSeq:
		return "seq"
	case KindRoute:
		return "route"
	case KindIntegration:
		return "integration"
	case KindStage:
		return "stage"
	case KindDeployment:
		return "deployment"
	case KindStatus:
		return "status"
	case KindFleet:
		return "fleet"
	case KindAPIKey:
		return "apikey"
	case KindAPIKeyName:
		return "apikey-name"
	case KindAPIKeyHash:
		return "apikey-hash"
	case KindUsagePlan:
		return "usageplan"
	case KindUsagePlanName:
		return "usageplan-name"
	case KindUsagePlanKey:
		return "usageplan-key"
	case KindAPIKeyPlan:
		return "apikey-plan"
	}
	return "unknown"
}

// collectionKind maps the collection segment of an API data key to its kind.
func collectionKind(segment string) Kind {
	switch segment {
	case "routes":
		return KindRoute
	case "integrations":
		return KindIntegration
	case "stages":
		return KindStage
	case "deployments":
		return KindDeployment
	}
	return KindUnknown
}

// Key is a parsed etcd key.
type Key struct {
	Kind Kind
	// APIID is the API the key belongs to; for KindAPIName it is empty.
	APIID string
	// Name is the route, integration or deployment id, the stage name,
	// (for KindAPIName) the API name, (for KindFleet) the Envoy node id,
	// (for KindAPIKey) the key's id, (for KindAPIKeyName) the key's name or
	// (for KindAPIKeyHash) the hex SHA-256 of the key's value, (for
	// KindUsagePlan) the plan's id, (for KindUsagePlanName) its name, and
	// (for KindUsagePlanKey and KindAPIKeyPlan) the API key's id.
	Name string
	// Instance is, for KindFleet, the xDS server instance the node is
	// connected to.
	Instance string
	// PlanID is, for KindUsagePlanKey and KindAPIKeyPlan, the usage plan's
	// id.
	PlanID string
}

// UsagePlanRecord is the key of a usage plan's record.
func UsagePlanRecord(id string) string { return usagePlansPrefix + id }

// UsagePlansPrefix is the prefix of every usage plan record.
func UsagePlansPrefix() string { return usagePlansPrefix }

// UsagePlanNameKey is the key that reserves a usage plan name for one plan.
func UsagePlanNameKey(name string) string { return usagePlanNamesPrefix + name }

// UsagePlanKeysPrefix is the prefix of a plan's key associations; with an
// empty planID, of every plan's.
func UsagePlanKeysPrefix(planID string) string {
	if planID == "" {
		return usagePlanKeysPrefix
	}
	return usagePlanKeysPrefix + planID + "/"
}

// UsagePlanKeyKey is the key of one plan-key association.
func UsagePlanKeyKey(planID, keyID string) string { return UsagePlanKeysPrefix(planID) + keyID }

// APIKeyPlansPrefix is the prefix of a key's plan associations.
func APIKeyPlansPrefix(keyID string) string { return apiKeyPlansPrefix + keyID + "/" }

// APIKeyPlanKey is the key of one plan-key association, indexed by key.
func APIKeyPlanKey(keyID, planID string) string { return APIKeyPlansPrefix(keyID) + planID }

// APIKey is the key of an API record.
func APIKey(id string) string { return apisPrefix + id }

// APIsPrefix is the prefix of every API record.
func APIsPrefix() string { return apisPrefix }

// APINameKey is the key that reserves an API name for one API.
func APINameKey(name string) string { return apiNamesPrefix + name }

// APIDataPrefix is the prefix of everything that belongs to an API.
func APIDataPrefix(apiID string) string { return apiDataPrefix + apiID + "/" }

// SeqKey is the key every change under an API rewrites, so a transaction
// that compares its revision fails if anything under the API changed.
func SeqKey(apiID string) string { return APIDataPrefix(apiID) + "seq" }

// RoutesPrefix is the prefix of an API's routes.
func RoutesPrefix(apiID string) string { return APIDataPrefix(apiID) + "routes/" }

// IntegrationsPrefix is the prefix of an API's integrations.
func IntegrationsPrefix(apiID string) string { return APIDataPrefix(apiID) + "integrations/" }

// StagesPrefix is the prefix of an API's stages.
func StagesPrefix(apiID string) string { return APIDataPrefix(apiID) + "stages/" }

// DeploymentsPrefix is the prefix of an API's deployments.
func DeploymentsPrefix(apiID string) string { return APIDataPrefix(apiID) + "deployments/" }

// RouteKey is the key of one route.
func RouteKey(apiID, id string) string { return RoutesPrefix(apiID) + id }

// IntegrationKey is the key of one integration.
func IntegrationKey(apiID, id string) string { return IntegrationsPrefix(apiID) + id }

// StageKey is the key of one stage; stages are keyed by name.
func StageKey(apiID, name string) string { return StagesPrefix(apiID) + name }

// DeploymentKey is the key of one deployment.
func DeploymentKey(apiID, id string) string { return DeploymentsPrefix(apiID) + id }

// ParseKey parses a key of the schema. It reports false for keys outside it.
func ParseKey(key string) (Key, bool) {
	switch {
	case strings.HasPrefix(key, apisPrefix):
		id := key[len(apisPrefix):]
		return Key{Kind: KindAPI, APIID: id}, validSegment(id)
	case strings.HasPrefix(key, apiNamesPrefix):
		name := key[len(apiNamesPrefix):]
		return Key{Kind: KindAPIName, Name: name}, name != ""
	case strings.HasPrefix(key, apiDataPrefix):
		return parseDataKey(key[len(apiDataPrefix):])
	case strings.HasPrefix(key, statusPrefix):
		id := key[len(statusPrefix):]
		return Key{Kind: KindStatus, APIID: id}, validSegment(id)
	case strings.HasPrefix(key, fleetPrefix):
		return parseFleetKey(key[len(fleetPrefix):])
	case strings.HasPrefix(key, apiKeysPrefix):
		id := key[len(apiKeysPrefix):]
		return Key{Kind: KindAPIKey, Name: id}, validSegment(id)
	case strings.HasPrefix(key, apiKeyNamesPrefix):
		name := key[len(apiKeyNamesPrefix):]
		return Key{Kind: KindAPIKeyName, Name: name}, name != ""
	case strings.HasPrefix(key, apiKeyHashesPrefix):
		h := key[len(apiKeyHashesPrefix):]
		return Key{Kind: KindAPIKeyHash, Name: h}, validSegment(h)
	case strings.HasPrefix(key, usagePlansPrefix):
		id := key[len(usagePlansPrefix):]
		return Key{Kind: KindUsagePlan, Name: id}, validSegment(id)
	case strings.HasPrefix(key, usagePlanNamesPrefix):
		name := key[len(usagePlanNamesPrefix):]
		return Key{Kind: KindUsagePlanName, Name: name}, name != ""
	case strings.HasPrefix(key, usagePlanKeysPrefix):
		plan, keyID, ok := strings.Cut(key[len(usagePlanKeysPrefix):], "/")
		return Key{Kind: KindUsagePlanKey, PlanID: plan, Name: keyID}, ok && validSegment(plan) && validSegment(keyID)
	case strings.HasPrefix(key, apiKeyPlansPrefix):
		keyID, plan, ok := strings.Cut(key[len(apiKeyPlansPrefix):], "/")
		return Key{Kind: KindAPIKeyPlan, PlanID: plan, Name: keyID}, ok && validSegment(plan) && validSegment(keyID)
	}
	return Key{}, false
}

func parseDataKey(rest string) (Key, bool) {
	parts := strings.SplitN(rest, "/", 3)
	if len(parts) == 2 && parts[1] == "seq" && validSegment(parts[0]) {
		return Key{Kind: KindSeq, APIID: parts[0]}, true
	}
	if len(parts) != 3 || !validSegment(parts[0]) || !validSegment(parts[2]) {
		return Key{}, false
	}
	kind := collectionKind(parts[1])
	return Key{Kind: kind, APIID: parts[0], Name: parts[2]}, kind != KindUnknown
}

func validSegment(s string) bool { return s != "" && !strings.Contains(s, "/") }

// Etag renders a key's etcd ModRevision as a resource etag. The revision
// changes on every write of the key, so it is exactly the version of the
// resource, and it is never stored in the value.
func Etag(modRevision int64) string { return strconv.FormatInt(modRevision, 10) }
