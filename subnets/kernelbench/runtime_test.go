package kernelbench_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tessera-net/tessera/subnets/kernelbench"
)

// A harness that is not a Go package the judge builds: a Runtime's build and run
// commands, with the mounts they need. Here the runtime is a prebuilt harness binary
// (the shipped one) and a build step that only runs `go version`; the run still speaks
// the protocol, is timed by the judge and checked against the reference.
func TestRuntimeHarness(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	url, commit := w.miner(t, "runtime", nil)
	// The prebuilt harness, where the sandbox's uid can read it.
	src := filepath.Join(w.root, "prebuilt-src")
	os.RemoveAll(src)
	os.MkdirAll(src, 0o755)
	if err := kernelbench.CloneWork(ctx, "file://"+w.target, src); err != nil {
		t.Fatal(err)
	}
	bin, blog, err := w.runner.Build(ctx, src)
	if err != nil {
		t.Fatalf("%v\n%s", err, blog)
	}
	d := *w.def
	d.Target.Runtime = &kernelbench.Runtime{
		Mounts: []kernelbench.RuntimeMount{{Source: filepath.Dir(bin), Target: "/opt/harness"}, {Source: w.runner.GoRoot, Target: "/goroot"}},
		Build:  []string{"/goroot/bin/go", "version"},
		Run:    []string{"/opt/harness/harness"},
		Env:    []string{"GOROOT=/goroot"},
	}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	r := &kernelbench.Runner{Def: &d, Work: w.runner.Work}
	ev := evalWithRunner(t, r, url, commit)
	if !ev.OK || ev.Score <= 0 {
		t.Fatalf("the runtime harness did not pass: %s: %s\n%s", ev.Reason, ev.Message, ev.Log)
	}
	// A runtime may not mount over what the judge mounts.
	d.Target.Runtime.Mounts = append(d.Target.Runtime.Mounts, kernelbench.RuntimeMount{Source: "/usr", Target: "/src/x"})
	if err := d.Validate(); err == nil || !strings.Contains(err.Error(), "target.runtime.mounts[2].target") {
		t.Fatalf("an overlapping mount: %v", err)
	}
}

func evalWithRunner(t *testing.T, r *kernelbench.Runner, url, commit string) *kernelbench.Evaluation {
	t.Helper()
	return r.Evaluate(context.Background(), url, commit, 2048)
}

// The definition that would run QUASAR's flash-linear-attention fork on a GPU decodes.
func TestFLADefinitionDecodes(t *testing.T) {
	raw, err := os.ReadFile("testdata/fla-definition.json")
	if err != nil {
		t.Fatal(err)
	}
	d, err := kernelbench.DecodeDefinition(raw)
	if err != nil {
		t.Fatal(err)
	}
	if d.Target.AllowedDir != "fla/ops/quasar" || d.Target.Runtime == nil || len(d.Leagues) != 10 {
		t.Fatalf("%+v", d.Target)
	}
}
