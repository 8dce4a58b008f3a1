package admin

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/archway-gateway/archway/internal/model"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// Field limits. They follow Amazon API Gateway where it has a rule, so that
// definitions move between the two without surprises; docs/limits.md lists
// them for users.
const (
	maxNameLen        = 128
	maxDescriptionLen = 1024
	maxTags           = 50
	maxTagKeyLen      = 128
	maxTagValueLen    = 256
	reservedTagPrefix = "archway:"
	maxVariables      = 100
	maxVariableName   = 64
	maxVariableValue  = 512
	defaultStageName  = "$default"
)

// violations collects every problem with one request, so that a client sees
// all of them in a single INVALID_ARGUMENT instead of fixing them one round
// trip at a time.
type violations struct {
	request string
	list    []*errdetails.BadRequest_FieldViolation
}

// newViolations starts a collector for req; the request's message name heads
// the status message.
func newViolations(req proto.Message) *violations {
	return &violations{request: string(req.ProtoReflect().Descriptor().Name())}
}

// add records that field is bad, with a description of what is wrong.
func (v *violations) add(field, format string, args ...any) {
	v.list = append(v.list, &errdetails.BadRequest_FieldViolation{
		Field:       field,
		Description: fmt.Sprintf(format, args...),
	})
}

// ok reports whether no violation has been recorded.
func (v *violations) ok() bool { return len(v.list) == 0 }

// err returns nil if the request is valid, or an INVALID_ARGUMENT status
// carrying a google.rpc.BadRequest with every violation. The message names
// the first one so that clients which only print messages still say what to
// fix.
func (v *violations) err() error {
	if v.ok() {
		return nil
	}
	first := v.list[0]
	msg := fmt.Sprintf("invalid %s: %s: %s", v.request, first.GetField(), first.GetDescription())
	if n := len(v.list) - 1; n > 0 {
		msg += fmt.Sprintf(" (and %d more)", n)
	}
	st, err := status.New(codes.InvalidArgument, msg).WithDetails(&errdetails.BadRequest{FieldViolations: v.list})
	if err != nil {
		return status.Error(codes.InvalidArgument, msg)
	}
	return st.Err()
}

// mapField returns the path of one entry of a map field, with the key quoted
// as in `stage.variables["my-var"]`.
func mapField(field, key string) string {
	return fmt.Sprintf("%s[%q]", field, key)
}

// listField returns the path of one element of a repeated field.
func listField(field string, i int) string {
	return fmt.Sprintf("%s[%d]", field, i)
}

// name checks an API or integration name: unique names are how people and
// declarative files refer to these resources, so they are restricted to
// characters that need no quoting anywhere.
func (v *violations) name(field, s string) {
	if !validName(s, true) {
		v.add(field, "must be 1-%d characters of [A-Za-z0-9._-], got %q", maxNameLen, s)
	}
}

// stageName checks a stage name. A stage name is the first segment of every
// request path the stage serves, so it may not contain a dot (which path
// normalization treats specially); "$default" is Amazon API Gateway's
// catch-all stage served without a prefix.
func (v *violations) stageName(field, s string) {
	if s != defaultStageName && !validName(s, false) {
		v.add(field, "must be 1-%d characters of [A-Za-z0-9_-] or %q, got %q", maxNameLen, defaultStageName, s)
	}
}

