package watcher

import (
	"context"
	"testing"

	"github.com/archway-gateway/archway/internal/model"
)

func config(t *testing.T, rev int64) *model.Config {
	t.Helper()
	cfg, err := model.NewConfig(rev, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestSubscribeLatestWins(t *testing.T) {
	w := New(nil, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	early := w.Subscribe(ctx)
	select {
	case cfg := <-early:
		t.Fatalf("got config %d before anything was published", cfg.Revision)
	default:
	}

	c1, c2, c3 := config(t, 1), config(t, 2), config(t, 3)
	w.publish(c1)
	w.publish(c2)
	if got := <-early; got != c2 {
		t.Fatalf("slow subscriber got revision %d, want the latest, 2", got.Revision)
	}
	select {
	case cfg := <-early:
		t.Fatalf("stale config %d left in the channel", cfg.Revision)
	default:
	}

	late := w.Subscribe(ctx)
	if got := <-late; got != c2 {
		t.Fatalf("new subscriber got revision %d first, want the current one, 2", got.Revision)
	}

	w.publish(c1) // older than current: never published
	if w.Current() != c2 {
		t.Fatalf("Current() = %d after publishing an older config, want 2", w.Current().Revision)
	}
	w.publish(c3)
	for _, ch := range []<-chan *model.Config{early, late} {
		if got := <-ch; got != c3 {
			t.Fatalf("subscriber got revision %d, want 3", got.Revision)
		}
	}

	cancel()
	for _, ch := range []<-chan *model.Config{early, late} {
		if _, open := <-ch; open {
			t.Fatal("channel still open after its context ended")
		}
	}
	w.publish(config(t, 4)) // must not send on the closed channels
	if n := len(w.subs); n != 0 {
		t.Errorf("%d subscribers left after their contexts ended", n)
	}
}

func TestSubscribersShareOneConfig(t *testing.T) {
	w := New(nil, Options{})
	ctx := t.Context()
	a, b := w.Subscribe(ctx), w.Subscribe(ctx)
	cfg := config(t, 7)
	w.publish(cfg)
	if <-a != cfg || <-b != cfg || w.Current() != cfg {
		t.Fatal("subscribers did not get the published pointer itself")
	}
}
