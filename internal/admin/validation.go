package admin

import (
	"errors"
	"maps"
	"slices"
	"strings"

	"github.com/archway-gateway/archway/extproc/validate"
	"github.com/archway-gateway/archway/internal/model"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// Limits of a route's request validation.
const (
	maxRequiredParameters = 50
	maxBodyModels         = 10
	maxModelBytes         = 64 << 10
)

// requestValidation checks a route's request validation against its path
// template t (pathOK false if the path is invalid, which another violation
// names): parameters well formed and, for path parameters, the route's
// own; body models that compile as JSON Schema draft 4, so that no model
// reaches the data plane that it would have to refuse.
func (v *violations) requestValidation(field string, rv *adminv1.RequestValidation, t model.PathTemplate, pathOK bool) {
	if rv == nil {
		return
	}
	if n := len(rv.GetRequiredParameters()); n > maxRequiredParameters {
		v.add(field+".required_parameters", "at most %d are allowed, got %d", maxRequiredParameters, n)
	}
	for i, p := range rv.GetRequiredParameters() {
		if err := checkRequiredParameter(p, t, pathOK); err != "" {
			v.add(listField(field+".required_parameters", i), "%s", err)
		}
	}
	v.bodyModels(field+".body_models", rv.GetBodyModels())
	v.requestModels(field+".request_models", rv.GetRequestModels(), rv.GetBodyModels())
}

// requestModels checks the content type → model name map of a validation,
// whose names the route's API must have (see namedModels). A content type
// has one model, inline or named.
func (v *violations) requestModels(field string, names, inline map[string]string) {
	if len(names) > maxBodyModels {
		v.add(field, "at most %d models are allowed, got %d", maxBodyModels, len(names))
	}
	for _, ct := range slices.Sorted(maps.Keys(names)) {
		f := mapField(field, ct)
		if ct != validate.DefaultModelKey && !plainMediaType(ct) {
			v.add(f, "the key must be a media type such as application/json, in lower case without parameters, or $default")
			continue
		}
		if _, dup := inline[ct]; dup {
			v.add(f, "%s also has an inline model in body_models; give it one or the other", ct)
		}
		if name := names[ct]; !validModelName(name) {
			v.add(f, "must be the name of a model of the API: 1-%d letters and digits, got %q", maxModelNameLen, name)
		}
	}
}

// checkRequiredParameter returns what is wrong with one required
// parameter, or "" if nothing is: a query string or header parameter
// needs a name, and a path parameter must be one of t's (checked only when
// the path is valid, pathOK).
func checkRequiredParameter(p string, t model.PathTemplate, pathOK bool) string {
	const query, header, path = "method.request.querystring.", "method.request.header.", "method.request.path."
	if prefix, valid := prefixedName(p, query, header); prefix != "" {
		if !valid {
			return "must name a parameter after " + prefix
		}
		return ""
	}
	if name, ok := strings.CutPrefix(p, path); ok {
		if pathOK && !slices.Contains(t.Params(), name) {
			return "the route's path has no parameter {" + name + "}"
		}
		return ""
	}
	return "must be method.request.querystring.NAME, method.request.header.NAME or method.request.path.NAME"
}

// bodyModels checks the content type → JSON Schema map of a validation.
func (v *violations) bodyModels(field string, models map[string]string) {
	if len(models) > maxBodyModels {
		v.add(field, "at most %d models are allowed, got %d", maxBodyModels, len(models))
	}
	for _, ct := range slices.Sorted(maps.Keys(models)) {
		f := mapField(field, ct)
		if ct != validate.DefaultModelKey && !plainMediaType(ct) {
			v.add(f, "the key must be a media type such as application/json, in lower case without parameters, or $default")
			continue
		}
		if n := len(models[ct]); n > maxModelBytes {
			v.add(f, "must be at most %d bytes, got %d", maxModelBytes, n)
			continue
		}
		// Model names become part of reference URLs inside the library, so
		// the content type is not used as one.
		if _, err := validate.Compile(map[string]string{"model": models[ct]}); err != nil {
			v.add(f, "not a JSON Schema (draft 4) model: %s", modelError(err))
		}
	}
}

// modelError returns the cause of a model that does not compile, without
// the model's name, which the field already gives.
func modelError(err error) string {
	msg := err.Error()
	for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
		msg = e.Error()
	}
	return msg
}
