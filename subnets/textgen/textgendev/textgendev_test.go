package textgendev_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tessera-net/tessera/devnet"
	"github.com/tessera-net/tessera/internal/testutil"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/subnets/textgen"
	"github.com/tessera-net/tessera/subnets/textgen/textgendev"
)

// A devnet with the textgen subnet: miners on the SDK runtime (right, wrong, slow), a
// validator, and the gateway. Incentive follows quality, and the gateway answers from
// the best miner.
func TestDevnetTextgen(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: a devnet with miners, a validator and the gateway")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ext := textgendev.New(textgendev.Options{
		Miners: []textgendev.MinerSpec{
			{Account: "Dave", Backend: textgen.BuiltinConfig{Seed: 1}},
			{Account: "Eve", Backend: textgen.BuiltinConfig{Seed: 2, WrongRate: 1}},
			{Account: "Ferdie", Backend: textgen.BuiltinConfig{Seed: 3, Latency: 2500 * time.Millisecond}},
		},
		Validators: []string{"Bob"},
	})
	layout := devnet.DefaultSubnetLayout()
	layout.Tempo = 10
	runCtx, stopParts := context.WithCancel(ctx)
	d, err := devnet.Start(runCtx, devnet.Options{BasePort: 0, BlockTime: 200 * time.Millisecond, Subnet: &layout, Extensions: []devnet.Extension{ext}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		stopParts()
		if err := ext.Wait(); err != nil {
			t.Errorf("parts stopped with: %v", err)
		}
		d.Stop()
	}()
	const dave, eve, ferdie, bob = 3, 4, 5, 1
	hotkey := func(uri string) string { p, _ := keys.FromURI(uri); return p.Public().String() }

	ask := func(prompt string) (int, string, string) {
		body, _ := json.Marshal(map[string]any{"model": "tessera-textgen", "messages": []map[string]string{{"role": "user", "content": prompt}}})
		resp, err := http.Post(ext.GatewayURL()+"/chat/completions", "application/json", strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		var cr struct {
			Choices []struct {
				Message struct{ Content string } `json:"message"`
			} `json:"choices"`
		}
		json.Unmarshal(data, &cr)
		if len(cr.Choices) == 0 {
			return resp.StatusCode, string(data), resp.Header.Get("X-Tessera-Miner")
		}
		return resp.StatusCode, cr.Choices[0].Message.Content, resp.Header.Get("X-Tessera-Miner")
	}
	gen, _ := textgen.NewGenerator(textgen.GeneratorConfig{Seed: 5, Kinds: []textgen.Kind{textgen.Sort}})
	task := gen.Next()
	testutil.Eventually(t, 60*time.Second, "the gateway answers from a miner", func() (bool, string) {
		status, text, _ := ask(task.Prompt)
		return status == 200 && text != "", fmt.Sprintf("%d %s", status, text)
	})

	testutil.Eventually(t, 90*time.Second, "incentive following quality", func() (bool, string) {
		var mg subnets.Metagraph
		if _, err := d.Client.Query(ctx, "/subnets/metagraph/1", 0, &mg); err != nil {
			t.Fatal(err)
		}
		inc := mg.Incentive
		return len(mg.Weights[bob]) > 0 && inc[dave] > inc[ferdie] && inc[ferdie] > inc[eve],
			fmt.Sprintf("bob's weights %v, incentive %v", mg.Weights[bob], inc)
	})

	// With top-1 routing the gateway now sends requests to Dave, the best miner.
	testutil.Eventually(t, 30*time.Second, "the gateway routes to the best miner", func() (bool, string) {
		status, text, miner := ask(task.Prompt)
		return status == 200 && miner == hotkey("//Dave") && textgen.Check(task, text) == 1, fmt.Sprintf("%d %q from %s", status, text, miner)
	})

	// A streamed request is streamed by the miner (the runtime serves the streaming
	// route): the answer arrives token by token, not as one chunk.
	body, _ := json.Marshal(map[string]any{"model": "tessera-textgen", "stream": true,
		"messages": []map[string]string{{"role": "user", "content": task.Prompt}}})
	resp, err := http.Post(ext.GatewayURL()+"/chat/completions", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var pieces []string
	for line := range strings.Lines(string(data)) {
		payload, ok := strings.CutPrefix(strings.TrimSpace(line), "data: ")
		if !ok || payload == "[DONE]" {
			continue
		}
		var c struct {
			Choices []struct {
				Delta struct{ Content string } `json:"delta"`
			} `json:"choices"`
		}
		if err := json.Unmarshal([]byte(payload), &c); err != nil {
			t.Fatalf("stream event %q: %v", payload, err)
		}
		if len(c.Choices) > 0 && c.Choices[0].Delta.Content != "" {
			pieces = append(pieces, c.Choices[0].Delta.Content)
		}
	}
	if resp.StatusCode != 200 || len(pieces) < 2 || !strings.HasSuffix(strings.TrimSpace(string(data)), "data: [DONE]") ||
		textgen.Check(task, strings.Join(pieces, "")) != 1 {
		t.Fatalf("streamed answer: status %d, %d content chunks %q\n%s", resp.StatusCode, len(pieces), pieces, data)
	}
}
