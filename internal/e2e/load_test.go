package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/archway-gateway/archway/envoy"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// Bounds of the load. They keep the test small enough for a 2-core machine;
// the test asserts what every response was, never how fast.
const (
	loadWorkers     = 4
	loadMaxRequests = 2000
	loadMaxDuration = 20 * time.Second
	// loadVersions is how many versions the API goes through: the first
	// deployment, then a deploy of each next one under load.
	loadVersions = 5
)

// TestDeployUnderLoad deploys new versions of an API while requests flow
// through Envoy without pause, over both xDS protocols. Each version sends
// to the other backend (so Envoy gains a cluster and drops one) under a
// path that names the version. Every response must be a 200 from the old
// or the new version of the deploy in progress, and once the deploys are
// done the last version answers. Versions are deployed for as long as the
// load lasts, up to loadVersions.
func TestDeployUnderLoad(t *testing.T) {
	for name, delta := range map[string]bool{"sotw": false, "delta": true} {
		t.Run(name, func(t *testing.T) { testDeployUnderLoad(t, delta) })
	}
}

func testDeployUnderLoad(t *testing.T, delta bool) {
	bs := []*backend{startBackend(t, "a"), startBackend(t, "b")}
	g := startGateway(t, gatewayOptions{delta: delta})
	api := g.applyFile(t, "testdata/live.yaml", backends(bs...)).GetId()
	g.deploy(t, api, "prod")
	g.waitAnswer(t, at(hostStyle, api, "prod", "GET", "/load/probe"), "a")

	l := newLoad(g, api, bs)
	stop, stopLoad := context.WithTimeout(t.Context(), loadMaxDuration)
	workers := l.start(stop)
	defer func() { stopLoad(); workers.Wait() }() // if the test fails early
	last := 1
	for v := 2; v <= loadVersions && l.running(stop); v++ {
		l.step.Store(int64(v))
		l.deployVersion(t, v)
		eventually(t, fmt.Sprintf("version %d to answer", v), func() (bool, string) {
			return l.answers(stop, t, v)
		})
		last = v
	}
	stopLoad()
	workers.Wait()
	l.client.CloseIdleConnections()

	counts, failures, nfail := l.result()
	total := nfail
	for _, n := range counts {
		total += n
	}
	t.Logf("%d requests by %d workers during %d deploys; good responses by version: %v", total, loadWorkers, last-1, counts)
	if nfail > 0 {
		t.Errorf("%d of %d responses were not a 200 of the old or new version; the first: %s", nfail, total, strings.Join(failures, "; "))
	}
	if last == 1 {
		t.Error("the load was over before the first deploy")
	}
	stats, err := g.envoy.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// The router counts requests whose route named a cluster Envoy did not
	// have; it answers them 503 with no body.
	if n := stats["http."+envoy.HTTPListenerName+".no_cluster"]; n != 0 {
		t.Errorf("Envoy routed %d requests to a cluster it did not have", n)
	}
	final := l.backendOf(last)
	g.expectEcho(t, at(pathStyle, api, "prod", "GET", "/load/final"), final.name, fmt.Sprintf("/v%d/load/final", last))
	g.checkEnvoy(t, clusterOf(t, final.addr))
	g.stop(t)
}

// maxReported is how many failed responses a load run describes.
const maxReported = 5

// load sends requests through Envoy from several workers and checks each
// response against the deploy in progress.
type load struct {
	g        *gateway
	api      string
	backends []*backend
	client   *http.Client
	// step is the version being deployed, or deployed last: responses of
	// step-1 and step are both right while it is in progress.
	step atomic.Int64
	// sent counts the requests the workers set out to send; none sends
	// once it passes the maximum.
	sent atomic.Int64

	mu       sync.Mutex
	counts   map[int]int // good responses by version
	failures []string    // the first maxReported failures
	nfail    int
}

func newLoad(g *gateway, api string, bs []*backend) *load {
	return &load{
		g:        g,
		api:      api,
		backends: bs,
		client:   &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: loadWorkers}},
		counts:   make(map[int]int),
	}
}

// start starts the workers; they stop when stop is done or the load has
// sent its maximum.
func (l *load) start(stop context.Context) *sync.WaitGroup {
	l.step.Store(1)
	var workers sync.WaitGroup
	for i := range loadWorkers {
		workers.Go(func() { l.work(stop, i) })
	}
	return &workers
}

