package devnet

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/tessera-net/tessera/api"
	"github.com/tessera-net/tessera/genesis"
)

// fakeGateway is an extension that runs a gateway at a fixed URL.
type fakeGateway struct{ url string }

func (fakeGateway) Name() string                         { return "fake-gateway" }
func (fakeGateway) Genesis(*genesis.AppState) error      { return nil }
func (fakeGateway) Start(context.Context, *Devnet) error { return nil }
func (g fakeGateway) GatewayURL() string                 { return g.url }

// The devnet's node serves the explorer it is given at / and /explorer/ and tells the
// page its gateway (an extension's GatewayURL, without the /v1 of the OpenAI base URL);
// NoExplorer serves no page.
func TestDevnetExplorer(t *testing.T) {
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "page "+r.URL.Path) })
	for _, off := range []bool{false, true} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		d, err := Start(ctx, Options{BlockTime: 200 * time.Millisecond, Explorer: page, NoExplorer: off,
			Extensions: []Extension{fakeGateway{"http://127.0.0.1:8080/v1"}}})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		base := d.Node.APIAddress()
		var c api.ExplorerConfig
		getJSON(t, base+"/v1/explorer/config", 200, &c)
		if c.GatewayURL != "http://127.0.0.1:8080" || c.ChainID != ChainID {
			t.Errorf("explorer config %+v", c)
		}
		for _, p := range []string{"/", "/explorer/"} {
			resp, err := http.Get(base + p)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if off && (resp.StatusCode != 404 || d.Node.ExplorerURL() != "") || !off && (resp.StatusCode != 200 || string(b) != "page "+p || d.Node.ExplorerURL() != base+"/") {
				t.Errorf("NoExplorer %v: GET %s: %d %s (explorer URL %q)", off, p, resp.StatusCode, b, d.Node.ExplorerURL())
			}
		}
		d.Stop()
	}
}
