// Package weights turns a validator's scores into the u16 weights it sets on chain,
// within the subnet's limits exactly as the chain's set_weights checks them
// (modules/subnets/keeper): every uid below the subnet's size at most once, at least
// min(min_allowed_weights, n) entries, and the largest weight at most
// max_weight_limit/65535 of the total, computed on the integer values sent. It is pure:
// no chain, no network, no clock.
package weights

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// U16Max is the largest weight value; weights are sent max-upscaled to it.
const U16Max = 65535

// Limits are the subnet's rules a weight vector must follow (its hyperparameters and
// size).
type Limits struct {
	// N is the number of uids on the subnet; every uid sent must be below it.
	N int
	// MinAllowedWeights is the subnet's min_allowed_weights: at least
	// min(MinAllowedWeights, N) entries (zeros count).
	MinAllowedWeights int
	// MaxWeightLimit is the subnet's max_weight_limit: the largest value may be at most
	// MaxWeightLimit/65535 of the sum of values. 0 is read as 65535 (no limit).
	MaxWeightLimit uint16
}

// ErrNoScores is returned when every score is zero: there is nothing to weight.
var ErrNoScores = errors.New("every score is zero: there is nothing to set weights from")

// Vector is a weight vector ready for set_weights: uids in increasing order and their
// max-upscaled u16 values.
type Vector struct {
	UIDs   []uint16 // increasing, each below the subnet's size
	Values []uint16 // max-upscaled to 65535 (a unit or so less where the limit needs it)
}

// Compute turns scores (indexed by uid; negative, NaN and infinite scores count as zero)
// into a weight vector that obeys lim. Scores beyond lim.N are an error: the metagraph
// has shrunk and the caller must resize its scores first.
//
// The method follows Bittensor's process_weights_for_netuid, adapted to what Tessera's
// chain checks: scores are normalised; when the largest share exceeds the max weight
// limit, the largest scores are clipped to a common cutoff so that each is exactly at
// the limit and the rest keep their proportions (normalize_max_weight); when the
// miners with a positive score are too few for any vector to meet the limit, each of
// them gets the limit and the rest of the weight is shared equally by the uids with a
// zero score. Zero-valued entries are added (lowest uids first) until there are
// min_allowed_weights entries. Values are max-upscaled to 65535 with round-half-even,
// then, while the integer check max·65535 ≤ limit·sum fails (rounding can push a
// clipped vector a unit over), the largest are lowered to the highest value that passes.
func Compute(scores []float64, lim Limits) (Vector, error) {
	if lim.N <= 0 {
		return Vector{}, fmt.Errorf("the subnet has no uids to weight (n = %d)", lim.N)
	}
	if lim.N > 1<<16 {
		return Vector{}, fmt.Errorf("a subnet has at most 65536 uids, got n = %d", lim.N)
	}
	if len(scores) > lim.N {
		return Vector{}, fmt.Errorf("%d scores for a subnet of %d uids: resize the scores to the metagraph first", len(scores), lim.N)
	}
	limit := lim.MaxWeightLimit
	if limit == 0 {
		limit = U16Max
	}
	w, err := normalise(scores, lim.N, float64(limit)/U16Max)
	if err != nil {
		return Vector{}, err
	}
	need := min(max(lim.MinAllowedWeights, 0), lim.N)
	// Entries: every uid with a positive weight, then zero-valued uids up to need.
	var uids []uint16
	for uid, x := range w {
		if x > 0 {
			uids = append(uids, uint16(uid))
		}
	}
	if len(uids) < need {
		in := make([]bool, lim.N)
		for _, u := range uids {
			in[u] = true
		}
		for uid := 0; uid < lim.N && len(uids) < need; uid++ {
			if !in[uid] {
				uids = append(uids, uint16(uid))
			}
		}
		sort.Slice(uids, func(i, j int) bool { return uids[i] < uids[j] })
	}
	values := quantise(w, uids)
	if err := enforceLimit(values, limit); err != nil {
		return Vector{}, err
	}
	return Vector{UIDs: uids, Values: values}, nil
}

