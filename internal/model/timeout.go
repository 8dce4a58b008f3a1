package model

import "time"

// Integration timeouts, as Amazon API Gateway bounds them: a request that
// waits longer than DefaultTimeout for its backend gets 504 unless the
// integration sets its own timeout within [MinTimeout, MaxTimeout].
const (
	DefaultTimeout = 29 * time.Second
	MinTimeout     = 50 * time.Millisecond
	MaxTimeout     = 300 * time.Second
)
