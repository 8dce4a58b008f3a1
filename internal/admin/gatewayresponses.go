package admin

import (
	"context"
	"maps"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/archway-gateway/archway/extproc/gatewayresponse"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// Limits of an API's gateway responses and binary media types. AWS allows
// one response per type; the parameter limit matches request_parameters'.
const (
	maxGatewayResponseParams = 50
	maxBinaryMediaTypes      = 25
	maxMediaTypeLen          = 128
)

// gatewayResponses checks an API's customized gateway responses: known
// types, each at most once, and every override one the data plane
// compiles.
func (v *violations) gatewayResponses(field string, rs []*adminv1.GatewayResponse) {
	seen := make(map[string]int, len(rs))
	for i, r := range rs {
		f := listField(field, i)
		v.gatewayResponse(f, r)
		if j, dup := seen[r.GetResponseType()]; dup {
			v.add(f+".response_type", "%s is customized twice (also %s)", r.GetResponseType(), listField(field, j))
			continue
		}
		seen[r.GetResponseType()] = i
	}
}

// gatewayResponse checks one customized gateway response.
func (v *violations) gatewayResponse(field string, r *adminv1.GatewayResponse) {
	if r == nil {
		v.add(field, "is required")
		return
	}
	if t := gatewayresponse.Type(r.GetResponseType()); !t.Valid() {
		v.add(field+".response_type", "must be a gateway response type (%s), got %q", typeNames(), r.GetResponseType())
	}
	if s := r.GetStatusCode(); s != 0 && (s < 100 || s > 599) {
		v.add(field+".status_code", "must be 0 (the type's default) or 100 to 599, got %d", s)
	}
	params := r.GetResponseParameters()
	if len(params) > maxGatewayResponseParams {
		v.add(field+".response_parameters", "at most %d are allowed, got %d", maxGatewayResponseParams, len(params))
	}
	for _, k := range slices.Sorted(maps.Keys(params)) {
		if err := gatewayresponse.CheckParameter(k, params[k]); err != nil {
			v.add(mapField(field+".response_parameters", k), "%v", err)
		}
	}
	v.templates(field+".response_templates", r.GetResponseTemplates())
}

// typeNames lists the gateway response types for error messages.
func typeNames() string {
	ts := gatewayresponse.Types()
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}

// binaryMediaTypes checks an API's binary media types: type/subtype, in
// lower case, either part "*".
func (v *violations) binaryMediaTypes(field string, ts []string) {
	if len(ts) > maxBinaryMediaTypes {
		v.add(field, "at most %d are allowed, got %d", maxBinaryMediaTypes, len(ts))
	}
	for i, t := range ts {
		f := listField(field, i)
		if len(t) > maxMediaTypeLen {
			v.add(f, "must be at most %d characters, got %d", maxMediaTypeLen, len(t))
			continue
		}
		if !validMediaRange(t) {
			v.add(f, "must be a media type such as image/png or image/*, in lower case without parameters, got %q", t)
			continue
		}
		if slices.Index(ts, t) < i {
			v.add(f, "%q is listed twice", t)
		}
	}
}

// validMediaRange reports whether t is type/subtype in lower case with no
// parameters, where the subtype, or both parts, may be "*".
func validMediaRange(t string) bool {
	typ, sub, ok := strings.Cut(t, "/")
	switch {
	case !ok:
		return false
	case typ == "*":
		return sub == "*"
	case sub == "*":
		return plainMediaType(typ + "/x")
	default:
		return plainMediaType(t)
	}
}

// withGatewayResponse returns rs with r in place of the response of the
// same type, in order of type, so that the stored list does not depend on
// the order of the calls that made it.
func withGatewayResponse(rs []*adminv1.GatewayResponse, r *adminv1.GatewayResponse) []*adminv1.GatewayResponse {
	out := slices.DeleteFunc(slices.Clone(rs), func(x *adminv1.GatewayResponse) bool {
		return x.GetResponseType() == r.GetResponseType()
	})
	out = append(out, r)
	sortGatewayResponses(out)
	return out
}

// sortGatewayResponses sorts rs by type.
func sortGatewayResponses(rs []*adminv1.GatewayResponse) {
	slices.SortFunc(rs, func(a, b *adminv1.GatewayResponse) int {
		return strings.Compare(a.GetResponseType(), b.GetResponseType())
	})
}

// defaultGatewayResponse is API Gateway's response of type t when the API
// does not customize it.
func defaultGatewayResponse(t gatewayresponse.Type) *adminv1.GatewayResponse {
	return &adminv1.GatewayResponse{
		ResponseType:      string(t),
		StatusCode:        int32(t.DefaultStatus()),
		ResponseTemplates: map[string]string{gatewayresponse.ContentTypeJSON: gatewayresponse.DefaultTemplate},
		DefaultResponse:   true,
	}
}

// PutGatewayResponse customizes one gateway response type of an API,
// replacing its earlier customization.
func (s *Server) PutGatewayResponse(ctx context.Context, req *adminv1.PutGatewayResponseRequest) (*adminv1.GatewayResponse, error) {
	v := newViolations(req)
	v.id("api_id", req.GetApiId())
	in := proto.CloneOf(req.GetGatewayResponse())
	v.gatewayResponse("gateway_response", in)
	if in == nil || !validID(req.GetApiId()) {
		return nil, v.err()
	}
	in.DefaultResponse = false
	_, err := s.changeAPI(ctx, req.GetApiId(), v, func(d *draft, _ *violations) error {
		if err := checkEtag("api "+req.GetApiId(), req.GetEtag(), d.API.GetEtag()); err != nil {
			return err
		}
		api := proto.CloneOf(d.API)
		api.GatewayResponses = withGatewayResponse(api.GetGatewayResponses(), in)
		if !proto.Equal(api, d.API) {
			api.UpdateTime = d.now
			d.putAPI(api)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return in, nil
}

// GetGatewayResponse returns the API's response of one type: its
// customization, or API Gateway's default.
func (s *Server) GetGatewayResponse(ctx context.Context, req *adminv1.GetGatewayResponseRequest) (*adminv1.GatewayResponse, error) {
	v := newViolations(req)
	v.id("api_id", req.GetApiId())
	t := gatewayresponse.Type(req.GetResponseType())
	if !t.Valid() {
		v.add("response_type", "must be a gateway response type (%s), got %q", typeNames(), req.GetResponseType())
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	api, err := s.getAPI(ctx, req.GetApiId())
	if err != nil {
		return nil, err
	}
	for _, r := range api.GetGatewayResponses() {
		if r.GetResponseType() == string(t) {
			return r, nil
		}
	}
	return defaultGatewayResponse(t), nil
}

// ListGatewayResponses returns every type's response, customized or
// default, in order of type.
func (s *Server) ListGatewayResponses(ctx context.Context, req *adminv1.ListGatewayResponsesRequest) (*adminv1.ListGatewayResponsesResponse, error) {
	v := newViolations(req)
	v.id("api_id", req.GetApiId())
	if err := v.err(); err != nil {
		return nil, err
	}
	api, err := s.getAPI(ctx, req.GetApiId())
	if err != nil {
		return nil, err
	}
	custom := make(map[string]*adminv1.GatewayResponse, len(api.GetGatewayResponses()))
	for _, r := range api.GetGatewayResponses() {
		custom[r.GetResponseType()] = r
	}
	out := &adminv1.ListGatewayResponsesResponse{}
	for _, t := range gatewayresponse.Types() {
		r := custom[string(t)]
		if r == nil {
			r = defaultGatewayResponse(t)
		}
		out.GatewayResponses = append(out.GatewayResponses, r)
	}
	return out, nil
}

// DeleteGatewayResponse resets one type of an API to API Gateway's default.
func (s *Server) DeleteGatewayResponse(ctx context.Context, req *adminv1.DeleteGatewayResponseRequest) (*emptypb.Empty, error) {
	v := newViolations(req)
	v.id("api_id", req.GetApiId())
	t := req.GetResponseType()
	if !gatewayresponse.Type(t).Valid() {
		v.add("response_type", "must be a gateway response type (%s), got %q", typeNames(), t)
	}
	if !validID(req.GetApiId()) {
		return nil, v.err()
	}
	return s.deleteResource(ctx, req.GetApiId(), v, func(d *draft, _ *violations) error {
		if err := checkEtag("api "+req.GetApiId(), req.GetEtag(), d.API.GetEtag()); err != nil {
			return err
		}
		i := slices.IndexFunc(d.API.GetGatewayResponses(), func(r *adminv1.GatewayResponse) bool {
			return r.GetResponseType() == t
		})
		if i < 0 {
			return notFound("gateway response", t, req.GetApiId())
		}
		api := proto.CloneOf(d.API)
		api.GatewayResponses = slices.Delete(api.GatewayResponses, i, i+1)
		api.UpdateTime = d.now
		d.putAPI(api)
		return nil
	})
}
