package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/tessera-net/tessera/internal/testutil"
)

// The explorer in a real browser (headless Chromium driven over the DevTools protocol):
// `tessera devnet` runs with its miners, validators and gateway; the test registers a
// wallet (a transfer to it, then its hotkey on subnet 1) and sends the gateway chats;
// then the page loads, shows the recent blocks and a new one without a reload, the
// metagraph with every neuron, sorts it by a column, refreshes it after an epoch, shows
// the account's transfer and the gateway's traffic, fits a phone's width, writes nothing
// to the console, and shows the API's errors as sentences. Each page's screenshot is an
// artefact (go test -artifacts), and the first load's time is measured.
//
// Without Chromium the test is skipped, unless TESSERA_REQUIRE_CHROMIUM is set.
func TestExplorerInBrowser(t *testing.T) {
	ctx := binaryTest(t, 5*time.Minute)
	browser0 := newBrowser(t, 1280, 900)

	base := testutil.FreePorts(t, 4)
	stdout := startDevnet(ctx, t, base, "--block-time", "300ms", "--tempo", "5",
		"--gateway", "127.0.0.1:0", "--quiet", "--log-level", "warn", "-o", "json")
	var info struct {
		RPC      string `json:"rpc"`
		API      string `json:"api"`
		Explorer string `json:"explorer"`
		Accounts []struct {
			Name    string `json:"name"`
			Address string `json:"address"`
		} `json:"accounts"`
		Gateway struct {
			URL    string `json:"url"`
			APIKey string `json:"api_key"`
			Model  string `json:"model"`
		} `json:"gateway"`
	}
	readSummary(t, stdout, &info)
	alice := info.Accounts[0].Address
	page := explorerPage(t, info.Explorer)
	t.Logf("explorer at %s", page)

	// What the pages will show: a transfer to a new wallet and its registration, and
	// traffic through the gateway.
	run := cliRunner(t, strings.TrimPrefix(info.RPC, "tcp://"), t.TempDir())
	w := newRegisteredWallet(t, run, "explorer", "50")
	chats := 0
	for range 4 {
		if code := gatewayChat(ctx, t, info.Gateway.URL, info.Gateway.APIKey, info.Gateway.Model); code == 200 {
			chats++
		}
	}

	var coldMS float64
	t.Run("page loads", func(t *testing.T) {
		b := browser0.on(t)
		coldMS = b.open(page)
		b.waitJS("the recent blocks", `document.querySelectorAll('#blocks li.block').length >= 5`)
		b.waitJS("the validators", `document.querySelector('#validators tbody tr td')`)
		if h := b.number(`#c-height .value`); h < 1 {
			t.Fatalf("height card shows %v", h)
		}
		b.screenshot("chain")
	})

	t.Run("a new block appears without a reload", func(t *testing.T) {
		b := browser0.on(t)
		b.go_(page, "#/")
		top := evalJS[int](b, `Number(document.querySelector('#blocks li.block').dataset.height)`)
		b.waitJS("a block above "+strconv.Itoa(top), `Number(document.querySelector('#blocks li.block').dataset.height) > `+strconv.Itoa(top))
		b.waitJS("the live indicator to follow", `Number(document.querySelector('#live').textContent.replace(/\D/g, '')) > `+strconv.Itoa(top))
		b.sameDocument()
		if mode := evalJS[string](b, `document.querySelector('#live').dataset.mode`); mode != "sse" {
			t.Errorf("the page learns of blocks by %q, want the events stream (sse)", mode)
		}
	})

	t.Run("polling fallback", func(t *testing.T) {
		b := browser0.on(t)
		b.open(page + "?poll=1#/")
		top := evalJS[int](b, `Number(document.querySelector('#blocks li.block').dataset.height)`)
		b.waitJS("a polled block", `Number(document.querySelector('#blocks li.block').dataset.height) > `+strconv.Itoa(top))
		if mode := evalJS[string](b, `document.querySelector('#live').dataset.mode`); mode != "poll" {
			t.Errorf("live mode %q with ?poll=1", mode)
		}
	})

	t.Run("subnets", func(t *testing.T) {
		b := browser0.on(t)
		b.open(page + "explorer/#/subnets") // the page at /explorer/ as well as at /
		b.waitJS("subnet 1 in the list", `[...document.querySelectorAll('#subnets tbody a')].some(a => a.textContent === '1')`)
		b.screenshot("subnets")
	})

	t.Run("metagraph shows the registered neurons", func(t *testing.T) {
		b := browser0.on(t)
		var mg struct {
			N       int      `json:"n"`
			Hotkeys []string `json:"hotkeys"`
		}
		getJSON(t, info.API+"/v1/query/subnets/metagraph_lite/1", &mg)
		b.go_(page, "#/subnet/1")
		b.waitJS("the metagraph's rows", `document.querySelectorAll('#metagraph-table tbody tr[data-uid]').length >= `+strconv.Itoa(mg.N))
		shown := evalJS[[]string](b, `[...document.querySelectorAll('#metagraph-table tbody tr[data-uid] a.addr')].map(a => a.title)`)
		for _, hk := range mg.Hotkeys {
			if !slices.Contains(shown, hk) {
				t.Errorf("hotkey %s of the metagraph is not in the table %v", hk, shown)
			}
		}
		if !slices.Contains(shown, w.hotkey) {
			t.Errorf("the test wallet's hotkey %s is not in the table", w.hotkey)
		}
		b.waitJS("the incentive plot's points", `document.querySelectorAll('#plot-incentive svg circle').length >= 4`)
		b.waitJS("the emission plot's bars", `document.querySelectorAll('#plot-emission svg rect').length >= 4`)
		b.screenshot("subnet")
	})

	t.Run("sorting by a column", func(t *testing.T) {
		b := browser0.on(t)
		b.go_(page, "#/subnet/1")
		b.waitJS("the metagraph", `document.querySelector('#metagraph-table tbody tr[data-uid]')`)
		column := func(key string) []float64 {
			return evalJS[[]float64](b, `(() => {
				const i = [...document.querySelectorAll('#metagraph-table thead th')].findIndex(th => th.dataset.key === '`+key+`');
				return [...document.querySelectorAll('#metagraph-table tbody tr')].map(tr => Number(tr.children[i].dataset.v));
			})()`)
		}
		sortBy := func(key, dir string) {
			b.run("click "+key, chromedp.Click(`#metagraph-table th[data-key="`+key+`"] button`))
			b.waitJS(key+" "+dir, `document.querySelector('#metagraph-table th[data-key="`+key+`"]').getAttribute('aria-sort') === '`+dir+`'`)
		}
		sortBy("incentive", "descending")
		inc := column("incentive")
		if !slices.IsSortedFunc(inc, func(a, b float64) int { return -cmpF(a, b) }) || inc[0] <= 0 {
			t.Fatalf("incentive sorted descending: %v", inc)
		}
		if uids := column("uid"); uids[0] == 0 {
			t.Fatalf("sorted by incentive, the table still starts at uid 0: %v", uids)
		}
		sortBy("incentive", "ascending")
		if inc := column("incentive"); !slices.IsSorted(inc) {
			t.Fatalf("incentive sorted ascending: %v", inc)
		}
		sortBy("stake", "descending")
		if st := column("stake"); !slices.IsSortedFunc(st, func(a, b float64) int { return -cmpF(a, b) }) {
			t.Fatalf("stake sorted descending: %v", st)
		}
		sortBy("uid", "descending")
		sortBy("uid", "ascending")
		if uids := column("uid"); !slices.IsSorted(uids) {
			t.Fatalf("uids back in order: %v", uids)
		}
	})

	t.Run("an epoch appears without a reload", func(t *testing.T) {
		b := browser0.on(t)
		b.go_(page, "#/subnet/1")
		note := evalJS[string](b, `document.querySelector('#metagraph .note').textContent`)
		b.waitJS("the metagraph after the next epoch", `document.querySelector('#metagraph .note').textContent !== `+strconv.Quote(note))
		b.sameDocument()
	})

	t.Run("an account shows the transfer", func(t *testing.T) {
		b := browser0.on(t)
		b.go_(page, "#/account/"+w.coldkey)
		b.waitJS("the transfer from Alice", `[...document.querySelectorAll('#account-tx-list .tx[data-type="accounts/transfer"]')]
			.some(li => [...li.querySelectorAll('a.addr')].some(a => a.title === `+strconv.Quote(alice)+`) && li.querySelector('.amt').textContent === '50 tokens')`)
		b.waitJS("the registration on subnet 1", `[...document.querySelectorAll('#registrations tbody tr')].some(tr => tr.textContent.includes('subnet 1'))`)
		if bal := evalJS[string](b, `document.querySelector('#a-balance .value').textContent`); !strings.HasPrefix(bal, "49.99") {
			t.Errorf("balance card %q, want 50 tokens less the fees and the registration", bal)
		}
		b.screenshot("account")
	})

	t.Run("a block's transactions", func(t *testing.T) {
		b := browser0.on(t)
		b.go_(page, "#/block/3")
		b.waitJS("block 3's registrations", `document.querySelectorAll('.tx[data-type="subnets/register"]').length >= 1`)
		b.screenshot("block")
	})

	t.Run("gateway traffic", func(t *testing.T) {
		b := browser0.on(t)
		if chats == 0 {
			t.Fatal("the gateway answered no chat")
		}
		b.go_(page, "#/gateway")
		b.waitJS("the requests", `Number(document.querySelector('#g-req .value').textContent.replace(/\D/g, '')) >= `+strconv.Itoa(chats))
		b.waitJS("the share per miner", `document.querySelectorAll('#per-miner .hbar').length >= 1`)
		b.screenshot("gateway")
	})

	t.Run("phone width", func(t *testing.T) {
		b := browser0.on(t)
		b.run("390 px", chromedp.EmulateViewport(390, 844))
		defer b.run("back to 1280 px", chromedp.EmulateViewport(1280, 900))
		for _, route := range []string{"#/", "#/subnet/1", "#/account/" + w.coldkey} {
			b.go_(page, route)
			if sw := evalJS[int](b, `document.documentElement.scrollWidth`); sw > 390 {
				t.Errorf("%s is %d px wide at 390 px: it scrolls sideways", route, sw)
			}
		}
		b.go_(page, "#/subnet/1")
		b.waitJS("the plots", `document.querySelector('#plot-incentive svg')`)
		b.screenshot("subnet-390px")
		b.go_(page, "#/")
		b.screenshot("chain-390px")
	})

	t.Run("no console errors", func(t *testing.T) {
		b := browser0.on(t)
		for _, m := range b.messages() {
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException || m.Type == chromedp.ConsoleWarning {
				t.Errorf("console %s: %s (%s:%d)", m.Type, m.Text, m.URL, m.Line)
			}
		}
	})

	t.Run("API errors are readable", func(t *testing.T) {
		b := browser0.on(t)
		cases := []struct{ url, title, msg string }{
			{page + "#/subnet/999", "Could not read subnet 999", "Subnet 999 does not exist."},
			{page + "#/account/nope", "Could not read the account", `"nope" is neither an SS58 address nor a 32-byte hex public key`},
			{page + "#/block/999999999", "Could not read block 999999999", "Block 999999999: not found: the node has blocks 1 to "},
			{page + "#/tx/" + strings.Repeat("AB", 32), "Could not read transaction", strings.Repeat("AB", 32) + ": not found."},
			{page + "?api=http://" + closedPort(t) + "#/subnets", "Could not read the subnets", "Could not reach the node at 127.0.0.1:"},
		}
		for i, c := range cases {
			if i == 0 {
				b.open(c.url)
			} else {
				b.go_(c.url[:strings.IndexByte(c.url, '#')], c.url[strings.IndexByte(c.url, '#'):])
			}
			b.waitJS("an error box", `document.querySelector('.error-box .error-msg')`)
			title := evalJS[string](b, `document.querySelector('.error-box .error-title').textContent`)
			msg := evalJS[string](b, `document.querySelector('.error-box .error-msg').textContent`)
			if !strings.HasPrefix(title, c.title) || !strings.Contains(msg, c.msg) || strings.ContainsAny(msg, "{}") || strings.HasPrefix(msg, "not_found") {
				t.Errorf("%s: error %q / %q, want %q / %q", c.url, title, msg, c.title, c.msg)
			}
			if i == 0 {
				b.screenshot("error")
			}
		}
	})

	t.Run("first load time", func(t *testing.T) {
		b := browser0.on(t)
		var warm []float64
		for range 5 {
			warm = append(warm, b.open(page))
		}
		slices.Sort(warm)
		report := fmt.Sprintf("explorer first load, navigation start to the chain page's data rendered: cold cache %.0f ms; warm cache median %.0f ms (min %.0f, max %.0f, 5 loads)\n",
			coldMS, warm[2], warm[0], warm[4])
		t.Log(report)
		_ = os.WriteFile(filepath.Join(b.dir, "first-load.txt"), []byte(report), 0o644)
		// The 1 s target is BenchmarkExplorerFirstLoad's (BENCHMARKS.md); here, beside the
		// other packages' tests, only a page too slow to use fails.
		if coldMS > 3000 || warm[2] > 3000 {
			t.Errorf("first load over 3 s (the target is 1 s): %s", report)
		} else if coldMS > 1000 || warm[2] > 1000 {
			t.Logf("over the 1 s target (a loaded machine?): %s", report)
		}
	})
}

