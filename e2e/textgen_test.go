package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tessera-net/tessera/internal/testutil"
	"github.com/tessera-net/tessera/modules/subnets"
)

// `tessera devnet` as a user runs it: the text-generation subnet with miners of four
// qualities, two validators and the gateway. After a few epochs incentive ranks the good
// miner first and the often-wrong one last, and the gateway answers with the printed key.
func TestDevnetTextgenRanksMinersAndServesChat(t *testing.T) {
	ctx := binaryTest(t, 3*time.Minute)
	base := testutil.FreePorts(t, 3)
	stdout := startDevnet(ctx, t, base, "--block-time", "200ms", "--tempo", "10",
		"--gateway", "127.0.0.1:0", "--quiet", "--log-level", "warn", "-o", "json")
	var info struct {
		RPC     string `json:"rpc"`
		Gateway struct {
			URL    string `json:"url"`
			APIKey string `json:"api_key"`
			Model  string `json:"model"`
		} `json:"gateway"`
		Subnet struct {
			Miners []string `json:"Miners"`
		} `json:"subnet"`
	}
	readSummary(t, stdout, &info)
	if info.Gateway.URL == "" || info.Gateway.APIKey == "" {
		t.Fatalf("no gateway or key in the summary: %+v", info)
	}

	// Miners are uids 3.. in the order good, slow, wrong, flapping.
	node := "--node=" + strings.TrimPrefix(info.RPC, "tcp://")
	var mg subnets.Metagraph
	ranked := func() bool {
		raw := tessera(t, "metagraph", "--netuid", "1", node, "-o", "json")
		if err := json.Unmarshal(raw, &mg); err != nil {
			t.Fatal(err)
		}
		good, wrong := mg.Incentive[3], mg.Incentive[5]
		for uid := 3; uid < int(mg.N); uid++ {
			if uid != 3 && mg.Incentive[uid] >= good || uid != 5 && mg.Incentive[uid] <= wrong {
				return false
			}
		}
		return good > 0
	}
	for deadline := time.Now().Add(2 * time.Minute); !ranked(); time.Sleep(time.Second) {
		if time.Now().After(deadline) {
			t.Fatalf("incentive does not rank the miners by quality: %v", mg.Incentive)
		}
	}

	chat := func(key string) (int, string) {
		body := `{"model":"` + info.Gateway.Model + `","messages":[{"role":"user","content":"What is the capital of Peru? Answer with the name only."}]}`
		req, _ := http.NewRequestWithContext(ctx, "POST", info.Gateway.URL+"/chat/completions", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := chat(info.Gateway.APIKey); code != 200 || !strings.Contains(body, "Lima") {
		t.Fatalf("chat with the printed key: %d %s", code, body)
	}
	if code, body := chat("tsk-not-a-key"); code != 401 || !strings.Contains(body, `"error"`) {
		t.Fatalf("chat with a wrong key: %d %s", code, body)
	}
}
