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
// over Options.MaxBody (10 MB, API Gateway's payload limit), or Envoy's
// own 413 for one over the route's buffer, gets 413
// {"message":"Request Too Long"}; a processor error, or a decision Envoy
// could not carry out, gets 500 {"message":"Internal server error"} with
// x-amzn-ErrorType InternalServerErrorException, and an error log line
// naming the route, method and path (never the query, headers or body).
// A stream Envoy cancels (the client went away, or message_timeout
// passed) cancels the processor's context and ends without an error log.
// A route without a processor passes unchanged.
//
// # Envoy's own replies
//
// With the response headers Envoy sends the filter's response attributes
// (ResponseAttributes). By response.code_details the Server tells a
// backend's response (via_upstream) from Envoy's own reply (a timeout, a
// refused connection, a body over the buffer limit) and sets
// Exchange.LocalReply for the latter; LocalReplyType and LocalReplyMessage
// map it to the gateway response type and message. Such a reply may come
// without the request having reached the processor: a local reply of a
// filter before ext_proc passes ext_proc's response phase too. Replies of
// Archway's authorization service (ext_authz_denied) and direct responses
// to a request the processor never saw pass unchanged; the rate-limit
// filter's 429 (request_rate_limited) is Envoy's reply like the others;
// Envoy's own go to the processor. On a route whose mode skips the request
// (Mode.SkipRequest) the Server reads the request from the attributes.
// Envoy 1.40 ignores an immediate response to its own local reply, so a
// Reply decided there (and the Server's 500 and 413) replaces the reply's
// status, headers and body instead. Envoy's 413 for a body over the
// route's buffer limit that no processor changes gets API Gateway's 413.
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
// reply mapping must turn into API Gateway's; and ResponseAttributes as
// the filter's response_attributes. The gRPC server must take messages of
// a whole body: pass Server.ServerOptions to it.
package extproc
