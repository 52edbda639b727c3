package e2e

import (
	"bufio"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tessera-net/tessera/internal/testutil"
)

// `tessera devnet` observed as an operator does: its metrics endpoint serves the
// in-process miners', validators' and scorers' metrics, each labelled with its account,
// and its info-level log has the subnet's start but not a "weights set" line per
// validator every few seconds.
func TestDevnetMetricsAndQuietLog(t *testing.T) {
	ctx := binaryTest(t, 3*time.Minute)
	logPath := filepath.Join(t.TempDir(), "devnet.log")
	api := startLoggedDevnet(ctx, t, logPath, "--block-time", "200ms", "--tempo", "10", "--quiet", "--log-level", "info")

	want := []string{
		`tessera_validator_weights_set_total{account="Bob",result="ok",subnet="textgen"}`,
		`tessera_validator_rounds_total{account="Charlie",subnet="textgen"}`,
		`tessera_sdk_scoring_rounds_total{account="Bob",name="textgen"}`,
		`tessera_sdk_scoring_miners_scored_total{account="Charlie",name="textgen"}`,
		`tessera_miner_metagraph_uids{account="Dave",subnet="textgen"}`,
		`tessera_textgen_miner_requests_total{account="Dave",mode="unary",outcome="ok"}`,
	}
	var got map[string]float64
	testutil.Eventually(t, 2*time.Minute, "the parts' metrics on the devnet's endpoint", func() (bool, string) {
		got = scrape(t, api+"/metrics")
		for _, w := range want {
			if got[w] <= 0 {
				return false, w + " missing or zero"
			}
		}
		return true, ""
	})

	log, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), `msg="textgen subnet running"`) {
		t.Fatalf("the log has no info lines:\n%s", log)
	}
	if n := strings.Count(string(log), `msg="weights set"`); n > 0 {
		t.Fatalf("%d \"weights set\" lines at info level (%v weights set by Bob):\n%s", n, got[want[0]], log)
	}
}

// startLoggedDevnet runs `tessera devnet --output json` with args on free ports, its log
// in logPath, and returns its JSON API's URL once it runs; it stops with the test.
func startLoggedDevnet(ctx context.Context, t *testing.T, logPath string, args ...string) string {
	t.Helper()
	stdout := startDevnetLog(ctx, t, testutil.FreePorts(t, 4), logPath, append([]string{"-o", "json"}, args...)...)
	var info struct {
		API string `json:"api"`
	}
	readSummary(t, stdout, &info)
	return info.API
}

// scrape reads a Prometheus text endpoint into series → value, a series written as
// the endpoint writes it (name{label="value",…}).
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		i := strings.LastIndexByte(line, ' ')
		if strings.HasPrefix(line, "#") || i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	if resp.StatusCode != 200 || sc.Err() != nil {
		t.Fatalf("GET %s: %s %v", url, resp.Status, sc.Err())
	}
	return out
}
