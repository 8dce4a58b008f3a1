// Package extproc is Archway's Envoy external processing service
// (envoy.service.ext_proc.v3.ExternalProcessor). Envoy calls it for the
// routes that need what Envoy cannot do itself: request validation,
// mapping templates, Lambda-proxy and template-driven mock integrations.
// The features plug in as Processors; this package speaks Envoy's protocol
// for them.
//
// # The protocol
//
// Envoy opens one gRPC stream per HTTP request and sends the parts of the
// exchange the route's processing_mode asks for, in order, each message
// waiting for its answer: request_headers; request_body (in BUFFERED mode
// the whole body in one message); response_headers; response_body.
// Every message gets exactly one answer of the matching type
// (HeadersResponse, BodyResponse, TrailersResponse), or an
// ImmediateResponse, after which Envoy sends the client that response,
// expects nothing more, and the Server ends the stream. Envoy sends no
// body message for a message without a body (end_of_stream on its
// headers), so a processor that needs the body is then asked at the
// headers.
//
// A Processor's Decision becomes Envoy's CommonResponse: header mutations
// (values in raw_value, where Envoy reads them; replace or append), a new
// body, and, in the response phase, a new :status, which Envoy applies
// both with the response headers and with the buffered response body.
// In BUFFERED mode Envoy keeps the message's content-length and rejects
// (with a 500) a body mutation whose length disagrees, so the Server
// fixes content-length whenever it replaces a body; a chunked message
// stays chunked. A body added in answer to a headers message (a GET
// turned into a request with a body) uses CONTINUE_AND_REPLACE, with
// which Envoy sets the length itself.
//
// The Server answers on its own where API Gateway would: a request body
// over Options.MaxBody (10 MB, API Gateway's payload limit) gets 413
// {"message":"Request Too Long"}; a processor error, or a decision Envoy
// could not carry out, gets 500 {"message":"Internal server error"} with
// x-amzn-ErrorType InternalServerErrorException, and an error log line
// naming the route, method and path (never the query, headers or body).
// A stream Envoy cancels (the client went away, or message_timeout
// passed) cancels the processor's context and ends without an error log.
// A route without a processor passes unchanged.
//
// # Which route a stream is for
//
// The translator puts the route's IDs in the route's
// ExtProcPerRoute.overrides.grpc_initial_metadata (RouteMetadata's
// GRPCInitialMetadata), and Envoy sends them as the metadata of every
// stream it opens for the route; Options.Lookup maps them to a Processor
// once per stream. Route metadata has no better path in Envoy 1.40:
// request_attributes cannot be set per route and renders any value but a
// string, number or boolean (xds.route_metadata, for one) as text, not as
// a Struct; metadata_options forwards dynamic metadata, not the route's.
//
// # What the translator must configure
//
// On the HTTP connection manager, one envoy.filters.http.ext_proc filter
// whose grpc_service is the services cluster (envoy.ServicesClusterName),
// with failure_mode_allow false (a broken stream fails the request rather
// than skipping validation), a message_timeout that covers a template's
// work under load (Envoy's default is 200 ms), allow_mode_override false
// (the Server never overrides modes), and a processing_mode that skips
// both headers, so that routes without an override open no stream. Per
// route that has a processor: ExtProcPerRoute overrides with
// processing_mode = Mode.ProcessingMode() (bodies BUFFERED only: the
// Server refuses other body modes with FailedPrecondition) and the
// grpc_initial_metadata above; and, on routes that buffer the request
// body, request_body_buffer_limit = 10 MB, since Envoy otherwise buffers
// at most the listener's per_connection_buffer_limit_bytes (1 MiB by
// default) and answers a larger body with its own 413, which a local
// reply mapping must turn into API Gateway's. The gRPC server must take
// messages of a whole body: pass Server.ServerOptions to it.
package extproc
