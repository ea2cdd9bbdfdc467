// Command replay measures `ariadne serve` end to end: it starts the server
// binary on a fresh data directory, replays pre-encoded tracegen-shaped OTLP
// requests over gRPC and HTTP, then reads back through the API. It prints a
// Markdown report: spans per server CPU-second, acknowledgement latency,
// peak RSS, bytes per span on disk, trace-by-id and search latency.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/mem"

	"github.com/ariadnehq/ariadne/bench/tracegen"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "replay:", err)
		os.Exit(1)
	}
}

type options struct {
	server      string
	spans       int
	batchTraces int
	workers     int
	dataDir     string
	queries     int
	cpuProfile  string
	serveArgs   string
}

func run() error {
	var o options
	flag.StringVar(&o.server, "server", "bin/ariadne", "path of the ariadne binary")
	flag.IntVar(&o.spans, "spans", 1_000_000, "spans to send")
	flag.IntVar(&o.batchTraces, "batch-traces", 100, "traces per request (10 spans each)")
	flag.IntVar(&o.workers, "workers", 4, "concurrent senders, half gRPC and half HTTP")
	flag.StringVar(&o.dataDir, "data-dir", "", "data directory (default: a temporary one, removed after)")
	flag.IntVar(&o.queries, "queries", 200, "trace-by-id lookups")
	flag.StringVar(&o.serveArgs, "serve-args", "", "extra flags for `ariadne serve`, space-separated")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "have the server write a CPU profile of its whole run to this file")
	flag.Parse()
	if o.dataDir == "" {
		d, err := os.MkdirTemp("", "ariadne-replay-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		o.dataDir = d
	}
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	grpcAddr, httpAddr, apiAddr := "127.0.0.1:"+ports[0], "127.0.0.1:"+ports[1], "127.0.0.1:"+ports[2]
	args := []string{"serve", "--data-dir", o.dataDir, "--otlp-grpc-addr", grpcAddr,
		"--otlp-http-addr", httpAddr, "--http-addr", apiAddr, "--log-level", "warn", "--queue-rows", "2000000"}
	if o.cpuProfile != "" {
		args = append(args, "--cpuprofile", o.cpuProfile)
	}
	args = append(args, strings.Fields(o.serveArgs)...)
	cmd := exec.Command(o.server, args...)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start server: %w", err)
	}
	defer cmd.Process.Kill()
	api := "http://" + apiAddr
	if err := waitReady(api, 60*time.Second); err != nil {
		return err
	}

	tpl, err := tracegen.New(42, o.batchTraces)
	if err != nil {
		return err
	}
	batches := (o.spans + tpl.Spans - 1) / tpl.Spans
	fmt.Fprintf(os.Stderr, "sending %d requests of %d spans (%d bytes each) with %d workers\n", batches, tpl.Spans, len(tpl.Body), o.workers)

	load0 := loadAvg()
	cpu0, err := procCPU(cmd.Process.Pid)
	if err != nil {
		return err
	}
	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodecV2(rawCodec{})))
	if err != nil {
		return err
	}
	defer conn.Close()
	hc := &http.Client{Timeout: time.Minute}

	// The data set spans one hour ending now, in time order.
	end := uint64(time.Now().UnixNano())
	start := end - uint64(time.Hour)
	step := uint64(time.Hour) / uint64(batches)
	var next atomic.Int64
	lat := make([][]time.Duration, o.workers)
	var retries atomic.Int64
	var wg sync.WaitGroup
	t0 := time.Now()
	errc := make(chan error, o.workers)
	for w := 0; w < o.workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			buf := make([]byte, len(tpl.Body))
			for {
				b := next.Add(1) - 1
				if b >= int64(batches) {
					return
				}
				tpl.Patch(buf, uint32(b), start+uint64(b)*step)
				for {
					t := time.Now()
					var err error
					if w%2 == 0 {
						err = conn.Invoke(context.Background(), "/opentelemetry.proto.collector.trace.v1.TraceService/Export", buf, new([]byte))
					} else {
						err = postHTTP(hc, "http://"+httpAddr+"/v1/traces", buf)
					}
					if err == nil {
						lat[w] = append(lat[w], time.Since(t))
						break
					}
					if !errors.Is(err, errRetry) && !strings.Contains(err.Error(), "ResourceExhausted") && !strings.Contains(err.Error(), "Unavailable") {
						errc <- err
						return
					}
					retries.Add(1)
					time.Sleep(50 * time.Millisecond)
				}
				if b%500 == 0 {
					fmt.Fprintf(os.Stderr, "\r%d/%d requests", b, batches)
				}
			}
		}(w)
	}
	wg.Wait()
	wall := time.Since(t0)
	fmt.Fprintln(os.Stderr)
	select {
	case err := <-errc:
		return fmt.Errorf("send: %w", err)
	default:
	}
	cpu1, err := procCPU(cmd.Process.Pid)
	if err != nil {
		return err
	}
	sent := batches * tpl.Spans
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}

	// Reads.
	var ids []string
	for len(ids) < o.queries {
		var res struct {
			Traces []struct{ TraceID string }
		}
		q := url.Values{"limit": {"100"}, "service": {tracegen.Service(len(ids) % tracegen.Services)},
			"start": {strconv.FormatUint(start+uint64(len(ids))*uint64(time.Hour)/uint64(o.queries), 10)}, "end": {strconv.FormatUint(end+1, 10)}}
		if err := getJSON(hc, api+"/api/v1/traces?"+q.Encode(), &res); err != nil {
			return fmt.Errorf("find trace ids: %w", err)
		}
		if len(res.Traces) == 0 {
			return errors.New("find trace ids: search returned nothing")
		}
		ids = append(ids, res.Traces[0].TraceID)
	}
	var byID []time.Duration
	for _, id := range ids { // one warm-up pass, then measure
		getJSON(hc, api+"/api/v1/traces/"+id, nil)
	}
	for _, id := range ids {
		t := time.Now()
		if err := getJSON(hc, api+"/api/v1/traces/"+id, nil); err != nil {
			return fmt.Errorf("trace by id: %w", err)
		}
		byID = append(byID, time.Since(t))
	}
	rng := fmt.Sprintf("start=%d&end=%d&limit=20", start, end+1)
	searches := []struct{ name, q string }{
		{"service", "service=" + tracegen.Service(3)},
		{"service + operation", "service=" + tracegen.Service(3) + "&operation=" + tracegen.Operation(7)},
		{"min duration 45ms", "minDuration=45ms"},
		// The requests repeat one template of 100 traces, which most likely
		// holds no k42=v317: that search finds nothing and reads every window.
		{"attribute k42=v317", "attr.k42=v317"},
		{"attribute " + tpl.SampleAttr[0] + "=" + tpl.SampleAttr[1] + " (in every request)",
			"attr." + tpl.SampleAttr[0] + "=" + tpl.SampleAttr[1]},
		{"errors only", "error=true"},
		{"free text 'timeout'", "q=timeout"},
	}
	type searchResult struct {
		name     string
		med, max time.Duration
	}
	var sr []searchResult
	for _, s := range searches {
		var ds []time.Duration
		for i := 0; i < 5; i++ {
			t := time.Now()
			if err := getJSON(hc, api+"/api/v1/traces?"+rng+"&"+s.q, nil); err != nil {
				return fmt.Errorf("search %s: %w", s.name, err)
			}
			ds = append(ds, time.Since(t))
		}
		sortDur(ds)
		sr = append(sr, searchResult{s.name, ds[2], ds[4]})
	}
	rss, _ := procHWM(cmd.Process.Pid)

	// Stop gracefully (commit + checkpoint), then measure the files.
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("server exit: %w", err)
	}
	size, err := dirSize(o.dataDir)
	if err != nil {
		return err
	}

	sortDur(all)
	sortDur(byID)
	host, _ := os.Hostname()
	fmt.Printf("## End-to-end ingest and query (bench/replay)\n\n")
	fmt.Printf("Date %s; machine %s, %d cores (%s), %s RAM; %d spans (tracegen shape) in %d requests of %d spans, %d workers (half OTLP/gRPC, half OTLP/HTTP); load average %s before, %s after.\n\n",
		time.Now().UTC().Format("2006-01-02"), host, runtime.NumCPU(), cpuModel(), memTotal(), sent, batches, tpl.Spans, o.workers, load0, loadAvg())
	fmt.Printf("| measure | result |\n|---|---|\n")
	fmt.Printf("| ingest, spans per server CPU-second (durable acks) | %.0f |\n", float64(sent)/(cpu1-cpu0))
	fmt.Printf("| ingest, spans per wall second | %.0f |\n", float64(sent)/wall.Seconds())
	fmt.Printf("| acknowledgement latency p50 / p99 / max | %s / %s / %s |\n", pct(all, 50), pct(all, 99), all[len(all)-1].Round(time.Millisecond))
	fmt.Printf("| requests retried after 429/503 | %d |\n", retries.Load())
	fmt.Printf("| server peak RSS | %d MiB |\n", rss>>20)
	fmt.Printf("| bytes per span on disk (after shutdown checkpoint) | %.1f |\n", float64(size)/float64(sent))
	fmt.Printf("| trace by id p50 / p99 (warm, %d lookups, through the API) | %s / %s |\n", len(byID), pct(byID, 50), pct(byID, 99))
	for _, s := range sr {
		fmt.Printf("| search, %s, last hour, top 20 (median / max of 5) | %s / %s |\n", s.name, s.med.Round(100*time.Microsecond), s.max.Round(100*time.Microsecond))
	}
	return nil
}

