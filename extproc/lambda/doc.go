// Package lambda converts between HTTP requests and the JSON that Amazon API
// Gateway exchanges with a Lambda function behind a proxy integration
// (integration type AWS_PROXY), so that a function written for API Gateway
// runs behind Archway unchanged.
//
// A function is any HTTP endpoint that takes a Lambda event and answers with
// the function's result, such as the Lambda Runtime Interface Emulator of
// AWS's Lambda base images. Archway sends it one of API Gateway's two proxy
// event formats:
//
//   - payload format 1.0 ([EventV1]), which REST APIs send and which HTTP
//     APIs offer for compatibility: single- and multi-value headers and
//     query strings, null for every absent map;
//   - payload format 2.0 ([EventV2]), the default of HTTP APIs: comma-joined
//     headers, the raw query string, a cookies array and absent keys for
//     absent data.
//
// The function's result is turned back into an HTTP response by [DecodeV1]
// or [DecodeV2], which apply API Gateway's rules for each format: 1.0 is
// strict about the envelope and converts base64 bodies according to the
// API's binary media types and the client's Accept header; 2.0 ignores
// unknown keys, always honours isBase64Encoded and infers a 200
// application/json response when the function returns any JSON without a
// statusCode. A result neither format accepts is [ErrMalformed], which the
// gateway answers as API Gateway does: 502 {"message": "Internal server error"}.
//
// The package does no I/O: it builds and parses bytes, and the ext_proc
// service moves them.
package lambda
