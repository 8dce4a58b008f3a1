package admin

import (
	"context"
	"errors"

	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/archway-gateway/archway/internal/store"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// apiMutable lists the fields of an Api that updates may change.
func apiMutable() []string {
	return []string{"name", "description", "protocol", "tags", "api_key_source", "gateway_responses", "binary_media_types", "models"}
}

// validateAPI checks the client-set fields of an API.
func validateAPI(v *violations, field string, api *adminv1.Api) {
	v.name(field+".name", api.GetName())
	v.description(field+".description", api.GetDescription())
	v.protocol(field+".protocol", api.GetProtocol())
	v.tags(field+".tags", api.GetTags())
	v.keySource(field+".api_key_source", api.GetApiKeySource())
	v.gatewayResponses(field+".gateway_responses", api.GetGatewayResponses())
	v.binaryMediaTypes(field+".binary_media_types", api.GetBinaryMediaTypes())
	v.models(field+".models", api.GetModels())
}

// normalizeAPI puts the client-set fields of an API in their stored form,
// once they are valid: gateway responses in order of type, marked as
// customizations; models in order of name.
func normalizeAPI(api *adminv1.Api) {
	for _, r := range api.GetGatewayResponses() {
		r.DefaultResponse = false
	}
	sortGatewayResponses(api.GatewayResponses)
	normalizeModels(api.Models)
}

// keySource checks where an API's routes that require a key find it.
// Unspecified is allowed and means the header, AWS's default.
func (v *violations) keySource(field string, s adminv1.ApiKeySource) {
	if _, known := adminv1.ApiKeySource_name[int32(s)]; !known {
		v.add(field, "must be API_KEY_SOURCE_HEADER or API_KEY_SOURCE_AUTHORIZER, got %v", s)
	}
}

// protocol checks an API protocol, after normalizeProtocol.
func (v *violations) protocol(field string, p adminv1.Protocol) {
	if p != adminv1.Protocol_PROTOCOL_HTTP && p != adminv1.Protocol_PROTOCOL_REST {
		v.add(field, "must be PROTOCOL_HTTP or PROTOCOL_REST, got %v", p)
	}
}

// normalizeProtocol makes an unspecified protocol HTTP, the default of
// Amazon API Gateway's current API kind, so that stored APIs always say
// which semantics they have.
func normalizeProtocol(p adminv1.Protocol) adminv1.Protocol {
	if p == adminv1.Protocol_PROTOCOL_UNSPECIFIED {
		return adminv1.Protocol_PROTOCOL_HTTP
	}
	return p
}

// CreateApi creates an API with a new id. Its name must be unused.
func (s *Server) CreateApi(ctx context.Context, req *adminv1.CreateApiRequest) (*adminv1.Api, error) {
	v := newViolations(req)
	in := req.GetApi()
	api := &adminv1.Api{
		Name:             in.GetName(),
		Description:      in.GetDescription(),
		Protocol:         normalizeProtocol(in.GetProtocol()),
		Tags:             in.GetTags(),
		ApiKeySource:     in.GetApiKeySource(),
		GatewayResponses: in.GetGatewayResponses(),
		BinaryMediaTypes: in.GetBinaryMediaTypes(),
		Models:           in.GetModels(),
	}
	validateAPI(v, "api", api)
	if err := v.err(); err != nil {
		return nil, err
	}
	normalizeAPI(api)
	if err := s.checkAPICount(ctx); err != nil {
		return nil, err
	}
	now := s.timestamp()
	api.Id, api.CreateTime, api.UpdateTime = newID(), now, now
	err := s.commit(ctx, newAPIDraft(api, now))
	if errors.Is(err, store.ErrConflict) {
		// Only a clash of random ids gets here; the client may retry.
		err = s.storeError(ctx, err)
	}
	if err != nil {
		return nil, err
	}
	return api, nil
}

// checkAPICount fails if the gateway already has maxAPIs APIs. The count
// is read before the create, so APIs created at the same moment may
// overshoot the limit by their number; the limit protects resources, not
// an invariant.
func (s *Server) checkAPICount(ctx context.Context) error {
	n, err := s.store.CountAPIs(ctx)
	if err != nil {
		return s.storeError(ctx, err)
	}
	if n >= maxAPIs {
		return limitExceeded("APIs per gateway", maxAPIs, "gateway")
	}
	return nil
}

// GetApi returns one API, with its status.
func (s *Server) GetApi(ctx context.Context, req *adminv1.GetApiRequest) (*adminv1.Api, error) {
	v := newViolations(req)
	v.id("id", req.GetId())
	if err := v.err(); err != nil {
		return nil, err
	}
	api, err := s.getAPI(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	return api, s.fillStatus(ctx, api)
}

// getAPI reads one API as stored, without its status; a missing one is
// NOT_FOUND.
func (s *Server) getAPI(ctx context.Context, id string) (*adminv1.Api, error) {
	get := func(ctx context.Context, _, id string) (*adminv1.Api, error) { return s.store.GetAPI(ctx, id) }
	return getResource(ctx, s, get, "api", "", id)
}

// ListApis returns one page of APIs in id order, or the API with the given
// name, with their statuses.
func (s *Server) ListApis(ctx context.Context, req *adminv1.ListApisRequest) (*adminv1.ListApisResponse, error) {
	v := newViolations(req)
	size := v.pageSize("page_size", req.GetPageSize())
	after := v.pageToken("page_token", req.GetPageToken(), store.APIsPrefix())
	if req.GetName() != "" {
		v.name("name", req.GetName())
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if req.GetName() != "" {
		return s.apiNamed(ctx, req.GetName())
	}
	apis, next, err := s.store.ListAPIs(ctx, store.Page{After: after, Limit: size})
	if err != nil {
		return nil, s.storeError(ctx, err)
	}
	if err := s.fillStatus(ctx, apis...); err != nil {
		return nil, err
	}
	return &adminv1.ListApisResponse{Apis: apis, NextPageToken: pageTokenOf(next)}, nil
}

// apiNamed lists the API with the given name, if there is one.
func (s *Server) apiNamed(ctx context.Context, name string) (*adminv1.ListApisResponse, error) {
	id, err := s.store.APIIDByName(ctx, name)
	if err == nil {
		var api *adminv1.Api
		if api, err = s.store.GetAPI(ctx, id); err == nil {
			if err := s.fillStatus(ctx, api); err != nil {
				return nil, err
			}
			return &adminv1.ListApisResponse{Apis: []*adminv1.Api{api}}, nil
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		return &adminv1.ListApisResponse{}, nil
	}
	return nil, s.storeError(ctx, err)
}

// UpdateApi changes an API's name, description, protocol or tags. A new
// name must be unused; the old one is released in the same transaction.
func (s *Server) UpdateApi(ctx context.Context, req *adminv1.UpdateApiRequest) (*adminv1.Api, error) {
	v := newViolations(req)
	in := req.GetApi()
	v.id("api.id", in.GetId())
	paths := v.updatePaths("update_mask", req.GetUpdateMask(), in.ProtoReflect().Descriptor(), apiMutable())
	if !validID(in.GetId()) {
		return nil, v.err()
	}
	return updateResource(ctx, s, v, resourceUpdate[*adminv1.Api]{
		apiID: in.GetId(), kind: "api", id: in.GetId(), in: in, paths: paths,
		find: func(d *draft) (*adminv1.Api, error) { return d.API, nil },
		check: func(_ *draft, v *violations, api *adminv1.Api) error {
			api.Protocol = normalizeProtocol(api.GetProtocol())
			validateAPI(v, "api", api)
			if v.ok() {
				normalizeAPI(api)
			}
			return nil
		},
		put: func(d *draft, _, api *adminv1.Api) {
			api.UpdateTime = d.now
			d.putAPI(api)
		},
	})
}

// DeleteApi deletes an API and everything under it in one transaction.
func (s *Server) DeleteApi(ctx context.Context, req *adminv1.DeleteApiRequest) (*emptypb.Empty, error) {
	v := newViolations(req)
	v.id("id", req.GetId())
	if err := v.err(); err != nil {
		return nil, err
	}
	err := s.retry(ctx, req.GetId(), func() error {
		st, err := s.store.ReadAPI(ctx, req.GetId())
		if errors.Is(err, store.ErrNotFound) {
			return notFound("api", req.GetId(), "")
		}
		if err != nil {
			return s.storeError(ctx, err)
		}
		if err := checkEtag("api "+req.GetId(), req.GetEtag(), st.API.GetEtag()); err != nil {
			return err
		}
		err = s.store.DeleteAPI(ctx, st)
		if err != nil && !errors.Is(err, store.ErrConflict) {
			return s.storeError(ctx, err)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "api deleted", "api_id", req.GetId())
	return &emptypb.Empty{}, nil
}
