package handlers_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// TestCasesDroppedLoggedAfterClockStepBack: cases dropped at the cap of
// open cases are logged once a minute at most. The clock is then stepped
// back an hour (an NTP correction, a VM restored from a snapshot): the next
// case dropped is logged, and the one two minutes later too. Before, the
// line was silent until the clock was back where it was, an hour on.
func TestCasesDroppedLoggedAfterClockStepBack(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: at}
	st := memory.New(memory.WithOpenCaseCap(1), memory.WithoutCaseGroups())
	defer st.Close()
	var logs bytes.Buffer
	m, err := handlers.New(handlers.Options{Store: st, Now: clk.Now, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	drop := func() int {
		t.Helper()
		n++
		ev := bot.Event{ID: fmt.Sprint("m-", n), Platform: "discord", Kind: bot.KindMessage, Space: "g", Channel: "c",
			Author: bot.Author{ID: fmt.Sprint("u-", n)}, Text: "scam", At: clk.Now()}
		if err := m.OpenCase(ctx, store.Case{Event: ev, Rule: "scam", Reason: "scam"}); err != nil {
			t.Fatal(err)
		}
		return strings.Count(logs.String(), `msg="too many open cases`)
	}
	drop() // the one case open
	for _, step := range []struct {
		name    string
		advance time.Duration
		want    int
	}{
		{"the first dropped", time.Second, 1},
		{"30s later", 30 * time.Second, 1},
		{"after the clock stepped back an hour", -time.Hour, 2},
		{"two minutes after the step", 2 * time.Minute, 3},
	} {
		clk.Add(step.advance)
		if got := drop(); got != step.want {
			t.Errorf("%s: %d lines said cases were dropped, want %d", step.name, got, step.want)
		}
	}
}