// BenchmarkExplorerFirstLoad measures the explorer's first load on `tessera devnet` as a
// user runs it (miners, validators and the gateway; 1 s blocks): each iteration opens the
// page in a fresh browser context (an empty cache) and takes the time from the
// navigation's start to the chain page's data on screen (status, validators, the last 20
// blocks with their transactions decoded): cold-ms; then again with the cache: warm-ms.
// The target is under 1 s.
func BenchmarkExplorerFirstLoad(b *testing.B) {
	ctx := binaryTest(b, 10*time.Minute)
	br := newBrowser(b, 1280, 900)
	stdout := startDevnet(ctx, b, testutil.FreePorts(b, 4), "--block-time", "1s",
		"--gateway", "127.0.0.1:0", "--quiet", "--log-level", "warn", "-o", "json")
	var info struct {
		Explorer string `json:"explorer"`
	}
	readSummary(b, stdout, &info)
	var cold, warm []float64
	for b.Loop() {
		tab, closeTab := br.fresh()
		cold = append(cold, tab.open(info.Explorer))
		warm = append(warm, tab.open(info.Explorer))
		closeTab()
	}
	slices.Sort(cold)
	slices.Sort(warm)
	b.ReportMetric(cold[len(cold)/2], "cold-ms")
	b.ReportMetric(cold[len(cold)-1], "cold-max-ms")
	b.ReportMetric(warm[len(warm)/2], "warm-ms")
}

