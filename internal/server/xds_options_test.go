package server

import (
	"testing"

	"github.com/archway-gateway/archway/envoy"
)

// TestXDSKeepaliveAllowsEnvoysPings guards the pairing of two settings that
// live in different packages: the bootstraps Archway writes make Envoy ping
// the xDS connection every envoy.XDSKeepaliveInterval, and a gRPC server
// whose enforcement policy wants pings further apart answers them with
// GOAWAY "too_many_pings", tearing down the ADS stream again and again.
func TestXDSKeepaliveAllowsEnvoysPings(t *testing.T) {
	if xdsPingMinTime > envoy.XDSKeepaliveInterval {
		t.Errorf("the xds server allows pings every %v at most, but Envoy pings every %v", xdsPingMinTime, envoy.XDSKeepaliveInterval)
	}
	if xdsMaxConnectionAge <= 0 || xdsMaxConnectionAgeGrace <= 0 {
		t.Errorf("MaxConnectionAge %v (grace %v): connections must be recycled so Envoys rebalance across replicas", xdsMaxConnectionAge, xdsMaxConnectionAgeGrace)
	}
}
