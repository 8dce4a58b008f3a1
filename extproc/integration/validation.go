package integration

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/archway-gateway/archway/extproc"
	"github.com/archway-gateway/archway/extproc/gatewayresponse"
	"github.com/archway-gateway/archway/extproc/mapping"
	"github.com/archway-gateway/archway/extproc/validate"
	"github.com/archway-gateway/archway/internal/model"
)

// compiledValidation is a route's request validator with its body models
// compiled, built once per configuration change and shared by every
// request of the route. It is never modified after compileValidation.
type compiledValidation struct {
	validator    validate.Validator
	requirements validate.Requirements
	// schemas are the body models by content type (or
	// validate.DefaultModelKey), as validate.Check selects them.
	schemas   map[string]*validate.Schema
	needsBody bool
	// err is why the models did not compile; the route's requests then
	// get 500 rather than skipping a check.
	err error
}

// compileValidation compiles v's body models. Like compileMock, it never
// fails: a model that does not compile is kept as the route's error, so
// that one bad route does not take the rest of the configuration down.
//
// Each inline model is compiled on its own, under a name of its own: the
// model maps content types to self-contained documents (references stay
// within one model, "#/definitions/..."), and a content type such as
// application/json is not a model name validate can resolve. Named models
// (v.RequestModels) are taken from dm, the compiled models of the route's
// deployment, where their references to each other resolve.
func compileValidation(v *model.Validation, dm *deploymentModels) *compiledValidation {
	cv := &compiledValidation{
		validator:    validate.Validator{Params: v.Parameters, Body: v.Body},
		requirements: validate.Requirements{Query: v.Query, Header: v.Header, Path: v.Path},
		needsBody:    v.NeedsBody(),
	}
	if !v.NeedsBody() {
		return cv
	}
	cv.schemas = make(map[string]*validate.Schema, len(v.Models))
	var errs []error
	for i, ct := range slices.Sorted(maps.Keys(v.Models)) {
		name := "model" + strconv.Itoa(i)
		models, err := validate.Compile(map[string]string{name: v.Models[ct]})
		if err != nil {
			errs = append(errs, fmt.Errorf("body model %q: %w", ct, err))
			continue
		}
		cv.schemas[ct], _ = models.Schema(name)
	}
	for _, ct := range slices.Sorted(maps.Keys(v.RequestModels)) {
		s, err := dm.schema(v.RequestModels[ct])
		if err != nil {
			errs = append(errs, fmt.Errorf("request model for %q: %w", ct, err))
			continue
		}
		cv.schemas[ct] = s
	}
	cv.err = errors.Join(errs...)
	return cv
}

// deploymentModels are the compiled named models of one deployment,
// compiled together so that they may refer to each other, once per
// deployment and shared by its routes' validators.
type deploymentModels struct {
	models *validate.Models
	// err is why the set did not compile; the validators of routes that
	// name a model then fail their requests with it.
	err error
}

// compileModels compiles the models of d as one set.
func compileModels(d *model.Deployment) *deploymentModels {
	src := make(map[string]string, len(d.Models))
	for _, m := range d.Models {
		src[m.Name] = m.Schema
	}
	models, err := validate.Compile(src)
	if err != nil {
		return &deploymentModels{err: fmt.Errorf("the deployment's models do not compile: %w", err)}
	}
	return &deploymentModels{models: models}
}

// schema returns the compiled model with the given name.
func (dm *deploymentModels) schema(name string) (*validate.Schema, error) {
	if dm == nil {
		return nil, fmt.Errorf("model %q: the deployment has no models", name)
	}
	if dm.err != nil {
		return nil, dm.err
	}
	s, ok := dm.models.Schema(name)
	if !ok {
		return nil, fmt.Errorf("model %q is not a model of the deployment", name)
	}
	return s, nil
}

// validatingProcessor runs a route's request validator before its
// integration, as API Gateway does: a request that fails gets the
// BAD_REQUEST_PARAMETERS or BAD_REQUEST_BODY gateway response, and one
// that passes goes on to next, the integration's processor, or, for a
// route whose integration Envoy carries out itself (an HTTP proxy, a
// simple mock), on to Envoy unchanged. One is made per route when the
// configuration changes.
type validatingProcessor struct {
	l    *lookup
	v    *compiledValidation
	rr   routeRequest
	next extproc.Processor
}

// Mode is the integration's, which reads the request body already, or,
// without one, the request alone: its body only when a model checks it.
func (p *validatingProcessor) Mode() extproc.Mode {
	if p.next == nil {
		return extproc.Mode{RequestBody: p.v.needsBody}
	}
	m := p.next.Mode()
	m.RequestBody = m.RequestBody || p.v.needsBody
	m.SkipRequest = false // the validator reads the request
	return m
}

// Request validates the request and, if it passes, hands it to the
// integration.
func (p *validatingProcessor) Request(ctx context.Context, x *extproc.Exchange) (*extproc.Decision, error) {
	if p.v.err != nil {
		return nil, p.v.err
	}
	if f := validate.Check(p.v.validator, p.v.requirements, p.v.schemas, p.validationRequest(x)); f != nil {
		return p.refuse(ctx, x, f)
	}
	if p.next == nil {
		return nil, nil
	}
	return p.next.Request(ctx, x)
}

// Response is the integration's; a route without one processes no
// response.
func (p *validatingProcessor) Response(ctx context.Context, x *extproc.Exchange) (*extproc.Decision, error) {
	if p.next == nil {
		return nil, nil
	}
	return p.next.Response(ctx, x)
}

// validationRequest is what the validator looks at in x: the decoded
// query string, the headers, the path parameters of the route's template
// (decoded, as API Gateway passes them on) and the body.
func (p *validatingProcessor) validationRequest(x *extproc.Exchange) *validate.Request {
	path, rawQuery, _ := strings.Cut(x.Path, "?")
	r := &validate.Request{
		Query:       url.Values{},
		Header:      make(http.Header, len(x.Headers)),
		ContentType: x.Headers.Get(headerContentType),
		Body:        x.Body,
	}
	for _, q := range mapping.ParseQuery(rawQuery) {
		r.Query[q.Name] = append(r.Query[q.Name], q.Value)
	}
	for _, h := range x.Headers {
		r.Header.Add(h.Name, h.Value)
	}
	r.Path = paramMap(pathParams(path, p.rr))
	return r
}

// refuse answers a request that failed validation with the gateway
// response of the failure's kind: 400 with the validator's message
// ($context.error.message) and detail
// ($context.error.validationErrorString).
func (p *validatingProcessor) refuse(ctx context.Context, x *extproc.Exchange, f *validate.Failure) (*extproc.Decision, error) {
	t := gatewayresponse.BadRequestBody
	if f.Kind == validate.BadRequestParameters {
		t = gatewayresponse.BadRequestParameters
	}
	// What API Gateway's execution log says of a refused request; at debug
	// level, as the detail may quote the body's values.
	p.l.opts.Logger.LogAttrs(ctx, slog.LevelDebug, "request failed validation",
		slog.String("api_id", p.rr.api.ID), slog.String("route_id", p.rr.route.ID),
		slog.String("kind", f.Kind.String()), slog.String("message", f.Message),
		slog.String("validation_error", f.ValidationErrorString))
	req := p.l.mappingRequest(x, p.rr)
	info := mapping.ErrorInfo{Message: f.Message, ValidationErrorString: f.ValidationErrorString}
	return p.rr.gatewayReply(t, 0, req, info, x.Headers.Get(headerAccept))
}
