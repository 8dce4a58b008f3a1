package extproc

import (
	"strconv"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
)

// Header is one header field. Envoy sends names in lower case.
type Header struct {
	Name, Value string
}

// Headers are header fields in order. A name may repeat: HTTP allows
// several fields of one name (set-cookie, for one), and API Gateway's
// multiValueHeaders keep them apart.
type Headers []Header

// Get returns the first value of the header name (in lower case), or "".
func (h Headers) Get(name string) string {
	for _, f := range h {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}

// Values returns every value of the header name (in lower case), in order.
func (h Headers) Values(name string) []string {
	var out []string
	for _, f := range h {
		if f.Name == name {
			out = append(out, f.Value)
		}
	}
	return out
}

// Has reports whether the header name (in lower case) is present.
func (h Headers) Has(name string) bool {
	for _, f := range h {
		if f.Name == name {
			return true
		}
	}
	return false
}

// hasFold reports whether the header name is present, in any case.
func (h Headers) hasFold(name string) bool {
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			return true
		}
	}
	return false
}

// Header names the Server reads or writes itself.
const (
	headerContentLength = "content-length"
	headerContentType   = "content-type"
	headerErrorType     = "x-amzn-errortype"
	pseudoMethod        = ":method"
	pseudoPath          = ":path"
	pseudoAuthority     = ":authority"
	pseudoStatus        = ":status"
)

// pseudo holds the pseudo-headers of a message.
type pseudo struct {
	method, path, authority string
	status                  int
}

// decodeHeaders returns the regular headers of m, with its pseudo-headers
// apart. Envoy sends values in raw_value (or, with the runtime flag
// send_header_raw_value off, in value); all values share one string, so a
// message costs two allocations however many headers it has.
func decodeHeaders(m *corev3.HeaderMap) (Headers, pseudo) {
	var p pseudo
	fields := m.GetHeaders()
	size, regular := 0, 0
	for _, f := range fields {
		size += len(f.GetRawValue()) + len(f.GetValue())
		if !strings.HasPrefix(f.GetKey(), ":") {
			regular++
		}
	}
	var b strings.Builder
	b.Grow(size)
	for _, f := range fields {
		if raw := f.GetRawValue(); len(raw) > 0 {
			b.Write(raw)
		} else {
			b.WriteString(f.GetValue())
		}
	}
	all := b.String()
	out := make(Headers, 0, regular)
	off := 0
	for _, f := range fields {
		n := len(f.GetRawValue())
		if n == 0 {
			n = len(f.GetValue())
		}
		v := all[off : off+n]
		off += n
		switch k := f.GetKey(); k {
		case pseudoMethod:
			p.method = v
		case pseudoPath:
			p.path = v
		case pseudoAuthority:
			p.authority = v
		case pseudoStatus:
			p.status, _ = strconv.Atoi(v)
		default:
			if !strings.HasPrefix(k, ":") {
				out = append(out, Header{Name: k, Value: v})
			}
		}
	}
	return out, p
}