var errRetry = errors.New("retryable status")

func postHTTP(c *http.Client, u string, body []byte) error {
	resp, err := c.Post(u, "application/x-protobuf", bytes.NewReader(body))
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	switch {
	case resp.StatusCode == 200:
		return nil
	case resp.StatusCode == 429 || resp.StatusCode == 503:
		return errRetry
	}
	return fmt.Errorf("POST %s: %s", u, resp.Status)
}

func getJSON(c *http.Client, u string, v any) error {
	resp, err := c.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 {
		return fmt.Errorf("GET %s: %s: %s", u, resp.Status, b)
	}
	if v == nil {
		return nil
	}
	return json.Unmarshal(b, v)
}

func waitReady(api string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(api + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("server did not become ready")
}

func freePorts(n int) ([]string, error) {
	var ps []string
	var lns []net.Listener
	defer func() {
		for _, l := range lns {
			l.Close()
		}
	}()
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, l)
		ps = append(ps, strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
	}
	return ps, nil
}

// procCPU is the user+system CPU seconds of a process.
func procCPU(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100, nil // USER_HZ is 100 on Linux
}

func procHWM(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			kb, _ := strconv.ParseInt(strings.Fields(l)[1], 10, 64)
			return kb << 10, nil
		}
	}
	return 0, errors.New("no VmHWM")
}

func dirSize(dir string) (int64, error) {
	var n int64
	err := filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return err
	})
	return n, err
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "model name") {
			return strings.TrimSpace(strings.SplitN(l, ":", 2)[1])
		}
	}
	return "unknown CPU"
}

// loadAvg is the 1-minute load average of the machine, which shares its
// cores with whatever else runs.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

func memTotal() string {
	b, _ := os.ReadFile("/proc/meminfo")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "MemTotal:") {
			kb, _ := strconv.ParseInt(strings.Fields(l)[1], 10, 64)
			return fmt.Sprintf("%.0f GiB", float64(kb)/(1<<20))
		}
	}
	return "?"
}

func sortDur(d []time.Duration) { sort.Slice(d, func(i, j int) bool { return d[i] < d[j] }) }

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := (len(d)*p + 99) / 100
	if i > 0 {
		i--
	}
	return d[i].Round(100 * time.Microsecond)
}

// rawCodec sends pre-encoded protobuf bytes as they are.
type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(v.([]byte))}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	*(v.(*[]byte)) = data.Materialize()
	return nil
}

func (rawCodec) Name() string { return "proto" }
