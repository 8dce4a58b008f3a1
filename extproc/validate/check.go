package validate

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Messages of API Gateway's 400 answers to requests that fail validation.
const (
	invalidBodyMessage  = "Invalid request body"
	missingParamsPrefix = "Missing required request parameters: "
	// unparsableBody is the detail AWS gives for a body that is not JSON,
	// including an empty body checked against a model.
	unparsableBody = "[Unknown error parsing request body]"
	// hugeNumberBody is the detail for a body holding a number whose
	// exponent has more than maxExponentDigits digits.
	hugeNumberBody = "[numeric value out of range]"
)

// defaultContentType is the media type API Gateway assumes for a request
// without a Content-Type header.
const defaultContentType = "application/json"

// DefaultModelKey is the content type key of a method's request model that
// applies when no model is keyed by the request's media type.
const DefaultModelKey = "$default"

// Validator is a request validator: which of the two checks a method runs,
// as AWS's validateRequestParameters and validateRequestBody.
type Validator struct {
	// Params checks that the required request parameters are present and
	// not blank.
	Params bool
	// Body checks the body against the method's model for its content type.
	Body bool
}

// Requirements names a method's required request parameters, those its
// requestParameters map marks true (method.request.querystring.NAME,
// method.request.header.NAME, method.request.path.NAME).
type Requirements struct {
	Query  []string
	Header []string
	Path   []string
}

// Request is what validation looks at in an incoming request.
type Request struct {
	Query  url.Values
	Header http.Header
	Path   map[string]string
	// ContentType is the raw Content-Type header; empty when absent.
	ContentType string
	Body        []byte
}

// Kind tells which gateway response a failure maps to.
type Kind int

// The two kinds of validation failure, each its own gateway response type
// so that APIs can override them separately. Both answer 400 by default.
const (
	// BadRequestParameters is a missing or blank required parameter.
	BadRequestParameters Kind = iota + 1
	// BadRequestBody is a body that is not JSON or does not match its model.
	BadRequestBody
)

// String returns the AWS gateway response type of the failure.
func (k Kind) String() string {
	switch k {
	case BadRequestParameters:
		return "BAD_REQUEST_PARAMETERS"
	case BadRequestBody:
		return "BAD_REQUEST_BODY"
	}
	return "UNKNOWN"
}

// Failure is a request that validation rejected.
type Failure struct {
	Kind Kind
	// Message is the "message" of the default 400 body,
	// {"message": "Invalid request body"}.
	Message string
	// ValidationErrorString is the detail exposed to gateway response
	// templates as $context.error.validationErrorString.
	ValidationErrorString string
}

// Check validates a request as API Gateway does before any integration
// runs. Parameters are checked first, then the body against the schema
// that bodySchemas (the method's request models, by content type) selects
// for the request: its media type, else DefaultModelKey. A request whose
// content type has no model is not body-validated, as on AWS. Check
// returns nil when the request passes.
func Check(v Validator, req Requirements, bodySchemas map[string]*Schema, r *Request) *Failure {
	if r == nil {
		r = &Request{}
	}
	if v.Params {
		if f := checkParams(req, r); f != nil {
			return f
		}
	}
	if v.Body {
		if s := selectSchema(bodySchemas, r.ContentType); s != nil {
			return s.Check(r.Body)
		}
	}
	return nil
}

// checkParams lists the missing required parameters in AWS's order:
// headers, then path parameters, then query strings, each by name.
func checkParams(req Requirements, r *Request) *Failure {
	var missing []string
	missing = appendMissing(missing, req.Header, func(name string) []string { return r.Header.Values(name) })
	missing = appendMissing(missing, req.Path, func(name string) []string {
		if v, ok := r.Path[name]; ok {
			return []string{v}
		}
		return nil
	})
	missing = appendMissing(missing, req.Query, func(name string) []string { return r.Query[name] })
	if len(missing) == 0 {
		return nil
	}
	msg := missingParamsPrefix + "[" + strings.Join(missing, ", ") + "]"
	return &Failure{Kind: BadRequestParameters, Message: msg, ValidationErrorString: msg}
}

// appendMissing appends, sorted, the names whose last value is absent or
// blank. The last value is the one API Gateway hands a single-valued
// parameter to integrations.
func appendMissing(missing, names []string, values func(string) []string) []string {
	start := len(missing)
	for _, name := range names {
		vs := values(name)
		if len(vs) == 0 || isBlank(vs[len(vs)-1]) {
			missing = append(missing, name)
		}
	}
	group := missing[start:]
	slices.Sort(group)
	return append(missing[:start], slices.Compact(group)...)
}

// isBlank reports whether s is empty or only whitespace.
func isBlank(s string) bool {
	return strings.TrimSpace(s) == ""
}

// selectSchema picks the model for a content type: the raw header value,
// then its media type without parameters, lowercased, then the default
// model. A request without Content-Type is taken as application/json.
func selectSchema(bodySchemas map[string]*Schema, contentType string) *Schema {
	if len(bodySchemas) == 0 {
		return nil
	}
	if contentType == "" {
		contentType = defaultContentType
	}
	if s, ok := bodySchemas[contentType]; ok {
		return s
	}
	if s, ok := bodySchemas[mediaType(contentType)]; ok {
		return s
	}
	return bodySchemas[DefaultModelKey]
}

// mediaType strips a Content-Type value's parameters and lowercases it:
// "Application/JSON; charset=UTF-8" is "application/json".
func mediaType(contentType string) string {
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}

// Check validates a request body against the model. The body must be one
// JSON value; an empty body fails, as on AWS.
//
// The body is scanned once. A body the model's fast plan confirms is valid
// is done with (fast.go); any other is decoded from that scan and validated
// by the schema library, whose errors make AWS's message.
func (s *Schema) Check(body []byte) *Failure {
	body = trimBOM(body)
	t, scanned := scanTape(body)
	if scanned && t.hugeExponent {
		// Refused rather than handed to the schema library, which would
		// spend milliseconds on each such number, or panic.
		return &Failure{Kind: BadRequestBody, Message: invalidBodyMessage, ValidationErrorString: hugeNumberBody}
	}
	if scanned && s.fast != nil && s.fast.valid(&t) {
		return nil
	}
	var instance any
	if scanned {
		instance = t.value(0)
	} else {
		var err error
		if instance, err = parseBody(body); err != nil {
			return &Failure{Kind: BadRequestBody, Message: invalidBodyMessage, ValidationErrorString: unparsableBody}
		}
	}
	err := s.schema.Validate(instance)
	if err == nil {
		return nil
	}
	detail := "[" + err.Error() + "]"
	var verr *jsonschema.ValidationError
	if errors.As(err, &verr) {
		detail = s.models.describe(verr, instance)
	}
	return &Failure{Kind: BadRequestBody, Message: invalidBodyMessage, ValidationErrorString: detail}
}

// utf8BOM may start a JSON body; Jackson skips it.
const utf8BOM = "\xEF\xBB\xBF"

// trimBOM drops a leading UTF-8 byte order mark.
func trimBOM(body []byte) []byte {
	if len(body) >= len(utf8BOM) && string(body[:len(utf8BOM)]) == utf8BOM {
		return body[len(utf8BOM):]
	}
	return body
}

// parseBody decodes a body, BOM already removed, as exactly one JSON value,
// numbers kept as written. It decides the bodies the scanner (tape.go) does
// not vouch for.
func parseBody(body []byte) (any, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, errors.New("empty body")
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(body))
}
