package integration

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"strconv"
)

// errNoStatusCode is API Gateway's configuration error for a mock whose
// integration request names no status.
var errNoStatusCode = errors.New("unable to parse statusCode: it should be an integer that is defined in the request template")

// relaxedStatus finds statusCode in an object that is not strict JSON,
// such as the {statusCode: 200} CDK writes for CORS mocks and API Gateway
// accepts. It is an RE2 expression, so it runs in linear time on any
// template output.
type relaxedStatus struct{ re *regexp.Regexp }

// newRelaxedStatus compiles the expression, once per lookup.
func newRelaxedStatus() relaxedStatus {
	return relaxedStatus{re: regexp.MustCompile(`^\s*\{(?:[^{}]*[,\s])?["']?statusCode["']?\s*:\s*(-?[0-9]+)\s*[,}]`)}
}

// statusCode reads the statusCode of a mock's integration request: an
// integer member of a JSON object, or of the relaxed form API Gateway
// also reads. A string ("200"), a fraction or a missing member is an
// error, as on API Gateway.
func (rs relaxedStatus) statusCode(body []byte) (int, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err == nil {
		raw, ok := obj["statusCode"]
		if !ok {
			return 0, errNoStatusCode
		}
		return integer(bytes.TrimSpace(raw))
	}
	m := rs.re.FindSubmatch(body)
	if m == nil {
		return 0, errNoStatusCode
	}
	return integer(m[1])
}

// integer parses a JSON number written as an integer.
func integer(raw []byte) (int, error) {
	for i, c := range raw {
		if (c < '0' || c > '9') && (i != 0 || c != '-' || len(raw) <= 1) {
			return 0, errNoStatusCode
		}
	}
	n, err := strconv.Atoi(string(raw))
	if err != nil {
		return 0, errNoStatusCode
	}
	return n, nil
}
