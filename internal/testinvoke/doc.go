// Package testinvoke runs one request through a route the way the data
// plane would, for the admin API's TestInvokeRoute (AWS's
// TestInvokeMethod), and reports what each stage of the request's way
// produced.
//
// The route is the one defined now, deployed or not: its records are
// converted to the model as a deployment of them would be
// (watcher.RouteAPI), into a one-API model.Config whose one stage serves
// only that route, and its processor is made by extproc/integration's
// NewLookup over that Config, exactly as the ext_proc service makes it.
// The Invoker then plays Envoy's part:
//
//   - It hands the processor the request as Envoy's ext_proc filter would
//     (extproc.Exchange: the client's method, path with the stage prefix,
//     headers with the x-request-id Envoy generates, and the body when the
//     processor's Mode buffers it), and applies its Decision: header
//     mutations, :path and :method, a new body, or an immediate response.
//     A processor error or panic becomes API Gateway's 500, as the
//     ext_proc Server answers it.
//   - It calls the integration for real, as the translator's route would:
//     an HTTP proxy at its URI with ${stageVariables.name} and the route's
//     {param} references substituted and the client's query string kept; a
//     function with the event POSTed to its invoke path; a non-proxy HTTP
//     backend at the request target its processor set; a simple MOCK
//     answers with its static response. The integration's timeout bounds
//     the call; a failure becomes Envoy's own 503, a timeout its 504.
//   - It hands the processor the endpoint's response, when the processor's
//     Mode asks for it, and applies that Decision too.
//
// A route whose request validator checks something is validated first, by
// the same processor made for the route with its integration replaced by
// a simple mock, so that the validator's answer shows as a stage of its
// own.
//
// Authorization, API keys and throttling are skipped, as on AWS. Nothing
// is written anywhere; the only side effect is the endpoint's call.
package testinvoke
