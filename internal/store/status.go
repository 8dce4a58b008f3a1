package store

import (
	"context"
	"fmt"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// An API's status is what the xDS servers made of its deployed stages. It
// is kept apart from the API record so that reporting it never conflicts
// with an admin change to the API (the record's etag stays the client's),
// and so that the watcher, which builds the data plane's model, never sees
// its own output come back as input.

// StatusKey is the key of an API's status.
func StatusKey(apiID string) string { return statusPrefix + apiID }

// StatusPrefix is the prefix of every API status.
func StatusPrefix() string { return statusPrefix }

// PutStatus writes an API's status, provided the API still exists: a
// status computed from a model the API has since been deleted from must
// not outlive the API. It returns ErrNotFound if the API is gone.
func (s *Store) PutStatus(ctx context.Context, apiID string, st *adminv1.ApiStatus) error {
	v, err := marshal(st)
	if err != nil {
		return err
	}
	resp, err := s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(APIKey(apiID)), ">", 0)).
		Then(clientv3.OpPut(StatusKey(apiID), string(v))).
		Commit()
	if err != nil {
		return fmt.Errorf("put status of api %s: %w", apiID, err)
	}
	if !resp.Succeeded {
		return ErrNotFound
	}
	return nil
}

// DeleteStatus removes an API's status, if it has one.
func (s *Store) DeleteStatus(ctx context.Context, apiID string) error {
	if _, err := s.cli.Delete(ctx, StatusKey(apiID)); err != nil {
		return fmt.Errorf("delete status of api %s: %w", apiID, err)
	}
	return nil
}

// GetStatus reads an API's status; ErrNotFound means none was reported.
func (s *Store) GetStatus(ctx context.Context, apiID string) (*adminv1.ApiStatus, error) {
	m := &adminv1.ApiStatus{}
	return m, s.get(ctx, StatusKey(apiID), m)
}

// Statuses reads every API status, by API id.
func (s *Store) Statuses(ctx context.Context) (map[string]*adminv1.ApiStatus, error) {
	return s.statusRange(ctx, statusPrefix, clientv3.GetPrefixRangeEnd(statusPrefix))
}

// StatusesBetween reads, in one range read, the statuses of the APIs whose
// ids lie between first and last inclusive: the statuses of one page of
// APIs, which is listed in id order.
func (s *Store) StatusesBetween(ctx context.Context, first, last string) (map[string]*adminv1.ApiStatus, error) {
	if first > last {
		return map[string]*adminv1.ApiStatus{}, nil
	}
	return s.statusRange(ctx, StatusKey(first), StatusKey(last)+"\x00")
}

// statusRange reads the statuses in [from, end), in pages.
func (s *Store) statusRange(ctx context.Context, from, end string) (map[string]*adminv1.ApiStatus, error) {
	out := make(map[string]*adminv1.ApiStatus)
	err := s.scan(ctx, from, end, func(kv *mvccpb.KeyValue) error {
		key, ok := ParseKey(string(kv.Key))
		if !ok || key.Kind != KindStatus {
			return nil
		}
		m := &adminv1.ApiStatus{}
		if err := unmarshal(kv, m); err != nil {
			return err
		}
		out[key.APIID] = m
		return nil
	})
	return out, err
}

// scan calls fn for every key in [from, end), reading loadPageSize keys
// at a time at one revision.
func (s *Store) scan(ctx context.Context, from, end string, fn func(*mvccpb.KeyValue) error) error {
	var rev int64
	for {
		opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(loadPageSize)}
		if rev != 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		resp, err := s.cli.Get(ctx, from, opts...)
		if err != nil {
			return fmt.Errorf("read %s: %w", from, err)
		}
		rev = resp.Header.Revision
		for _, kv := range resp.Kvs {
			if err := fn(kv); err != nil {
				return err
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return nil
		}
		from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}
