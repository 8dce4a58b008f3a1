package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"sync"
)

// processLog is the output of `archway serve --log-format json`: it passes
// every line on to the test log and keeps what the tests need from the
// gateway's own JSON records. Envoy's lines, which share the output, are
// passed on and otherwise ignored.
type processLog struct {
	out io.Writer

	mu      sync.Mutex
	partial []byte
	// serving maps each gRPC server ("admin", "xds") to its bound address.
	serving map[string]string
	// envoyPID is the pid of the Envoy the gateway launched last.
	envoyPID string
	// snapshots are the versions of the snapshots the xDS server served,
	// in order.
	snapshots []string
}

func newProcessLog(out io.Writer) *processLog {
	return &processLog{out: out, serving: make(map[string]string)}
}

// Write records every complete line of p and keeps the rest for later.
func (l *processLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := l.partial[:i+1]
		l.record(line)
		if _, err := l.out.Write(line); err != nil {
			return 0, err
		}
		l.partial = l.partial[i+1:]
	}
}

// logRecord is the part of a gateway log record the tests read.
type logRecord struct {
	Msg     string          `json:"msg"`
	Server  string          `json:"server"`
	Addr    string          `json:"addr"`
	PID     json.RawMessage `json:"pid"`
	Version string          `json:"version"`
}

// record takes what the tests need from one line. l.mu must be held.
func (l *processLog) record(line []byte) {
	var r logRecord
	if json.Unmarshal(line, &r) != nil {
		return // one of Envoy's lines
	}
	switch r.Msg {
	case "serving":
		l.serving[r.Server] = r.Addr
	case "envoy started":
		if _, err := strconv.Atoi(string(r.PID)); err == nil {
			l.envoyPID = string(r.PID)
		}
	case "serving snapshot":
		l.snapshots = append(l.snapshots, r.Version)
	}
}

// published returns the versions of the snapshots served so far, oldest
// first.
func (l *processLog) published() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.snapshots)
}

// read returns what get takes from the log, under the log's lock.
func (l *processLog) read(get func(*processLog) string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return get(l)
}
