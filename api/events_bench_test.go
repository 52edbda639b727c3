package api_test

import (
	"context"
	"io"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/tessera-net/tessera/devnet"
)

// processCPU is the CPU time this process has used, user and system.
func processCPU(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkEventStreamsCPU measures what /v1/events costs a node: the CPU time of a
// single-node chain at 1-second blocks (the node and its API in this process) over a
// window without event streams, then over as long a window with 10 streams open and
// read (their readers run in this process too, so the cost is over- rather than
// under-stated), then again without (the baseline is the mean of the two). It reports
// both as a share of one core, and the streams' extra as a share of one core and of the
// node's own CPU use. It runs once, whatever b.N. The node's own CPU varies by a few
// tenths of a percent of a core between windows, more than the streams cost:
// BenchmarkEventsFanout10 measures that cost per block precisely.
func BenchmarkEventStreamsCPU(b *testing.B) {
	const (
		streams = 10
		window  = 20 * time.Second
	)
	ctx, cancel := context.WithTimeout(context.Background(), 3*window+time.Minute)
	defer cancel()
	d, err := devnet.Start(ctx, devnet.Options{BlockTime: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Stop()
	base := d.Node.APIAddress()
	if err := d.WaitHeight(ctx, 3); err != nil {
		b.Fatal(err)
	}
	measure := func() (cpu time.Duration, wall time.Duration, height int64) {
		h0, _ := d.Client.AppHeight(ctx)
		c0, t0 := processCPU(b), time.Now()
		time.Sleep(window)
		c1, t1 := processCPU(b), time.Now()
		h1, _ := d.Client.AppHeight(ctx)
		return c1 - c0, t1.Sub(t0), h1 - h0
	}
	b.ResetTimer()
	idleCPU, idleWall, idleBlocks := measure()

	hc := &http.Client{Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	var bodies []io.ReadCloser
	read := make(chan int64, streams)
	for range streams {
		resp, err := hc.Get(base + "/v1/events")
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("open a stream: %v %v", err, resp)
		}
		bodies = append(bodies, resp.Body)
		go func() {
			n, _ := io.Copy(io.Discard, resp.Body)
			read <- n
		}()
	}
	time.Sleep(2 * time.Second) // the streams settle
	busyCPU, busyWall, busyBlocks := measure()
	var total int64
	for _, body := range bodies {
		body.Close()
	}
	for range streams {
		total += <-read
	}
	time.Sleep(2 * time.Second)
	idle2CPU, idle2Wall, idle2Blocks := measure()
	b.StopTimer()
	idleCPU, idleWall, idleBlocks = idleCPU+idle2CPU, idleWall+idle2Wall, idleBlocks+idle2Blocks
	if total == 0 || busyBlocks < int64(window/time.Second)/2 {
		b.Fatalf("the streams read %d bytes over %d blocks", total, busyBlocks)
	}
	pct := func(cpu, wall time.Duration) float64 { return 100 * cpu.Seconds() / wall.Seconds() }
	idle, busy := pct(idleCPU, idleWall), pct(busyCPU, busyWall)
	b.ReportMetric(idle, "node-%cpu")
	b.ReportMetric(busy, "node+streams-%cpu")
	b.ReportMetric(busy-idle, "streams-%cpu")
	b.ReportMetric(100*(busy-idle)/idle, "streams-%of-node")
	b.ReportMetric(float64(total)/float64(streams)/float64(busyBlocks), "bytes/block/stream")
	b.Logf("%d streams, %d blocks without and %d with: node %.2f%% of a core alone, %.2f%% with the streams (%d bytes read); the streams' extra %.3f%% of a core, %.1f%% of the node's CPU",
		streams, idleBlocks, busyBlocks, idle, busy, total, busy-idle, 100*(busy-idle)/idle)
}
