package kernelbench

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite"
)

// Store is the judge's embedded database (SQLite): every evaluation with its log, and
// every round's standings and weights. The leaderboard API serves it.
type Store struct {
	db *sql.DB
}

// OpenStore opens (creating if needed) the database at path.
func OpenStore(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("kernelbench: the database path is empty")
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("kernelbench: open %s: %w", path, err)
	}
	_, err = db.ExecContext(ctx, `
CREATE TABLE IF NOT EXISTS evaluations (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	def_hash      TEXT NOT NULL,
	hotkey        TEXT NOT NULL,
	repo          TEXT NOT NULL,
	commit_id     TEXT NOT NULL,
	target_length INTEGER NOT NULL,
	ok            INTEGER NOT NULL,
	reason        TEXT NOT NULL,
	score         REAL NOT NULL,
	tokens_per_sec REAL NOT NULL,
	evaluation    TEXT NOT NULL,
	judged_at     INTEGER NOT NULL,
	UNIQUE (def_hash, hotkey, repo, commit_id, target_length)
);
CREATE INDEX IF NOT EXISTS evaluations_hotkey ON evaluations (hotkey, judged_at);
CREATE TABLE IF NOT EXISTS rounds (
	round         INTEGER PRIMARY KEY AUTOINCREMENT,
	block         INTEGER NOT NULL,
	def_hash      TEXT NOT NULL,
	leader        TEXT NOT NULL,
	standings     TEXT NOT NULL,
	weights       TEXT NOT NULL,
	weights_block INTEGER NOT NULL,
	weights_error TEXT NOT NULL,
	at            INTEGER NOT NULL
);`)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("kernelbench: %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// SubmissionKey names one evaluation: a submission of a hotkey under a definition.
type SubmissionKey struct {
	DefHash, Hotkey, Repo, Commit string
	TargetLength                  int
}

// Evaluation returns the stored evaluation of k (nil when there is none).
func (s *Store) Evaluation(ctx context.Context, k SubmissionKey) (*Evaluation, error) {
	var raw string
	err := s.db.QueryRowContext(ctx, `SELECT evaluation FROM evaluations WHERE def_hash=? AND hotkey=? AND repo=? AND commit_id=? AND target_length=?`,
		k.DefHash, k.Hotkey, k.Repo, k.Commit, k.TargetLength).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ev Evaluation
	if err := json.Unmarshal([]byte(raw), &ev); err != nil {
		return nil, fmt.Errorf("stored evaluation of %s: %w", k.Hotkey, err)
	}
	return &ev, nil
}

// PutEvaluation records ev for k (replacing an earlier one).
func (s *Store) PutEvaluation(ctx context.Context, k SubmissionKey, ev *Evaluation) error {
	raw, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO evaluations (def_hash, hotkey, repo, commit_id, target_length, ok, reason, score, tokens_per_sec, evaluation, judged_at)
VALUES (?,?,?,?,?,?,?,?,?,?,?)
ON CONFLICT (def_hash, hotkey, repo, commit_id, target_length) DO UPDATE SET ok=excluded.ok, reason=excluded.reason, score=excluded.score,
	tokens_per_sec=excluded.tokens_per_sec, evaluation=excluded.evaluation, judged_at=excluded.judged_at`,
		k.DefHash, k.Hotkey, k.Repo, k.Commit, k.TargetLength, ev.OK, ev.Reason, ev.Score, ev.TokensPerSec, string(raw), time.Now().Unix())
	return err
}

// EvaluationRecord is a stored evaluation with its key, for the API.
type EvaluationRecord struct {
	Hotkey       string      `json:"hotkey"`
	Repo         string      `json:"repo"`
	Commit       string      `json:"commit"`
	TargetLength int         `json:"target_length"`
	JudgedAt     time.Time   `json:"judged_at"`
	Evaluation   *Evaluation `json:"evaluation"`
}

// Evaluations lists the evaluations of hotkey (every hotkey when empty), newest first.
func (s *Store) Evaluations(ctx context.Context, hotkey string, limit int) ([]EvaluationRecord, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT hotkey, repo, commit_id, target_length, judged_at, evaluation FROM evaluations
WHERE (?='' OR hotkey=?) ORDER BY judged_at DESC, id DESC LIMIT ?`, hotkey, hotkey, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []EvaluationRecord{}
	for rows.Next() {
		var r EvaluationRecord
		var at int64
		var raw string
		if err := rows.Scan(&r.Hotkey, &r.Repo, &r.Commit, &r.TargetLength, &at, &raw); err != nil {
			return nil, err
		}
		r.JudgedAt = time.Unix(at, 0).UTC()
		r.Evaluation = new(Evaluation)
		if err := json.Unmarshal([]byte(raw), r.Evaluation); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Weights are the weights a round set (or tried to).
type Weights struct {
	UIDs   []uint16 `json:"uids"`
	Values []uint16 `json:"values"`
}

// Round is one judging round as stored and served.
type Round struct {
	Round        int64      `json:"round"`
	Block        int64      `json:"block"`
	DefHash      string     `json:"definition_hash"`
	Leader       string     `json:"leader"`
	Standings    []Standing `json:"standings"`
	Weights      Weights    `json:"weights"`
	WeightsBlock int64      `json:"weights_block"`
	WeightsError string     `json:"weights_error,omitempty"`
	At           time.Time  `json:"at"`
}

// PutRound records a round and returns its number.
func (s *Store) PutRound(ctx context.Context, r *Round) (int64, error) {
	st, err := json.Marshal(r.Standings)
	if err != nil {
		return 0, err
	}
	w, err := json.Marshal(r.Weights)
	if err != nil {
		return 0, err
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO rounds (block, def_hash, leader, standings, weights, weights_block, weights_error, at) VALUES (?,?,?,?,?,?,?,?)`,
		r.Block, r.DefHash, r.Leader, string(st), string(w), r.WeightsBlock, r.WeightsError, r.At.Unix())
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// Rounds lists the latest rounds, newest first.
func (s *Store) Rounds(ctx context.Context, limit int) ([]Round, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT round, block, def_hash, leader, standings, weights, weights_block, weights_error, at FROM rounds ORDER BY round DESC LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Round{}
	for rows.Next() {
		var r Round
		var st, w string
		var at int64
		if err := rows.Scan(&r.Round, &r.Block, &r.DefHash, &r.Leader, &st, &w, &r.WeightsBlock, &r.WeightsError, &at); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(st), &r.Standings); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(w), &r.Weights); err != nil {
			return nil, err
		}
		r.At = time.Unix(at, 0).UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

// LastRound is the newest round (nil when none).
func (s *Store) LastRound(ctx context.Context) (*Round, error) {
	rs, err := s.Rounds(ctx, 1)
	if err != nil || len(rs) == 0 {
		return nil, err
	}
	return &rs[0], nil
}
