package xds_test

import (
	"context"
	"maps"
	"slices"
	"time"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"
)

// initialTypes are what Envoy subscribes to first, as wildcards.
var initialTypes = []string{resource.ClusterType, resource.ListenerType}

// runSotw speaks state-of-the-world ADS until the stream ends.
func (c *adsClient) runSotw(ctx context.Context, ads discoveryv3.AggregatedDiscoveryServiceClient) error {
	stream, err := ads.StreamAggregatedResources(ctx)
	if err != nil {
		return err
	}
	first := true
	send := func(req *discoveryv3.DiscoveryRequest) error {
		if first { // as with set_node_on_first_message_only
			req.Node, first = c.node, false
		}
		return stream.Send(req)
	}
	for _, typ := range initialTypes {
		if err := send(&discoveryv3.DiscoveryRequest{TypeUrl: typ}); err != nil {
			return streamEnded(ctx, err)
		}
	}
	nonces := make(map[string]string)
	for {
		resp, err := stream.Recv()
		if err != nil {
			return streamEnded(ctx, err)
		}
		reqs, err := c.handleSotw(resp, nonces)
		if err != nil {
			return err
		}
		for _, req := range reqs {
			if err := send(req); err != nil {
				return streamEnded(ctx, err)
			}
		}
	}
}

// handleSotw applies or rejects one response and returns the requests
// Envoy would send: the ACK or NACK, a subscription to the scoped routes
// when a listener first uses scoped RDS, and a new route subscription when
// the listeners or scopes name other route configurations.
func (c *adsClient) handleSotw(resp *discoveryv3.DiscoveryResponse, nonces map[string]string) ([]*discoveryv3.DiscoveryRequest, error) {
	resources, err := decodeAll(resourceName, resp.GetResources()...)
	if err != nil {
		return nil, err
	}
	typ := resp.GetTypeUrl()
	nack := c.decide(typ, resources)
	var reqs []*discoveryv3.DiscoveryRequest
	c.update(func() {
		c.log = append(c.log, received{typeURL: typ, version: resp.GetVersionInfo(), resources: resources, sent: keys(resources), at: time.Now()})
		if nack == nil {
			c.accept(typ, resp.GetVersionInfo(), resources)
		}
		nonces[typ] = resp.GetNonce()
		// A NACK carries the last version the client accepted.
		ack := &discoveryv3.DiscoveryRequest{
			TypeUrl: typ, VersionInfo: c.version(typ), ResponseNonce: resp.GetNonce(), ErrorDetail: nack,
		}
		if typ == resource.RouteType {
			ack.ResourceNames = c.routeSub
		}
		if typ == c.mute {
			return
		}
		reqs = append(reqs, ack)
		if typ != resource.ListenerType && typ != resource.ScopedRouteType || nack != nil {
			return
		}
		if c.subscribeScopes() {
			reqs = append(reqs, &discoveryv3.DiscoveryRequest{TypeUrl: resource.ScopedRouteType})
		}
		if names, ok := c.newRouteSubscription(); ok {
			reqs = append(reqs, &discoveryv3.DiscoveryRequest{
				TypeUrl: resource.RouteType, ResourceNames: names,
				VersionInfo: c.version(resource.RouteType), ResponseNonce: nonces[resource.RouteType],
			})
		}
	})
	return reqs, nil
}

// runDelta speaks incremental ADS until the stream ends.
func (c *adsClient) runDelta(ctx context.Context, ads discoveryv3.AggregatedDiscoveryServiceClient) error {
	stream, err := ads.DeltaAggregatedResources(ctx)
	if err != nil {
		return err
	}
	first := true
	send := func(req *discoveryv3.DeltaDiscoveryRequest) error {
		if first {
			req.Node, first = c.node, false
		}
		return stream.Send(req)
	}
	for _, typ := range initialTypes {
		if err := send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: typ}); err != nil {
			return streamEnded(ctx, err)
		}
	}
	for {
		resp, err := stream.Recv()
		if err != nil {
			return streamEnded(ctx, err)
		}
		reqs, err := c.handleDelta(resp)
		if err != nil {
			return err
		}
		for _, req := range reqs {
			if err := send(req); err != nil {
				return streamEnded(ctx, err)
			}
		}
	}
}

// handleDelta applies or rejects one incremental response and returns the
// requests Envoy would send, as handleSotw does.
func (c *adsClient) handleDelta(resp *discoveryv3.DeltaDiscoveryResponse) ([]*discoveryv3.DeltaDiscoveryRequest, error) {
	typ := resp.GetTypeUrl()
	c.mu.Lock()
	merged := make(map[string]proto.Message)
	if st := c.state[typ]; st != nil {
		maps.Copy(merged, st.resources)
	}
	c.mu.Unlock()
	for _, r := range resp.GetResources() {
		m, err := r.GetResource().UnmarshalNew()
		if err != nil {
			return nil, err
		}
		merged[r.GetName()] = m
	}
	for _, name := range resp.GetRemovedResources() {
		delete(merged, name)
	}
	sent := make([]string, len(resp.GetResources()))
	for i, r := range resp.GetResources() {
		sent[i] = r.GetName()
	}
	slices.Sort(sent)
	nack := c.decide(typ, merged)
	var reqs []*discoveryv3.DeltaDiscoveryRequest
	c.update(func() {
		c.log = append(c.log, received{typeURL: typ, version: resp.GetSystemVersionInfo(), resources: merged, sent: sent, at: time.Now()})
		if nack == nil {
			c.accept(typ, resp.GetSystemVersionInfo(), merged)
		}
		if typ == c.mute {
			return
		}
		reqs = append(reqs, &discoveryv3.DeltaDiscoveryRequest{TypeUrl: typ, ResponseNonce: resp.GetNonce(), ErrorDetail: nack})
		if typ != resource.ListenerType && typ != resource.ScopedRouteType || nack != nil {
			return
		}
		if c.subscribeScopes() {
			reqs = append(reqs, &discoveryv3.DeltaDiscoveryRequest{TypeUrl: resource.ScopedRouteType})
		}
		old := c.routeSub
		if names, ok := c.newRouteSubscription(); ok {
			reqs = append(reqs, &discoveryv3.DeltaDiscoveryRequest{
				TypeUrl:                  resource.RouteType,
				ResourceNamesSubscribe:   names,
				ResourceNamesUnsubscribe: slices.DeleteFunc(slices.Clone(old), func(n string) bool { return slices.Contains(names, n) }),
			})
		}
	})
	return reqs, nil
}
