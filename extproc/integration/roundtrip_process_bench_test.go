package integration

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/archway-gateway/archway/internal/model"
)

// benchServerEnv names the file TestExtProcBenchServer writes its
// exchanges' service times to; it is set only in the child process
// BenchmarkExtProcRoundTrip starts.
const benchServerEnv = "ARCHWAY_EXTPROC_BENCH_SERVER_OUT"

// TestExtProcBenchServer is the server half of BenchmarkExtProcRoundTrip's
// "template-process" case, run in a child process: it serves the
// benchmark's route, prints its address, and answers commands on stdin
// ("reset" forgets the exchanges so far); at the end of stdin it writes
// the service time of each exchange since the last reset, in
// nanoseconds, one per line, to the file named by benchServerEnv.
func TestExtProcBenchServer(t *testing.T) {
	out := os.Getenv(benchServerEnv)
	if out == "" {
		t.Skip("the server of BenchmarkExtProcRoundTrip; it runs only when the benchmark starts it")
	}
	cfg := benchConfig(t, benchHTTP())
	var clock serviceClock
	addr := listenBench(t, NewLookup(func() *model.Config { return cfg }, Options{}), &clock)
	fmt.Printf("addr %s\n", addr)
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		if sc.Text() == "reset" {
			clock.reset()
			fmt.Println("ok")
		}
	}
	clock.mu.Lock()
	defer clock.mu.Unlock()
	var b strings.Builder
	for _, d := range clock.exchanges {
		b.WriteString(strconv.FormatInt(int64(d), 10) + "\n")
	}
	if err := os.WriteFile(out, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// serverProcess is TestExtProcBenchServer running in a child process.
type serverProcess struct {
	addr   string
	out    string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
}

// startServerProcess starts TestExtProcBenchServer in a child process of
// this test binary, as Envoy and the service are separate processes.
func startServerProcess(b *testing.B) *serverProcess {
	b.Helper()
	p := &serverProcess{out: filepath.Join(b.TempDir(), "service-times")}
	p.cmd = exec.Command(os.Args[0], "-test.run", "^TestExtProcBenchServer$", "-test.count", "1")
	p.cmd.Env = append(os.Environ(), benchServerEnv+"="+p.out)
	p.cmd.Stderr = os.Stderr
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		b.Fatal(err)
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	p.stdout = bufio.NewReader(stdout)
	if err := p.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = p.stdin.Close()
		_ = p.cmd.Wait()
	})
	line, err := p.stdout.ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "addr ")
	if err != nil || !ok {
		b.Fatalf("the server process said %q: %v", line, err)
	}
	p.addr = addr
	return p
}

// reset makes the server forget the exchanges so far, and waits until it
// has.
func (p *serverProcess) reset(b *testing.B) {
	b.Helper()
	if _, err := io.WriteString(p.stdin, "reset\n"); err != nil {
		b.Fatal(err)
	}
	if _, err := p.stdout.ReadString('\n'); err != nil {
		b.Fatal(err)
	}
}

// stop ends the server and returns its exchanges' service times since
// the last reset.
func (p *serverProcess) stop(b *testing.B) []time.Duration {
	b.Helper()
	_ = p.stdin.Close()
	if err := p.cmd.Wait(); err != nil {
		b.Fatalf("the server process: %v", err)
	}
	data, err := os.ReadFile(p.out)
	if err != nil {
		b.Fatal(err)
	}
	var ds []time.Duration
	for line := range strings.Lines(string(data)) {
		n, err := strconv.ParseInt(strings.TrimSpace(line), 10, 64)
		if err != nil {
			b.Fatal(err)
		}
		ds = append(ds, time.Duration(n))
	}
	return ds
}
