package store

import "testing"

func TestParseKey(t *testing.T) {
	tests := map[string]struct {
		key  string
		want Key
		ok   bool
	}{
		"api":           {APIKey("a1"), Key{Kind: KindAPI, APIID: "a1"}, true},
		"api name":      {APINameKey("pets"), Key{Kind: KindAPIName, Name: "pets"}, true},
		"seq":           {SeqKey("a1"), Key{Kind: KindSeq, APIID: "a1"}, true},
		"route":         {RouteKey("a1", "r1"), Key{Kind: KindRoute, APIID: "a1", Name: "r1"}, true},
		"integration":   {IntegrationKey("a1", "i1"), Key{Kind: KindIntegration, APIID: "a1", Name: "i1"}, true},
		"stage":         {StageKey("a1", "$default"), Key{Kind: KindStage, APIID: "a1", Name: "$default"}, true},
		"deployment":    {DeploymentKey("a1", "d1"), Key{Kind: KindDeployment, APIID: "a1", Name: "d1"}, true},
		"status":        {StatusKey("a1"), Key{Kind: KindStatus, APIID: "a1"}, true},
		"fleet":         {FleetKey("host-1/127.0.0.1:18000", "node/1"), Key{Kind: KindFleet, Instance: "host-1/127.0.0.1:18000", Name: "node/1"}, true},
		"fleet no node": {Root + "fleet/host-1", Key{}, false},
		"fleet nested":  {Root + "fleet/host-1/node/1", Key{}, false},
		"api key":       {APIKeyRecord("k1"), Key{Kind: KindAPIKey, Name: "k1"}, true},
		"api key name":  {APIKeyNameKey("gold"), Key{Kind: KindAPIKeyName, Name: "gold"}, true},
		"api key hash":  {APIKeyHashKey([]byte{0xab, 0x01}), Key{Kind: KindAPIKeyHash, Name: "ab01"}, true},
		"outside":       {"/other/key", Key{}, false},
		"unknown kind":  {APIDataPrefix("a1") + "widgets/w1", Key{}, false},
		"nested":        {RouteKey("a1", "r1/x"), Key{}, false},
		"empty id":      {APIKey(""), Key{Kind: KindAPI}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, ok := ParseKey(tc.key)
			if ok != tc.ok || (ok && got != tc.want) {
				t.Errorf("ParseKey(%q) = %+v, %v; want %+v, %v", tc.key, got, ok, tc.want, tc.ok)
			}
		})
	}
}
