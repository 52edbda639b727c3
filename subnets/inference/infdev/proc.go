package infdev

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Process is one of the inference network's processes the devnet runs: an MLNode
// (`tessera mlnode serve`) or an API node (`tessera inference-api`).
type Process struct {
	Kind        string `json:"kind"` // "mlnode" or "api"
	Participant string `json:"participant"`
	MLNode      string `json:"mlnode,omitempty"`
	PID         int    `json:"pid"`
	// URLs from the process's first line.
	Management string `json:"management_url,omitempty"`
	Inference  string `json:"inference_url,omitempty"`
	API        string `json:"url,omitempty"`
}

// proc starts bin with args, reads the JSON object the process prints first on
// stdout into banner, logs its stderr (and the rest of its stdout) at debug level, and
// stops it with SIGTERM (then SIGKILL after 5 s) when ctx ends.
func startProc(ctx context.Context, log *slog.Logger, bin string, args []string, banner any) (*exec.Cmd, chan struct{}, *error, error) {
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = procAttr()
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, nil, err
	}
	errp, err := cmd.StderrPipe()
	if err != nil {
		return nil, nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, nil, err
	}
	var tail tailBuffer
	go logLines(errp, log, &tail)
	first := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		if !sc.Scan() {
			first <- errors.New("it exited before printing its address")
			return
		}
		first <- json.Unmarshal(sc.Bytes(), banner)
		for sc.Scan() {
			log.Debug(sc.Text())
		}
	}()
	done := make(chan struct{})
	var werr error
	go func() {
		werr = cmd.Wait()
		close(done)
	}()
	go func() {
		select {
		case <-ctx.Done():
		case <-done:
			return
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
		}
	}()
	select {
	case err := <-first:
		if err != nil {
			_ = cmd.Process.Kill()
			<-done
			return nil, nil, nil, fmt.Errorf("%s %s: %v; its last output: %s", bin, strings.Join(args, " "), err, tail.String())
		}
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		return nil, nil, nil, fmt.Errorf("%s %s printed no address in 60 s; its last output: %s", bin, strings.Join(args, " "), tail.String())
	case <-ctx.Done():
		<-done
		return nil, nil, nil, ctx.Err()
	}
	return cmd, done, &werr, nil
}

func logLines(r io.Reader, log *slog.Logger, tail *tailBuffer) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		tail.add(sc.Text())
		lvl, rest := childLevel(sc.Text())
		if msg, attrs, ok := textPairs(rest); ok && lvl >= slog.LevelWarn {
			log.Log(context.Background(), lvl, msg, attrs...)
			continue
		}
		log.Log(context.Background(), lvl, rest)
	}
}

// textPairs splits the key=value pairs of slog's text form (a value quoted as Go quotes
// it when it must be) into the msg's value and the other pairs, as slog attributes, so
// that a process's warning is passed on as the same message and attributes rather than
// as one quoted string. ok is false for a line not in that form.
func textPairs(line string) (msg string, attrs []any, ok bool) {
	for line = strings.TrimSpace(line); line != ""; line = strings.TrimLeft(line, " ") {
		eq := strings.IndexByte(line, '=')
		if eq <= 0 || strings.ContainsAny(line[:eq], ` "`) {
			return "", nil, false
		}
		key, v := line[:eq], line[eq+1:]
		var val string
		if strings.HasPrefix(v, `"`) {
			q, err := strconv.QuotedPrefix(v)
			if err != nil {
				return "", nil, false
			}
			if val, err = strconv.Unquote(q); err != nil {
				return "", nil, false
			}
			line = v[len(q):]
		} else {
			end := strings.IndexByte(v, ' ')
			if end < 0 {
				end = len(v)
			}
			val, line = v[:end], v[end:]
		}
		if key == "msg" && msg == "" {
			msg = val
			continue
		}
		attrs = append(attrs, key, val)
	}
	if msg == "" {
		return "", nil, false
	}
	return msg, attrs, true
}

// childLevel is the level a process's log line is passed on at, and the line to pass:
// a warning or an error (slog's text form, level=WARN, or its JSON form, "level":"WARN")
// at its own level, without the text form's time and level, so that a participant's
// troubles show on a devnet that logs at info or warn; any other line at debug, whole.
func childLevel(line string) (slog.Level, string) {
	for _, key := range []string{"level=", `"level":"`} {
		i := strings.Index(line, key)
		if i < 0 {
			continue
		}
		v := line[i+len(key):]
		end := strings.IndexAny(v, ` "`)
		if end < 0 {
			end = len(v)
		}
		var l slog.Level
		if l.UnmarshalText([]byte(v[:end])) != nil || l < slog.LevelWarn {
			break
		}
		if key == "level=" {
			return l, strings.TrimSpace(v[end:])
		}
		return l, line
	}
	return slog.LevelDebug, line
}

// tailBuffer keeps a process's last lines of stderr for the error that reports its
// failure to start.
type tailBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (t *tailBuffer) add(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, s)
	if len(t.lines) > 8 {
		t.lines = t.lines[len(t.lines)-8:]
	}
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.lines) == 0 {
		return "(none)"
	}
	return strings.Join(t.lines, " | ")
}
