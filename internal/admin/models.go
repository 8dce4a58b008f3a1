package admin

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"mime"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/archway-gateway/archway/extproc/validate"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// Limits of an API's named models. AWS's model names are alphanumeric, of
// at most 128 characters; AWS's quota tables list no count, and 100 keeps
// the set that every change of the models compiles, and every deployment
// copies, small.
const (
	maxModels       = 100
	maxModelNameLen = 128
)

// defaultModelContentType is the content type of a model that names none.
const defaultModelContentType = "application/json"

// models checks an API's named models: each well formed, names unique, and
// the schemas compiling as one set, so that every reference from one model
// to another resolves before any route or deployment can use them.
func (v *violations) models(field string, ms []*adminv1.Model) {
	compile := len(ms) > 0
	if len(ms) > maxModels {
		v.add(field, "at most %d models are allowed, got %d", maxModels, len(ms))
		compile = false
	}
	seen := make(map[string]int, len(ms))
	for i, m := range ms {
		f := listField(field, i)
		if !v.model(f, m) {
			compile = false
			continue
		}
		if j, dup := seen[m.GetName()]; dup {
			v.add(f+".name", "model %q is already defined at %s", m.GetName(), listField(field, j))
			compile = false
			continue
		}
		seen[m.GetName()] = i
	}
	if compile {
		v.modelSet(field, ms)
	}
}

// model checks one model's own fields and reports whether its name and
// schema are fit to compile with the others.
func (v *violations) model(field string, m *adminv1.Model) bool {
	if m == nil {
		v.add(field, "is required")
		return false
	}
	ok := true
	if !validModelName(m.GetName()) {
		v.add(field+".name", "must be 1-%d letters and digits, got %q", maxModelNameLen, m.GetName())
		ok = false
	}
	v.description(field+".description", m.GetDescription())
	if ct := m.GetContentType(); ct != "" && !plainMediaType(ct) {
		v.add(field+".content_type", "must be a media type such as application/json, in lower case without parameters, got %q", ct)
	}
	switch n := len(m.GetSchema()); {
	case n == 0:
		v.add(field+".schema", "is required: a JSON Schema (draft 4) document")
		ok = false
	case n > maxModelBytes:
		v.add(field+".schema", "must be at most %d bytes, got %d", maxModelBytes, n)
		ok = false
	}
	return ok
}

// modelSet compiles ms as the data plane does, as one set, and names the
// schema of each model that fails.
func (v *violations) modelSet(field string, ms []*adminv1.Model) {
	src := make(map[string]string, len(ms))
	for _, m := range ms {
		src[m.GetName()] = m.GetSchema()
	}
	_, err := validate.Compile(src)
	if err == nil {
		return
	}
	errs := []error{err}
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		errs = joined.Unwrap()
	}
	for _, e := range errs {
		v.add(modelErrorField(field, ms, e), "not a JSON Schema (draft 4) model: %s", modelError(e))
	}
}

// modelErrorField returns the schema field of the model that err, an error
// of validate.Compile ("model "NAME": ..."), is about, or field itself if
// it names none of ms.
func modelErrorField(field string, ms []*adminv1.Model, err error) string {
	msg := err.Error()
	for i, m := range ms {
		if strings.HasPrefix(msg, fmt.Sprintf("model %q: ", m.GetName())) {
			return listField(field, i) + ".schema"
		}
	}
	return field
}

// validModelName reports whether s is a model name as AWS allows them:
// 1-128 letters and digits.
func validModelName(s string) bool {
	if s == "" || len(s) > maxModelNameLen {
		return false
	}
	for i := range len(s) {
		if !isAlnum(s[i]) {
			return false
		}
	}
	return true
}

// plainMediaType reports whether ct is a media type, type/subtype, in lower
// case without parameters or wildcards: a content type that a request or a
// response can have, as the data plane keys templates and models by. (The
// mime package alone also takes "text" and "text/*".)
func plainMediaType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == ct && strings.Contains(ct, "/") && !strings.Contains(ct, "*")
}

// normalizeModels puts valid models in their stored form: in order of
// name, each with a content type, so that the stored list does not depend
// on the order it was written in.
func normalizeModels(ms []*adminv1.Model) {
	for _, m := range ms {
		if m.GetContentType() == "" {
			m.ContentType = defaultModelContentType
		}
	}
	slices.SortFunc(ms, func(a, b *adminv1.Model) int { return cmp.Compare(a.GetName(), b.GetName()) })
}

// modelNames returns the names of ms as a set.
func modelNames(ms []*adminv1.Model) map[string]bool {
	names := make(map[string]bool, len(ms))
	for _, m := range ms {
		names[m.GetName()] = true
	}
	return names
}

// namedModels checks that every model a route's validation names is one
// of models; where says whose models they are ("api x1", "the
// definition").
func (v *violations) namedModels(field string, rv *adminv1.RequestValidation, models map[string]bool, where string) {
	rm := rv.GetRequestModels()
	for _, ct := range slices.Sorted(maps.Keys(rm)) {
		if name := rm[ct]; validModelName(name) && !models[name] {
			v.add(mapField(field, ct), "no model %q in %s", name, where)
		}
	}
}

// checkModelUse fails if a route of the draft names a model its API does
// not have, as after a change of the API's models that removes or renames
// one in use: the routes would have nothing to check bodies against, in
// this deployment or the next.
func (d *draft) checkModelUse() error {
	have := modelNames(d.API.GetModels())
	users := map[string][]string{}
	for _, r := range d.Routes {
		for _, name := range r.GetRequestValidation().GetRequestModels() {
			if !have[name] {
				users[name] = append(users[name], fmt.Sprintf("route %s (%s)", r.GetId(), routeName(r.GetMethod(), r.GetPath())))
			}
		}
	}
	if len(users) == 0 {
		return nil
	}
	missing := slices.Sorted(maps.Keys(users))
	var routes []string
	for _, name := range missing {
		routes = append(routes, users[name]...)
	}
	slices.Sort(routes)
	return inUse("model "+strings.Join(missing, ", "), slices.Compact(routes))
}

// modelsSize is the encoded size of an API's models, which every
// deployment copies.
func modelsSize(ms []*adminv1.Model) int {
	n := 0
	for _, m := range ms {
		n += proto.Size(m)
	}
	return n
}
