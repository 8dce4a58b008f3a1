package envoy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	"google.golang.org/protobuf/encoding/protojson"
)

// pollInterval paces the helpers that wait for Envoy to reach a state. It
// only sets how soon a change is noticed; every wait is bounded by its ctx.
const pollInterval = 50 * time.Millisecond

// ErrListenerNotFound is returned (wrapped) by ListenersPort when Envoy has
// no active listener of that name.
var ErrListenerNotFound = errors.New("listener not found")

// AdminClient talks to one Envoy's admin API. Tests and end-to-end checks
// use it to see what Envoy actually runs rather than what was sent to it.
type AdminClient struct {
	// Addr is the HOST:PORT of the admin listener.
	Addr string
	// HTTP sends the requests; http.DefaultClient if nil.
	HTTP *http.Client
}

// NewAdminClient returns a client for the admin listener at addr.
func NewAdminClient(addr string) AdminClient {
	return AdminClient{Addr: addr}
}

// get fetches path and returns the body of a 200 response.
func (a AdminClient) get(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+a.Addr+path, nil)
	if err != nil {
		return nil, err
	}
	client := a.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("envoy admin %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return body, fmt.Errorf("envoy admin %s: %s: %s", path, resp.Status, bytes.TrimSpace(body))
	}
	return body, nil
}

// Ready reports Envoy's server state from /ready: "LIVE" once the initial
// xDS fetches are done and listeners are warm, else PRE_INITIALIZING,
// INITIALIZING or DRAINING together with an error.
func (a AdminClient) Ready(ctx context.Context) (string, error) {
	body, err := a.get(ctx, "/ready")
	return string(bytes.TrimSpace(body)), err
}

// WaitReady polls /ready until Envoy is LIVE or ctx is done. Envoy stays
// INITIALIZING until its first CDS and LDS responses have been applied,
// so LIVE means it is serving the configuration Archway sent.
func (a AdminClient) WaitReady(ctx context.Context) error {
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		state, err := a.Ready(ctx)
		if err == nil && state == "LIVE" {
			return nil
		}
		select {
		case <-ctx.Done():
			if err == nil {
				return fmt.Errorf("envoy at %s not LIVE (state %q): %w", a.Addr, state, ctx.Err())
			}
			return fmt.Errorf("envoy at %s not LIVE (state %q, last error: %w): %w", a.Addr, state, err, ctx.Err())
		case <-ticker.C:
		}
	}
}

// ConfigDumpJSON returns /config_dump as Envoy wrote it. resource, when
// set, narrows the dump (for example "dynamic_listeners").
func (a AdminClient) ConfigDumpJSON(ctx context.Context, resource string) ([]byte, error) {
	path := "/config_dump"
	if resource != "" {
		path += "?resource=" + resource
	}
	return a.get(ctx, path)
}

// ConfigDump returns /config_dump as a proto. Every type inside its Any
// fields must be linked into the binary (import the go-control-plane
// package of each filter the configuration uses); unknown fields from a
// newer Envoy are ignored.
func (a AdminClient) ConfigDump(ctx context.Context) (*adminv3.ConfigDump, error) {
	body, err := a.ConfigDumpJSON(ctx, "")
	if err != nil {
		return nil, err
	}
	dump := &adminv3.ConfigDump{}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(body, dump); err != nil {
		return nil, fmt.Errorf("envoy admin /config_dump: %w", err)
	}
	return dump, nil
}

// Stats returns every counter and gauge by name. Histograms and text
// readouts are left out: they have no single integer value.
func (a AdminClient) Stats(ctx context.Context) (map[string]uint64, error) {
	body, err := a.get(ctx, "/stats?format=json")
	if err != nil {
		return nil, err
	}
	var doc struct {
		Stats []struct {
			Name  string          `json:"name"`
			Value json.RawMessage `json:"value"`
		} `json:"stats"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("envoy admin /stats: %w", err)
	}
	stats := make(map[string]uint64, len(doc.Stats))
	for _, s := range doc.Stats {
		if s.Name == "" {
			continue // the histograms entry
		}
		if v, err := strconv.ParseUint(string(s.Value), 10, 64); err == nil {
			stats[s.Name] = v
		}
	}
	return stats, nil
}

// ListenersPort returns the port the listener called name is bound to. A
// listener configured with port 0 gets its port from the kernel, and this
// is how a test finds it.
func (a AdminClient) ListenersPort(ctx context.Context, name string) (int, error) {
	body, err := a.get(ctx, "/listeners?format=json")
	if err != nil {
		return 0, err
	}
	listeners := &adminv3.Listeners{}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(body, listeners); err != nil {
		return 0, fmt.Errorf("envoy admin /listeners: %w", err)
	}
	for _, l := range listeners.GetListenerStatuses() {
		if l.GetName() == name {
			return int(l.GetLocalAddress().GetSocketAddress().GetPortValue()), nil
		}
	}
	return 0, fmt.Errorf("%w: %q", ErrListenerNotFound, name)
}

// WaitAdminAddress waits until the file Envoy writes for
// --admin-address-path exists and returns the HOST:PORT in it. With an
// admin port of 0 this is the only way to learn where the admin API is.
func WaitAdminAddress(ctx context.Context, path string) (string, error) {
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		data, err := os.ReadFile(path)
		if addr := strings.TrimSpace(string(data)); err == nil && addr != "" {
			if _, _, err := net.SplitHostPort(addr); err != nil {
				return "", fmt.Errorf("admin address file %s: %w", path, err)
			}
			return addr, nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("admin address file %s: %w", path, ctx.Err())
		case <-ticker.C:
		}
	}
}
