// Package validate implements Amazon API Gateway's request validators for
// Archway's ext_proc service.
//
// A request validator has two independent switches, as in AWS
// (x-amazon-apigateway-request-validators): validateRequestParameters checks
// that the method's required query strings, headers and path parameters are
// present and not blank, and validateRequestBody checks the body against the
// method's model for the request's content type. Models are JSON Schema draft
// 4 documents; they are compiled once per configuration by [Compile] and then
// shared by every request.
//
// Failures carry the two strings AWS produces: the message of the 400 answer
// ("Missing required request parameters: [h1, p1, q1]" or "Invalid request
// body") and the detail that gateway response templates read as
// $context.error.validationErrorString. AWS validates bodies with a Java JSON
// Schema validator (java-json-tools' json-schema-validator); the detail
// reproduces that validator's messages and the order in which it reports them,
// so templates and clients that parse them keep working.
package validate
