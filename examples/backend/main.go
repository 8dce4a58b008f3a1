// Command backend is the pet service behind examples/petstore.yaml: a
// small in-memory HTTP API on 127.0.0.1:8081, so that `make run` has a real
// backend for Envoy to proxy to.
//
//	GET  /pets        the pets, as a JSON array
//	POST /pets        add a pet ({"name": "...", "type": "..."})
//	GET  /pets/{id}   one pet, or 404
//	anything else     an echo of the request (method, path, query, headers)
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "listen `address`")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := &http.Server{Addr: *addr, Handler: newPetStore().routes(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	log.Info("pet service listening", "addr", *addr)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		log.Error("pet service", "error", err)
		os.Exit(1)
	}
}

// pet is one animal of the store.
type pet struct {
	ID    int     `json:"id"`
	Type  string  `json:"type"`
	Price float64 `json:"price"`
}

// petStore keeps the pets in memory, as the AWS PetStore sample does.
type petStore struct {
	mu   sync.Mutex
	pets []pet
}

func newPetStore() *petStore {
	return &petStore{pets: []pet{{1, "dog", 249.99}, {2, "cat", 124.99}, {3, "fish", 0.99}}}
}

func (s *petStore) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /pets", s.list)
	mux.HandleFunc("POST /pets", s.add)
	mux.HandleFunc("GET /pets/{id}", s.get)
	mux.HandleFunc("/", echo)
	return mux
}

func (s *petStore) list(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	writeJSON(w, http.StatusOK, s.pets)
}

func (s *petStore) get(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(r.PathValue("id"))
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.pets {
		if err == nil && p.ID == id {
			writeJSON(w, http.StatusOK, p)
			return
		}
	}
	writeJSON(w, http.StatusNotFound, map[string]string{"message": "no pet " + r.PathValue("id")})
}

func (s *petStore) add(w http.ResponseWriter, r *http.Request) {
	var p pet
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&p); err != nil || p.Type == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "want a JSON pet with a type"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p.ID = len(s.pets) + 1
	s.pets = append(s.pets, p)
	writeJSON(w, http.StatusCreated, p)
}

// echo answers with what it received, to show what the gateway forwards.
func echo(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"method": r.Method, "path": r.URL.Path, "query": r.URL.RawQuery, "host": r.Host, "headers": r.Header,
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
