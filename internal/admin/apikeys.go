package admin

import (
	"context"
	"crypto/sha256"
	"errors"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/archway-gateway/archway/internal/store"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// API key limits, as in Amazon API Gateway.
const (
	maxAPIKeys       = 10000
	maxCustomerIDLen = 256
	minKeyValueLen   = 20
	maxKeyValueLen   = 128
	generatedKeyLen  = 40
	keyValueAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

// apiKeyMutable lists the fields of an ApiKey that updates may change. The
// value never changes: a client that needs a new one creates a new key.
func apiKeyMutable() []string {
	return []string{"name", "description", "enabled", "customer_id", "tags"}
}

// validateAPIKey checks the client-set fields of an API key but its value.
func validateAPIKey(v *violations, field string, k *adminv1.ApiKey) {
	v.name(field+".name", k.GetName())
	v.description(field+".description", k.GetDescription())
	v.text(field+".customer_id", k.GetCustomerId(), maxCustomerIDLen)
	v.tags(field+".tags", k.GetTags())
}

// keyValue checks an API key value given by a client, as AWS does: 20-128
// printable ASCII characters without spaces. The description never
// repeats the value, which is a secret.
func (v *violations) keyValue(field, s string) {
	if !validKeyValue(s) {
		v.add(field, "must be %d-%d printable ASCII characters without spaces", minKeyValueLen, maxKeyValueLen)
	}
}

func validKeyValue(s string) bool {
	if len(s) < minKeyValueLen || len(s) > maxKeyValueLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// newKeyValue returns a random API key value of generatedKeyLen characters
// of [A-Za-z0-9], like the keys AWS generates, from crypto/rand without
// modulo bias.
func newKeyValue() string { return randomString(keyValueAlphabet, generatedKeyLen) }

// hashKeyValue returns the SHA-256 the store keeps instead of a value.
func hashKeyValue(value string) []byte {
	h := sha256.Sum256([]byte(value))
	return h[:]
}

// newAPIKeyRecord returns the record of a new key built from in: fresh id
// and times, the value replaced by its hash.
func (s *Server) newAPIKeyRecord(in *adminv1.ApiKey, value string) *adminv1.ApiKey {
	now := s.timestamp()
	return &adminv1.ApiKey{
		Id: newID(), Name: in.GetName(), Description: in.GetDescription(), Enabled: in.GetEnabled(),
		CustomerId: in.GetCustomerId(), Tags: in.GetTags(), CreateTime: now, UpdateTime: now,
		ValueHash: hashKeyValue(value),
	}
}

// withValue returns the key as a create response shows it, the only time
// its value is ever returned.
func withValue(k *adminv1.ApiKey, value string) *adminv1.ApiKey {
	out := proto.CloneOf(k)
	out.ValueHash, out.Value = nil, value
	return out
}

// redact clears what a stored key holds that no response may show.
func redact(keys ...*adminv1.ApiKey) {
	for _, k := range keys {
		k.ValueHash, k.Value = nil, ""
	}
}

// CreateApiKey creates an API key, with a generated value unless the
// request gives one. The response is the only one that holds the value.
func (s *Server) CreateApiKey(ctx context.Context, req *adminv1.CreateApiKeyRequest) (*adminv1.ApiKey, error) {
	v := newViolations(req)
	in := req.GetApiKey()
	validateAPIKey(v, "api_key", in)
	value := in.GetValue()
	if value == "" {
		value = newKeyValue()
	} else {
		v.keyValue("api_key.value", value)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if err := s.checkAPIKeyCount(ctx, 1); err != nil {
		return nil, err
	}
	k := s.newAPIKeyRecord(in, value)
	rev, err := s.createAPIKeys(ctx, []*adminv1.ApiKey{k}, func(int) string { return "api key" }, nil, nil)
	if err != nil {
		return nil, err
	}
	store.SetEtag(k, rev)
	s.log.InfoContext(ctx, "api key created", "api_key_id", k.GetId(), "name", k.GetName(), "revision", rev)
	return withValue(k, value), nil
}

// createAPIKeys writes new keys in one transaction, with their
// associations with usage plans (as read; nil for none). A taken name or
// value is ALREADY_EXISTS, naming the key with subject. ErrConflict is
// returned as is, for retry, if one of the plans changed.
func (s *Server) createAPIKeys(ctx context.Context, keys []*adminv1.ApiKey, subject func(i int) string,
	links []*adminv1.UsagePlanKey, plans []*adminv1.UsagePlan,
) (int64, error) {
	rev, err := s.store.CreateAPIKeys(ctx, keys, links, plans)
	var taken *store.TakenError
	switch {
	case errors.As(err, &taken) && taken.Field == "name":
		return 0, alreadyExists("%s: api key name %q is taken", subject(taken.Index), keys[taken.Index].GetName())
	case errors.As(err, &taken):
		return 0, alreadyExists("%s: another api key has the same value", subject(taken.Index))
	case errors.Is(err, store.ErrConflict) && len(plans) > 0:
		return 0, err
	case err != nil:
		// ErrConflict here means a clash of random ids; the client may retry.
		return 0, s.storeError(ctx, err)
	}
	return rev, nil
}

// checkAPIKeyCount fails if adding n keys would exceed maxAPIKeys. As for
// APIs, creates racing each other may overshoot by their number.
func (s *Server) checkAPIKeyCount(ctx context.Context, n int) error {
	have, err := s.store.CountAPIKeys(ctx)
	if err != nil {
		return s.storeError(ctx, err)
	}
	if have+int64(n) > maxAPIKeys {
		return limitExceeded("API keys per gateway", maxAPIKeys, "gateway")
	}
	return nil
}

// GetApiKey returns one API key, without its value.
func (s *Server) GetApiKey(ctx context.Context, req *adminv1.GetApiKeyRequest) (*adminv1.ApiKey, error) {
	v := newViolations(req)
	v.id("id", req.GetId())
	if err := v.err(); err != nil {
		return nil, err
	}
	k, err := s.getAPIKey(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	redact(k)
	return k, nil
}

// getAPIKey reads a stored key, hash included.
func (s *Server) getAPIKey(ctx context.Context, id string) (*adminv1.ApiKey, error) {
	get := func(ctx context.Context, _, id string) (*adminv1.ApiKey, error) { return s.store.GetAPIKey(ctx, id) }
	return getResource(ctx, s, get, "api key", "", id)
}

// ListApiKeys returns one page of API keys in id order, without values.
func (s *Server) ListApiKeys(ctx context.Context, req *adminv1.ListApiKeysRequest) (*adminv1.ListApiKeysResponse, error) {
	v := newViolations(req)
	size := v.pageSize("page_size", req.GetPageSize())
	after := v.pageToken("page_token", req.GetPageToken(), store.APIKeysPrefix())
	if err := v.err(); err != nil {
		return nil, err
	}
	keys, next, err := s.store.ListAPIKeys(ctx, store.Page{After: after, Limit: size})
	if err != nil {
		return nil, s.storeError(ctx, err)
	}
	redact(keys...)
	return &adminv1.ListApiKeysResponse{ApiKeys: keys, NextPageToken: pageTokenOf(next)}, nil
}

// UpdateApiKey changes an API key's name, description, enabled,
// customer_id or tags. A new name must be unused; the old one is released
// in the same transaction.
func (s *Server) UpdateApiKey(ctx context.Context, req *adminv1.UpdateApiKeyRequest) (*adminv1.ApiKey, error) {
	v := newViolations(req)
	in := req.GetApiKey()
	v.id("api_key.id", in.GetId())
	paths := v.updatePaths("update_mask", req.GetUpdateMask(), in.ProtoReflect().Descriptor(), apiKeyMutable())
	if err := v.err(); err != nil {
		return nil, err
	}
	var out *adminv1.ApiKey
	err := s.retry(ctx, "key "+in.GetId(), func() error {
		old, err := s.getAPIKey(ctx, in.GetId())
		if err != nil {
			return err
		}
		if err := checkEtag("api key "+in.GetId(), in.GetEtag(), old.GetEtag()); err != nil {
			return err
		}
		changed := proto.CloneOf(old)
		applyPaths(changed, in, paths)
		v := newViolations(req)
		validateAPIKey(v, "api_key", changed)
		if err := v.err(); err != nil {
			return err
		}
		if out = changed; proto.Equal(changed, old) {
			return nil
		}
		changed.UpdateTime = s.timestamp()
		return s.updateAPIKey(ctx, old, changed)
	})
	if err != nil {
		return nil, err
	}
	redact(out)
	return out, nil
}

// updateAPIKey writes a changed key and sets its new etag. ErrConflict is
// returned as is, for retry.
func (s *Server) updateAPIKey(ctx context.Context, old, changed *adminv1.ApiKey) error {
	rev, err := s.store.UpdateAPIKey(ctx, old, changed)
	switch {
	case errors.Is(err, store.ErrConflict):
		return err
	case errors.Is(err, store.ErrAlreadyExists):
		return alreadyExists("api key name %q is taken", changed.GetName())
	case err != nil:
		return s.storeError(ctx, err)
	}
	store.SetEtag(changed, rev)
	s.log.InfoContext(ctx, "api key updated", "api_key_id", changed.GetId(), "name", changed.GetName(), "revision", rev)
	return nil
}

// DeleteApiKey deletes an API key, freeing its name and value.
func (s *Server) DeleteApiKey(ctx context.Context, req *adminv1.DeleteApiKeyRequest) (*emptypb.Empty, error) {
	v := newViolations(req)
	v.id("id", req.GetId())
	if err := v.err(); err != nil {
		return nil, err
	}
	err := s.retry(ctx, "key "+req.GetId(), func() error {
		k, err := s.getAPIKey(ctx, req.GetId())
		if err != nil {
			return err
		}
		if err := checkEtag("api key "+req.GetId(), req.GetEtag(), k.GetEtag()); err != nil {
			return err
		}
		err = s.store.DeleteAPIKey(ctx, k)
		if err != nil && !errors.Is(err, store.ErrConflict) {
			return s.storeError(ctx, err)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "api key deleted", "api_key_id", req.GetId())
	return &emptypb.Empty{}, nil
}
