package translate

import (
	"cmp"
	"slices"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/archway-gateway/archway/envoy"
)

// upstreamConnectTimeout bounds the TCP (and TLS) connect to a backend. The
// route timeout still bounds the whole request, so this only matters for
// integrations with timeouts above it.
const upstreamConnectTimeout = 5 * time.Second

// upstreamCluster returns the cluster of one backend. Host names are
// resolved by Envoy and re-resolved as DNS changes (STRICT_DNS, every
// address an endpoint); IP literals need no DNS (STATIC). IPv4 is
// preferred because many backends, local ones especially, listen on IPv4
// only while "localhost" also resolves to ::1.
func upstreamCluster(u upstream, caFile string) (*clusterv3.Cluster, error) {
	c := &clusterv3.Cluster{
		Name:           u.clusterName(),
		ConnectTimeout: durationpb.New(upstreamConnectTimeout),
		LoadAssignment: loadAssignment(u.clusterName(), u.host, u.port),
	}
	if u.ip {
		c.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC}
	} else {
		c.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STRICT_DNS}
		c.DnsLookupFamily = clusterv3.Cluster_V4_PREFERRED
	}
	if u.scheme == "https" {
		ts, err := upstreamTLS(u, caFile)
		if err != nil {
			return nil, err
		}
		c.TransportSocket = ts
	}
	return c, c.ValidateAll()
}

// upstreamTLS verifies an HTTPS backend the way a browser would: its
// certificate chains to caFile and names the host (a DNS SAN, wildcards
// allowed, or an IP SAN for an IP literal). SNI carries the host name; RFC
// 6066 forbids IP literals in SNI, so those send none.
func upstreamTLS(u upstream, caFile string) (*corev3.TransportSocket, error) {
	san := &tlsv3.SubjectAltNameMatcher{
		SanType: tlsv3.SubjectAltNameMatcher_DNS,
		Matcher: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: u.host}},
	}
	if u.ip {
		san.SanType = tlsv3.SubjectAltNameMatcher_IP_ADDRESS
	}
	tc := &tlsv3.UpstreamTlsContext{
		CommonTlsContext: &tlsv3.CommonTlsContext{
			ValidationContextType: &tlsv3.CommonTlsContext_ValidationContext{
				ValidationContext: &tlsv3.CertificateValidationContext{
					TrustedCa:                 &corev3.DataSource{Specifier: &corev3.DataSource_Filename{Filename: caFile}},
					MatchTypedSubjectAltNames: []*tlsv3.SubjectAltNameMatcher{san},
				},
			},
		},
	}
	if !u.ip {
		tc.Sni = u.host
	}
	a, err := toAny(tc)
	if err != nil {
		return nil, err
	}
	return &corev3.TransportSocket{
		Name:       envoy.TransportSocketTLS,
		ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: a},
	}, nil
}

// sortedClusters sorts clusters by name, the order of Resources.Clusters.
func sortedClusters(cs []*clusterv3.Cluster) []*clusterv3.Cluster {
	slices.SortFunc(cs, func(a, b *clusterv3.Cluster) int { return cmp.Compare(a.GetName(), b.GetName()) })
	return cs
}
