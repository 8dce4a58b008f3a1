package mapping

import (
	"net/url"
	"strings"
)

// ParseQuery decodes a raw query string (without the "?") into the method
// request's query parameters, in order, keeping repeats; a parameter that
// does not decode is kept as sent, as API Gateway passes it on.
func ParseQuery(raw string) []Param {
	if raw == "" {
		return nil
	}
	var out []Param
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		out = append(out, Param{Name: unescapeQuery(k), Value: unescapeQuery(v)})
	}
	return out
}

func unescapeQuery(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// HostOnly strips the port from an HTTP authority: the request's
// $context.domainName.
func HostOnly(authority string) string {
	if i := strings.LastIndexByte(authority, ':'); i >= 0 && !strings.Contains(authority[i:], "]") {
		return authority[:i]
	}
	return authority
}
