package xds_test

import (
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/archway-gateway/archway/internal/watcher"
)

// benchClients is how many ADS clients each deployment must reach.
const benchClients = 100

// BenchmarkDeployToClients measures the time from an admin Deploy call to
// the deployed routes arriving at each of 100 in-process ADS clients,
// through etcd, the watcher (with its production debounce), translation,
// the snapshot cache and gRPC over loopback. An iteration ends when every
// client has the new routes; p50 and p99 are over every client of every
// iteration.
func BenchmarkDeployToClients(b *testing.B) {
	for name, delta := range protocols {
		b.Run(name, func(b *testing.B) {
			e := newEnvHoldoff(b, watcher.DefaultHoldoff, watcher.DefaultMaxDelay, slog.LevelWarn)
			api := e.api(b, "bench")
			ok := e.integration(b, api.GetId(), mock("ok", 200))
			r := e.route(b, api.GetId(), "GET", "/items/{id}", ok.GetId())
			e.stage(b, api.GetId(), "prod", nil)
			e.deploy(b, api.GetId(), "prod")
			clients := make([]*adsClient, benchClients)
			for i := range clients {
				clients[i] = dialADS(b, e.addr, fmt.Sprintf("bench-%03d", i), delta, nil)
			}
			for _, c := range clients {
				c.waitFor(b, "the deployment", mockAnswers(api.GetId(), "prod", r.GetId(), 200))
			}
			var latencies []time.Duration
			status := uint32(200)
			for b.Loop() {
				status = 401 - status // 200, 201, 200...
				b.StopTimer()
				e.setMockStatus(b, api.GetId(), ok.GetId(), int32(status))
				seen := make([]int, len(clients))
				for i, c := range clients {
					seen[i] = len(c.received(resource.RouteType))
				}
				b.StartTimer()
				start := time.Now()
				e.deploy(b, api.GetId(), "prod")
				for i, c := range clients {
					c.waitFor(b, "the new deployment", mockAnswers(api.GetId(), "prod", r.GetId(), status))
					latencies = append(latencies, c.arrival(seen[i], api.GetId(), r.GetId(), status).Sub(start))
				}
			}
			slices.Sort(latencies)
			b.ReportMetric(percentile(latencies, 50), "p50-ms")
			b.ReportMetric(percentile(latencies, 99), "p99-ms")
		})
	}
}

// arrival returns when the client received the first route configuration,
// after the first skip ones, in which the route answers status.
func (c *adsClient) arrival(skip int, apiID, routeID string, status uint32) time.Time {
	for _, r := range c.received(resource.RouteType)[skip:] {
		probe := &adsClient{state: map[string]*typeState{resource.RouteType: {resources: r.resources}}}
		if mockAnswers(apiID, "prod", routeID, status)(probe) {
			return r.at
		}
	}
	panic("waitFor saw a route configuration the log lacks")
}

// percentile returns the p-th percentile of sorted durations, in ms.
func percentile(sorted []time.Duration, p int) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return float64(sorted[(len(sorted)-1)*p/100]) / float64(time.Millisecond)
}
