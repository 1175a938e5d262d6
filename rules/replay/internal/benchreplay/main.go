// Command benchreplay measures `vigie replay` against the floor of its work:
// reading and decoding the same file into bot.Event, nothing else. For each
// size it writes a corpus (package corpus), runs the commands as child
// processes, and prints their CPU time (user+sys), peak resident memory, and
// the ratio of replay's CPU time to each floor's. There are two floors: the
// decode replay does (bot.Reader), and encoding/json's (json.Unmarshal into a
// bot.Event, then Validate), a fixed reference that does not get faster with
// bot.Reader. `make bench-replay` runs it.
//
// A child's peak memory (ru_maxrss) starts from this process's, which holds
// the public data (some 30 to 50 MB): the floors' figure is that, not theirs
// (/usr/bin/time gives 8 MB for a decode).
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules/replay/internal/corpus"
)

func main() {
	if len(os.Args) == 3 && (os.Args[1] == "-decode" || os.Args[1] == "-decode-json") {
		if err := decode(os.Args[2], os.Args[1] == "-decode-json"); err != nil {
			fmt.Fprintf(os.Stderr, "benchreplay: %v\n", err)
			os.Exit(1)
		}
		return
	}
	vigie := flag.String("vigie", "bin/vigie", "the vigie binary to measure")
	config := flag.String("config", "rules.example.yaml", "the rule file replayed")
	sizes := flag.String("n", "100000,1000000", "comma-separated corpus sizes, in events")
	runs := flag.Int("runs", 3, "runs of each command per size; the least CPU time is kept (0: only write the corpora, in -dir)")
	data := flag.String("data", "../shared/data", "a folder of JSON Lines events to deal the corpus from (synthetic chat when empty)")
	dir := flag.String("dir", "", "where to write the corpora, and keep them (default: a temporary folder, removed after)")
	extra := flag.String("args", "", "more arguments for vigie replay, space-separated (e.g. --workers=1)")
	flag.Parse()
	if err := run(*vigie, *config, *sizes, *runs, *data, *dir, strings.Fields(*extra)); err != nil {
		fmt.Fprintf(os.Stderr, "benchreplay: %v\n", err)
		os.Exit(1)
	}
}

func run(vigie, config, sizes string, runs int, data, dir string, extra []string) error {
	var ns []int
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			return fmt.Errorf("-n: %q is not a number of events", s)
		}
		ns = append(ns, n)
	}
	keep := dir != ""
	if !keep {
		tmp, err := os.MkdirTemp("", "benchreplay-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	base, err := corpus.Load(data, 0)
	if err != nil {
		return err
	}
	if len(base) == 0 {
		fmt.Fprintf(os.Stderr, "benchreplay: no events in %s, dealing synthetic chat\n", data)
		base = corpus.Synthetic()
	}
	fmt.Printf("%-9s %-11s %9s %9s %9s\n", "events", "what", "cpu_s", "maxrss_mb", "ratio")
	for _, n := range ns {
		path := filepath.Join(dir, fmt.Sprintf("events-%d.jsonl", n))
		if err := corpus.WriteFile(path, base, n); err != nil {
			return err
		}
		if runs <= 0 {
			fmt.Println(path)
			continue
		}
		replayArgs := append([]string{"replay", "--config", config, "--format", "json"}, extra...)
		replayArgs = append(replayArgs, path)
		var dec, js, rep []usage
		for range runs {
			u, err := measure(self, "-decode", path)
			if err != nil {
				return fmt.Errorf("decode: %w", err)
			}
			dec = append(dec, u)
			if u, err = measure(self, "-decode-json", path); err != nil {
				return fmt.Errorf("decode: %w", err)
			}
			js = append(js, u)
			if u, err = measure(vigie, replayArgs...); err != nil {
				return fmt.Errorf("replay: %w", err)
			}
			rep = append(rep, u)
		}
		d, j, r := least(dec), least(js), least(rep)
		fmt.Printf("%-9d %-11s %9.2f %9.1f\n", n, "decode", d.cpu.Seconds(), d.maxRSS)
		fmt.Printf("%-9d %-11s %9.2f %9.1f\n", n, "decode-json", j.cpu.Seconds(), j.maxRSS)
		fmt.Printf("%-9d %-11s %9.2f %9.1f %8.2fx decode, %.2fx decode-json\n", n, "replay", r.cpu.Seconds(), r.maxRSS,
			r.cpu.Seconds()/d.cpu.Seconds(), r.cpu.Seconds()/j.cpu.Seconds())
		if !keep {
			os.Remove(path)
		}
	}
	return nil
}

// usage is what one child process cost.
type usage struct {
	cpu    time.Duration // user + system
	maxRSS float64       // MiB
}

// least is the run of least CPU time: the others were slowed by the machine's
// other work. Its peak memory is the highest of all runs.
func least(us []usage) usage {
	best := slices.MinFunc(us, func(a, b usage) int { return int(a.cpu - b.cpu) })
	for _, u := range us {
		best.maxRSS = max(best.maxRSS, u.maxRSS)
	}
	return best
}

func measure(name string, args ...string) (usage, error) {
	cmd := exec.Command(name, args...)
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Run(); err != nil {
		return usage{}, fmt.Errorf("%v: %s", err, stderr.String())
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return usage{}, errors.New("no resource usage on this system")
	}
	return usage{
		cpu:    cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(),
		maxRSS: float64(ru.Maxrss) / 1024, // KiB on Linux
	}, nil
}

// decode is the floor: every line read and decoded into a bot.Event, as
// `vigie replay` reads them (bot.Reader), or with encoding/json, and nothing
// done with the events.
func decode(path string, withJSON bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if withJSON {
		return decodeJSON(f)
	}
	rd := bot.NewReader(f)
	events, skipped := 0, 0
	for {
		_, err := rd.Next()
		var le *bot.LineError
		switch {
		case errors.Is(err, io.EOF):
			fmt.Printf("%d events, %d skipped\n", events, skipped)
			return nil
		case errors.As(err, &le):
			skipped++
		case err != nil:
			return err
		default:
			events++
		}
	}
}

func decodeJSON(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	events, skipped := 0, 0
	for sc.Scan() {
		var ev bot.Event
		if json.Unmarshal(sc.Bytes(), &ev) != nil || ev.Validate() != nil {
			skipped++
			continue
		}
		events++
	}
	fmt.Printf("%d events, %d skipped\n", events, skipped)
	return sc.Err()
}
