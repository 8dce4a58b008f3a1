package model

import "slices"

// MethodAny is the route method that matches every HTTP method.
const MethodAny = "ANY"

// Methods returns the route methods Amazon API Gateway accepts, ANY last.
// Methods are upper case, as on the wire.
func Methods() []string {
	return []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", MethodAny}
}

// ValidMethod reports whether m is an accepted route method.
func ValidMethod(m string) bool {
	return slices.Contains(Methods(), m)
}
