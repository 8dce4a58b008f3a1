// Package model is Archway's intermediate representation: the validated,
// immutable picture of what is deployed, which every data-plane service reads.
//
// A Config holds, for each API, its stages, and for each stage the
// deployment it serves. The watcher builds one Config per etcd revision it
// publishes and hands the same pointer to every consumer (the xDS
// translator, ext_authz, ext_proc), so nothing in this package is ever
// mutated once a Config has been published: readers need no locks and no
// copies. Values from one Config may be shared by the next one when they did
// not change.
//
// The constructors (NewConfig, NewAPI, NewDeployment) are the only way to
// make values that the services can trust: they check the invariants the
// services rely on (unique IDs, resolved integrations, non-conflicting
// routes, timeouts within bounds) and sort everything, so that the same
// input always produces the same Config and the same Envoy resources.
package model
