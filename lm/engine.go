package lm

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
)

// Engine serves concurrent completions of one model, batching them: every decode step
// runs one Forward over all the completions in progress, so the weights are read once
// per step for the whole batch. Since Forward computes every row exactly as it would be
// alone, a completion's tokens and log-probabilities do not depend on what else is in
// the batch.
//
// One goroutine runs the batches; Generate hands it a completion and relays its steps.
type Engine struct {
	m        *Model
	maxBatch int
	in       chan *job
	quit     chan struct{}
	done     sync.WaitGroup
	closing  sync.Once
}

type job struct {
	g    *gen
	ctx  context.Context
	stop atomic.Bool
	out  chan jobEvent
}

type jobEvent struct {
	step   Step
	finish string
	err    error
}

// ErrClosed is returned by an Engine that has been closed.
var ErrClosed = errors.New("lm: engine closed")

// NewEngine starts an engine that batches up to maxBatch completions (default 8).
func NewEngine(m *Model, maxBatch int) *Engine {
	if maxBatch < 1 {
		maxBatch = 8
	}
	e := &Engine{m: m, maxBatch: maxBatch, in: make(chan *job), quit: make(chan struct{})}
	e.done.Add(1)
	go e.loop()
	return e
}

// Model is the engine's model.
func (e *Engine) Model() *Model { return e.m }

// Close stops the engine; completions in progress end with ErrClosed.
func (e *Engine) Close() {
	e.closing.Do(func() { close(e.quit) })
	e.done.Wait()
}

// Generate runs one completion in the engine's batches, as Model.Generate does alone.
func (e *Engine) Generate(ctx context.Context, r Request, emit func(Step) error) ([]Step, string, error) {
	if err := e.m.checkRequest(&r); err != nil {
		return nil, "", err
	}
	r.MaxTokens = min(r.MaxTokens, e.m.Config.Context)
	j := &job{g: newGen(e.m, r), ctx: ctx, out: make(chan jobEvent, r.MaxTokens+2)}
	select {
	case e.in <- j:
	case <-ctx.Done():
		return nil, "", ctx.Err()
	case <-e.quit:
		return nil, "", ErrClosed
	}
	var steps []Step
	for ev := range j.out {
		switch {
		case ev.err != nil:
			return steps, "", ev.err
		case ev.finish != "":
			return steps, ev.finish, nil
		}
		steps = append(steps, ev.step)
		if emit == nil || j.stop.Load() {
			continue
		}
		if err := emit(ev.step); err != nil {
			j.stop.Store(true)
			if errors.Is(err, ErrStopped) {
				return steps, FinishStop, nil
			}
			return steps, "", err
		}
	}
	return steps, "", ErrClosed
}

func (e *Engine) loop() {
	defer e.done.Done()
	var active []*job
	defer func() {
		for _, j := range active {
			j.out <- jobEvent{err: ErrClosed}
		}
	}()
	for {
		if len(active) == 0 {
			select {
			case j := <-e.in:
				active = append(active, j)
			case <-e.quit:
				return
			}
		}
	drain:
		for len(active) < e.maxBatch {
			select {
			case j := <-e.in:
				active = append(active, j)
			default:
				break drain
			}
		}
		select {
		case <-e.quit:
			return
		default:
		}
		items := make([]Item, len(active))
		for i, j := range active {
			items[i] = j.g.item()
		}
		if err := e.m.Forward(items); err != nil {
			for _, j := range active {
				j.out <- jobEvent{err: err}
			}
			active = active[:0]
			continue
		}
		keep := active[:0]
		for i, j := range active {
			s, finish := j.g.advance(items[i].Logits[0])
			if s != nil {
				j.out <- jobEvent{step: *s}
			}
			switch {
			case finish != "":
				j.out <- jobEvent{finish: finish}
			case j.stop.Load():
				j.out <- jobEvent{finish: FinishStop}
			case j.ctx.Err() != nil:
				j.out <- jobEvent{err: j.ctx.Err()}
			default:
				keep = append(keep, j)
			}
		}
		clear(active[len(keep):])
		active = keep
	}
}
