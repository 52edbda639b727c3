package kernelbench

import (
	"fmt"
	"math"
	"sort"
)

// Entry is one hotkey's judged submission, as ranking sees it.
type Entry struct {
	Hotkey string `json:"hotkey"`
	UID    uint16 `json:"uid"`
	Repo   string `json:"repo"`
	Commit string `json:"commit"`
	// TargetLength is what the miner declared; Length the league length run.
	TargetLength int `json:"target_length"`
	Length       int `json:"length"`
	// CommitBlock and Seq are the chain's: the block of the commit and the reveal order.
	CommitBlock uint64 `json:"commit_block"`
	Seq         uint64 `json:"seq"`
	ContentHash string `json:"content_hash,omitempty"`
	// OK, Score and TokensPerSec are the evaluation's; Reason why it failed.
	OK           bool    `json:"ok"`
	Score        float64 `json:"score"`
	TokensPerSec float64 `json:"tokens_per_sec"`
	Reason       string  `json:"reason,omitempty"`
	// Beside is the hotkey whose submission this one's time was measured side by side
	// with (a challenger and the leader it would have dethroned); empty when it was
	// measured alone.
	Beside string `json:"beside,omitempty"`
}

// Standing is an entry's place in a round.
type Standing struct {
	Entry
	// Rank is the place among the qualified originals (1 is first); 0 for a copy or
	// a failed submission.
	Rank int `json:"rank"`
	// CopyOf is the hotkey whose earlier submission this one copies.
	CopyOf string `json:"copy_of,omitempty"`
	// Share is the part of the weight the place earns.
	Share float64 `json:"share"`
	Note  string  `json:"note,omitempty"`
}

// earlier orders submissions by who committed first: the commit's block, then the
// reveal order.
func earlier(a, b Entry) bool {
	if a.CommitBlock != b.CommitBlock {
		return a.CommitBlock < b.CommitBlock
	}
	return a.Seq < b.Seq
}

// Rank places a round's entries (one per hotkey). A submission whose content hash
// equals an earlier one's (earlier by commit block) is a copy: it is listed behind
// every original and earns nothing. The qualified originals are ranked by score
// (ties: who committed first); the previous round's leader keeps first place unless
// the best challenger's score exceeds the leader's by more than margin (score >
// leader × (1 + margin)). Places earn payout[rank-1]. The result lists ranked entries
// first, then copies, then failed submissions.
func Rank(entries []Entry, payout []float64, margin float64, prevLeader string) []Standing {
	byTime := append([]Entry(nil), entries...)
	sort.SliceStable(byTime, func(i, j int) bool { return earlier(byTime[i], byTime[j]) })
	first := map[string]string{} // content hash → the hotkey that had it first
	var ranked, copies, failed []Standing
	for _, e := range byTime {
		s := Standing{Entry: e}
		if e.ContentHash != "" {
			if orig, ok := first[e.ContentHash]; ok && orig != e.Hotkey {
				s.CopyOf = orig
				s.Note = "a copy of " + orig + "'s earlier submission"
				copies = append(copies, s)
				continue
			}
			first[e.ContentHash] = e.Hotkey
		}
		if !e.OK || !(e.Score > 0) || math.IsInf(e.Score, 0) {
			failed = append(failed, s)
			continue
		}
		ranked = append(ranked, s)
	}
	sort.SliceStable(ranked, func(i, j int) bool {
		if ranked[i].Score != ranked[j].Score {
			return ranked[i].Score > ranked[j].Score
		}
		return earlier(ranked[i].Entry, ranked[j].Entry)
	})
	if prevLeader != "" && len(ranked) > 1 && ranked[0].Hotkey != prevLeader {
		for i, s := range ranked {
			if s.Hotkey != prevLeader {
				continue
			}
			if best := ranked[0].Score; best <= s.Score*(1+margin) {
				leader := ranked[i]
				copy(ranked[1:i+1], ranked[0:i])
				ranked[0] = leader
				ranked[0].Note = "holds first place"
				ranked[1].Note = fmt.Sprintf("within the %.3g margin of the leader: does not dethrone it", margin)
			}
			break
		}
	}
	if prevLeader != "" && len(ranked) > 0 && ranked[0].Hotkey != prevLeader && ranked[0].Beside == prevLeader {
		ranked[0].Note = "took first place from " + prevLeader + ", measured side by side with it"
	}
	for i := range ranked {
		ranked[i].Rank = i + 1
		if i < len(payout) {
			ranked[i].Share = payout[i]
		}
	}
	return append(append(ranked, copies...), failed...)
}

// Leader is the round's first place ("" when nobody qualified).
func Leader(st []Standing) string {
	if len(st) > 0 && st[0].Rank == 1 {
		return st[0].Hotkey
	}
	return ""
}

// Scores turns standings into the scores by uid that the weights are computed from:
// each place's share on its uid, and whatever the places leave (all of it when nobody
// qualifies) on the owner's uid, which burns it. n is the subnet's size.
func Scores(st []Standing, n int, ownerUID uint16) ([]float64, error) {
	if int(ownerUID) >= n {
		return nil, fmt.Errorf("the owner's uid %d is not below the subnet's size %d", ownerUID, n)
	}
	scores := make([]float64, n)
	var paid float64
	for _, s := range st {
		if s.Share <= 0 {
			continue
		}
		if int(s.UID) >= n {
			return nil, fmt.Errorf("uid %d of %s is not below the subnet's size %d", s.UID, s.Hotkey, n)
		}
		scores[s.UID] += s.Share
		paid += s.Share
	}
	if rest := 1 - paid; rest > 1e-12 {
		scores[ownerUID] += rest
	}
	return scores, nil
}
