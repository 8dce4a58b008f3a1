// Package mapping provides the variables Amazon API Gateway gives mapping
// templates — $input, $context, $stageVariables and $util — as host values
// for the vtl engine, so that templates written for API Gateway render the
// same under Archway.
//
// Build a Request from the incoming HTTP request and pass Vars(r) to
// (*vtl.Template).Render. The variables follow API Gateway's developer guide
// ("Variables for data transformations"):
//
//   - $input.body is the raw payload. $input.json(x) evaluates the JSONPath x
//     over the payload (with Jayway's semantics, see package jsonpath) and
//     returns the result as JSON text; $input.path(x) returns it as values a
//     template can navigate (maps, lists, strings, numbers, booleans).
//     $input.params() is the map {path, querystring, header}; $input.params(x)
//     looks x up in the path parameters, then the query string, then the
//     headers, and is "" when no parameter has that name.
//   - $context holds the request's context (requestId, httpMethod,
//     resourcePath, stage, identity.sourceIp, authorizer.*, error.*, ...);
//     requestOverride and responseOverride are empty maps a template may set,
//     for the caller to read back with ReadOverrides.
//   - $stageVariables holds the stage's variables.
//   - $util has escapeJavaScript, parseJson, urlEncode, urlDecode,
//     base64Encode and base64Decode, each with the Java semantics API
//     Gateway's implementations have (see the functions' comments).
//
// $method and $integration exist only in parameter mappings, not in mapping
// templates, so Vars does not define them.
//
// Where API Gateway's documentation is silent, this package follows what
// API Gateway is recorded to do:
//
//   - An empty payload reads as the empty object: $input.json('$') is {}.
//   - A payload that is not JSON reads as one string holding the payload, as
//     API Gateway's permissive JSON parser reads it, so $input.path('$')
//     returns a form-encoded body as it was sent.
//   - $input.json of a definite path that names nothing is "" (an empty JSON
//     string, so the template's output stays valid JSON) and $input.path of
//     it is null; an indefinite path that matches nothing gives [] and an
//     empty list.
//   - Numbers keep their text in $input.json (1.0 stays 1.0). In
//     $input.path they are Java's Integer or Long when written without a
//     fraction or exponent and fit, and Double otherwise, so 1.50 prints as
//     1.5.
//   - A repeated query string parameter or header is seen with its last
//     value, as in API Gateway's single-valued parameter maps.
package mapping
