// Package e2e holds the end-to-end tests of the gateway: they build the real
// archway binary, run `archway serve` as a child process with its embedded
// etcd and the real Envoy that `make envoy` installs, configure it through the
// admin gRPC API, and send HTTP requests through Envoy to real backends on the
// loopback interface.
//
// The tests check what a user of the gateway sees (status codes, bodies and
// exactly what reached the backend) and what Envoy itself reports on its
// admin API (/config_dump, /stats). Nothing is mocked. The package has no
// code of its own besides this comment; see docs/testing.md for how it fits
// with the other test layers.
package e2e
