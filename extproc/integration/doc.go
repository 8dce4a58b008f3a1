// Package integration holds the processors the ext_proc service runs for
// routes whose integration needs more than Envoy can do by itself: Amazon
// API Gateway's MOCK integration in its template form, where the gateway
// answers from templates without calling a backend, and the Lambda proxy
// integration (FUNCTION), where a function served over HTTP gets API
// Gateway's proxy event, and the non-proxy HTTP integration, where
// templates and parameter mappings transform the request to a backend and
// its answer.
//
// # Lookup
//
// NewLookup returns the extproc.Options.Lookup function: it finds a
// stream's route by the IDs Envoy sends (API, stage, route) in the current
// *model.Config and returns the route's processor, or nil for a route
// that has none. Templates are compiled when the Config changes, never per
// request: compiled integrations are kept per *model.Integration, and a
// new Config reuses the compiled form of every integration pointer it
// shares with the previous one (the watcher shares unchanged deployments
// between Configs). The routes' processors are made then too, and shared
// by every stream of the route: a stream's lookup is one map lookup.
//
// # Request validation
//
// A route whose request validator checks something
// (model.Validation.Active) is validated before its integration runs, as
// on API Gateway: its body models are compiled once per configuration
// change with validate.Compile, and every request is checked with
// validate.Check against the route's required parameters (path parameters
// taken from the route's template) and the model of its content type. A
// failure is answered with the BAD_REQUEST_PARAMETERS or BAD_REQUEST_BODY
// gateway response, the validator's message as $context.error.message and
// its detail as $context.error.validationErrorString. A request that
// passes goes on to the integration's processor, or, on a route Envoy
// carries out alone (an HTTP proxy, a simple mock), on to Envoy unchanged;
// such a route's processor reads the request body only when a model
// checks it. A model that does not compile fails the route's requests with
// 500 rather than skipping the check.
//
// # The MOCK integration
//
// The mock processor buffers the request body and answers every request
// itself, as API Gateway does:
//
//  1. The request template is chosen by the media type of the request's
//     Content-Type, application/json when there is none. It is rendered
//     with $input (the request), $context, $stageVariables and $util.
//  2. With no template for the media type, passthroughBehavior decides:
//     WHEN_NO_MATCH passes the request body through as the integration
//     request; WHEN_NO_TEMPLATES passes it only when the integration has
//     no templates at all; otherwise the request gets the
//     UNSUPPORTED_MEDIA_TYPE gateway response, 415
//     {"message":"Unsupported Media Type"}.
//  3. The integration request must be a JSON object with an integer
//     statusCode. API Gateway also reads the relaxed form CDK writes for
//     CORS mocks ({statusCode: 200}, unquoted keys). Without one, API
//     Gateway fails with a configuration error ("Unable to parse
//     statusCode"): 500 {"message":"Internal server error"}.
//  4. The integration response is the first whose selection pattern
//     matches the whole status code, else the default (empty pattern);
//     with neither, API Gateway's configuration error "No match for output
//     mapping and no default output mapping configured" is again a 500.
//  5. The response template is the one for the request's Accept header
//     taken literally, else application/json, else the first content type
//     in sorted order. It is rendered with $input over the integration
//     response body (empty for a mock) and the method request's
//     parameters; $context.responseOverride.status and .header, if the
//     template sets them, replace the status and headers. Without a
//     template the body is empty.
//  6. The response carries the integration response's static header
//     values (written in single quotes, as AWS's method.response.header
//     mappings) and a Content-Type: the chosen template's content type,
//     application/json when there is none, unless a header mapping sets
//     one.
//
// # The FUNCTION integration
//
// The function processor buffers the request and the function's response:
//
//  1. The request becomes the function's invocation: a POST of the proxy
//     event (payload format 1.0 or 2.0, model.Function.Version) with
//     Content-Type application/json to the function's invoke path. The
//     event carries the client's method, path (with the stage prefix as
//     sent, and without it), query, headers other than Envoy's and
//     Archway's own, body, the route key and resource, the path
//     parameters, the stage and its variables, the request id, time,
//     source IP, domain and API id, and the ID of the API key ext_authz
//     admitted the request with. The client's Content-Encoding and
//     Accept-Encoding are dropped.
//  2. The function's result is decoded by the payload format's rules
//     (lambda.DecodeV1 with the client's Accept, lambda.DecodeV2), and
//     replaces the function's HTTP response: its status, its headers
//     (repeated values and 2.0's cookies as separate fields) instead of
//     the function's, and its body. The function's Date stays.
//  3. A function that answers with a status other than 2xx or with
//     Lambda's X-Amz-Function-Error marker, and a result API Gateway
//     would refuse, get API Gateway's answer for a failed Lambda
//     integration: 502 {"message": "Internal server error"} on REST APIs,
//     500 {"message":"Internal Server Error"} on HTTP APIs.
//
// # The non-proxy HTTP integration
//
// The HTTP processor buffers the request and the backend's answer. The
// route sends the request to the backend without rewriting its path; the
// processor sets the whole request target.
//
//  1. The request template and passthroughBehavior work as a mock's (a
//     415 when neither lets the request through). A rendered template is
//     the backend's body, with the template's content type.
//  2. requestParameters set the backend's headers
//     (integration.request.header.NAME), its query string
//     (integration.request.querystring.NAME) and the URI's {NAME} path
//     parameters (integration.request.path.NAME) from the method
//     request's header, query string or path parameter (the last value of
//     a repeated one), a context variable (context.identity.sourceIp), a
//     stage variable or a static 'value'; a source with no value sets
//     nothing. The template's $context.requestOverride replaces mappings
//     of the same names. A {NAME} with no mapping takes the method's path
//     parameter of that name.
//  3. :path is the URI's path with its ${stageVariables.name} references
//     substituted and each path parameter escaped as one segment (a
//     greedy {NAME+} keeps its slashes), then the mapped query string
//     parameters; :method is the integration's method, if it has one.
//  4. As on API Gateway, the backend gets only what is mapped: the
//     client's query string and headers are dropped, except Content-Type
//     (of a body passed through), the message's framing and the headers
//     Envoy uses itself (x-envoy-*, x-request-id, x-forwarded-for and
//     -proto). Accept-Encoding is among those dropped, so the backend's
//     answer comes back readable by the response template.
//  5. The integration response is chosen by the backend's status as a
//     mock's is by its statusCode; no match and no default is API
//     Gateway's configuration error, a 500. An integration without
//     integration responses passes the backend's answer unchanged.
//  6. The method response has the integration response's status, its
//     header mappings (static values, and integration.response.header.NAME,
//     left out when the backend did not send NAME), the template's
//     $context.responseOverride, and a Content-Type: the template's,
//     application/json without one. The template (chosen by Accept as a
//     mock's) renders with $input over the backend's body and the method
//     request's parameters; without one, the backend's body passes
//     unchanged. The backend's other headers are dropped, except its Date
//     and the framing the Server fixes.
//
// A template that does not parse (the admin API refuses them, so only a
// bug lets one through) or fails to render answers 500 as well; the
// Server logs why.
package integration
