package integration

import (
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/archway-gateway/archway/internal/model"
)

// TestFunctionBinaryMediaTypes checks a REST API's binary media types on
// a function route (payload 1.0): a body of a binary type reaches the
// function base64-encoded, and a base64 result is decoded for a client
// whose Accept names a binary type, and passed as it is otherwise.
func TestFunctionBinaryMediaTypes(t *testing.T) {
	cfg := functionConfig(t, model.ProtocolREST, model.MethodAny, "")
	cfg.APIs[0].BinaryMediaTypes = []string{"image/*"}
	c := serveConfig(t, cfg)
	png := "\x89PNG\r\n\x1a\n\x00"
	result := functionResult{200, nil, marshalResult(t, events.APIGatewayProxyResponse{
		StatusCode: 200, Headers: map[string]string{"Content-Type": "image/png"},
		Body: base64.StdEncoding.EncodeToString([]byte(png)), IsBase64Encoded: true,
	})}
	tests := map[string]struct {
		contentType, body, accept string
		wantEncoded               bool
		wantBody                  string
	}{
		"binary request, binary accept":  {"image/png", png, "image/png", true, png},
		"text request, no binary accept": {"text/plain", "hello", "application/json", false, base64.StdEncoding.EncodeToString([]byte(png))},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			up, got := invoke(t, c, request{"POST", "/test/pets/1", [][2]string{{"content-type", tc.contentType}, {"accept", tc.accept}}, tc.body}, result)
			var ev events.APIGatewayProxyRequest
			if err := json.Unmarshal([]byte(up.body), &ev); err != nil {
				t.Fatal(err)
			}
			wantEvent := tc.body
			if tc.wantEncoded {
				wantEvent = base64.StdEncoding.EncodeToString([]byte(tc.body))
			}
			if ev.IsBase64Encoded != tc.wantEncoded || ev.Body != wantEvent {
				t.Errorf("event isBase64Encoded %v body %q, want %v %q", ev.IsBase64Encoded, ev.Body, tc.wantEncoded, wantEvent)
			}
			if got.status != 200 || got.body != tc.wantBody {
				t.Errorf("client got %d %q, want 200 %q", got.status, got.body, tc.wantBody)
			}
		})
	}
}
