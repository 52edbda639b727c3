package gateway

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver
)

// KeyPrefix starts every API key the gateway issues.
const KeyPrefix = "tsk-"

// Usage is what one key has used.
type Usage struct {
	Requests         int64 `json:"requests"`          // chat completions asked for, answered or not
	PromptTokens     int64 `json:"prompt_tokens"`     // tokens of the answered requests' messages
	CompletionTokens int64 `json:"completion_tokens"` // tokens of the answers
	Errors           int64 `json:"errors"`            // requests refused or not answered
}

func (u *Usage) add(v Usage) {
	u.Requests += v.Requests
	u.PromptTokens += v.PromptTokens
	u.CompletionTokens += v.CompletionTokens
	u.Errors += v.Errors
}

// Key is an API key's record (never the secret itself).
type Key struct {
	ID   int64  `json:"id"`   // the database's id
	Name string `json:"name"` // a unique name given at creation
	// Hint is the first characters of the secret, to tell keys apart.
	Hint string `json:"hint"`
	// RatePerMinute is the key's sustained request rate (0: unlimited); Burst how
	// many requests it may make at once.
	RatePerMinute float64    `json:"rate_per_minute"`
	Burst         int        `json:"burst"`                // see RatePerMinute
	CreatedAt     time.Time  `json:"created_at"`           // when the key was issued
	RevokedAt     *time.Time `json:"revoked_at,omitempty"` // when it was revoked (nil: active)
	// Usage is the key's use, including what is not yet written to the database.
	Usage Usage `json:"usage"`
	// LastUsed is when the key was last used (zero if never).
	LastUsed time.Time `json:"last_used"`
}

// Errors of the key store.
var (
	// ErrUnknownKey is an API key that is not in the store.
	ErrUnknownKey = errors.New("unknown API key")
	// ErrRevokedKey is an API key that was revoked.
	ErrRevokedKey = errors.New("revoked API key")
	// ErrNoSuchKey is a revocation of a key that does not exist or is already revoked.
	ErrNoSuchKey = errors.New("no such active API key")
)

// keyState is a key in memory: its record, rate limiter and usage not yet flushed.
type keyState struct {
	mu      sync.Mutex
	key     Key
	bucket  bucket
	pending Usage
	last    time.Time
	revoked bool
}

// KeyStore keeps API keys in an SQLite database and, in memory, their rate limiters.
// Authenticate never touches the disk; Charge writes a request's usage before the
// request is answered, in one transaction with the usage of the requests charged at the
// same time (a group commit), so a killed gateway loses none it answered; Flush (run by
// Run every few seconds, and by Close) writes what is left, and
// Reload picks up keys created or revoked by another process (the admin CLI). It is
// safe for concurrent use.
type KeyStore struct {
	db  *sql.DB
	now func() time.Time

	mu     sync.RWMutex
	byHash map[string]*keyState
	byID   map[int64]*keyState

	// Group commit of Charge: flushes started and finished, whether one runs, and the
	// error of the last.
	commit   sync.Mutex
	flushed  *sync.Cond
	started  uint64
	finished uint64
	flushing bool
	flushErr error
}

// OpenKeyStore opens (creating if needed) the key database at path.
func OpenKeyStore(ctx context.Context, path string) (*KeyStore, error) {
	if path == "" {
		return nil, errors.New("gateway: key database path is empty")
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(ON)")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("gateway: open key database %s: %w", path, err)
	}
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("gateway: key database %s: %w", path, err)
	}
	ks := &KeyStore{db: db, now: time.Now, byHash: map[string]*keyState{}, byID: map[int64]*keyState{}}
	ks.flushed = sync.NewCond(&ks.commit)
	if err := ks.Reload(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return ks, nil
}

func migrate(ctx context.Context, db *sql.DB) error {
	_, err := db.ExecContext(ctx, `
CREATE TABLE IF NOT EXISTS api_keys (
	id                INTEGER PRIMARY KEY AUTOINCREMENT,
	name              TEXT NOT NULL UNIQUE,
	hash              TEXT NOT NULL UNIQUE,
	hint              TEXT NOT NULL,
	rate_per_minute   REAL NOT NULL,
	burst             INTEGER NOT NULL,
	created_at        INTEGER NOT NULL,
	revoked_at        INTEGER,
	requests          INTEGER NOT NULL DEFAULT 0,
	prompt_tokens     INTEGER NOT NULL DEFAULT 0,
	completion_tokens INTEGER NOT NULL DEFAULT 0,
	errors            INTEGER NOT NULL DEFAULT 0,
	last_used         INTEGER NOT NULL DEFAULT 0
)`)
	return err
}

