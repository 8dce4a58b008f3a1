// Package store keeps Archway's API definitions in etcd.
//
// Values are binary protobuf messages of archway.admin.v1. A resource's etag
// is the etcd ModRevision of its key, so it is never stored and can never go
// stale. Every change under one API is a single etcd transaction that also
// rewrites the API's guard key (see SeqKey); a writer that read the API at
// one revision therefore fails with ErrConflict, instead of overwriting,
// when anything under the API changed in between.
package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// Errors returned by the store. Compare with errors.Is.
var (
	// ErrNotFound means the resource does not exist.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists means a unique name is taken.
	ErrAlreadyExists = errors.New("already exists")
	// ErrConflict means the data changed since it was read; read it again
	// and retry.
	ErrConflict = errors.New("concurrent change")
)

// loadPageSize bounds each range request of Load so that a large data set
// never becomes one huge etcd response.
const loadPageSize = 500

// Store reads and writes API definitions in etcd.
type Store struct {
	cli *clientv3.Client
}

// New returns a store that uses cli. The caller owns cli and closes it.
func New(cli *clientv3.Client) *Store { return &Store{cli: cli} }

// Client returns the etcd client the store uses.
func (s *Store) Client() *clientv3.Client { return s.cli }

// Load reads every key under Root at one revision, in pages, and returns
// them with that revision. Watching from rev+1 then misses nothing.
func (s *Store) Load(ctx context.Context) (int64, []*mvccpb.KeyValue, error) {
	end := clientv3.GetPrefixRangeEnd(Root)
	var (
		rev int64
		kvs []*mvccpb.KeyValue
	)
	for from := Root; ; {
		opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(loadPageSize)}
		if rev != 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		resp, err := s.cli.Get(ctx, from, opts...)
		if err != nil {
			return 0, nil, fmt.Errorf("load %s: %w", Root, err)
		}
		if rev == 0 {
			rev = resp.Header.Revision
		}
		kvs = append(kvs, resp.Kvs...)
		if !resp.More || len(resp.Kvs) == 0 {
			return rev, kvs, nil
		}
		from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

// Watch follows every change under Root from revision fromRev on. The
// channel closes when ctx is done or the watch fails; a response whose
// CompactRevision is set means fromRev is gone and the caller must Load again.
func (s *Store) Watch(ctx context.Context, fromRev int64) clientv3.WatchChan {
	ctx = clientv3.WithRequireLeader(ctx)
	return s.cli.Watch(ctx, Root, clientv3.WithPrefix(), clientv3.WithRev(fromRev), clientv3.WithProgressNotify())
}

// Decode decodes a key-value pair of the schema into its message, with the
// etag set. Keys that hold no resource (name index, guard) decode to a nil
// message.
func Decode(kv *mvccpb.KeyValue) (Key, proto.Message, error) {
	key, ok := ParseKey(string(kv.Key))
	if !ok {
		return Key{}, nil, fmt.Errorf("key %q is not in the schema", kv.Key)
	}
	var m proto.Message
	switch key.Kind {
	case KindAPI:
		m = &adminv1.Api{}
	case KindRoute:
		m = &adminv1.Route{}
	case KindIntegration:
		m = &adminv1.Integration{}
	case KindStage:
		m = &adminv1.Stage{}
	case KindDeployment:
		m = &adminv1.Deployment{}
	case KindStatus:
		m = &adminv1.ApiStatus{}
	case KindFleet:
		m = &adminv1.EnvoyNode{}
	case KindAPIKey:
		m = &adminv1.ApiKey{}
	case KindUsagePlan:
		m = &adminv1.UsagePlan{}
	case KindUsagePlanKey:
		m = &adminv1.UsagePlanKey{}
	default:
		return key, nil, nil
	}
	if err := unmarshal(kv, m); err != nil {
		return Key{}, nil, err
	}
	return key, m, nil
}

func unmarshal(kv *mvccpb.KeyValue, m proto.Message) error {
	if err := proto.Unmarshal(kv.Value, m); err != nil {
		return fmt.Errorf("decode %s: %w", kv.Key, err)
	}
	setEtag(m, kv.ModRevision)
	return nil
}

// SetEtag sets the etag field of a resource to the revision it was written
// at, as returned by a commit.
func SetEtag(m proto.Message, rev int64) { setEtag(m, rev) }

func setEtag(m proto.Message, rev int64) {
	r := m.ProtoReflect()
	if f := etagField(r); f != nil {
		r.Set(f, protoreflect.ValueOfString(Etag(rev)))
	}
}

func etagField(r protoreflect.Message) protoreflect.FieldDescriptor {
	f := r.Descriptor().Fields().ByName("etag")
	if f == nil || f.Kind() != protoreflect.StringKind {
		return nil
	}
	return f
}

// marshal encodes m deterministically without its etag, which is derived
// from the key's revision and never stored.
func marshal(m proto.Message) ([]byte, error) {
	if f := etagField(m.ProtoReflect()); f != nil && m.ProtoReflect().Has(f) {
		m = proto.Clone(m)
		m.ProtoReflect().Clear(f)
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", m.ProtoReflect().Descriptor().FullName(), err)
	}
	return b, nil
}

// get reads one resource into m.
func (s *Store) get(ctx context.Context, key string, m proto.Message) error {
	resp, err := s.cli.Get(ctx, key)
	if err != nil {
		return fmt.Errorf("get %s: %w", key, err)
	}
	if len(resp.Kvs) == 0 {
		return ErrNotFound
	}
	return unmarshal(resp.Kvs[0], m)
}

// Page selects part of a collection in key order.
type Page struct {
	// After is the last key of the previous page; empty starts at the
	// beginning.
	After string
	// Limit is the most items to return; it must be positive.
	Limit int
}

// list reads one page of the collection under prefix, decoding each value
// with newT. next is the key to pass as Page.After for the following page,
// or empty after the last one.
func list[T proto.Message](ctx context.Context, s *Store, prefix string, p Page, newT func() T) (items []T, next string, err error) {
	from := prefix
	if p.After != "" {
		from = p.After + "\x00"
	}
	resp, err := s.cli.Get(ctx, from,
		clientv3.WithRange(clientv3.GetPrefixRangeEnd(prefix)), clientv3.WithLimit(int64(p.Limit)))
	if err != nil {
		return nil, "", fmt.Errorf("list %s: %w", prefix, err)
	}
	items = make([]T, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		m := newT()
		if err := unmarshal(kv, m); err != nil {
			return nil, "", err
		}
		items = append(items, m)
	}
	if resp.More && len(resp.Kvs) > 0 {
		next = string(resp.Kvs[len(resp.Kvs)-1].Key)
	}
	return items, next, nil
}

// Batch collects the writes of one transaction. The first encoding error
// sticks and fails the commit, so callers can add writes without checking
// each one.
type Batch struct {
	ops   []clientv3.Op
	cmps  []clientv3.Cmp
	names map[string]string // name reservation key -> id of its holder
	err   error
}

// Put stores m (without its etag) at key.
func (b *Batch) Put(key string, m proto.Message) {
	v, err := marshal(m)
	if err != nil {
		b.err = errors.Join(b.err, err)
		return
	}
	b.ops = append(b.ops, clientv3.OpPut(key, string(v)))
}

// Delete removes key.
func (b *Batch) Delete(key string) {
	b.ops = append(b.ops, clientv3.OpDelete(key))
}

// Len returns the number of writes in the batch.
func (b *Batch) Len() int { return len(b.ops) }

// ReserveName claims an API name for apiID: the commit fails with
// ErrAlreadyExists if another API holds it.
func (b *Batch) ReserveName(name, apiID string) { b.reserve(APINameKey(name), apiID) }

// reserve claims the name reservation key (of an API, API key or usage
// plan) for id: the commit fails with ErrAlreadyExists if another
// resource holds it.
func (b *Batch) reserve(key, id string) {
	b.cmps = append(b.cmps, clientv3.Compare(clientv3.CreateRevision(key), "=", 0))
	b.ops = append(b.ops, clientv3.OpPut(key, id))
	if b.names == nil {
		b.names = make(map[string]string)
	}
	b.names[key] = id
}

// unchangedSince returns the comparison that holds while the record at key
// is as it was read with etag, its ModRevision then.
func unchangedSince(what, key, etag string) (clientv3.Cmp, error) {
	rev, err := strconv.ParseInt(etag, 10, 64)
	if err != nil {
		return clientv3.Cmp{}, fmt.Errorf("%s: bad etag: %w", what, err)
	}
	return clientv3.Compare(clientv3.ModRevision(key), "=", rev), nil
}

// ReleaseName gives up an API name, as a rename does with the old one.
func (b *Batch) ReleaseName(name string) {
	b.Delete(APINameKey(name))
}