func cmpF(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// explorerPage checks that the devnet serves the explorer at the URL its summary gives,
// and returns it.
func explorerPage(t *testing.T, page string) string {
	t.Helper()
	if page == "" {
		t.Fatal("the devnet's summary has no explorer URL")
	}
	resp, err := http.Get(page)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("GET %s: %s %q, want the explorer's page", page, resp.Status, ct)
	}
	return page
}

func getJSON(t *testing.T, url string, out any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s %v", url, resp.Status, err)
	}
}

// gatewayChat sends the gateway one chat completion and returns the answer's status.
func gatewayChat(ctx context.Context, t *testing.T, url, key, model string) int {
	t.Helper()
	body := `{"model":"` + model + `","messages":[{"role":"user","content":"What is the capital of Peru?"}]}`
	req, _ := http.NewRequestWithContext(ctx, "POST", url+"/chat/completions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// closedPort is a 127.0.0.1 address where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// chromium is the browser to drive: $TESSERA_CHROMIUM, else the first of Debian's
// chromium, chromium-browser and google-chrome on PATH; "" when there is none.
func chromium() string {
	if p := os.Getenv("TESSERA_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browser is one tab of a headless Chromium with a fresh profile; it records what the
// page writes to the console, and saves screenshots in dir.
type browser struct {
	t   testing.TB
	ctx context.Context
	dir string
	log *consoleLog
}

type consoleLog struct {
	mu       sync.Mutex
	messages []chromedp.ConsoleMessage
}

// on is the browser for the (sub)test t: its failures fail t.
func (b *browser) on(t *testing.T) *browser { c := *b; c.t = t; return &c }

// newBrowser starts Chromium with a window of width×height, or skips the test when
// there is no Chromium (fails it when TESSERA_REQUIRE_CHROMIUM is set).
func newBrowser(t testing.TB, width, height int) *browser {
	t.Helper()
	path := chromium()
	if path == "" {
		if os.Getenv("TESSERA_REQUIRE_CHROMIUM") != "" {
			t.Fatal("TESSERA_REQUIRE_CHROMIUM is set, but there is no Chromium: apt-get install chromium, or set TESSERA_CHROMIUM to its path")
		}
		t.Skip("the explorer's browser tests need Chromium (apt-get install chromium, or TESSERA_CHROMIUM=/path); skipped")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	b := &browser{t: t, ctx: ctx, dir: t.ArtifactDir(), log: &consoleLog{}}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			b.log.mu.Lock()
			b.log.messages = append(b.log.messages, m)
			b.log.mu.Unlock()
		}
	}()
	if _, ok := t.(*testing.T); ok {
		t.Logf("screenshots in %s", b.dir)
	}
	return b
}

// fresh is a new tab in a new browser context (its own cache and storage, as a fresh
// profile has) and the func that closes it.
func (b *browser) fresh() (*browser, context.CancelFunc) {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	if err := chromedp.Do(ctx); err != nil {
		b.t.Fatalf("a new browser context: %v", err)
	}
	c := *b
	c.ctx = ctx
	return &c, cancel
}

func (b *browser) messages() []chromedp.ConsoleMessage {
	b.log.mu.Lock()
	defer b.log.mu.Unlock()
	return slices.Clone(b.log.messages)
}

// run runs the actions within 30 s, and fails the test if one fails.
func (b *browser) run(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// evalJS evaluates a JavaScript expression in the page and decodes its value.
func evalJS[T any](b *browser, js string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// waitJS waits up to 30 s until the expression is truthy in the page.
func (b *browser) waitJS(what, js string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 35*time.Second)
	defer cancel()
	var err error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		_, err = chromedp.Run(ctx, chromedp.Poll[bool](`!!(`+js+`)`, chromedp.WithPollingTimeout(time.Until(deadline)), chromedp.WithPollingInterval(50*time.Millisecond)))
		// A poll begun as the page navigated loses its context: poll again.
		if err == nil || !strings.Contains(err.Error(), "Cannot find context") {
			break
		}
	}
	if err != nil {
		text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('main').innerText.slice(0, 1500)`))
		b.t.Fatalf("waiting for %s: %v\nthe page says:\n%s", what, err, text)
	}
}

// number reads the number an element shows ("1,234" → 1234).
func (b *browser) number(sel string) float64 {
	b.t.Helper()
	return evalJS[float64](b, `Number(document.querySelector(`+strconv.Quote(sel)+`).textContent.replace(/[^\d.]/g, ''))`)
}

// open loads url afresh and waits until the page has rendered its data; it returns the
// milliseconds from the navigation's start to then.
func (b *browser) open(url string) float64 {
	b.t.Helper()
	b.run("open about:blank", chromedp.Navigate("about:blank"))
	b.run("open "+url, chromedp.Navigate(url))
	b.waitJS("the page's data", `document.body.dataset.rendered`)
	b.run("mark the document", chromedp.Evaluate[chromedp.Void](`window.__testDocument = 'loaded once'`))
	return evalJS[float64](b, `performance.getEntriesByName('tessera:rendered')[0].startTime`)
}

// go_ shows the page's route (a hash such as "#/subnet/1") without reloading it, once
// the page at url is loaded, and waits until it has rendered.
func (b *browser) go_(url, route string) {
	b.t.Helper()
	if loc := evalJS[string](b, `location.origin + location.pathname + location.search`); url != loc {
		b.open(url + route)
		return
	}
	b.run("go to "+route, chromedp.Evaluate[chromedp.Void](`if (location.hash !== `+strconv.Quote(route)+`) {
		document.body.dataset.rendered = ''; location.hash = `+strconv.Quote(route)+`;
	}`))
	b.waitJS(route+" rendered", `document.body.dataset.rendered`)
}

// sameDocument fails the test if the page was reloaded since open.
func (b *browser) sameDocument() {
	b.t.Helper()
	if evalJS[string](b, `String(window.__testDocument)`) != "loaded once" {
		b.t.Fatal("the page was reloaded")
	}
}

// screenshot saves the whole page as name.png in the test's artefacts.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(b.dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot %s (%d KiB)", path, len(png)/1024)
}
