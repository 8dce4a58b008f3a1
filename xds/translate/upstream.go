package translate

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"

	"github.com/archway-gateway/archway/envoy"
	"github.com/archway-gateway/archway/internal/model"
)

// upstream is an HTTP proxy integration's URI as one stage sends to it:
// stage variables substituted, split into what selects the cluster
// (scheme, host, port) and the path Envoy rewrites the request to.
//
// Error messages never quote the URI: it may hold credentials.
type upstream struct {
	scheme string // "http" or "https"
	host   string // lower case; an IPv6 address has no brackets
	ip     bool   // host is an IP literal
	port   uint32
	// path is the request path to send, with {param} references to the
	// route's path parameters; "/" when the URI has no path.
	path []pathPart
}

// pathPart is literal text of an upstream path, or a {param} reference.
type pathPart struct {
	text  string
	param bool
}

// resolveUpstream substitutes vars into uri and parses the result.
func resolveUpstream(uri string, vars map[string]string) (upstream, error) {
	s, err := model.SubstituteStageVariables(uri, vars)
	if err != nil {
		return upstream{}, err
	}
	scheme, rest, ok := strings.Cut(s, "://")
	scheme = strings.ToLower(scheme)
	if !ok || scheme != "http" && scheme != "https" {
		return upstream{}, errors.New("integration URI must be an http or https URL")
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	u := upstream{scheme: scheme}
	if err := u.parseAuthority(rest[:end]); err != nil {
		return upstream{}, err
	}
	if strings.ContainsAny(rest[end:], "?#") {
		// Envoy can add query parameters only by decoding and re-encoding
		// the client's whole query string, which changes what the backend
		// receives; fragments are never sent at all.
		return upstream{}, errors.New("integration URI must not have a query string or fragment")
	}
	u.path, err = splitPath(rest[end:])
	return u, err
}

func (u *upstream) parseAuthority(authority string) error {
	if strings.Contains(authority, "@") {
		return errors.New("integration URI must not carry credentials")
	}
	host, port := authority, ""
	if strings.HasPrefix(authority, "[") {
		end := strings.IndexByte(authority, ']')
		if end < 0 {
			return errors.New("integration URI has an unterminated IPv6 address")
		}
		host, port = authority[1:end], authority[end+1:]
		if port != "" && port[0] != ':' {
			return errors.New("integration URI has text after its IPv6 address")
		}
		port = strings.TrimPrefix(port, ":")
	} else if i := strings.LastIndexByte(authority, ':'); i >= 0 {
		host, port = authority[:i], authority[i+1:]
	}
	if err := u.setHost(host, strings.HasPrefix(authority, "[")); err != nil {
		return err
	}
	return u.setPort(port)
}

func (u *upstream) setHost(host string, bracketed bool) error {
	if ip, err := netip.ParseAddr(host); err == nil && ip.Zone() == "" && ip.Is6() == bracketed {
		u.host, u.ip = ip.String(), true
		return nil
	}
	host = strings.ToLower(host)
	if bracketed || !isDNSName(host) {
		return errors.New("integration URI host must be a DNS name or an IP address")
	}
	u.host = host
	return nil
}

func (u *upstream) setPort(port string) error {
	if port == "" {
		u.port = 80
		if u.scheme == "https" {
			u.port = 443
		}
		return nil
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 {
		return errors.New("integration URI port must be within [1, 65535]")
	}
	u.port = uint32(p)
	return nil
}

// clusterName names the cluster every route to this backend shares.
func (u upstream) clusterName() string {
	return envoy.UpstreamClusterName(u.scheme, u.host, u.port)
}

// hostHeader is the Host the backend expects: its own name, with the port
// only when it is not the scheme's default (RFC 9110, section 7.2).
func (u upstream) hostHeader() string {
	h := u.host
	if u.ip && strings.Contains(h, ":") {
		h = "[" + h + "]"
	}
	if u.port == 80 && u.scheme == "http" || u.port == 443 && u.scheme == "https" {
		return h
	}
	return h + ":" + strconv.FormatUint(uint64(u.port), 10)
}

// splitPath splits an upstream path into literal text and {param}
// references, checking that the text is made of RFC 3986 path characters.
func splitPath(path string) ([]pathPart, error) {
	if path == "" {
		path = "/"
	}
	var parts []pathPart
	for path != "" {
		open := strings.IndexByte(path, '{')
		if open < 0 {
			open = len(path)
		}
		if open > 0 {
			if !isPathText(path[:open]) {
				return nil, errors.New("integration URI path has characters that must be percent-encoded")
			}
			parts = append(parts, pathPart{text: path[:open]})
		}
		path = path[open:]
		if path == "" {
			break
		}
		name, rest, ok := strings.Cut(path[1:], "}")
		if !ok || !model.IsVariableName(name) {
			return nil, errors.New("integration URI path has a malformed {param} reference")
		}
		parts = append(parts, pathPart{text: name, param: true})
		path = rest
	}
	return parts, nil
}

// isPathText reports whether s is RFC 3986 path characters (pchar and "/"),
// with every "%" starting a percent-encoded octet.
func isPathText(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return false
			}
			i += 2
		case isAlnum(c) || strings.IndexByte("-._~!$&'()*+,;=:@/", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// isDNSName reports whether s is a lower-case host name: dot-separated
// labels of letters, digits, '-' and '_' (common in internal service
// names), neither starting nor ending with '-'.
func isDNSName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if !isDNSLabel(label) {
			return false
		}
	}
	return true
}

func isDNSLabel(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || 'z' < c) && (c < '0' || '9' < c) && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
