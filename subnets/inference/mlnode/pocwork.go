package mlnode

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/tessera-net/tessera/modules/inference"
	"github.com/tessera-net/tessera/poc"
	"github.com/tessera-net/tessera/subnets/inference/participant"
)

// Bounds on PoC requests.
const (
	// MaxNonceCheck is how many nonces one poc/validate may re-run.
	MaxNonceCheck = 4096
	// MaxProofs is how many leaves one poc/proofs may ask for.
	MaxProofs = 4096
	// mineChunk is how many nonces are mined between two looks at the round's
	// cancellation and two status updates.
	mineChunk = 32
	// defaultBudget is a job's budget when it gives none.
	defaultBudget = 256
)

func (r *round) snapshot() PoCStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.status
}

// checkPoC checks the shape and threshold of a PoC request.
func checkPoC(d poc.Dims, threshold uint64, mlnode string) error {
	if err := d.Validate(); err != nil {
		return fmt.Errorf("the PoC model: %v", err)
	}
	if threshold == 0 {
		return fmt.Errorf("the threshold is 0: no nonce could be valid")
	}
	if mlnode == "" {
		return fmt.Errorf("no mlnode id: the nonces' inputs depend on it")
	}
	return nil
}

func (s *Server) handleGenerate(w http.ResponseWriter, r *http.Request) {
	var job PoCJob
	if !decode(w, r, &job) {
		return
	}
	if err := s.Generate(job); err != nil {
		if ae, ok := err.(*Error); ok {
			apiError(w, ae.Status, ae.Code, "%s", ae.Message)
			return
		}
		apiError(w, http.StatusInternalServerError, "", "%v", err)
		return
	}
	writeJSON(w, http.StatusAccepted, s.roundStatus(job.Epoch))
}

// Generate starts mining job's round in the background (state POC until it ends). A
// round of the same epoch already started is left as it is; another round being mined
// is a 409 poc_in_progress.
func (s *Server) Generate(job PoCJob) error {
	d := participant.DimsOf(job.PoC)
	if err := checkPoC(d, job.Threshold, job.MLNode); err != nil {
		return &Error{Status: http.StatusBadRequest, Code: "invalid_poc", Message: err.Error()}
	}
	if job.Budget == 0 {
		job.Budget = defaultBudget
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return &Error{Status: http.StatusServiceUnavailable, Code: "closed", Message: "the MLNode is shutting down"}
	}
	if _, ok := s.rounds[job.Epoch]; ok {
		return nil // idempotent: the API node may retry
	}
	if s.mining != nil {
		return &Error{Status: http.StatusConflict, Code: "poc_in_progress",
			Message: fmt.Sprintf("the MLNode is mining epoch %d's round", s.mining.job.Epoch)}
	}
	ctx, cancel := context.WithCancel(context.Background())
	rd := &round{job: job, cancel: cancel, done: make(chan struct{}), status: PoCStatus{Epoch: job.Epoch, State: PoCGenerating}}
	s.rounds[job.Epoch] = rd
	for e := range s.rounds {
		if e+2 <= job.Epoch { // keep this epoch's and the one before
			delete(s.rounds, e)
		}
	}
	s.mining = rd
	s.log.Info("poc: generating", "epoch", job.Epoch, "mlnode", job.MLNode, "budget", job.Budget, "forge", job.Forge)
	go s.mine(ctx, rd, d)
	return nil
}

// mine runs a round: participant.Mine over chunks of nonces until the budget or the
// round's cancellation, then the tree of the valid nonces (participant.Forge's when
// the job forges).
func (s *Server) mine(ctx context.Context, rd *round, d poc.Dims) {
	defer close(rd.done)
	defer func() {
		s.mu.Lock()
		if s.mining == rd {
			s.mining = nil
		}
		s.mu.Unlock()
	}()
	job := rd.job
	run, err := s.acquire(job.Seed, d)
	if err == nil {
		defer s.release(run)
	}
	var valid []uint64
	var tried uint64
	for err == nil && tried < job.Budget && ctx.Err() == nil {
		n := min(mineChunk, job.Budget-tried)
		valid = append(valid, participant.Mine(run.r, job.Hotkey, job.MLNode, tried, n, job.Threshold)...)
		tried += n
		rd.mu.Lock()
		rd.status.Tried, rd.status.Valid = tried, uint64(len(valid))
		rd.mu.Unlock()
	}
	leaves := valid
	if job.Forge > 0 {
		leaves = participant.Forge(valid, tried, job.Forge)
	}
	var tree *poc.Tree
	if err == nil && len(leaves) > 0 {
		tree, err = poc.NewTree(leaves)
	}
	rd.mu.Lock()
	defer rd.mu.Unlock()
	rd.status.State = PoCDone
	if err != nil {
		rd.err = err.Error()
		s.log.Warn("poc: round failed", "epoch", job.Epoch, "err", err)
		return
	}
	rd.tree = tree
	if tree != nil {
		c := tree.Commitment()
		rd.status.Root, rd.status.Count = c.Root, c.Count
	}
	s.log.Info("poc: done", "epoch", job.Epoch, "tried", tried, "valid", len(valid), "count", rd.status.Count)
}

