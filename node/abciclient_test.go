package node

import (
	"context"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
)

// stallingApp stalls every call whose query path (or CheckTx bytes) is "slow" until
// release is closed, after telling entered.
type stallingApp struct {
	abci.BaseApplication
	entered chan string
	release chan struct{}
}

func (s *stallingApp) stall(what string) {
	if what == "slow" {
		s.entered <- what
		<-s.release
	}
}

func (s *stallingApp) Query(_ context.Context, req *abci.RequestQuery) (*abci.ResponseQuery, error) {
	s.stall(req.Path)
	return &abci.ResponseQuery{Value: []byte(req.Path)}, nil
}

func (s *stallingApp) CheckTx(_ context.Context, req *abci.RequestCheckTx) (*abci.ResponseCheckTx, error) {
	s.stall(string(req.Tx))
	return &abci.ResponseCheckTx{}, nil
}

// A query, and Info, are answered while another query on the same connection is still
// running, and while a CheckTx holds the connection's lock.
func TestQueriesDoNotWaitForEachOther(t *testing.T) {
	app := &stallingApp{entered: make(chan string, 2), release: make(chan struct{})}
	defer close(app.release)
	cli, err := newConcurrentQueries(app).NewABCIClient()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	go func() { _, _ = cli.Query(ctx, &abci.RequestQuery{Path: "slow"}) }()
	go func() { _, _ = cli.CheckTx(ctx, &abci.RequestCheckTx{Tx: []byte("slow")}) }()
	<-app.entered
	<-app.entered
	answered := make(chan error, 1)
	go func() {
		r, err := cli.Query(ctx, &abci.RequestQuery{Path: "fast"})
		if err == nil && string(r.Value) != "fast" {
			err = context.Canceled
		}
		if err == nil {
			_, err = cli.Info(ctx, &abci.RequestInfo{})
		}
		answered <- err
	}()
	select {
	case err := <-answered:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second): // a deadlock, not a speed bound
		t.Fatal("a query waited for a stalled query or CheckTx on its connection")
	}
}