// running reports whether the workers are still sending.
func (l *load) running(stop context.Context) bool {
	return stop.Err() == nil && l.sent.Load() < loadMaxRequests
}

// work sends requests one after another until stop is done or the load has
// sent its maximum. A request in flight when stop is done is completed
// rather than cancelled, so that every request sent has a real response.
func (l *load) work(stop context.Context, worker int) {
	path := "/load/w" + strconv.Itoa(worker)
	req := at(hostStyle, l.api, "prod", "GET", path)
	for stop.Err() == nil && l.sent.Add(1) <= loadMaxRequests {
		low := int(l.step.Load()) - 1
		resp, err := l.g.do(context.WithoutCancel(stop), l.client, req)
		high := int(l.step.Load())
		l.record(l.check(resp, err, path, low, high))
	}
}

// check returns the version that answered a response, or why the response
// is wrong: it must be a 200 whose echo names a version within [low, high]
// and that version's backend and path.
func (l *load) check(resp response, err error, path string, low, high int) (int, string) {
	if err != nil {
		return 0, err.Error()
	}
	if resp.status != http.StatusOK {
		return 0, describe(resp)
	}
	v, e, ok := parseVersion(resp)
	if !ok {
		return 0, "not a backend's echo: " + resp.body
	}
	switch {
	case v < low || v > high:
		return 0, fmt.Sprintf("version %d answered while deploying %d", v, high)
	case e.Backend != l.backendOf(v).name || e.Path != fmt.Sprintf("/v%d%s", v, path):
		return 0, fmt.Sprintf("backend %s received %s, not what version %d sends", e.Backend, e.Path, v)
	}
	return v, ""
}

// backendOf is the backend version v sends to: they take turns, starting
// with the first.
func (l *load) backendOf(v int) *backend { return l.backends[(v-1)%len(l.backends)] }

// parseVersion parses the version that answered a response from the path
// the backend received, /v{version}/....
func parseVersion(resp response) (int, echo, bool) {
	var e echo
	if err := json.Unmarshal([]byte(resp.body), &e); err != nil {
		return 0, e, false
	}
	rest, ok := strings.CutPrefix(e.Path, "/v")
	if !ok {
		return 0, e, false
	}
	n, _, _ := strings.Cut(rest, "/")
	v, err := strconv.Atoi(n)
	return v, e, err == nil
}

func (l *load) record(v int, failure string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if failure == "" {
		l.counts[v]++
		return
	}
	l.nfail++
	if len(l.failures) < maxReported {
		l.failures = append(l.failures, failure)
	}
}

// result returns the good responses by version and the failures.
func (l *load) result() (map[int]int, []string, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	counts := make(map[int]int, len(l.counts))
	for k, v := range l.counts {
		counts[k] = v
	}
	return counts, append([]string(nil), l.failures...), l.nfail
}

// answers reports whether version v has answered: a worker got a response
// from it, or, once the workers are done, a request of the test's own.
func (l *load) answers(stop context.Context, t *testing.T, v int) (bool, string) {
	counts, _, _ := l.result()
	if counts[v] > 0 {
		return true, ""
	}
	if l.running(stop) {
		return false, fmt.Sprintf("responses by version so far: %v", counts)
	}
	resp, err := l.g.do(t.Context(), l.client, at(hostStyle, l.api, "prod", "GET", "/load/probe"))
	if err != nil {
		return false, err.Error()
	}
	got, _, ok := parseVersion(resp)
	return ok && got == v, describe(resp)
}

// deployVersion points the integration at version v's backend and path,
// and deploys it to prod.
func (l *load) deployVersion(t *testing.T, v int) {
	t.Helper()
	in := l.g.integrationNamed(t, l.api, "current")
	in.GetHttpProxy().Uri = fmt.Sprintf("http://%s/v%d/{proxy}", l.backendOf(v).addr, v)
	if _, err := l.g.admin.UpdateIntegration(t.Context(), &adminv1.UpdateIntegrationRequest{
		Integration: in, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"http_proxy"}},
	}); err != nil {
		t.Fatal(err)
	}
	l.g.deploy(t, l.api, "prod")
}
