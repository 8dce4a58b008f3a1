package e2e

import (
	"net/http"
	"testing"
)

// TestTemplatedMock sends requests through Envoy to a MOCK integration
// driven by templates (testdata/templated-mock.yaml), which ext_proc
// answers: the request template's status selects the integration
// response, whose template and static headers make the answer; a
// Content-Type without a template is refused, as passthroughBehavior NEVER
// says.
func TestTemplatedMock(t *testing.T) {
	g := startGateway(t, gatewayOptions{})
	api := g.applyFile(t, "testdata/templated-mock.yaml", nil).GetId()
	g.waitAnswerStatus(t, at(hostStyle, api, "test", "GET", "/pets/7"), 200)

	tests := map[string]struct {
		method, path string
		header       http.Header
		want         answer
	}{
		"default response": {"GET", "/pets/7", nil, answer{
			200,
			map[string]string{"Content-Type": "application/json", "X-Pet-Source": "mock"},
			`{"id": "7", "stage": "test", "color": "blue"}`,
		}},
		"accept chooses the template": {"GET", "/pets/8", http.Header{"Accept": {"application/xml"}}, answer{
			200,
			map[string]string{"Content-Type": "application/xml", "X-Pet-Source": "mock"},
			`<pet id="8"/>`,
		}},
		"selection pattern": {"GET", "/pets/9?code=404", nil, answer{
			404,
			map[string]string{"Content-Type": "application/json", "X-Error": "no-pet"},
			`{"message": "no pet 9"}`,
		}},
		"pattern matches the whole status": {"GET", "/pets/9?code=4040", nil, answer{
			200,
			map[string]string{"Content-Type": "application/json", "X-Pet-Source": "mock"},
			`{"id": "9", "stage": "test", "color": "blue"}`,
		}},
		"no status code": {"GET", "/pets/9?code=none", nil, answer{
			500,
			map[string]string{"Content-Type": "application/json", "X-Amzn-Errortype": "InternalServerErrorException"},
			`{"message":"Internal server error"}`,
		}},
		"unsupported media type": {"POST", "/pets/9", http.Header{"Content-Type": {"text/plain"}}, answer{
			415,
			map[string]string{"Content-Type": "application/json"},
			`{"message":"Unsupported Media Type"}`,
		}},
	}
	for style, loc := range styles() {
		for name, tc := range tests {
			t.Run(style+"/"+name, func(t *testing.T) {
				req := at(loc, api, "test", tc.method, tc.path)
				req.header = tc.header
				g.expect(t, req, tc.want)
			})
		}
	}
	g.stop(t)
}
