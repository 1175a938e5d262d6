package daemon

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// TestPrivateLaneShares: one author may have 8 private messages waiting,
// all authors together 256; past that a private message is let go,
// counted, and logged once a minute with the count since.
func TestPrivateLaneShares(t *testing.T) {
	logs := &testsync.Buffer{}
	now := time.Date(2026, 12, 6, 22, 0, 0, 0, time.UTC)
	reg := prometheus.NewRegistry()
	p := newPrivateLane(testsync.Logger(logs), reg, func() time.Time { return now })
	dm := func(author string) bot.Event {
		return bot.Event{Platform: "telegram", Kind: bot.KindDM, Space: author, Author: bot.Author{ID: author}, Text: "hi"}
	}
	for i := range 20 {
		if got, want := p.offer(dm("stranger")), i < privatePerAuthor; got != want {
			t.Fatalf("the stranger's message %d queued %v, want %v", i, got, want)
		}
	}
	if !p.offer(dm("member")) {
		t.Fatal("a member's message is let go for a stranger's flood")
	}
	// One is judged: the stranger may have one more waiting.
	ev := <-p.q
	p.taken(&ev)
	if !p.offer(dm("stranger")) {
		t.Error("the stranger's message after one of theirs was judged is let go")
	}
	for i := 0; len(p.q) < privateQueue; i++ {
		if !p.offer(dm("member-" + strconv.Itoa(i))) {
			t.Fatalf("let go with %d waiting, want %d", len(p.q), privateQueue)
		}
	}
	if p.offer(dm("latecomer")) {
		t.Errorf("queued past %d waiting", privateQueue)
	}
	if n := strings.Count(logs.String(), "private messages let go unjudged"); n != 2 {
		t.Errorf("%d log lines, want 2 (the first of each reason):\n%s", n, logs)
	}
	now = now.Add(time.Minute)
	p.dropped.Flush()
	if !strings.Contains(logs.String(), "refused 11 more on telegram (author_share)") {
		t.Errorf("the minute's line does not count the 11 left out:\n%s", logs)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			got[m.GetLabel()[1].GetValue()] = m.GetCounter().GetValue()
		}
	}
	if got["author_share"] != 12 || got["queue_full"] != 1 {
		t.Errorf("vigie_private_messages_dropped_total = %v, want author_share 12, queue_full 1", got)
	}
}
