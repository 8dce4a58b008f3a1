package model

import "testing"

func TestSubstituteStageVariables(t *testing.T) {
	vars := map[string]string{"host": "backend.internal", "v": "2", "empty": ""}
	tests := []struct {
		in, want string
		fails    bool
	}{
		{"http://x/y", "http://x/y", false},
		{"http://${stageVariables.host}:8080/v${stageVariables.v}/pets", "http://backend.internal:8080/v2/pets", false},
		{"${stageVariables.empty}/a", "/a", false},
		{"${stageVariables.v}${stageVariables.v}", "22", false},
		{"http://${stageVariables.missing}/", "", true},
		{"http://${stageVariables.host/", "", true},
		{"http://${stageVariables.}/", "", true},
		{"http://${stageVariables.a-b}/", "", true},
		{"$stageVariables.host", "$stageVariables.host", false},
	}
	for _, tc := range tests {
		got, err := SubstituteStageVariables(tc.in, vars)
		if (err != nil) != tc.fails || got != tc.want {
			t.Errorf("SubstituteStageVariables(%q) = %q, %v; want %q (error %v)", tc.in, got, err, tc.want, tc.fails)
		}
	}
}
