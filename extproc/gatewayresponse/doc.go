// Package gatewayresponse renders Amazon API Gateway's gateway responses:
// the answers API Gateway gives itself, without the backend, when it
// refuses or fails a request (a missing API key, a throttled client, a
// request validator's finding, an integration timeout). AWS users customize
// them per API, and their clients parse the result, so Archway answers with
// the same status codes, headers and bodies.
//
// # Types and defaults
//
// Each Type has a default status code, a default message
// ($context.error.message) and the error type API Gateway sends in
// x-amzn-ErrorType, following the developer guide's "Gateway response types"
// table and the responses API Gateway is recorded to send. The default body
// is DefaultTemplate, {"message":$context.error.messageString}, as
// application/json. DEFAULT_4XX and DEFAULT_5XX have no status of their
// own (AWS documents it as null); rendered directly, they answer 400 and
// 500.
//
// # Overrides and fallback
//
// An API overrides a type with an Override: a status code, headers (API
// Gateway's responseParameters) and body templates by content type (its
// responseTemplates). Compile checks and compiles an API's overrides once,
// when the configuration changes; (*Set).Render answers one request.
//
// The override that applies to a type is chosen whole, as on API Gateway:
// the type's own override if the API has one; otherwise DEFAULT_4XX's or
// DEFAULT_5XX's, by the class of the type's default status; otherwise none.
// Within the chosen override, a zero status keeps the type's default status
// and no templates keep the default template. A 5XX type is never affected
// by DEFAULT_4XX, nor a 4XX type by DEFAULT_5XX. A type with its own
// override does not inherit its class's headers.
//
// # Headers
//
// A header's value is a mapping expression: a static value in single
// quotes ('*.example.com'), method.request.header.NAME (matched without
// regard to case), method.request.querystring.NAME, method.request.path.NAME,
// their multivalueheader and multivaluequerystring forms (values joined with
// commas), stageVariables.NAME or context.PROPERTY (context.requestId,
// context.authorizer.principalId, context.error.message, ...). A header
// whose source the request lacks is left out, as is a value holding CR, LF
// or NUL. Mapped headers replace the defaults, Content-Type included.
//
// # Templates
//
// The template is chosen by the request's Accept header: the first media
// range, in the order written, that names a template (type/* matches the
// first template of that type, */* none in particular), else the
// application/json template, else the first by media type. Its content
// type becomes the response's Content-Type.
//
// API Gateway documents gateway response templates as "simple variable
// substitution" rather than full VTL; Archway renders them with the vtl
// engine and the mapping package's variables ($context with
// $context.error.message, messageString, responseType and
// validationErrorString; $stageVariables; $input; $util). A template of
// plain substitutions renders as on AWS; one that uses a directive (#if,
// #set) runs it instead of printing it, and backslashes before $ follow
// VTL's escaping. Rendering is bounded by MaxBodyBytes and MaxSteps.
//
// $context.responseOverride is not applied to gateway responses.
package gatewayresponse
