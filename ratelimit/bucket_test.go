package ratelimit

import (
	"testing"
	"time"
)

func TestIdleTTL(t *testing.T) {
	tests := map[string]struct {
		b    Bucket
		want time.Duration
	}{
		"AWS default":      {Bucket{Rate: 10000, Burst: 5000}, 500*time.Millisecond + time.Minute},
		"slow":             {Bucket{Rate: 1, Burst: 60}, 2 * time.Minute},
		"never refills":    {Bucket{Rate: 0, Burst: 5}, maxIdleTTL},
		"tiny rate capped": {Bucket{Rate: 1e-12, Burst: 1 << 40}, maxIdleTTL},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := idleTTL(tc.b); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
