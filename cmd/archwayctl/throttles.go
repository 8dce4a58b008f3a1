package main

import (
	"math"
	"strconv"
	"strings"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// Throttles are token buckets, as in Amazon API Gateway: a steady rate in
// requests per second and a burst, the bucket's size. On the command line
// they are written RATE:BURST ("10:20", "0.5:1"), and a route's throttle
// "METHOD /path=RATE:BURST", the route key HTTP APIs' route settings use.

// parseThrottle reads the RATE:BURST value of flag. The admin API checks
// the ranges; this only checks the shape, so that the message can name
// the flag rather than a field of the request.
func parseThrottle(flag, s string) (*adminv1.ThrottleSettings, error) {
	rate, burst, ok := strings.Cut(s, ":")
	r, rerr := strconv.ParseFloat(rate, 64)
	b, berr := strconv.ParseInt(burst, 10, 32)
	if !ok || rerr != nil || berr != nil || math.IsNaN(r) || math.IsInf(r, 0) {
		return nil, usagef("--%s %q: want RATE:BURST, requests per second and bucket size, as 10:20", flag, s)
	}
	return &adminv1.ThrottleSettings{RateLimit: r, BurstLimit: int32(b)}, nil
}

// parseRouteThrottles reads repeated "METHOD /path=RATE:BURST" values of
// flag into a map keyed by route key, the method upper-cased as routes
// store it.
func parseRouteThrottles(flag string, values []string) (map[string]*adminv1.ThrottleSettings, error) {
	if len(values) == 0 {
		return nil, nil
	}
	m := make(map[string]*adminv1.ThrottleSettings, len(values))
	for _, v := range values {
		// The throttle holds no "=", a path might: split at the last one.
		i := strings.LastIndexByte(v, '=')
		if i < 0 {
			return nil, usagef("--%s %q: want \"METHOD /path=RATE:BURST\", as \"GET /pets=10:20\"", flag, v)
		}
		key, err := routeKey(flag, v[:i])
		if err != nil {
			return nil, err
		}
		t, err := parseThrottle(flag, v[i+1:])
		if err != nil {
			return nil, err
		}
		if _, dup := m[key]; dup {
			return nil, usagef("--%s: route %q given twice", flag, key)
		}
		m[key] = t
	}
	return m, nil
}

// routeKey normalizes "get /pets" to the route key "GET /pets".
func routeKey(flag, s string) (string, error) {
	method, path, ok := strings.Cut(strings.TrimSpace(s), " ")
	path = strings.TrimSpace(path)
	if !ok || method == "" || !strings.HasPrefix(path, "/") {
		return "", usagef("--%s %q: want a route key \"METHOD /path\", as \"GET /pets\"", flag, s)
	}
	return strings.ToUpper(method) + " " + path, nil
}

// formatThrottle is the RATE:BURST form of t, empty when there is none.
func formatThrottle(t *adminv1.ThrottleSettings) string {
	if t == nil {
		return ""
	}
	return strconv.FormatFloat(t.GetRateLimit(), 'f', -1, 64) + ":" + strconv.Itoa(int(t.GetBurstLimit()))
}
