package daemon_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// logChat is the test's discord platform with a mod-log: the lines it is
// given, by channel.
type logChat struct {
	*chat
	mu    sync.Mutex
	lines map[string][]string
	n     int
}

var _ bot.LogPoster = (*logChat)(nil)

func (c *logChat) PostLog(_ context.Context, to, text string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lines[to] = append(c.lines[to], text)
	c.n++
	return strconv.Itoa(c.n), nil
}

func (c *logChat) EditLog(_ context.Context, to, _, text string) error {
	_, err := c.PostLog(context.Background(), to, text)
	return err
}

func (c *logChat) all() map[string][]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string][]string{}
	for to, ls := range c.lines {
		out[to] = slices.Clone(ls)
	}
	return out
}

// rulesHours is a rule file whose office hours are always (one) or never
// (two), whose rule gen-GEN deletes a message in those hours, and gen-GEN-torn
// tags it in the other file's, and whose mod-log is channel 60N: the line of
// an action names the rule of the file whose channel it is in, the audit's
// mode is that file's, and gen-GEN-torn never matches.
func rulesHours(gen string) string {
	hours, when, channel := `"00:00-24:00"`, "not after_hours", "601"
	if gen == "two" {
		hours, when, channel = "closed", "after_hours", "602"
	}
	return `timezone: UTC
office_hours: {mon-sun: ` + hours + `}
modlog:
  discord_channel: "` + channel + `"
rules:
  - name: gen-` + gen + `
    category: test
    when: '` + when + `'
    do: [delete]
  - name: gen-` + gen + `-torn
    category: test
    when: 'not (` + when + `)'
    do: ['tag("torn")']
`
}

// Events judged while the rule file is reloaded again and again are judged
// by the office hours of the file whose rules judge them (its rule matches:
// the other file's hours match none), their audit entries record that
// file's mode (vigie_shift_hits_total), and the lines of their deletes go to
// that file's mod-log, though the deletes are carried out later, in the
// events' lanes, when another file may run.
func TestReloadKeepsTheJudgingFilesHoursAndModLog(t *testing.T) {
	var lc *logChat
	in := start(t, rulesHours("one"), nil, func(cfg *daemon.Config) {
		lc = &logChat{chat: cfg.Connectors[0].Platforms[0].(*chat), lines: map[string][]string{}}
		cfg.Connectors[0].Platforms = []bot.Platform{lc}
	})
	done := make(chan struct{})
	const n = 4000
	go func() {
		defer close(done)
		for i := range n {
			in.feed.in <- bot.Event{ID: fmt.Sprintf("h-%d", i), Platform: "discord", Kind: bot.KindMessage, Space: "guild-1",
				Channel: fmt.Sprintf("c-%d", i), Author: bot.Author{ID: fmt.Sprintf("u-%d", i), Name: "Bob"}, Text: "salut", At: time.Now()}
		}
	}()
	reloads := 0
	for i := 0; ; i++ {
		select {
		case <-done:
		default:
			gen := []string{"one", "two"}[(i+1)%2]
			if err := os.WriteFile(in.file, []byte(rulesHours(gen)), 0o600); err != nil {
				t.Fatal(err)
			}
			if r := in.do(t, "POST", "/-/reload", nil, nil); r.code != 200 {
				t.Fatalf("reload %d: %d %s", i, r.code, r.body)
			}
			reloads++
			continue
		}
		break
	}
	// Every event is deleted, by one file's rule or the other's, unless
	// judged by one file's rules under the other's hours: then tagged.
	testsync.Eventually(t, "every event carried out", func() bool { return len(lc.Calls()) >= n })
	// A line is written, or dropped when too many wait (counted): the
	// events come faster than a mod-log is read.
	lines := func() int {
		k := 0
		for _, ls := range lc.all() {
			k += len(ls)
		}
		return k + max(0, int(metric(t, in, `vigie_modlog_lines_total{result="dropped"}`))) // -1: none
	}
	testsync.Eventually(t, "a mod-log line for each action, or one dropped", func() bool { return lines() >= n })
	t.Logf("%d events during %d reloads", n, reloads)
	if tags := len(regexp.MustCompile(`rules=gen-\w+-torn`).FindAllString(in.logs.String(), -1)); tags > 0 {
		t.Errorf("%d of %d events judged by one file's rules under the other file's office hours", tags, n)
	}
	for to, rule := range map[string]string{"601": "gen-one", "602": "gen-two"} {
		torn := 0
		for _, l := range lc.all()[to] {
			if !strings.Contains(l, "rule "+rule) {
				if torn == 0 {
					t.Errorf("mod-log %s, %s's: %q", to, rule, l)
				}
				torn++
			}
		}
		if torn > 0 {
			t.Errorf("%d lines in mod-log %s of actions judged by the other file", torn, to)
		}
	}
	for _, torn := range []string{
		`vigie_shift_hits_total{mode="after",rule="gen-one"}`,
		`vigie_shift_hits_total{mode="office",rule="gen-two"}`,
	} {
		if v := metric(t, in, torn); v > 0 {
			t.Errorf("%s %v: audit entries in the mode of the file that did not judge them", torn, v)
		}
	}
}
