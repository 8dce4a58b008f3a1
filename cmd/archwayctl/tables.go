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
			return []string{
				n.GetId(), n.GetCluster(), n.GetEnvoyVersion(), n.GetControlPlane(), xds,
				n.GetAckedVersion(), nackSummary(n.GetLastNack()),
			}
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
		header: []string{"ID", "METHOD", "PATH", "INTEGRATION", "API-KEY"},
		row: func(r *adminv1.Route) []string {
			integration := r.GetIntegrationId()
			if name, ok := names[integration]; ok {
				integration = name
			}
			key := ""
			if r.GetApiKeyRequired() {
				key = "required"
			}
			return []string{r.GetId(), r.GetMethod(), r.GetPath(), integration, key}
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

// stageColumns shows a stage's default throttle as RATE:BURST and how
// many routes have their own; the routes' are in -o yaml.
func stageColumns() columns[*adminv1.Stage] {
	return columns[*adminv1.Stage]{
		header: []string{"NAME", "DEPLOYMENT", "AUTO-DEPLOY", "THROTTLE", "ROUTE-THROTTLES", "UPDATED"},
		row: func(s *adminv1.Stage) []string {
			routes := ""
			if n := len(s.GetRouteThrottles()); n > 0 {
				routes = strconv.Itoa(n)
			}
			return []string{
				s.GetName(), s.GetDeploymentId(), strconv.FormatBool(s.GetAutoDeploy()),
				formatThrottle(s.GetThrottle()), routes, formatTime(s.GetUpdateTime()),
			}
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

// keyColumns never has a value column: no response but the one that
// created a key holds its value.
func keyColumns() columns[*adminv1.ApiKey] {
	return columns[*adminv1.ApiKey]{
		header: []string{"ID", "NAME", "ENABLED", "CUSTOMER-ID", "CREATED"},
		row: func(k *adminv1.ApiKey) []string {
			return []string{k.GetId(), k.GetName(), strconv.FormatBool(k.GetEnabled()), k.GetCustomerId(), formatTime(k.GetCreateTime())}
		},
	}
}

// keyValueColumns is the table of keys just created or imported, the only
// time their values can be shown.
func keyValueColumns() columns[*adminv1.ApiKey] {
	return columns[*adminv1.ApiKey]{
		header: []string{"ID", "NAME", "ENABLED", "VALUE"},
		row: func(k *adminv1.ApiKey) []string {
			return []string{k.GetId(), k.GetName(), strconv.FormatBool(k.GetEnabled()), k.GetValue()}
		},
	}
}

// planColumns shows the API stages a plan covers as API:STAGE, the API by
// name where apiNames has it, as the --stage flag takes them.
func planColumns(apiNames map[string]string) columns[*adminv1.UsagePlan] {
	return columns[*adminv1.UsagePlan]{
		header: []string{"ID", "NAME", "THROTTLE", "QUOTA", "STAGES", "ON-STORE-FAILURE"},
		row: func(p *adminv1.UsagePlan) []string {
			stages := make([]string, 0, len(p.GetApiStages()))
			for _, s := range p.GetApiStages() {
				stages = append(stages, apiStageRef(s, apiNames))
			}
			return []string{
				p.GetId(), p.GetName(), formatThrottle(p.GetThrottle()), formatQuota(p.GetQuota()),
				strings.Join(stages, ","), failureModeName(p.GetFailureMode()),
			}
		},
	}
}

// apiStageRef is the API:STAGE form of s.
func apiStageRef(s *adminv1.ApiStage, apiNames map[string]string) string {
	api := s.GetApiId()
	if name, ok := apiNames[api]; ok {
		api = name
	}
	return api + ":" + s.GetStage()
}

// formatQuota is LIMIT/PERIOD, as 1000/MONTH; the offset, which only
// applies to the first period, is in -o yaml.
func formatQuota(q *adminv1.QuotaSettings) string {
	if q == nil {
		return ""
	}
	return strconv.FormatInt(q.GetLimit(), 10) + "/" + strings.TrimPrefix(q.GetPeriod().String(), "PERIOD_")
}

// failureModeName says what a plan does while its counter store is down.
func failureModeName(m adminv1.FailureMode) string {
	if m == adminv1.FailureMode_FAILURE_MODE_FAIL_OPEN {
		return "admit"
	}
	return "refuse"
}

func planKeyColumns() columns[*adminv1.UsagePlanKey] {
	return columns[*adminv1.UsagePlanKey]{
		header: []string{"KEY-ID", "NAME", "ADDED"},
		row: func(k *adminv1.UsagePlanKey) []string {
			return []string{k.GetKeyId(), k.GetName(), formatTime(k.GetCreateTime())}
		},
	}
}