// Close writes pending usage and closes the database.
func (ks *KeyStore) Close(ctx context.Context) error {
	err := ks.Flush(ctx)
	if cerr := ks.db.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("gateway: close key database: %w", cerr)
	}
	return err
}

// hashKey is the stored form of a secret: lower-case hex SHA-256.
func hashKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Create issues a key: it returns the secret (shown once, never stored) and the record.
// ratePerMinute 0 means unlimited; burst 0 means max(1, ratePerMinute/6) (ten
// seconds' worth).
func (ks *KeyStore) Create(ctx context.Context, name string, ratePerMinute float64, burst int) (string, Key, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 128 {
		return "", Key{}, errors.New("gateway: a key needs a name of 1 to 128 characters")
	}
	if !(ratePerMinute >= 0) || ratePerMinute > 1e9 {
		return "", Key{}, fmt.Errorf("gateway: rate %v per minute is not a number from 0 to 1e9", ratePerMinute)
	}
	if burst < 0 {
		return "", Key{}, fmt.Errorf("gateway: burst %d is negative", burst)
	}
	if burst == 0 {
		burst = max(1, int(ratePerMinute/6))
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", Key{}, fmt.Errorf("gateway: make key: %w", err)
	}
	secret := KeyPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	k := Key{Name: name, Hint: secret[:len(KeyPrefix)+6], RatePerMinute: ratePerMinute, Burst: burst, CreatedAt: ks.now().UTC().Truncate(time.Second)}
	res, err := ks.db.ExecContext(ctx, `INSERT INTO api_keys (name, hash, hint, rate_per_minute, burst, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		k.Name, hashKey(secret), k.Hint, k.RatePerMinute, k.Burst, k.CreatedAt.Unix())
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE constraint failed: api_keys.name") {
			return "", Key{}, fmt.Errorf("gateway: a key named %q already exists", name)
		}
		return "", Key{}, fmt.Errorf("gateway: store key: %w", err)
	}
	if k.ID, err = res.LastInsertId(); err != nil {
		return "", Key{}, fmt.Errorf("gateway: store key: %w", err)
	}
	ks.mu.Lock()
	ks.addLocked(hashKey(secret), k)
	ks.mu.Unlock()
	return secret, k, nil
}

func (ks *KeyStore) addLocked(hash string, k Key) *keyState {
	st := &keyState{key: k, bucket: newBucket(k.RatePerMinute/60, k.Burst, ks.now()), revoked: k.RevokedAt != nil}
	ks.byHash[hash] = st
	ks.byID[k.ID] = st
	return st
}

// Revoke revokes the key named name. A name is only ever a name, even when it is a
// number; RevokeID revokes by id. It fails with ErrNoSuchKey when no key of that name is
// active.
func (ks *KeyStore) Revoke(ctx context.Context, name string) (Key, error) {
	return ks.revoke(ctx, "name = ?", name, fmt.Sprintf("named %q", name), func(k Key) bool { return k.Name == name })
}

// RevokeID revokes the key with this id. It fails with ErrNoSuchKey when no key of that
// id is active.
func (ks *KeyStore) RevokeID(ctx context.Context, id int64) (Key, error) {
	return ks.revoke(ctx, "id = ?", id, fmt.Sprintf("with id %d", id), func(k Key) bool { return k.ID == id })
}

// revoke marks the active key matching where (with arg) revoked, reloads, and returns it
// (the one is picks out); what says which key, for errors.
func (ks *KeyStore) revoke(ctx context.Context, where string, arg any, what string, is func(Key) bool) (Key, error) {
	now := ks.now().UTC().Truncate(time.Second)
	res, err := ks.db.ExecContext(ctx, `UPDATE api_keys SET revoked_at = ? WHERE revoked_at IS NULL AND `+where, now.Unix(), arg)
	if err != nil {
		return Key{}, fmt.Errorf("gateway: revoke the key %s: %w", what, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Key{}, fmt.Errorf("gateway: no key %s that is not already revoked: %w", what, ErrNoSuchKey)
	}
	if err := ks.Reload(ctx); err != nil {
		return Key{}, err
	}
	for _, k := range ks.List() {
		if is(k) {
			return k, nil
		}
	}
	return Key{}, fmt.Errorf("gateway: the key %s vanished while being revoked", what)
}

// Reload reads every key from the database: new keys become usable, revoked ones stop
// working, and usage counted here but not yet flushed is kept.
func (ks *KeyStore) Reload(ctx context.Context) error {
	rows, err := ks.db.QueryContext(ctx, `SELECT id, name, hash, hint, rate_per_minute, burst, created_at, revoked_at,
		requests, prompt_tokens, completion_tokens, errors, last_used FROM api_keys`)
	if err != nil {
		return fmt.Errorf("gateway: read keys: %w", err)
	}
	defer rows.Close()
	type row struct {
		hash string
		k    Key
	}
	var all []row
	for rows.Next() {
		var (
			r               row
			created, last   int64
			revoked         sql.NullInt64
			u               Usage
			rate            float64
			burst           int
			id              int64
			name, hint, hsh string
		)
		if err := rows.Scan(&id, &name, &hsh, &hint, &rate, &burst, &created, &revoked,
			&u.Requests, &u.PromptTokens, &u.CompletionTokens, &u.Errors, &last); err != nil {
			return fmt.Errorf("gateway: read keys: %w", err)
		}
		r.hash = hsh
		r.k = Key{ID: id, Name: name, Hint: hint, RatePerMinute: rate, Burst: burst, CreatedAt: time.Unix(created, 0).UTC(), Usage: u}
		if last > 0 {
			r.k.LastUsed = time.Unix(last, 0).UTC()
		}
		if revoked.Valid {
			t := time.Unix(revoked.Int64, 0).UTC()
			r.k.RevokedAt = &t
		}
		all = append(all, r)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("gateway: read keys: %w", err)
	}
	ks.mu.Lock()
	defer ks.mu.Unlock()
	for _, r := range all {
		st, ok := ks.byHash[r.hash]
		if !ok {
			ks.addLocked(r.hash, r.k)
			continue
		}
		st.mu.Lock()
		st.key.RevokedAt = r.k.RevokedAt
		st.revoked = r.k.RevokedAt != nil
		st.key.Usage = r.k.Usage
		if st.key.RatePerMinute != r.k.RatePerMinute || st.key.Burst != r.k.Burst {
			st.key.RatePerMinute, st.key.Burst = r.k.RatePerMinute, r.k.Burst
			st.bucket = newBucket(r.k.RatePerMinute/60, r.k.Burst, ks.now())
		}
		if st.last.IsZero() {
			st.key.LastUsed = r.k.LastUsed
		}
		st.mu.Unlock()
	}
	return nil
}

// List returns every key, by id, with its usage including unflushed counts.
func (ks *KeyStore) List() []Key {
	ks.mu.RLock()
	out := make([]Key, 0, len(ks.byID))
	for _, st := range ks.byID {
		st.mu.Lock()
		k := st.key
		k.Usage.add(st.pending)
		if !st.last.IsZero() {
			k.LastUsed = st.last.UTC().Truncate(time.Second)
		}
		st.mu.Unlock()
		out = append(out, k)
	}
	ks.mu.RUnlock()
	slices.SortFunc(out, func(a, b Key) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Authenticate finds the key for a secret: ErrUnknownKey or ErrRevokedKey if it cannot
// be used. It reads memory only.
func (ks *KeyStore) Authenticate(secret string) (*keyState, error) {
	if !strings.HasPrefix(secret, KeyPrefix) {
		return nil, ErrUnknownKey
	}
	h := hashKey(secret)
	ks.mu.RLock()
	st := ks.byHash[h]
	ks.mu.RUnlock()
	if st == nil {
		return nil, ErrUnknownKey
	}
	st.mu.Lock()
	revoked := st.revoked
	st.mu.Unlock()
	if revoked {
		return nil, ErrRevokedKey
	}
	return st, nil
}

// limit is a key's rate limit after a request: what the x-ratelimit-* headers say.
type limit struct {
	perMinute float64       // 0: unlimited
	remaining int           // requests it may make at once now
	reset     time.Duration // until its bucket is full again
}

// allow takes one request from the key's rate limit. When none is left it also
// returns the key's record, to explain the refusal.
func (st *keyState) allow(now time.Time) (bool, time.Duration, Key, limit) {
	st.mu.Lock()
	defer st.mu.Unlock()
	ok, wait := st.bucket.take(now)
	lim := limit{perMinute: st.key.RatePerMinute}
	lim.remaining, lim.reset = st.bucket.state(now)
	if ok {
		return true, 0, Key{}, lim
	}
	return false, wait, st.key, lim
}

// record counts usage against the key.
func (st *keyState) record(u Usage, now time.Time) {
	st.mu.Lock()
	st.pending.add(u)
	st.last = now
	st.mu.Unlock()
}

// Charge counts usage u against the key at now and returns once it is in the database:
// it joins the next flush to start, or starts one. Requests charged while a flush runs
// share the one after it, so under load one transaction carries many. On an error the
// usage stays counted in memory for the next flush.
func (ks *KeyStore) Charge(ctx context.Context, st *keyState, u Usage, now time.Time) error {
	st.record(u, now)
	ks.commit.Lock()
	defer ks.commit.Unlock()
	need := ks.started + 1 // a flush that starts after the record above
	for ks.finished < need {
		if ks.flushing {
			ks.flushed.Wait()
			continue
		}
		ks.flushing = true
		ks.started++
		n := ks.started
		ks.commit.Unlock()
		err := ks.Flush(context.WithoutCancel(ctx)) // others wait on it: not the caller's to cancel
		ks.commit.Lock()
		ks.flushing, ks.finished, ks.flushErr = false, n, err
		ks.flushed.Broadcast()
	}
	return ks.flushErr
}

// Flush writes the usage counted since the last flush, in one transaction. On failure
// the counts are kept for the next flush.
func (ks *KeyStore) Flush(ctx context.Context) error {
	type delta struct {
		st   *keyState
		u    Usage
		last time.Time
	}
	var ds []delta
	ks.mu.RLock()
	for _, st := range ks.byID {
		st.mu.Lock()
		if st.pending != (Usage{}) {
			ds = append(ds, delta{st, st.pending, st.last})
			st.key.Usage.add(st.pending)
			st.pending = Usage{}
		}
		st.mu.Unlock()
	}
	ks.mu.RUnlock()
	if len(ds) == 0 {
		return nil
	}
	err := ks.writeUsage(ctx, func(stmt *sql.Stmt) error {
		for _, d := range ds {
			if _, err := stmt.ExecContext(ctx, d.u.Requests, d.u.PromptTokens, d.u.CompletionTokens, d.u.Errors, d.last.Unix(), d.st.key.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		for _, d := range ds { // put the counts back for the next flush
			d.st.mu.Lock()
			d.st.pending.add(d.u)
			d.st.key.Usage.add(Usage{-d.u.Requests, -d.u.PromptTokens, -d.u.CompletionTokens, -d.u.Errors})
			d.st.mu.Unlock()
		}
		return fmt.Errorf("gateway: write key usage: %w", err)
	}
	return nil
}

func (ks *KeyStore) writeUsage(ctx context.Context, fn func(*sql.Stmt) error) error {
	tx, err := ks.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	stmt, err := tx.PrepareContext(ctx, `UPDATE api_keys SET requests = requests + ?, prompt_tokens = prompt_tokens + ?,
		completion_tokens = completion_tokens + ?, errors = errors + ?, last_used = max(last_used, ?) WHERE id = ?`)
	if err != nil {
		tx.Rollback()
		return err
	}
	if err := fn(stmt); err != nil {
		stmt.Close()
		tx.Rollback()
		return err
	}
	stmt.Close()
	return tx.Commit()
}

// Run flushes usage and reloads keys every interval until ctx ends, then flushes once
// more. Errors go to report (which may be nil).
func (ks *KeyStore) Run(ctx context.Context, interval time.Duration, report func(error)) {
	if interval <= 0 {
		interval = 5 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := ks.Flush(context.WithoutCancel(ctx)); err != nil && report != nil {
				report(err)
			}
			return
		case <-t.C:
			for _, err := range []error{ks.Flush(ctx), ks.Reload(ctx)} {
				if err != nil && report != nil {
					report(err)
				}
			}
		}
	}
}
