package admin

import "testing"

func TestPageToken(t *testing.T) {
	const prefix = "/archway/v1/api/abc/routes/"
	tests := map[string]struct {
		token     string
		want      string
		violation bool
	}{
		"first page":        {token: "", want: ""},
		"round trip":        {token: encodePageToken(prefix + "r1"), want: prefix + "r1"},
		"not base64":        {token: "!!!", violation: true},
		"other collection":  {token: encodePageToken("/archway/v1/api/abc/stages/prod"), violation: true},
		"other api":         {token: encodePageToken("/archway/v1/api/xyz/routes/r1"), violation: true},
		"bare prefix":       {token: encodePageToken(prefix), violation: true},
		"padded base64 url": {token: encodePageToken(prefix+"r1") + "=", violation: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			v := &violations{request: "Test"}
			got := v.pageToken("page_token", tc.token, prefix)
			if got != tc.want {
				t.Errorf("pageToken = %q, want %q", got, tc.want)
			}
			if v.ok() == tc.violation {
				t.Errorf("violations = %v, want violation %v", v.list, tc.violation)
			}
		})
	}
}
