package model

// MethodAny is the route method that matches every HTTP method.
const MethodAny = "ANY"

// Methods lists the route methods Amazon API Gateway accepts, ANY last.
var methods = [...]string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", MethodAny}

// Methods returns the route methods Archway accepts, ANY last.
func Methods() []string { return methods[:] }

// ValidMethod reports whether m is an accepted route method. Methods are
// case-sensitive upper case, as on the wire.
func ValidMethod(m string) bool {
	for _, v := range methods {
		if v == m {
			return true
		}
	}
	return false
}
