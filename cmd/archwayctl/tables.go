package main

import (
	"strconv"
	"strings"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// The table forms of the resources: the columns a person scans a list by.
// Everything else is in -o json or -o yaml.

func apiColumns() columns[*adminv1.Api] {
	return columns[*adminv1.Api]{
		header: []string{"ID", "NAME", "PROTOCOL", "STATUS", "CREATED"},
		row: func(a *adminv1.Api) []string {
			return []string{a.GetId(), a.GetName(), protocolName(a.GetProtocol()), statusName(a.GetStatus()), formatTime(a.GetCreateTime())}
		},
	}
}

// statusName is an API's state as the data plane reported it: SERVING,
// FAILED (the message is in -o yaml), or empty before any report.
func statusName(s *adminv1.ApiStatus) string {
	if s.GetState() == adminv1.ApiStatus_STATE_UNSPECIFIED {
		return ""
	}
	return strings.TrimPrefix(s.GetState().String(), "STATE_")
}

// nackWidth bounds the NACK column; the whole error is in -o yaml.
const nackWidth = 60

func fleetColumns() columns[*adminv1.EnvoyNode] {
	return columns[*adminv1.EnvoyNode]{
		header: []string{"NODE", "CLUSTER", "ENVOY", "CONTROL-PLANE", "XDS", "ACKED", "NACK"},
		row: func(n *adminv1.EnvoyNode) []string {
			xds := "sotw"
			if n.GetDelta() {
				xds = "delta"
			}
			return []string{n.GetId(), n.GetCluster(), n.GetEnvoyVersion(), n.GetControlPlane(), xds,
				n.GetAckedVersion(), nackSummary(n.GetLastNack())}
		},
	}
}

// nackSummary is a rejected configuration in one cell: its version, the
// resource type rejected and the start of Envoy's error.
func nackSummary(n *adminv1.Nack) string {
	if n == nil {
		return ""
	}
	typ := n.GetTypeUrl()
	if i := strings.LastIndexByte(typ, '.'); i >= 0 {
		typ = typ[i+1:]
	}
	s := n.GetVersion() + " " + typ + ": " + n.GetError()
	if r := []rune(s); len(r) > nackWidth {
		s = string(r[:nackWidth-1]) + "…"
	}
	return s
}

// routeColumns shows each route's integration by name where names is
// given one, as files and commands refer to integrations by name.
func routeColumns(names map[string]string) columns[*adminv1.Route] {
	return columns[*adminv1.Route]{
		header: []string{"ID", "METHOD", "PATH", "INTEGRATION"},
		row: func(r *adminv1.Route) []string {
			integration := r.GetIntegrationId()
			if name, ok := names[integration]; ok {
				integration = name
			}
			return []string{r.GetId(), r.GetMethod(), r.GetPath(), integration}
		},
	}
}

func integrationColumns() columns[*adminv1.Integration] {
	return columns[*adminv1.Integration]{
		header: []string{"ID", "NAME", "TYPE", "TARGET"},
		row: func(i *adminv1.Integration) []string {
			typ, target := integrationTarget(i)
			return []string{i.GetId(), i.GetName(), typ, target}
		},
	}
}

// integrationTarget names an integration's kind as Amazon API Gateway does
// and where it sends requests: the method and URL of a proxy, the status
// of a mock.
func integrationTarget(i *adminv1.Integration) (typ, target string) {
	switch k := i.GetKind().(type) {
	case *adminv1.Integration_HttpProxy:
		target = k.HttpProxy.GetUri()
		if m := k.HttpProxy.GetMethod(); m != "" {
			target = m + " " + target
		}
		return "HTTP_PROXY", target
	case *adminv1.Integration_Mock:
		return "MOCK", strconv.Itoa(int(k.Mock.GetStatusCode()))
	}
	return "", ""
}

func stageColumns() columns[*adminv1.Stage] {
	return columns[*adminv1.Stage]{
		header: []string{"NAME", "DEPLOYMENT", "AUTO-DEPLOY", "UPDATED"},
		row: func(s *adminv1.Stage) []string {
			return []string{s.GetName(), s.GetDeploymentId(), strconv.FormatBool(s.GetAutoDeploy()), formatTime(s.GetUpdateTime())}
		},
	}
}

func deploymentColumns() columns[*adminv1.Deployment] {
	return columns[*adminv1.Deployment]{
		header: []string{"ID", "DESCRIPTION", "AUTO", "CREATED"},
		row: func(d *adminv1.Deployment) []string {
			return []string{d.GetId(), d.GetDescription(), strconv.FormatBool(d.GetAutoDeployed()), formatTime(d.GetCreateTime())}
		},
	}
}

// protocolName is the protocol as people write it: "HTTP", not
// "PROTOCOL_HTTP".
func protocolName(p adminv1.Protocol) string {
	if p == adminv1.Protocol_PROTOCOL_UNSPECIFIED {
		return ""
	}
	return strings.TrimPrefix(p.String(), "PROTOCOL_")
}

// parseProtocol reads --protocol, in any case.
func parseProtocol(s string) (adminv1.Protocol, error) {
	v, ok := adminv1.Protocol_value["PROTOCOL_"+strings.ToUpper(s)]
	if !ok || v == 0 {
		return 0, usagef("--protocol %q: want HTTP or REST", s)
	}
	return adminv1.Protocol(v), nil
}
