package admin

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/archway-gateway/archway/internal/store"
)

// Page sizes of every List call, as in Google's API design guide: zero asks
// for the default, and a size above the maximum is an error rather than
// silently truncated, so a client never mistakes a short page for the end.
const (
	defaultPageSize = 100
	maxPageSize     = 1000
)

// encodePageToken returns the token for the page after the one that ended
// with lastKey. Tokens are opaque to clients: they are the store key of the
// last resource returned, so a page stays correct while resources are added
// or removed between calls.
func encodePageToken(lastKey string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(lastKey))
}

// pageToken decodes a page token for the collection under prefix and
// returns the key the page starts after; "" means the first page. A token
// that does not decode, or that was issued for another collection or API,
// is a violation of field.
func (v *violations) pageToken(field, token, prefix string) string {
	if token == "" {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	key := string(raw)
	if err != nil || !strings.HasPrefix(key, prefix) || len(key) == len(prefix) {
		v.add(field, "not a page token of this collection")
		return ""
	}
	return key
}

// pageTokenOf returns the token for the page after lastKey, or "" if the
// store said there is no next page.
func pageTokenOf(lastKey string) string {
	if lastKey == "" {
		return ""
	}
	return encodePageToken(lastKey)
}

// listFunc reads one page of an API's collection from the store.
type listFunc[T proto.Message] func(ctx context.Context, apiID string, p store.Page) ([]T, string, error)

// listPage serves a List call for a collection under an API: it checks
// the request, reads one page and returns it with the next page token. An
// empty page of an API that does not exist is NOT_FOUND, not an empty list.
func listPage[T proto.Message](ctx context.Context, s *Server, req proto.Message, apiID string,
	size int32, token string, prefix func(string) string, list listFunc[T],
) ([]T, string, error) {
	v := newViolations(req)
	v.id("api_id", apiID)
	n := v.pageSize("page_size", size)
	after := v.pageToken("page_token", token, prefix(apiID))
	if err := v.err(); err != nil {
		return nil, "", err
	}
	items, next, err := list(ctx, apiID, store.Page{After: after, Limit: n})
	if err != nil {
		return nil, "", s.storeError(ctx, err)
	}
	if len(items) == 0 {
		if _, err := s.store.GetAPI(ctx, apiID); errors.Is(err, store.ErrNotFound) {
			return nil, "", notFound("api", apiID, "")
		} else if err != nil {
			return nil, "", s.storeError(ctx, err)
		}
	}
	return items, pageTokenOf(next), nil
}
