package scenario

import (
	"crypto/sha256"
	"fmt"
	"strconv"
	"strings"

	"github.com/tessera-net/tessera/modules/inference"
	"github.com/tessera-net/tessera/tx"
)

// InferenceMsgs are the inference module's messages:
//
//	mlnode netuid=N id=ID models=M[,M...] [host=H] [ports=I,P] [hardware=TYPE:COUNT]
//	                              declares (or replaces) one MLNode: host 10.0.0.1,
//	                              ports 8000,8080 and hardware H100:1 unless given
//	mlnode_rm netuid=N ids=ID[,ID...]
//	commit netuid=N epoch=E mlnode=ID count=C
//	                              a commitment whose root is SHA-256 of "ID/C"
//	verdict netuid=N epoch=E judge=ACCOUNT:SAMPLED:FAILURES[+...]
func InferenceMsgs() MsgBuilders {
	return MsgBuilders{"mlnode": buildMLNode, "mlnode_rm": buildMLNodeRemove, "commit": buildPoCCommit, "verdict": buildVerdict}
}

func buildMLNode(a *Args) (tx.Msg, error) {
	netuid, err := a.Uint("netuid", 16)
	if err != nil {
		return tx.Msg{}, err
	}
	n := inference.MLNode{Host: "10.0.0.1", InferencePort: 8000, PoCPort: 8080, Hardware: []inference.Hardware{{Type: "H100", Count: 1}}}
	if n.ID, err = a.String("id"); err != nil {
		return tx.Msg{}, err
	}
	ms, err := a.String("models")
	if err != nil {
		return tx.Msg{}, err
	}
	n.Models = strings.Split(ms, ",")
	if a.Has("host") {
		if n.Host, err = a.String("host"); err != nil {
			return tx.Msg{}, err
		}
		n.Host = expandLen(n.Host)
	}
	if a.Has("ports") {
		s, _ := a.String("ports")
		i, p, _ := strings.Cut(s, ",")
		iv, err1 := strconv.ParseUint(i, 10, 16)
		pv, err2 := strconv.ParseUint(p, 10, 16)
		if err1 != nil || err2 != nil {
			return tx.Msg{}, fmt.Errorf("%w: ports=%q: want I,P", ErrBadArg, s)
		}
		n.InferencePort, n.PoCPort = uint16(iv), uint16(pv)
	}
	if a.Has("hardware") {
		s, _ := a.String("hardware")
		typ, c, _ := strings.Cut(s, ":")
		cv, err := strconv.ParseUint(c, 10, 32)
		if err != nil {
			return tx.Msg{}, fmt.Errorf("%w: hardware=%q: want TYPE:COUNT", ErrBadArg, s)
		}
		n.Hardware = []inference.Hardware{{Type: typ, Count: uint32(cv)}}
	}
	// Built without the client-side check, so that the chain's refusals show.
	return tx.NewMsg(inference.MsgMLNodes, inference.HardwareDiff{Netuid: uint16(netuid), Add: []inference.MLNode{n}})
}

func buildMLNodeRemove(a *Args) (tx.Msg, error) {
	netuid, err := a.Uint("netuid", 16)
	if err != nil {
		return tx.Msg{}, err
	}
	ids, err := a.String("ids")
	if err != nil {
		return tx.Msg{}, err
	}
	return tx.NewMsg(inference.MsgMLNodes, inference.HardwareDiff{Netuid: uint16(netuid), Remove: strings.Split(ids, ",")})
}

func buildPoCCommit(a *Args) (tx.Msg, error) {
	var c inference.Commit
	netuid, err := a.Uint("netuid", 16)
	if err != nil {
		return tx.Msg{}, err
	}
	c.Netuid = uint16(netuid)
	if c.Epoch, err = a.Uint("epoch", 64); err != nil {
		return tx.Msg{}, err
	}
	if c.MLNode, err = a.String("mlnode"); err != nil {
		return tx.Msg{}, err
	}
	if c.Count, err = a.Uint("count", 64); err != nil {
		return tx.Msg{}, err
	}
	c.Root = sha256.Sum256([]byte(fmt.Sprintf("%s/%d", c.MLNode, c.Count)))
	return tx.NewMsg(inference.MsgCommit, c)
}

func buildVerdict(a *Args) (tx.Msg, error) {
	var v inference.Verdict
	netuid, err := a.Uint("netuid", 16)
	if err != nil {
		return tx.Msg{}, err
	}
	v.Netuid = uint16(netuid)
	if v.Epoch, err = a.Uint("epoch", 64); err != nil {
		return tx.Msg{}, err
	}
	s, err := a.String("judge")
	if err != nil {
		return tx.Msg{}, err
	}
	for _, part := range strings.Split(s, "+") {
		f := strings.Split(part, ":")
		if len(f) != 3 {
			return tx.Msg{}, fmt.Errorf("%w: judge %q: want ACCOUNT:SAMPLED:FAILURES", ErrBadArg, part)
		}
		pub, err := a.names.Resolve(f[0])
		if err != nil {
			return tx.Msg{}, fmt.Errorf("%w: judge %q: %v", ErrBadArg, part, err)
		}
		sampled, err1 := strconv.ParseUint(f[1], 10, 32)
		failures, err2 := strconv.ParseUint(f[2], 10, 32)
		if err1 != nil || err2 != nil {
			return tx.Msg{}, fmt.Errorf("%w: judge %q: counts", ErrBadArg, part)
		}
		v.Judgements = append(v.Judgements, inference.Judgement{Participant: pub[:], Sampled: uint32(sampled), Failures: uint32(failures)})
	}
	return tx.NewMsg(inference.MsgVerdict, v)
}