// normalise returns weights over n uids summing to 1 whose largest share is at most
// limit (a fraction in (0, 1]).
func normalise(scores []float64, n int, limit float64) ([]float64, error) {
	w := make([]float64, n)
	var sum float64
	positive := 0
	for uid, s := range scores {
		if s > 0 && !math.IsInf(s, 1) {
			w[uid] = s
			sum += s
			positive++
		}
	}
	if positive == 0 {
		return nil, ErrNoScores
	}
	if float64(n)*limit < 1-1e-12 {
		return nil, fmt.Errorf("max_weight_limit %.4f cannot be met by a subnet of %d uids: even equal weights give each 1/%d", limit, n, n)
	}
	for i := range w {
		w[i] /= sum
	}
	if limit >= 1 {
		return w, nil
	}
	if float64(positive)*limit < 1 {
		// Too few positive scores to spread the weight within the limit: each gets the
		// limit, and the uids with no score share what is left.
		rest := (1 - float64(positive)*limit) / float64(n-positive)
		for i := range w {
			if w[i] > 0 {
				w[i] = limit
			} else {
				w[i] = rest
			}
		}
		return w, nil
	}
	// normalize_max_weight: find the cutoff c such that clipping every weight above c
	// to c leaves c as exactly limit of the new total.
	sorted := make([]float64, 0, positive)
	for _, x := range w {
		if x > 0 {
			sorted = append(sorted, x)
		}
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(sorted)))
	if sorted[0] <= limit {
		return w, nil
	}
	// With the top j clipped to c: c = limit·rest/(1 − j·limit), rest being the sum of
	// the others, valid when c is at least the largest unclipped weight. f(c) = share of
	// the largest is non-decreasing in c, so the first valid j is the answer.
	cut := sorted[len(sorted)-1] // all equal: reached only when positive·limit == 1
	rest := 1.0
	for j := 1; j < len(sorted); j++ {
		rest -= sorted[j-1]
		if float64(j)*limit >= 1 {
			cut = sorted[j-1]
			break
		}
		if c := limit * max(rest, 0) / (1 - float64(j)*limit); c >= sorted[j] {
			cut = c
			break
		}
	}
	var total float64
	for i := range w {
		w[i] = min(w[i], cut)
		total += w[i]
	}
	for i := range w {
		w[i] /= total
	}
	return w, nil
}

// quantise max-upscales the weights of uids to u16 with round-half-even, as Bittensor's
// convert_weights_and_uids_for_emit does.
func quantise(w []float64, uids []uint16) []uint16 {
	var top float64
	for _, u := range uids {
		top = max(top, w[u])
	}
	values := make([]uint16, len(uids))
	for i, u := range uids {
		values[i] = uint16(math.RoundToEven(w[u] / top * U16Max))
	}
	return values
}

// enforceLimit lowers the largest values until max·65535 ≤ limit·sum holds exactly, as
// the chain checks it. Each step lowers the entries at the top to the largest value
// that passes with the others unchanged, or to the next value down if that is lower
// (they then move together), so it takes at most one step per distinct value.
func enforceLimit(values []uint16, limit uint16) error {
	if limit == U16Max {
		return nil
	}
	l := uint64(limit)
	for range len(values) + 2 {
		var sum, top, next, cnt uint64
		for _, v := range values {
			x := uint64(v)
			sum += x
			switch {
			case x > top:
				next, top, cnt = top, x, 1
			case x == top:
				cnt++
			case x > next:
				next = x
			}
		}
		if sum == 0 || top*U16Max <= l*sum {
			return nil
		}
		// top' · (65535 − l·cnt) ≤ l · others; the failing check implies l·cnt < 65535.
		others := sum - top*cnt
		if others == 0 {
			// Only the top entries carry weight (the rest rounded to zero): the smallest
			// step that can meet the limit is one unit on every other entry.
			raised := false
			for i, v := range values {
				if v == 0 {
					values[i], raised = 1, true
				}
			}
			if !raised {
				break
			}
			continue
		}
		to := l * others / (U16Max - l*cnt)
		to = max(to, next)
		for i, v := range values {
			if uint64(v) == top {
				values[i] = uint16(to)
			}
		}
	}
	return fmt.Errorf("cannot bring %d weights within max_weight_limit %d", len(values), limit)
}

// Check reports whether a vector passes the chain's set_weights rules on uids, counts
// and the max weight limit for a validator weighting others (the rules of
// modules/subnets/keeper's checkWeights that depend on the vector alone), with the chain's
// wording.
func Check(v Vector, lim Limits) error {
	if len(v.UIDs) != len(v.Values) {
		return fmt.Errorf("%d uids but %d values: they must pair up", len(v.UIDs), len(v.Values))
	}
	if len(v.UIDs) == 0 {
		return errors.New("no weights given")
	}
	seen := make(map[uint16]bool, len(v.UIDs))
	for _, u := range v.UIDs {
		if int(u) >= lim.N {
			return fmt.Errorf("uid %d does not exist (the subnet has %d uids)", u, lim.N)
		}
		if seen[u] {
			return fmt.Errorf("uid %d appears twice", u)
		}
		seen[u] = true
	}
	if need := min(lim.MinAllowedWeights, lim.N); len(v.UIDs) < need {
		return fmt.Errorf("%d weights given; the subnet requires at least %d", len(v.UIDs), need)
	}
	limit := lim.MaxWeightLimit
	if limit == 0 {
		limit = U16Max
	}
	if limit < U16Max {
		var sum, top uint64
		for _, x := range v.Values {
			sum += uint64(x)
			top = max(top, uint64(x))
		}
		if sum > 0 && top*U16Max > uint64(limit)*sum {
			return fmt.Errorf("the largest weight is %.4f of the total; the subnet allows at most %.4f", float64(top)/float64(sum), float64(limit)/U16Max)
		}
	}
	return nil
}