func validName(s string, dot bool) bool {
	if s == "" || len(s) > maxNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '_' && c != '-' && (!dot || c != '.') {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// description checks free text shown to people.
func (v *violations) description(field, s string) {
	v.text(field, s, maxDescriptionLen)
}

// text checks that s is valid UTF-8 of at most limit bytes.
func (v *violations) text(field, s string, limit int) {
	switch {
	case !utf8.ValidString(s):
		v.add(field, "must be valid UTF-8")
	case len(s) > limit:
		v.add(field, "must be at most %d bytes, got %d", limit, len(s))
	}
}

// tags checks user tags. The "archway:" prefix is reserved for tags the
// gateway may set itself, as "aws:" is in AWS.
func (v *violations) tags(field string, tags map[string]string) {
	if len(tags) > maxTags {
		v.add(field, "at most %d tags are allowed, got %d", maxTags, len(tags))
	}
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		f := mapField(field, k)
		switch {
		case k == "" || len(k) > maxTagKeyLen:
			v.add(f, "tag keys must be 1-%d bytes", maxTagKeyLen)
		case !utf8.ValidString(k):
			v.add(f, "tag keys must be valid UTF-8")
		case strings.HasPrefix(k, reservedTagPrefix):
			v.add(f, "tag keys starting with %q are reserved", reservedTagPrefix)
		}
		v.text(f, tags[k], maxTagValueLen)
	}
}

// variables checks stage variables. Values are substituted into integration
// URIs, so they are limited, as in AWS, to characters that are safe there.
func (v *violations) variables(field string, vars map[string]string) {
	if len(vars) > maxVariables {
		v.add(field, "at most %d stage variables are allowed, got %d", maxVariables, len(vars))
	}
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		f := mapField(field, k)
		if !validVariableName(k) {
			v.add(f, "stage variable names must be 1-%d characters of [A-Za-z0-9_]", maxVariableName)
		}
		val := vars[k]
		switch {
		case len(val) > maxVariableValue:
			v.add(f, "stage variable values must be at most %d bytes, got %d", maxVariableValue, len(val))
		case strings.IndexFunc(val, notVariableChar) >= 0:
			v.add(f, "stage variable values may only hold [A-Za-z0-9-._~:/?#&=,]")
		}
	}
}

func validVariableName(s string) bool {
	if s == "" || len(s) > maxVariableName {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) && s[i] != '_' {
			return false
		}
	}
	return true
}

func notVariableChar(r rune) bool {
	return r >= utf8.RuneSelf || !isAlnum(byte(r)) && !strings.ContainsRune("-._~:/?#&=,", r)
}

// method checks a route method: upper case as on the wire, so that two
// spellings never name the same route.
func (v *violations) method(field, m string) {
	if !model.ValidMethod(m) {
		v.add(field, "must be one of %s, got %q", strings.Join(model.Methods(), ", "), m)
	}
}

// path checks a route path template and returns its parsed form.
func (v *violations) path(field, p string) (model.PathTemplate, bool) {
	t, err := model.ParsePathTemplate(p)
	if err != nil {
		v.add(field, "%v", err)
		return model.PathTemplate{}, false
	}
	return t, true
}

// id checks a server-assigned id given in a request. Ids become parts of
// etcd keys, so anything but the generated form is refused before it can
// address another key.
func (v *violations) id(field, id string) {
	if !validID(id) {
		v.add(field, "must be an id of %d lowercase letters and digits, got %q", idLen, id)
	}
}

// pageSize checks a page size and returns the size to use.
func (v *violations) pageSize(field string, n int32) int {
	switch {
	case n == 0:
		return defaultPageSize
	case n < 0 || n > maxPageSize:
		v.add(field, "must be between 0 and %d, got %d", maxPageSize, n)
		return 0
	}
	return int(n)
}

// Throttle limits, as AWS's: rates and bursts above these are beyond what
// any one gateway serves, and keep token arithmetic far from overflow.
const (
	maxThrottleRate  = 1e6
	maxThrottleBurst = 1e6
)

// throttle checks a token bucket. A nil throttle means none and is valid.
func (v *violations) throttle(field string, t *adminv1.ThrottleSettings) {
	if t == nil {
		return
	}
	if r := t.GetRateLimit(); math.IsNaN(r) || r < 0 || r > maxThrottleRate {
		v.add(field+".rate_limit", "must be 0 to %g requests per second, got %v", float64(maxThrottleRate), r)
	}
	if b := t.GetBurstLimit(); b < 0 || b > maxThrottleBurst {
		v.add(field+".burst_limit", "must be 0 to %d requests, got %d", int(maxThrottleBurst), b)
	}
}

// routeThrottles checks throttles keyed by route key "METHOD /path", the
// form in which the data plane looks a route's throttle up.
func (v *violations) routeThrottles(field string, m map[string]*adminv1.ThrottleSettings) {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		f := mapField(field, k)
		method, path, ok := strings.Cut(k, " ")
		if _, err := model.ParsePathTemplate(path); !ok || !model.ValidMethod(method) || err != nil {
			v.add(f, `must be a route key "METHOD /path" with a method of %s and a valid path template`,
				strings.Join(model.Methods(), ", "))
		}
		v.throttle(f, m[k])
	}
}