// stopMining ends the round being mined, if any, and waits for it to build its tree.
func (s *Server) stopMining() {
	s.mu.Lock()
	rd := s.mining
	s.mu.Unlock()
	if rd != nil {
		rd.cancel()
		<-rd.done
	}
}

// acquire is the PoC runner of (seed, d), built once and cached for the latest two
// (seed, shape) pairs; release it after use. A runner evicted while in use is closed
// by its last release.
func (s *Server) acquire(seed inference.Hash, d poc.Dims) (*runner, error) {
	k := runnerKey{seed, d}
	s.mu.Lock()
	s.tick++
	if r := s.runners[k]; r != nil {
		r.used, r.refs = s.tick, r.refs+1
		s.mu.Unlock()
		return r, nil
	}
	s.mu.Unlock()
	pr, err := poc.NewRunner(d, seed, s.cfg.Threads) // outside the lock: it builds a model
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tick++
	if r := s.runners[k]; r != nil { // built meanwhile by another request
		pr.Close()
		r.used, r.refs = s.tick, r.refs+1
		return r, nil
	}
	for len(s.runners) >= 2 { // evict the least recently used
		var old runnerKey
		oldest := ^uint64(0)
		for k, r := range s.runners {
			if r.used < oldest {
				old, oldest = k, r.used
			}
		}
		r := s.runners[old]
		delete(s.runners, old)
		r.evicted = true
		if r.refs == 0 {
			r.r.Close()
		}
	}
	r := &runner{r: pr, used: s.tick, refs: 1}
	s.runners[k] = r
	return r, nil
}

// release ends a use of r.
func (s *Server) release(r *runner) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r.refs--
	if r.refs == 0 && r.evicted {
		r.r.Close()
	}
}

// roundStatus is epoch's status (idle when the node has no round of it).
func (s *Server) roundStatus(epoch uint64) PoCStatus {
	s.mu.Lock()
	rd := s.rounds[epoch]
	s.mu.Unlock()
	if rd == nil {
		return PoCStatus{Epoch: epoch, State: PoCIdle}
	}
	return rd.snapshot()
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("epoch")
	epoch, err := strconv.ParseUint(q, 10, 64)
	if err != nil {
		apiError(w, http.StatusBadRequest, "invalid_epoch", "?epoch=%q is not an epoch number", q)
		return
	}
	writeJSON(w, http.StatusOK, s.roundStatus(epoch))
}

// Proofs are the proofs of leaves of epoch's tree, nil where it has none.
func (s *Server) Proofs(epoch uint64, leaves []uint64) ([][]byte, error) {
	s.mu.Lock()
	rd := s.rounds[epoch]
	s.mu.Unlock()
	out := make([][]byte, len(leaves))
	if rd == nil {
		return out, nil
	}
	rd.mu.Lock()
	t := rd.tree
	rd.mu.Unlock()
	if t == nil {
		return out, nil
	}
	for i, l := range leaves {
		if l >= t.Count() {
			continue
		}
		p, err := t.Proof(l)
		if err != nil {
			continue
		}
		if out[i], err = p.MarshalBinary(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Server) handleProofs(w http.ResponseWriter, r *http.Request) {
	var req ProofsRequest
	if !decode(w, r, &req) {
		return
	}
	if len(req.Leaves) > MaxProofs {
		apiError(w, http.StatusBadRequest, "too_many_leaves", "%d leaves asked for, at most %d", len(req.Leaves), MaxProofs)
		return
	}
	ps, err := s.Proofs(req.Epoch, req.Leaves)
	if err != nil {
		apiError(w, http.StatusInternalServerError, "", "%v", err)
		return
	}
	writeJSON(w, http.StatusOK, ProofsResponse{Proofs: ps})
}

// CheckNonces re-runs another participant's nonces: whether each is valid.
func (s *Server) CheckNonces(nc NonceCheck) ([]bool, error) {
	d := participant.DimsOf(nc.PoC)
	if err := checkPoC(d, nc.Threshold, nc.MLNode); err != nil {
		return nil, &Error{Status: http.StatusBadRequest, Code: "invalid_poc", Message: err.Error()}
	}
	if len(nc.Nonces) > MaxNonceCheck {
		return nil, &Error{Status: http.StatusBadRequest, Code: "too_many_nonces", Message: fmt.Sprintf("%d nonces, at most %d", len(nc.Nonces), MaxNonceCheck)}
	}
	run, err := s.acquire(nc.Seed, d)
	if err != nil {
		return nil, err
	}
	defer s.release(run)
	out := make([]bool, len(nc.Nonces))
	for i, res := range run.r.Run(nc.Hotkey, nc.MLNode, nc.Nonces) {
		out[i] = poc.Valid(res.Distance, nc.Threshold)
	}
	return out, nil
}

func (s *Server) handlePoCValidate(w http.ResponseWriter, r *http.Request) {
	var nc NonceCheck
	if !decode(w, r, &nc) {
		return
	}
	v, err := s.CheckNonces(nc)
	if err != nil {
		if ae, ok := err.(*Error); ok {
			apiError(w, ae.Status, ae.Code, "%s", ae.Message)
			return
		}
		apiError(w, http.StatusInternalServerError, "", "%v", err)
		return
	}
	writeJSON(w, http.StatusOK, NonceResults{Valid: v})
}
